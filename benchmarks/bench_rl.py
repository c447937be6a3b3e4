"""Benchmark cases for the reinforcement-learning project (curriculum Project 11).

One DQN update (``learn``: the TD target from the target network, forward, the TD loss, backward,
gradient clipping, an Adam step) of the CartPole agent (rl-zoo's 256-256 MLP) at batch 64 and 256,
scratch against its torch twin holding the same weights and fed the same batch; and 100 steps of
the agent acting greedily on CartPole-v1 (one forward of a single observation per step, plus
gymnasium's step), which measures per-call overhead rather than arithmetic.
"""
import numpy as np

from reference.bridge import twin_pair
from reference.projects.rl import dqn as torch_dqn
from scratch.projects.rl import dqn as scratch_dqn
from scratch.projects.rl.config import CONFIGS
from scratch.projects.rl.envs import make_env

from .core import Case

BATCH_SIZES = (64, 256)
ACTING_STEPS = 100
ENV_ID = "CartPole-v1"


def twins(dtype, seed):
    return twin_pair(scratch_dqn.DQN, torch_dqn.DQN, seed, dtype, obs_dim=4, num_actions=2, config=CONFIGS[ENV_ID])


def update_case(batch_size, dtype, rng):
    agent, twin = twins(dtype, seed=int(rng.integers(1 << 30)))
    batch = (rng.standard_normal((batch_size, 4)).astype(dtype), rng.integers(0, 2, batch_size),
             rng.standard_normal(batch_size).astype(dtype), rng.standard_normal((batch_size, 4)).astype(dtype),
             (rng.random(batch_size) < 0.05).astype(dtype))
    return Case("DQN update (learn)", f"b{batch_size}, 4-256-256-2", lambda: agent.learn(*batch), lambda: twin.learn(*batch),
                note="target net forward, forward, Huber TD loss, backward, clip, Adam")


def acting_case(dtype, rng):
    """ACTING_STEPS greedy steps on CartPole, each one forward of one observation and one env.step."""
    agent, twin = twins(dtype, seed=int(rng.integers(1 << 30)))

    def steps(module):
        env = make_env(ENV_ID)
        state = {"obs": env.reset(seed=0)[0]}

        def run():
            for _ in range(ACTING_STEPS):
                obs, _, terminated, truncated, _ = env.step(module.greedy(state["obs"]))
                state["obs"] = env.reset()[0] if terminated or truncated else obs
        return run

    return Case("greedy acting + env.step", f"{ACTING_STEPS} steps, {ENV_ID}", steps(agent), steps(twin),
                note="per-call overhead: batch of one; the same env cost on both sides")


def cases(dtype=np.float32, quick=False, seed=0):
    """The RL project's benchmark cases, built with fresh weights and batches from ``seed``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    return [update_case(batch_size, dtype.type, rng) for batch_size in BATCH_SIZES] + [acting_case(dtype.type, rng)]
