"""Bad input to Project 11 (reinforcement learning): each row fails early, naming the argument,
what was expected and what came."""
import gymnasium as gym
import numpy as np
import pytest
import torch

from reference.projects.rl import dqn as torch_dqn
from scratch.projects.rl import dqn as scratch_dqn
from scratch.projects.rl import tabular
from scratch.projects.rl import train as scratch_train
from scratch.projects.rl.config import DQNConfig, ExponentialSchedule, LinearSchedule, TabularConfig
from scratch.projects.rl.envs import make_env, tabular_model, tabular_sizes, vector_sizes
from scratch.projects.rl.replay import ReplayBuffer
from twins.parity import BadInput, assert_bad_input


def agent(hidden=(8, 8)):
    return scratch_dqn.DQN(4, 2, DQNConfig(hidden=hidden), rng=np.random.default_rng(0))


def buffer_with(count):
    buffer = ReplayBuffer(100, 4)
    for _ in range(count):
        buffer.add(np.zeros(4), 0, 1.0, np.zeros(4), False)
    return buffer


def load_wrong_architecture(module, other):
    return lambda: module.load_state_dict(other.state_dict())


BATCH = (np.zeros((3, 4), np.float32), np.array([0, 1, 0]), np.zeros(3, np.float32), np.zeros((3, 4), np.float32), np.zeros(3, np.float32))
CASES = [
    BadInput("unknown environment", lambda: make_env("Pong-v5"), ValueError, "env_id", r"expected one of \['FrozenLake-v1'.*got 'Pong-v5'"),
    BadInput("Taxi-v3 (gone in gymnasium >= 1.3)", lambda: make_env("Taxi-v3"), ValueError, "env_id", r"got 'Taxi-v3'"),
    BadInput("tabular on continuous observations", lambda: tabular_sizes(make_env("CartPole-v1")), TypeError, "observation_space",
             r"expected a Discrete space, got Box"),
    BadInput("tabular training on CartPole", lambda: tabular.train(make_env("CartPole-v1"), TabularConfig()), TypeError,
             "observation_space", r"expected a Discrete space"),
    BadInput("exact model of CartPole", lambda: tabular_model(make_env("CartPole-v1")), TypeError, "observation_space", "Discrete"),
    BadInput("DQN on continuous actions", lambda: scratch_train.make_agent(gym.make("Pendulum-v1"), DQNConfig()), TypeError,
             "action_space", r"expected a Discrete space, got Box"),
    BadInput("DQN on a grid of state ids", lambda: vector_sizes(make_env("FrozenLake-v1")), TypeError, "observation_space",
             r"expected a 1-d Box .*got Discrete\(16\)"),
    BadInput("gamma above 1 (DQN)", lambda: DQNConfig(gamma=1.5), ValueError, "gamma", r"expected a discount in \[0, 1\], got 1.5"),
    BadInput("gamma below 0 (tabular)", lambda: TabularConfig(gamma=-0.1), ValueError, "gamma", r"got -0.1"),
    BadInput("gamma of the oracle", lambda: tabular.value_iteration(tabular_model(make_env("FrozenLake-v1")), 1.2), ValueError, "gamma",
             r"got 1.2"),
    BadInput("gamma as a string", lambda: DQNConfig(gamma="0.99"), TypeError, "gamma", r"got str '0.99'"),
    BadInput("epsilon schedule starting above 1", lambda: LinearSchedule(1.2, 0.1, 100), ValueError, "initial",
             r"expected a probability in \[0, 1\], got 1.2"),
    BadInput("epsilon schedule ending below 0", lambda: LinearSchedule(1.0, -0.05, 100), ValueError, "final", r"got -0.05"),
    BadInput("epsilon schedule of negative length", lambda: LinearSchedule(1.0, 0.1, -5), ValueError, "duration", r"got -5"),
    BadInput("epsilon decay above 1", lambda: ExponentialSchedule(1.0, 0.01, 1.5), ValueError, "decay", r"expected a factor in \(0, 1\]"),
    BadInput("constant epsilon above 1", lambda: TabularConfig(epsilon=1.5), ValueError, "epsilon", r"got 1.5"),
    BadInput("epsilon of the wrong type", lambda: TabularConfig(epsilon="greedy"), TypeError, "epsilon", r"got str"),
    BadInput("DQN final epsilon above 1", lambda: DQNConfig(exploration_final_eps=1.5), ValueError, "exploration_final_eps", r"got 1.5"),
    BadInput("DQN exploration beyond the run", lambda: DQNConfig(exploration_fraction=2.0), ValueError, "exploration_fraction",
             r"fraction of total_timesteps in \[0, 1\], got 2.0"),
    BadInput("replay buffer smaller than a batch", lambda: DQNConfig(buffer_size=16, batch_size=32), ValueError, "buffer_size",
             r"expected at least batch_size \(32\) transitions, got 16"),
    BadInput("sampling (learn) before enough transitions", lambda: buffer_with(10).sample(32, np.random.default_rng(0)), ValueError,
             "batch_size", r"expected at most the 10 transitions stored so far, got 32"),
    BadInput("sampling without a Generator", lambda: buffer_with(40).sample(32, 0), TypeError, "rng", "numpy.random.Generator"),
    BadInput("learn() on an action out of range", lambda: agent().learn(BATCH[0], np.array([0, 2, 0]), *BATCH[2:]), ValueError, "actions",
             r"expected ints in \[0, 2\)"),
    BadInput("learn() on ragged columns", lambda: agent().learn(BATCH[0], BATCH[1][:2], *BATCH[2:]), ValueError, "actions",
             r"expected 3 entries"),
    BadInput("learn() with a terminated flag of 0.5", lambda: agent().learn(*BATCH[:4], np.full(3, 0.5, np.float32)), ValueError,
             "terminated", "0/1 flags"),
    BadInput("an observation of the wrong shape", lambda: agent().greedy(np.zeros(5)), ValueError, "obs", r"shape \(4,\), got shape \(5,\)"),
    BadInput("checkpoint of the wrong architecture", load_wrong_architecture(agent((8, 8)), agent((16, 8))), ValueError, "state_dict",
             r"size mismatch for q_net.net.0.weight: got shape \(16, 4\)"),
    BadInput("checkpoint of another depth", load_wrong_architecture(agent((8, 8)), agent((8,))), ValueError, "state_dict",
             r"missing key\(s\): q_net.net.4.weight"),
    BadInput("checkpoint of the wrong architecture (torch twin)",
             load_wrong_architecture(torch_dqn.DQN(4, 2, DQNConfig(hidden=(8,))), torch_dqn.DQN(4, 2, DQNConfig(hidden=(16,)))),
             RuntimeError, "state_dict", r"size mismatch for q_net.net.0.weight"),
    BadInput("a step size of 0", lambda: tabular.TabularAgent(16, 4, alpha=0.0), ValueError, "alpha", r"expected a step size in \(0, 1\], got 0.0"),
    BadInput("unknown tabular algorithm", lambda: TabularConfig(algorithm="td_lambda"), ValueError, "algorithm", r"got 'td_lambda'"),
    BadInput("unknown TD loss", lambda: DQNConfig(loss="l1"), ValueError, "loss", r"expected one of \['huber', 'mse'\], got 'l1'"),
    BadInput("Polyak tau of 0 (the target never moves)", lambda: DQNConfig(tau=0.0), ValueError, "tau", r"\(0, 1\]"),
    BadInput("no hidden layer", lambda: DQNConfig(hidden=()), ValueError, "hidden", "non-empty tuple"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_named(case):
    torch.manual_seed(0)
    assert_bad_input(case)
