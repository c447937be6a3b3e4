"""Project 11's run settings, shared by both twins (never twinned): the exploration schedules,
the tabular and DQN settings with their checks, and the settings used for each environment.

DQNConfig uses Stable-Baselines3's names and meanings (``train_freq``, ``gradient_steps``,
``target_update_interval`` in environment steps, ``exploration_fraction``...), so the settings
that rl-baselines3-zoo publishes for a task read straight across.
"""
import math
from dataclasses import dataclass

from scratch.plumbing import check_bool, check_int, check_positive_int, check_real

LOSSES = ("huber", "mse")
ALGORITHMS = ("q_learning", "sarsa", "expected_sarsa", "double_q")  # the tabular learners (tabular.py)


def check_gamma(gamma):
    """The discount as a float in [0, 1]; a ValueError naming ``gamma`` otherwise."""
    return check_real(gamma, "gamma", 0.0, 1.0, expected="a discount in [0, 1]")


def check_probability(value, name):
    return check_real(value, name, 0.0, 1.0, expected="a probability in [0, 1]")


class LinearSchedule:
    """epsilon from ``initial`` to ``final`` linearly over ``duration`` steps (or episodes), then flat."""

    def __init__(self, initial, final, duration):
        self.initial = check_probability(initial, "initial")
        self.final = check_probability(final, "final")
        self.duration = check_int(duration, "duration", 0)

    def __call__(self, t):
        fraction = 1.0 if self.duration == 0 else min(1.0, t / self.duration)
        return self.initial + fraction * (self.final - self.initial)


class ExponentialSchedule:
    """epsilon = max(final, initial * decay**t): a fixed fraction less each episode."""

    def __init__(self, initial, final, decay):
        self.initial = check_probability(initial, "initial")
        self.final = check_probability(final, "final")
        self.decay = check_real(decay, "decay", 0.0, 1.0, low_open=True, expected="a factor in (0, 1]")

    def __call__(self, t):
        return max(self.final, self.initial * self.decay ** t)


class ConstantSchedule(LinearSchedule):
    """The same epsilon throughout (Sutton & Barto's epsilon = 0.1)."""

    def __init__(self, epsilon):
        super().__init__(epsilon, epsilon, 0)


def check_schedule(schedule):
    """A schedule object, or a number in [0, 1] made into a constant one."""
    if isinstance(schedule, (LinearSchedule, ExponentialSchedule)):
        return schedule
    if isinstance(schedule, (int, float)) and not isinstance(schedule, bool):
        return ConstantSchedule(check_probability(schedule, "epsilon"))
    raise TypeError(f"epsilon: expected a probability or a LinearSchedule/ExponentialSchedule, got {type(schedule).__name__}")


@dataclass
class TabularConfig:
    """One tabular run: step size ``alpha``, discount, exploration per episode, the number of episodes."""
    algorithm: str = "q_learning"
    alpha: float = 0.1
    gamma: float = 0.99
    epsilon: object = 0.1  # a probability or a schedule over episodes
    num_episodes: int = 1000
    seed: int = 0

    def __post_init__(self):
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm: expected one of {list(ALGORITHMS)}, got {self.algorithm!r}")
        self.alpha = check_real(self.alpha, "alpha", 0.0, 1.0, low_open=True, expected="a step size in (0, 1]")
        self.gamma = check_gamma(self.gamma)
        self.epsilon = check_schedule(self.epsilon)
        self.num_episodes = check_positive_int(self.num_episodes, "num_episodes")
        self.seed = check_int(self.seed, "seed", 0)


