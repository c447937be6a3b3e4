"""Project 11: deep Q-learning (Mnih et al., 2015), with van Hasselt et al.'s Double DQN (2016)
as an option.

An MLP maps an observation to one value per action. ``act`` explores epsilon-greedily; ``learn``
takes a batch of stored transitions and moves Q(s, a) towards the TD target

    y = r + gamma * (1 - terminated) * Q_target(s', a*),   a* = argmax_a' Q_target(s', a')
                                                           (Double DQN: argmax_a' Q(s', a'))

with a Huber (or squared) loss, gradient-norm clipping and Adam; ``sync_target`` copies the online
network into the slowly moving target network (tau = 1) or averages it in (Polyak, tau < 1). Only
Q(s, a) of the action taken reaches the loss, so the gradient of the (B, A) network output is zero
but for one entry per row: the hand-written backward of that gather is a scatter.
Twin of reference/projects/rl/dqn.py, where autograd writes that backward. Trained by train.py.
"""
import numpy as np

from scratch import nn, optim
from scratch.projects.rl.replay import check_transitions


class QNetwork(nn.Module):
    """(N, obs_dim) observations -> (N, num_actions) action values: an MLP with ReLU between layers."""

    def __init__(self, obs_dim, num_actions, hidden=(64, 64), dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        layers, width = [], obs_dim
        for size in hidden:
            layers += [nn.Linear(width, size, dtype=dtype, rng=rng), nn.ReLU()]
            width = size
        self.net = nn.Sequential(*layers, nn.Linear(width, num_actions, dtype=dtype, rng=rng))

    def forward(self, obs):
        return self.net(obs)  # (N, obs_dim) -> (N, num_actions)

    def backward(self, grad):
        return self.net.backward(grad, input_grad=False)  # observations are data: no gradient for them


class DQN(nn.Module):
    """The online Q-network, its target copy, the TD loss and the optimizer, set by a DQNConfig."""

    def __init__(self, obs_dim, num_actions, config, dtype=None, rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.obs_dim, self.num_actions, self.config = obs_dim, num_actions, config
        self.q_net = QNetwork(obs_dim, num_actions, config.hidden, dtype=dtype, rng=rng)
        self.target_net = QNetwork(obs_dim, num_actions, config.hidden, dtype=dtype, rng=rng)
        self.target_net.load_state_dict(self.q_net.state_dict())
        self.criterion = nn.HuberLoss() if config.loss == "huber" else nn.MSELoss()
        self.optimizer = optim.Adam(self.q_net.parameters(), lr=config.lr)

    @property
    def dtype(self):
        """The NumPy dtype of the weights: what observations are stored and cast as."""
        return self.q_net.net[0].weight.dtype

    def act(self, obs, epsilon, rng):
        """epsilon-greedy: a uniform random action with probability epsilon, else the greedy one."""
        if rng.random() < epsilon:
            return int(rng.integers(self.num_actions))
        return self.greedy(obs)

    def greedy(self, obs):
        """argmax_a Q(obs, a) for one observation (obs_dim,), cast to the network's dtype."""
        obs = np.asarray(obs, dtype=self.dtype)
        if obs.shape != (self.obs_dim,):
            raise ValueError(f"obs: expected one observation of shape ({self.obs_dim},), got shape {obs.shape}")
        return int(self.q_net(obs[None]).argmax())  # (1, obs_dim) -> (1, num_actions)

    def td_target(self, rewards, next_obs, terminated):
        """y = r + gamma (1 - terminated) Q_target(s', a*): no bootstrap past a termination, but one
        past a truncation (the task went on; only the episode was cut)."""
        next_q = self.target_net(next_obs)  # (B, A)
        chooser = self.q_net(next_obs) if self.config.double else next_q  # Double DQN: the online net picks
        best = chooser.argmax(axis=1)  # (B,)
        return rewards + self.config.gamma * (1 - terminated) * next_q[np.arange(len(best)), best]  # (B,)

    def learn(self, obs, actions, rewards, next_obs, terminated):
        """One gradient step on the TD loss of a batch of transitions; returns the loss."""
        check_transitions(obs, actions, rewards, next_obs, terminated, self.num_actions)
        target = self.td_target(rewards, next_obs, terminated)  # first: backward needs q_net's last forward on obs
        q = self.q_net(obs)  # (B, A)
        rows = np.arange(len(actions))
        loss = self.criterion(q[rows, actions], target)  # Q(s, a) of the actions taken, (B,)
        self.optimizer.zero_grad()
        dq = np.zeros_like(q)  # the gather's backward: only the taken actions reached the loss
        dq[rows, actions] = self.criterion.backward()  # (B,) -> (B, A)
        self.q_net.backward(dq)
        nn.utils.clip_grad_norm_(self.q_net.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        return float(loss)

    def sync_target(self):
        """target <- tau * online + (1 - tau) * target: a copy at tau = 1, Polyak averaging below."""
        tau = self.config.tau
        for target, param in zip(self.target_net.parameters(), self.q_net.parameters()):
            target.data *= 1 - tau
            target.data += tau * param.data
