"""Project 11, tabular: the exact oracle (value and policy iteration on env.unwrapped.P) and the four
TD learners judged against it. Tabular methods have no torch twin; the oracle is their reference."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch.projects.rl import tabular
from scratch.projects.rl.config import ALGORITHMS, LinearSchedule, TabularConfig
from scratch.projects.rl.envs import make_env, tabular_model

GRIDS = ("FrozenLake-v1", "FrozenLake-8x8", "CliffWalking-v1", "Taxi-v4")


@pytest.fixture(scope="module")
def models():
    return {name: tabular_model(make_env(name)) for name in GRIDS}


@pytest.mark.parametrize("name", GRIDS)
def test_the_model_is_the_transition_table(models, name):
    """T and R hold every outcome of P: probabilities that go on plus those that terminate sum to 1."""
    env = make_env(name)
    model, P = models[name], env.unwrapped.P
    ends = np.array([[sum(p for p, _, _, done in P[s][a] if done) for a in range(model.num_actions)] for s in range(model.num_states)])
    np.testing.assert_allclose(model.T.sum(axis=2) + ends, 1.0, atol=1e-12)
    rewards = np.array([[sum(p * r for p, _, r, _ in P[s][a]) for a in range(model.num_actions)] for s in range(model.num_states)])
    np.testing.assert_allclose(model.R, rewards, atol=1e-12)


@settings(max_examples=6)
@given(name=st.sampled_from(GRIDS[:3]), gamma=st.sampled_from([0.5, 0.9, 0.99]))
def test_value_iteration_and_policy_iteration_reach_the_same_fixed_point(models, name, gamma):
    check_the_oracle(models[name], gamma)


def test_the_oracle_on_taxi(models):
    """Taxi's 500 states once (policy iteration solves a 500 x 500 system per improvement)."""
    check_the_oracle(models["Taxi-v4"], 0.99)


def check_the_oracle(model, gamma):
    Q, _ = tabular.value_iteration(model, gamma)
    assert tabular.bellman_residual(model, Q, gamma) <= 1e-10
    Q_pi, policy, _ = tabular.policy_iteration(model, gamma)
    assert tabular.bellman_residual(model, Q_pi, gamma) <= 1e-10
    np.testing.assert_allclose(Q_pi, Q, rtol=0, atol=1e-9)
    # the policy found is greedy in Q*, and its exact value is V*
    assert tabular.optimal_actions(Q)[np.arange(model.num_states), policy].all()
    np.testing.assert_allclose(tabular.policy_evaluation(model, policy, gamma), Q.max(axis=1), atol=1e-9)


def test_the_bellman_residual_sees_a_wrong_q(models):
    model = models["FrozenLake-v1"]
    Q, _ = tabular.value_iteration(model, 0.99)
    Q[14, 2] += 1e-6  # one entry off by a millionth
    assert tabular.bellman_residual(model, Q, 0.99) >= 1e-7


def test_undiscounted_cliff_walking_is_solved_and_a_looping_policy_is_refused(models):
    model = models["CliffWalking-v1"]
    Q, _ = tabular.value_iteration(model, 1.0)
    assert Q.max(axis=1)[36] == -13  # the start: 13 steps along the cliff edge
    with pytest.raises(ValueError, match="policy: expected a policy that terminates"):
        tabular.policy_evaluation(model, np.zeros(model.num_states, dtype=int), 1.0)  # always up: never ends


