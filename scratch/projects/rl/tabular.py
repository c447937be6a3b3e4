"""Project 11, tabular control: the exact oracle and four temporal-difference learners.

The oracle is dynamic programming on the environment's own model (envs.tabular_model): value
iteration and policy iteration give Q* and V*, every backup one tensor product over all states
and actions at once. The learners only see sampled transitions (Sutton & Barto, 2018, ch. 6):

- Q-learning (Watkins, 1989):        target r + gamma * max_a' Q(s', a')
- SARSA (Rummery & Niranjan, 1994):  target r + gamma * Q(s', a'), a' the action actually taken next
- Expected SARSA (van Seijen, 2009): target r + gamma * sum_a' pi(a'|s') Q(s', a'), pi epsilon-greedy
- Double Q-learning (van Hasselt, 2010): two tables, one picks argmax a', the other values it

Each bootstraps unless the transition *terminated*; a time limit's truncation still bootstraps,
as gymnasium defines it. Tabular methods have no torch twin: the oracle is their reference.
"""
import numpy as np

from scratch.plumbing import check_real, check_rng
from scratch.projects.rl.config import ALGORITHMS, check_gamma
from scratch.projects.rl.envs import tabular_model, tabular_sizes


def bellman_backup(model, V, gamma):
    """Q(s, a) = R(s, a) + gamma * sum_s' T(s, a, s') V(s'), for every state and action at once."""
    return model.R + gamma * model.T @ V  # (S, A, S) @ (S,) -> (S, A)


def bellman_residual(model, Q, gamma):
    """max |T*Q - Q|: zero exactly at Q* (the optimality operator's fixed point)."""
    return float(np.max(np.abs(bellman_backup(model, Q.max(axis=1), gamma) - Q)))


def value_iteration(model, gamma, tol=1e-12, max_iterations=100_000):
    """Q* by repeated optimal backups until no entry moves more than ``tol``: (Q*, iterations)."""
    check_gamma(gamma)
    Q = np.zeros_like(model.R)
    for iteration in range(1, max_iterations + 1):
        Q_new = bellman_backup(model, Q.max(axis=1), gamma)
        change = np.max(np.abs(Q_new - Q))
        Q = Q_new
        if change <= tol:
            return Q, iteration
    raise RuntimeError(f"value_iteration: no convergence to tol={tol:g} in {max_iterations} sweeps (gamma={gamma}); "
                       "with gamma = 1 some policy may never terminate")


def policy_evaluation(model, policy, gamma):
    """V^pi exactly: the linear system V = R_pi + gamma T_pi V solved at once (policy: (S,) actions)."""
    states = np.arange(model.num_states)
    T_pi, R_pi = model.T[states, policy], model.R[states, policy]  # (S, S), (S,)
    try:
        return np.linalg.solve(np.eye(model.num_states) - gamma * T_pi, R_pi)
    except np.linalg.LinAlgError:
        raise ValueError(f"policy: expected a policy that terminates from every state when gamma = {gamma}, "
                         "got one that can loop forever (its value is undefined); use gamma < 1") from None


def policy_iteration(model, gamma, max_iterations=1000, policy=None):
    """Q* by alternating exact evaluation and greedy improvement until the policy is stable:
    (Q*, policy, iterations), from ``policy`` (default: action 0 everywhere). Ties keep the
    current action, so the loop cannot cycle."""
    check_gamma(gamma)
    policy = np.zeros(model.num_states, dtype=np.int64) if policy is None else np.asarray(policy)
    states = np.arange(model.num_states)
    for iteration in range(1, max_iterations + 1):
        Q = bellman_backup(model, policy_evaluation(model, policy, gamma), gamma)
        better = Q.max(axis=1) > Q[states, policy] + 1e-12 * np.maximum(1.0, np.abs(Q.max(axis=1)))
        if not better.any():
            return Q, policy, iteration
        policy = np.where(better, Q.argmax(axis=1), policy)
    raise RuntimeError(f"policy_iteration: the policy still changed after {max_iterations} improvements")


def optimal_actions(Q, rtol=1e-9):
    """(S, A) mask of the actions within ``rtol`` of each state's best: pi* may be any of them."""
    best = Q.max(axis=1, keepdims=True)
    return Q >= best - rtol * np.maximum(1.0, np.abs(best))


def epsilon_greedy_probabilities(Q_row, epsilon):
    """pi(. | s) of epsilon-greedy on one row of Q: epsilon spread evenly, the rest over the tied best."""
    best = Q_row == Q_row.max()
    return epsilon / len(Q_row) + (1 - epsilon) * best / best.sum()


