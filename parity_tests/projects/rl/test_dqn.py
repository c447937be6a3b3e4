"""Project 11, DQN: the scratch agent against its torch twin on hypothesis-drawn batches of
transitions (TD targets, loss, every gradient by name, one Adam step), a float64 finite-difference
check of the hand-written TD-loss backward, and lockstep runs over recorded transitions and over
the twinned training loop on CartPole."""
import numpy as np
import pytest
from gymnasium.wrappers import TimeLimit
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.projects.rl import dqn as torch_dqn
from reference.projects.rl import train as torch_train
from scratch.projects.rl import dqn as scratch_dqn
from scratch.projects.rl import train as scratch_train
from scratch.projects.rl.config import DQNConfig
from scratch.projects.rl.envs import make_env
from scratch.projects.rl.replay import ReplayBuffer
from twins.parity import assert_close, assert_lockstep, make_twins, seeds, to_torch, tolerance


@st.composite
def configs(draw, batch_size):
    hidden = tuple(draw(st.lists(st.integers(1, 9), min_size=1, max_size=2)))
    return DQNConfig(lr=draw(st.sampled_from([1e-3, 0.05])), batch_size=batch_size, buffer_size=max(batch_size, 8),
                     gamma=draw(st.sampled_from([0.0, 0.5, 0.99, 1.0])), tau=draw(st.sampled_from([1.0, 0.3])),
                     max_grad_norm=draw(st.sampled_from([float("inf"), 10.0, 0.05])), loss=draw(st.sampled_from(["huber", "mse"])),
                     double=draw(st.booleans()), hidden=hidden)


def transitions(rng, batch_size, obs_dim, num_actions, dtype, scale=2.0):
    """A batch as the buffer hands it out, plus which rows were cut by a time limit (truncated, not
    terminated: those must still bootstrap). Rewards are wide so that Huber's both pieces are used."""
    terminated = rng.random(batch_size) < 0.3
    truncated = ~terminated & (rng.random(batch_size) < 0.3)
    batch = (rng.normal(size=(batch_size, obs_dim)).astype(dtype), rng.integers(0, num_actions, batch_size),
             rng.normal(0, scale, batch_size).astype(dtype), rng.normal(size=(batch_size, obs_dim)).astype(dtype),
             terminated.astype(dtype))
    return batch, truncated


def twins(config, obs_dim, num_actions, dtype, seed):
    """Agents holding the same randomised weights; the target network differs from the online one."""
    return make_twins(scratch_dqn.DQN, torch_dqn.DQN, seed, dtype, scale=0.5, obs_dim=obs_dim, num_actions=num_actions,
                      config=config)


def assert_same_agents(agent, twin, rtol, atol, when):
    state, torch_state = agent.state_dict(), twin.state_dict()
    assert state.keys() == torch_state.keys()
    for key, value in state.items():
        assert_close(value, torch_state[key], f"{key} {when}", rtol, atol)


@settings(max_examples=30)
@given(data=st.data(), batch_size=st.integers(1, 12), obs_dim=st.integers(1, 5), num_actions=st.integers(2, 4),
       dtype=st.sampled_from([np.float32, np.float64]), seed=seeds)
def test_td_target_loss_gradients_and_step_match_torch(data, batch_size, obs_dim, num_actions, dtype, seed):
    config = data.draw(configs(batch_size))
    rng = np.random.default_rng(seed)
    agent, twin = twins(config, obs_dim, num_actions, dtype, seed)
    batch, truncated = transitions(rng, batch_size, obs_dim, num_actions, dtype)
    _, _, rewards, next_obs, terminated = batch
    reduction = max(config.hidden) * batch_size
    rtol, atol = tolerance(dtype, "forward", reduction)

    target = agent.td_target(rewards, next_obs, terminated)
    assert target.dtype == dtype
    assert_close(target, twin.td_target(to_torch(rewards), to_torch(next_obs), to_torch(terminated)), "TD target", rtol, atol)
    # the definition, from the target network's own values: terminated rows stop, truncated rows bootstrap
    chooser = agent.q_net(next_obs) if config.double else agent.target_net(next_obs)
    bootstrap = agent.target_net(next_obs)[np.arange(batch_size), chooser.argmax(axis=1)]
    assert_close(target, rewards + config.gamma * np.where(terminated == 1, 0.0, bootstrap), "TD target by definition", rtol, atol)
    assert_close(target[truncated], (rewards + config.gamma * bootstrap)[truncated], "TD target of truncated rows", rtol, atol)

    loss, torch_loss = agent.learn(*batch), twin.learn(*batch)
    assert_close(np.float64(loss), np.float64(torch_loss), "TD loss", rtol, atol)
    rtol, atol = tolerance(dtype, "grad", reduction)
    torch_params = dict(twin.named_parameters())
    for name, param in agent.named_parameters():  # the clipped gradients, by name; the target net gets none
        expected = torch_params[name].grad
        if name.startswith("target_net."):
            assert param.grad is None and expected is None, name
            continue
        assert_close(param.grad, expected, f"grad of {name}", rtol, atol)
    assert_same_agents(agent, twin, rtol, atol, "after one Adam step")
    agent.sync_target(), twin.sync_target()
    assert_same_agents(agent, twin, rtol, atol, "after a target sync")


