"""Project 11: the DQN training loop, as Stable-Baselines3 runs it: act, step the environment,
store the transition, and every ``train_freq`` steps take ``gradient_steps`` updates on batches
drawn uniformly from the replay buffer; every ``target_update_interval`` steps sync the target.

Until ``learning_starts`` steps (and at least one batch) are stored, actions are uniform and
nothing is learned. A transition stores ``terminated``, never ``truncated``: a time limit does
not end the task, so its target still bootstraps from the real next observation.
All randomness but the network's initial weights comes from one NumPy generator (exploration,
then sampling), so the two twins, given the same weights, take the same steps.
Twin of reference/projects/rl/train.py.
"""
import numpy as np

from scratch.plumbing import progress_range
from scratch.projects.rl.dqn import DQN
from scratch.projects.rl.envs import vector_sizes
from scratch.projects.rl.replay import ReplayBuffer


def make_agent(env, config, dtype=np.float32):
    """A DQN sized for ``env``, its weights drawn from ``config.seed``."""
    obs_dim, num_actions = vector_sizes(env)
    return DQN(obs_dim, num_actions, config, dtype=dtype, rng=np.random.default_rng(config.seed))


def evaluate(agent, env, num_episodes=10, seed=0):
    """Returns of ``num_episodes`` greedy episodes, the first reset seeded with ``seed``."""
    returns = np.empty(num_episodes)
    obs, _ = env.reset(seed=seed)
    for episode in range(num_episodes):
        if episode:
            obs, _ = env.reset()
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.greedy(obs))
            total, done = total + reward, terminated or truncated
        returns[episode] = total
    return returns


def fit(agent, env, config, eval_env=None, eval_every=None, eval_episodes=5, buffer=None, progress=False):
    """Train ``agent`` on ``env`` for ``config.total_timesteps`` steps, storing transitions in ``buffer``
    (default: a new ReplayBuffer of ``config.buffer_size``). Returns the history: each episode's return
    and the step it ended at, each update's loss, and, with ``eval_env``, the mean greedy return every
    ``eval_every`` steps and, as rl-zoo's EvalCallback keeps its best model, the weights of the best
    evaluation (``best_state``)."""
    obs_dim, _ = vector_sizes(env)
    rng = np.random.default_rng(config.seed)  # exploration and sampling: the same on both twins
    buffer = ReplayBuffer(config.buffer_size, obs_dim, dtype=agent.dtype) if buffer is None else buffer
    epsilon = config.epsilon()
    learning_starts = max(config.learning_starts, config.batch_size)
    history = {"episode_returns": [], "episode_ends": [], "losses": [], "eval_steps": [], "eval_returns": [], "best_state": None}
    obs, _ = env.reset(seed=config.seed)
    episode_return = 0.0
    steps = progress_range(1, config.total_timesteps + 1, progress=progress, desc="scratch DQN", unit="step", mininterval=1.0)
    for step in steps:
        if step <= learning_starts:
            action = int(rng.integers(agent.num_actions))
        else:
            action = agent.act(obs, epsilon(step), rng)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, terminated)
        episode_return += reward
        if terminated or truncated:
            history["episode_returns"].append(episode_return)
            history["episode_ends"].append(step)
            (obs, _), episode_return = env.reset(), 0.0
        else:
            obs = next_obs
        if step > learning_starts and step % config.train_freq == 0:
            for _ in range(config.gradient_steps):
                history["losses"].append(agent.learn(*buffer.sample(config.batch_size, rng)))
        if step % config.target_update_interval == 0:
            agent.sync_target()
        if eval_env is not None and eval_every and step % eval_every == 0:
            history["eval_steps"].append(step)
            history["eval_returns"].append(float(evaluate(agent, eval_env, eval_episodes, seed=config.seed + step).mean()))
            if history["eval_returns"][-1] >= max(history["eval_returns"]):
                history["best_state"] = {key: value.copy() for key, value in agent.state_dict().items()}
    return history