class TabularAgent:
    """A table of action values learned by one of ALGORITHMS from sampled transitions."""

    def __init__(self, num_states, num_actions, algorithm="q_learning", alpha=0.1, gamma=0.99, rng=None):
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm: expected one of {list(ALGORITHMS)}, got {algorithm!r}")
        self.algorithm, self.gamma = algorithm, check_gamma(gamma)
        self.alpha = check_real(alpha, "alpha", 0.0, 1.0, low_open=True, expected="a step size in (0, 1]")
        self.rng = check_rng(rng) or np.random.default_rng()
        self.num_actions = num_actions
        tables = 2 if algorithm == "double_q" else 1
        self.tables = np.zeros((tables, num_states, num_actions))  # Double Q's two, Q_A and Q_B

    @property
    def Q(self):
        """The action values the agent acts on: Double Q's two tables averaged."""
        return self.tables.mean(axis=0)

    def act(self, state, epsilon):
        """epsilon-greedy on Q(state, .), ties broken at random (argmax's first index would bias
        an all-zero table towards action 0)."""
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.num_actions))
        row = self.tables[0, state] if len(self.tables) == 1 else self.tables[:, state].sum(axis=0)
        best = np.flatnonzero(row == row.max())
        return int(best[0] if len(best) == 1 else best[self.rng.integers(len(best))])

    def greedy_policy(self):
        return self.Q.argmax(axis=1)

    def update(self, state, action, reward, next_state, terminated, next_action=None, epsilon=0.0):
        """One TD update of Q(state, action); ``next_action`` is SARSA's, ``epsilon`` Expected SARSA's
        policy. Returns the TD error."""
        table = 0
        if self.algorithm == "double_q":  # a fair coin says which table learns, the other values its argmax
            table = int(self.rng.random() < 0.5)
        Q = self.tables[table]
        if terminated:
            next_value = 0.0
        elif self.algorithm == "q_learning":
            next_value = Q[next_state].max()
        elif self.algorithm == "sarsa":
            next_value = Q[next_state, next_action]
        elif self.algorithm == "expected_sarsa":
            next_value = epsilon_greedy_probabilities(Q[next_state], epsilon) @ Q[next_state]
        else:
            next_value = self.tables[1 - table][next_state, Q[next_state].argmax()]
        error = reward + self.gamma * next_value - Q[state, action]
        Q[state, action] += self.alpha * error
        return error


def run_episodes(env, agent, num_episodes, epsilon, seed=0, Q_star=None, record_every=None):
    """Train ``agent`` for ``num_episodes`` on ``env`` with exploration ``epsilon(episode)``.

    Returns a history: the return and length of each episode and, given ``Q_star``, max |Q - Q*|
    every ``record_every`` episodes. The first reset takes ``seed``; the rest continue its stream.
    """
    history = {"returns": [], "lengths": [], "q_error_episodes": [], "q_error": []}
    state, _ = env.reset(seed=seed)
    for episode in range(num_episodes):
        if episode:
            state, _ = env.reset()
        eps = epsilon(episode)
        action = agent.act(state, eps)
        total, steps, done = 0.0, 0, False
        while not done:
            next_state, reward, terminated, truncated, _ = env.step(action)
            # SARSA needs the next action before its update; the others take it the same way, so that
            # the random stream is consumed identically
            next_action = agent.act(next_state, eps)
            agent.update(state, action, reward, next_state, terminated, next_action, eps)
            state, action = next_state, next_action
            total, steps, done = total + reward, steps + 1, terminated or truncated
        history["returns"].append(total)
        history["lengths"].append(steps)
        if Q_star is not None and record_every and ((episode + 1) % record_every == 0 or episode + 1 == num_episodes):
            history["q_error_episodes"].append(episode + 1)
            history["q_error"].append(float(np.max(np.abs(agent.Q - Q_star))))
    return history


def train(env, config, Q_star=None, record_every=None):
    """A TabularAgent trained on ``env`` by ``config`` (a TabularConfig): (agent, history)."""
    num_states, num_actions = tabular_sizes(env)
    agent = TabularAgent(num_states, num_actions, config.algorithm, config.alpha, config.gamma,
                         np.random.default_rng(config.seed))
    history = run_episodes(env, agent, config.num_episodes, config.epsilon, config.seed, Q_star, record_every)
    return agent, history


def evaluate_policy(env, policy, num_episodes=1000, seed=0):
    """Play the deterministic ``policy`` (S,) for ``num_episodes``: (mean return, success rate), a
    success being an episode that ends with a positive reward (FrozenLake's goal)."""
    returns, successes = np.empty(num_episodes), np.zeros(num_episodes, dtype=bool)
    state, _ = env.reset(seed=seed)
    for episode in range(num_episodes):
        if episode:
            state, _ = env.reset()
        total, done, reward = 0.0, False, 0.0
        while not done:
            state, reward, terminated, truncated, _ = env.step(int(policy[state]))
            total, done = total + reward, terminated or truncated
        returns[episode], successes[episode] = total, terminated and reward > 0
    return float(returns.mean()), float(successes.mean())


def greedy_return(env, policy, max_steps=200):
    """The return of one greedy episode on a deterministic grid; None if it never ends."""
    state, _ = env.reset(seed=0)
    total = 0.0
    for _ in range(max_steps):
        state, reward, terminated, truncated, _ = env.step(int(policy[state]))
        total += reward
        if terminated or truncated:
            return total
    return None


def solve(env, gamma):
    """The oracle for a grid world: its model, Q* by value iteration, V* and one optimal policy."""
    model = tabular_model(env)
    Q_star, _ = value_iteration(model, gamma)
    return {"model": model, "Q": Q_star, "V": Q_star.max(axis=1), "policy": Q_star.argmax(axis=1)}