@settings(max_examples=6)
@given(double=st.booleans(), loss=st.sampled_from(["huber", "mse"]), seed=seeds)
def test_td_loss_backward_matches_finite_differences(double, loss, seed):
    """Torch-free: the gradient ``learn`` leaves in .grad (no clipping) against float64 central
    differences of the TD loss, the target held fixed as the semi-gradient defines it."""
    rng = np.random.default_rng(seed)
    config = DQNConfig(batch_size=6, buffer_size=8, gamma=0.9, max_grad_norm=float("inf"), loss=loss, double=double, hidden=(5,))
    agent, _ = twins(config, 3, 3, np.float64, seed)
    obs, actions, rewards, next_obs, terminated = transitions(rng, 6, 3, 3, np.float64)[0]
    before = agent.state_dict()
    agent.learn(obs, actions, rewards, next_obs, terminated)
    grads = {name: param.grad.copy() for name, param in agent.q_net.named_parameters()}
    agent.load_state_dict(before)
    target = agent.td_target(rewards, next_obs, terminated)

    def td_loss():
        return float(agent.criterion(agent.q_net(obs)[np.arange(6), actions], target))

    eps = 1e-6
    for name, param in agent.q_net.named_parameters():
        numeric = np.empty(param.data.size)
        for i in range(param.data.size):
            index = np.unravel_index(i, param.data.shape)
            original = param.data[index]
            param.data[index] = original + eps
            plus = td_loss()
            param.data[index] = original - eps
            minus = td_loss()
            param.data[index] = original
            numeric[i] = (plus - minus) / (2 * eps)
        assert_close(grads[name].ravel(), numeric, f"finite differences: grad of {name}", 1e-5, 1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("double, tau", [(False, 1.0), (True, 0.5)])
def test_lockstep_over_recorded_transitions(dtype, double, tau):
    """The same stored transitions, the same sampled indices, 40 updates with a target sync every 5:
    the same losses and the same online and target weights at the end."""
    rng = np.random.default_rng(7)
    config = DQNConfig(lr=5e-3, batch_size=16, buffer_size=64, gamma=0.95, tau=tau, max_grad_norm=1.0, double=double, hidden=(16, 16))
    agent, twin = twins(config, 4, 3, dtype, seed=3)
    buffer = ReplayBuffer(64, 4, dtype)
    batch = transitions(rng, 64, 4, 3, dtype)[0]
    for row in zip(*batch):
        buffer.add(*row)
    losses, torch_losses = [], []
    for update in range(1, 41):
        indices = buffer.sample_indices(config.batch_size, rng)
        losses.append(agent.learn(*buffer.batch(indices)))
        torch_losses.append(twin.learn(*buffer.batch(indices)))
        if update % 5 == 0:
            agent.sync_target(), twin.sync_target()
    rtol, atol = tolerance(dtype, "train", reduction=16 * 16)
    assert_lockstep({"loss": losses}, {"loss": torch_losses}, agent, twin, rtol, atol, keys=("loss",))


def test_the_training_loops_run_in_lockstep_on_cartpole():
    """The twinned loop files from the same weights in float64: the same actions (so the same episodes),
    the same samples, updates and target syncs, the same weights after 400 steps."""
    config = DQNConfig(lr=1e-3, batch_size=32, buffer_size=1000, learning_starts=80, train_freq=20, gradient_steps=2,
                       target_update_interval=50, exploration_fraction=0.5, total_timesteps=400, hidden=(32, 32), seed=1)
    agent, twin = make_twins(scratch_dqn.DQN, torch_dqn.DQN, config.seed, np.float64, obs_dim=4, num_actions=2, config=config)
    history = scratch_train.fit(agent, make_env("CartPole-v1"), config)
    torch_history = torch_train.fit(twin, make_env("CartPole-v1"), config)
    assert len(history["losses"]) == (400 - 80) // 20 * 2
    assert history["episode_ends"] == torch_history["episode_ends"]
    rtol, atol = tolerance(np.float64, "train")
    assert_lockstep(history, torch_history, agent, twin, rtol, atol, keys=("losses", "episode_returns"))


def test_the_loop_stores_terminations_not_truncations():
    """CartPole cut at 8 steps: the cut transitions are stored with terminated = 0 (they bootstrap) and
    next_obs the real last observation; a pole that falls is stored with terminated = 1."""
    config = DQNConfig(batch_size=4, buffer_size=400, learning_starts=400, total_timesteps=300, hidden=(4,), seed=2)
    env = TimeLimit(make_env("CartPole-v1").unwrapped, max_episode_steps=8)
    agent = scratch_train.make_agent(env, config, np.float64)
    buffer = ReplayBuffer(400, 4, np.float64)
    history = scratch_train.fit(agent, env, config, buffer=buffer)
    ends = np.array(history["episode_ends"]) - 1  # buffer rows of the last step of each episode
    cut = ends[np.diff(np.concatenate([[0], ends + 1])) == 8]
    assert len(cut) > 0 and not buffer.terminated[cut].any()
    fallen = np.setdiff1d(ends, cut)
    assert buffer.terminated[fallen].all() and buffer.terminated.sum() == len(fallen)
    assert not np.array_equal(buffer.next_obs[cut[0]], buffer.obs[cut[0] + 1])  # the next row starts a new episode


def test_a_checkpoint_round_trips_between_the_twins(tmp_path):
    from scratch import serialization
    config = DQNConfig(hidden=(8,))
    agent, twin = make_twins(scratch_dqn.DQN, torch_dqn.DQN, 0, np.float32, scale=0.5, obs_dim=4, num_actions=2, config=config)
    serialization.save(agent.state_dict(), tmp_path / "dqn.npz")
    fresh = torch_dqn.DQN(4, 2, config)
    fresh.load_state_dict({k: to_torch(v) for k, v in serialization.load(tmp_path / "dqn.npz").items()})
    assert_same_agents(agent, fresh, 0, 0, "after the round trip")
    assert_same_agents(agent, twin, 0, 0, "as copied")