@dataclass
class DQNConfig:
    """A DQN run, in Stable-Baselines3's terms; ``double`` adds van Hasselt's Double DQN target."""
    lr: float = 1e-4
    batch_size: int = 32
    buffer_size: int = 100_000
    learning_starts: int = 1000  # random-policy steps stored before the first update
    gamma: float = 0.99
    train_freq: int = 4  # environment steps between rounds of updates
    gradient_steps: int = 1  # updates per round
    target_update_interval: int = 1000  # environment steps between target syncs
    tau: float = 1.0  # 1: hard copy; below 1: Polyak averaging
    exploration_fraction: float = 0.1  # of total_timesteps, for epsilon to fall from initial to final
    exploration_initial_eps: float = 1.0
    exploration_final_eps: float = 0.05
    max_grad_norm: float = 10.0
    loss: str = "huber"
    double: bool = False
    hidden: tuple = (64, 64)
    total_timesteps: int = 50_000
    seed: int = 0

    def __post_init__(self):
        self.lr = check_real(self.lr, "lr", 0, math.inf, low_open=True, high_open=True, expected="a finite positive number")
        for name in ("batch_size", "buffer_size", "train_freq", "gradient_steps", "target_update_interval", "total_timesteps"):
            setattr(self, name, check_positive_int(getattr(self, name), name))
        self.learning_starts = check_int(self.learning_starts, "learning_starts", 0)
        self.seed = check_int(self.seed, "seed", 0)
        self.gamma = check_gamma(self.gamma)
        self.tau = check_real(self.tau, "tau", 0.0, 1.0, low_open=True, expected="a fraction in (0, 1]")
        self.exploration_fraction = check_real(self.exploration_fraction, "exploration_fraction", 0.0, 1.0,
                                               expected="a fraction of total_timesteps in [0, 1]")
        self.exploration_initial_eps = check_probability(self.exploration_initial_eps, "exploration_initial_eps")
        self.exploration_final_eps = check_probability(self.exploration_final_eps, "exploration_final_eps")
        self.max_grad_norm = check_real(self.max_grad_norm, "max_grad_norm", 0, math.inf, low_open=True,
                                        expected="a positive number (inf: no clipping)")
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {list(LOSSES)}, got {self.loss!r}")
        self.double = check_bool(self.double, "double")
        if not isinstance(self.hidden, tuple) or not self.hidden or not all(isinstance(h, int) and h > 0 for h in self.hidden):
            raise ValueError(f"hidden: expected a non-empty tuple of positive ints (one per hidden layer), got {self.hidden!r}")
        if self.buffer_size < self.batch_size:
            raise ValueError(f"buffer_size: expected at least batch_size ({self.batch_size}) transitions, got {self.buffer_size}")

    def epsilon(self):
        """The linear exploration schedule over environment steps."""
        return LinearSchedule(self.exploration_initial_eps, self.exploration_final_eps,
                              int(self.exploration_fraction * self.total_timesteps))


# rl-baselines3-zoo's published DQN settings (hyperparams/dqn.yml), the same for all three agents
# (scratch, torch twin, SB3) so that their curves compare. SB3's Adam, Huber (smooth L1) loss and
# max_grad_norm 10 are its defaults. Acrobot's gradient_steps -1 (one update per step collected) is
# written out as 4, its train_freq.
CONFIGS = {
    "CartPole-v1": DQNConfig(lr=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000, gamma=0.99,
                             target_update_interval=10, train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                             exploration_final_eps=0.04, hidden=(256, 256), total_timesteps=50_000),
    "Acrobot-v1": DQNConfig(lr=6.3e-4, batch_size=128, buffer_size=50_000, learning_starts=0, gamma=0.99,
                            target_update_interval=250, train_freq=4, gradient_steps=4, exploration_fraction=0.12,
                            exploration_final_eps=0.1, hidden=(256, 256), total_timesteps=100_000),
}

# Tabular settings per grid world: Sutton & Barto's cliff walk (alpha 0.5, epsilon 0.1), and decaying
# exploration where the greedy policy is what is judged.
TABULAR_CONFIGS = {
    "FrozenLake-v1": TabularConfig(alpha=0.05, gamma=0.99, epsilon=LinearSchedule(1.0, 0.05, 4000), num_episodes=20_000),
    "FrozenLake-8x8": TabularConfig(alpha=0.05, gamma=0.99, epsilon=LinearSchedule(1.0, 0.05, 20_000), num_episodes=50_000),
    "CliffWalking-v1": TabularConfig(alpha=0.5, gamma=1.0, epsilon=0.1, num_episodes=500),
    "Taxi-v4": TabularConfig(alpha=0.5, gamma=0.99, epsilon=LinearSchedule(1.0, 0.05, 3000), num_episodes=6000),
}
