"""Experience replay (Lin, 1992; Mnih et al., 2015), shared by both DQN twins (never twinned): a
ring buffer of NumPy arrays that overwrites its oldest transitions once full, and uniform
sampling from an injected rng, so that both twins can be handed the very same batches.

A transition stores ``terminated`` only: a time limit's truncation is not the end of the task,
so its target still bootstraps from the real next observation that gymnasium returns.
"""
import numpy as np

from scratch.plumbing import check_int, check_positive_int, check_rng


class ReplayBuffer:
    """``capacity`` transitions (obs, action, reward, next_obs, terminated) of ``obs_dim`` features."""

    def __init__(self, capacity, obs_dim, dtype=np.float32):
        self.capacity = check_positive_int(capacity, "capacity")
        obs_dim = check_positive_int(obs_dim, "obs_dim")
        self.obs = np.zeros((self.capacity, obs_dim), dtype=dtype)
        self.next_obs = np.zeros((self.capacity, obs_dim), dtype=dtype)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=dtype)
        self.terminated = np.zeros(self.capacity, dtype=dtype)  # 1.0 where the episode ended for good
        self.position = self.size = 0

    def __len__(self):
        return self.size

    def add(self, obs, action, reward, next_obs, terminated):
        """Store one transition over the oldest once full; the observations are cast to the buffer's dtype."""
        i = self.position
        self.obs[i], self.next_obs[i] = obs, next_obs
        self.actions[i], self.rewards[i], self.terminated[i] = action, reward, float(terminated)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample_indices(self, batch_size, rng):
        """``batch_size`` uniform draws (with replacement) of stored positions."""
        batch_size = check_positive_int(batch_size, "batch_size")
        check_rng(rng, optional=False)
        if batch_size > self.size:
            raise ValueError(f"batch_size: expected at most the {self.size} transitions stored so far, got {batch_size} "
                             "(learn only after learning_starts >= batch_size steps)")
        return rng.integers(0, self.size, size=batch_size)

    def batch(self, indices):
        """(obs, actions, rewards, next_obs, terminated) at ``indices``: (B, obs_dim), (B,), (B,), (B, obs_dim), (B,)."""
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu" or indices.ndim != 1 or (indices.size and (indices.min() < 0 or indices.max() >= self.size)):
            raise ValueError(f"indices: expected a 1-d int array in [0, {self.size}), got {indices!r}")
        return self.obs[indices], self.actions[indices], self.rewards[indices], self.next_obs[indices], self.terminated[indices]

    def sample(self, batch_size, rng):
        return self.batch(self.sample_indices(batch_size, rng))


def check_transitions(obs, actions, rewards, next_obs, terminated, num_actions):
    """A batch as DQN.learn expects it: matching lengths, actions in range, terminated 0 or 1."""
    batch = len(obs)
    for name, value in (("actions", actions), ("rewards", rewards), ("next_obs", next_obs), ("terminated", terminated)):
        if len(value) != batch:
            raise ValueError(f"{name}: expected {batch} entries (one per observation), got {len(value)}")
    check_int(batch, "batch size (len(obs))", 1)
    actions = np.asarray(actions)
    if actions.dtype.kind not in "iu" or actions.min() < 0 or actions.max() >= num_actions:
        raise ValueError(f"actions: expected ints in [0, {num_actions}), got {actions!r}")
    if not np.all((np.asarray(terminated) == 0) | (np.asarray(terminated) == 1)):
        raise ValueError(f"terminated: expected 0/1 flags, got {terminated!r}")
