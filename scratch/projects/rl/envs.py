"""Project 11's environments (shared by every agent, never twinned): gymnasium's grid worlds and
classic-control tasks, the checks that an agent fits an environment's spaces, and the exact model
of a grid world as arrays built once from ``env.unwrapped.P``.

A grid world's ``P[s][a]`` is a list of ``(probability, next_state, reward, terminated)``; the
arrays below turn that into ``T (S, A, S)``, the probability of moving on to ``s'`` *without*
terminating, and ``R (S, A)``, the expected reward, so that a Bellman backup is one tensor product:
``Q = R + gamma * T @ V``.
"""
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

# The environments of this project; FrozenLake-8x8 is FrozenLake-v1 with map_name="8x8".
ENVIRONMENTS = {
    "FrozenLake-v1": ("FrozenLake-v1", {"map_name": "4x4", "is_slippery": True}),
    "FrozenLake-8x8": ("FrozenLake-v1", {"map_name": "8x8", "is_slippery": True}),
    "CliffWalking-v1": ("CliffWalking-v1", {}),
    "Taxi-v4": ("Taxi-v4", {}),
    "CartPole-v1": ("CartPole-v1", {}),
    "Acrobot-v1": ("Acrobot-v1", {}),
}


def make_env(env_id, render_mode=None):
    """The gymnasium environment called ``env_id`` (one of ENVIRONMENTS); a ValueError naming the
    known ones otherwise (gymnasium's own error would also suggest environments this project lacks)."""
    if not isinstance(env_id, str) or env_id not in ENVIRONMENTS:
        raise ValueError(f"env_id: expected one of {list(ENVIRONMENTS)}, got {env_id!r}")
    name, kwargs = ENVIRONMENTS[env_id]
    return gym.make(name, render_mode=render_mode, **kwargs)


def discrete_size(space, name):
    """The number of elements of a Discrete space; a TypeError naming ``name`` for any other kind of space."""
    if not isinstance(space, gym.spaces.Discrete):
        raise TypeError(f"{name}: expected a Discrete space, got {space}")
    return int(space.n)


def tabular_sizes(env):
    """(num_states, num_actions) of an environment a table can hold: both spaces Discrete."""
    return discrete_size(env.observation_space, "observation_space"), discrete_size(env.action_space, "action_space")


def vector_sizes(env):
    """(obs_dim, num_actions) of an environment DQN can learn: a flat Box observation, Discrete actions."""
    space = env.observation_space
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise TypeError(f"observation_space: expected a 1-d Box (a vector of features), got {space}")
    return int(space.shape[0]), discrete_size(env.action_space, "action_space")


@dataclass
class TabularModel:
    """A finite MDP: ``T[s, a, s']`` the probability of reaching s' and going on, ``R[s, a]`` the
    expected reward; ``T.sum(-1)`` is below 1 where a transition may terminate."""
    T: np.ndarray  # (S, A, S)
    R: np.ndarray  # (S, A)

    @property
    def num_states(self):
        return self.T.shape[0]

    @property
    def num_actions(self):
        return self.T.shape[1]


def tabular_model(env):
    """The exact model of a grid world from ``env.unwrapped.P``, as arrays (built once)."""
    num_states, num_actions = tabular_sizes(env)
    P = getattr(env.unwrapped, "P", None)
    if P is None:
        raise ValueError(f"env: expected an environment with a transition table P (a toy-text grid world), got {env.spec.id}")
    # every outcome of every (s, a) as flat columns: the loop reads the table once, the sums are vectorised
    rows = [(s, a, p, s2, r, done) for s in range(num_states) for a in range(num_actions) for p, s2, r, done in P[s][a]]
    s, a, p, s2, r, done = (np.array(column) for column in zip(*rows))
    T = np.zeros((num_states, num_actions, num_states))
    np.add.at(T, (s.astype(int), a.astype(int), s2.astype(int)), p * (1 - done.astype(float)))
    R = np.zeros((num_states, num_actions))
    np.add.at(R, (s.astype(int), a.astype(int)), p * r)
    return TabularModel(T, R)