def fresh_agent(algorithm, seed=0, gamma=0.9):
    return tabular.TabularAgent(3, 2, algorithm, alpha=0.5, gamma=gamma, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_update_moves_q_towards_its_own_target(algorithm):
    agent = fresh_agent(algorithm)
    agent.tables[:] = np.array([[1.0, 2.0], [4.0, 3.0], [0.0, 0.0]])
    epsilon, reward = 0.2, 1.0
    before = agent.tables.copy()
    agent.update(0, 1, reward, 1, terminated=False, next_action=1, epsilon=epsilon)
    target = {"q_learning": reward + 0.9 * 4.0, "sarsa": reward + 0.9 * 3.0, "double_q": reward + 0.9 * 4.0,
              "expected_sarsa": reward + 0.9 * ((0.1 + 0.8) * 4.0 + 0.1 * 3.0)}[algorithm]
    changed = np.argwhere(agent.tables != before)
    assert len(changed) == 1 and tuple(changed[0][1:]) == (0, 1)  # one table, one entry: Q(0, 1)
    assert agent.tables[tuple(changed[0])] == pytest.approx(2.0 + 0.5 * (target - 2.0), abs=1e-12)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_termination_stops_the_bootstrap_and_truncation_does_not(algorithm):
    """The learners take ``terminated`` only: a truncated step (terminated False) still bootstraps."""
    ended, cut = fresh_agent(algorithm), fresh_agent(algorithm)
    for agent in (ended, cut):
        agent.tables[:] = 5.0
    ended.update(0, 0, 1.0, 1, terminated=True, next_action=0, epsilon=0.1)
    cut.update(0, 0, 1.0, 1, terminated=False, next_action=0, epsilon=0.1)
    (moved_ended,), (moved_cut,) = ended.tables[ended.tables != 5.0], cut.tables[cut.tables != 5.0]  # Q(0, 0) of one table
    assert moved_ended == pytest.approx(5.0 + 0.5 * (1.0 - 5.0))
    assert moved_cut == pytest.approx(5.0 + 0.5 * (1.0 + 0.9 * 5.0 - 5.0))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_seeded_run_repeats_and_another_seed_differs(algorithm):
    env = make_env("FrozenLake-v1")
    config = TabularConfig(algorithm=algorithm, alpha=0.1, epsilon=LinearSchedule(1.0, 0.1, 100), num_episodes=150, seed=3)
    first, history = tabular.train(env, config)
    again, history_again = tabular.train(env, config)
    other, _ = tabular.train(env, dataclasses.replace(config, seed=4))
    np.testing.assert_array_equal(first.tables, again.tables)
    assert history["returns"] == history_again["returns"]
    assert not np.array_equal(first.tables, other.tables)


def test_q_learning_on_slippery_frozen_lake_is_near_optimal():
    """Greedy in the learned Q: at least 0.70 success over 1,000 episodes (pi* reaches about 0.74)."""
    env = make_env("FrozenLake-v1")
    config = TabularConfig(alpha=0.1, gamma=0.99, epsilon=LinearSchedule(1.0, 0.05, 1500), num_episodes=3000, seed=0)
    agent, _ = tabular.train(env, config)
    _, success = tabular.evaluate_policy(env, agent.greedy_policy(), 1000, seed=1)
    assert success >= 0.70


def test_q_learning_on_taxi_finds_an_optimal_policy():
    """From every state an episode can start in, the learned greedy policy's exact value is V*."""
    env = make_env("Taxi-v4")
    oracle = tabular.solve(env, 0.99)
    config = TabularConfig(alpha=0.5, gamma=0.99, epsilon=LinearSchedule(1.0, 0.05, 3000), num_episodes=6000, seed=0)
    agent, _ = tabular.train(env, config)
    starts = env.unwrapped.initial_state_distrib > 0
    value = tabular.policy_evaluation(oracle["model"], agent.greedy_policy(), 0.99)
    np.testing.assert_allclose(value[starts], oracle["V"][starts], atol=1e-9)


def test_cliff_walking_sarsa_learns_the_safe_path_and_q_learning_the_edge():
    """Sutton & Barto's Example 6.6 (alpha 0.5, epsilon 0.1, undiscounted): followed greedily, Q-learning's
    path runs along the cliff (13 steps, the optimum); SARSA's keeps away (longer, but safe under exploration).
    Expected SARSA and Double Q-learning reach the goal too."""
    env = make_env("CliffWalking-v1")
    returns = {}
    for algorithm in ALGORITHMS:
        config = TabularConfig(algorithm=algorithm, alpha=0.5, gamma=1.0, epsilon=0.1, num_episodes=300, seed=0)
        agent, _ = tabular.train(env, config)
        returns[algorithm] = tabular.greedy_return(env, agent.greedy_policy())
    assert returns["q_learning"] == -13
    assert -25 <= returns["sarsa"] < -13
    assert returns["expected_sarsa"] >= -25 and returns["double_q"] >= -25
