"""Project 11 demo: tabular control judged by the exact oracle, Sutton & Barto's cliff walk, and
DQN (scratch, its torch twin from the same initial weights, Stable-Baselines3) on classic control.

Jobs (``--dataset``): ``frozenlake`` (4x4 and, in full runs, 8x8, slippery), ``taxi``, ``cliffwalking``,
``cartpole``, ``acrobot``; ``standard`` runs the first four. Writes into the output folder: the
learned V and greedy policy beside V* and pi* on each grid, max |Q - Q*| against episodes, SARSA's
and Q-learning's reward per episode (mean +- std over seeds) and their greedy paths, DQN's greedy
return against environment steps for the three agents, and metrics.json with every number.
"""
import dataclasses
import time

import numpy as np

from reference.bridge import copy_to_torch
from reference.projects.rl import train as torch_train
from scratch.projects.rl import tabular
from scratch.projects.rl import train as scratch_train
from scratch.projects.rl.config import CONFIGS, TABULAR_CONFIGS, LinearSchedule, TabularConfig
from scratch.projects.rl.envs import make_env
from twins import plots
from twins.demos.common import run_datasets, save_report

JOBS = ("frozenlake", "taxi", "cliffwalking", "cartpole", "acrobot")
STANDARD = ("frozenlake", "taxi", "cliffwalking", "cartpole")
# The return at which a task counts as solved (gymnasium's reward_threshold for CartPole-v1 and Acrobot-v1).
SOLVED = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0}
# (dx, dy) of each action on the drawn grid (y grows downwards)
ARROWS = {"FrozenLake": {0: (-1, 0), 1: (0, 1), 2: (1, 0), 3: (0, -1)}, "CliffWalking": {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}}
# --quick: fewer episodes, seeds and steps; a smoke run of every job
QUICK = {"tabular_episodes": 1500, "eval_episodes": 100, "cliff_seeds": 3, "cliff_episodes": 150, "dqn_seeds": 1,
         "dqn_steps": 1500, "dqn_final_episodes": 3, "gif_frames": 20}
FULL = {"eval_episodes": 1000, "cliff_seeds": 10, "cliff_episodes": 500, "dqn_seeds": 5, "dqn_final_episodes": 100, "gif_frames": 250}


def grid_plot(name, shape, panels, path, title):
    """Value heatmaps with greedy-policy arrows, one panel per (label, V, policy)."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) * max(1, shape[1] / shape[0]) ** 0.5, 3.4))
    arrows = ARROWS[name.split("-")[0]]
    ys, xs = np.divmod(np.arange(shape[0] * shape[1]), shape[1])
    for ax, (label, V, policy) in zip(np.atleast_1d(axes), panels):
        image = ax.imshow(V.reshape(shape), cmap="viridis")
        dx, dy = np.array([arrows[a] for a in policy]).T
        ax.quiver(xs, ys, dx * 0.35, -dy * 0.35, color="white", scale=1, scale_units="xy", angles="xy", width=0.012)
        ax.set(title=label, xticks=[], yticks=[])
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle(title, fontsize=10)
    return plots._save(fig, path)


def band_plot(lines, path, title, xlabel, ylabel, ylim=None):
    """Mean lines with a +- std band each: name -> (x, mean, std)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = plots._styles(lines)
    for name, (x, mean, std) in lines.items():
        ax.plot(x, mean, label=name, color=styles[name]["color"], linestyle=styles[name].get("linestyle", "-"))
        ax.fill_between(x, mean - std, mean + std, color=styles[name]["color"], alpha=0.2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, ylim=ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return plots._save(fig, path)


def tabular_job(env_id, out_dir, sizes, quick):
    """The oracle (value and policy iteration), Q-learning judged against it, the plots."""
    env = make_env(env_id)
    config = TABULAR_CONFIGS[env_id]
    if quick:
        episodes = sizes["tabular_episodes"]
        config = dataclasses.replace(config, num_episodes=episodes, alpha=max(config.alpha, 0.1),
                                     epsilon=LinearSchedule(1.0, 0.05, episodes // 2))
    oracle = tabular.solve(env, config.gamma)
    start = time.perf_counter()
    Q_pi, pi_star, pi_iterations = tabular.policy_iteration(oracle["model"], config.gamma)
    pi_seconds = time.perf_counter() - start
    start = time.perf_counter()
    agent, history = tabular.train(env, config, Q_star=oracle["Q"], record_every=max(1, config.num_episodes // 50))
    train_seconds = time.perf_counter() - start
    policy = agent.greedy_policy()
    mean_return, success = tabular.evaluate_policy(env, policy, sizes["eval_episodes"], seed=config.seed + 1)
    optimal_return, optimal_success = tabular.evaluate_policy(env, oracle["policy"], sizes["eval_episodes"], seed=config.seed + 1)
    V_pi = tabular.policy_evaluation(oracle["model"], policy, config.gamma)
    starts = np.flatnonzero(env.unwrapped.initial_state_distrib > 0)
    report = {"gamma": config.gamma, "episodes": config.num_episodes, "alpha": config.alpha,
              "bellman_residual_Q_star": tabular.bellman_residual(oracle["model"], oracle["Q"], config.gamma),
              "policy_iteration": {"iterations": pi_iterations, "seconds": pi_seconds,
                                   "max_gap_to_value_iteration": float(np.abs(Q_pi - oracle["Q"]).max())},
              "q_learning": {"train_seconds": train_seconds, "max_abs_Q_error": history["q_error"][-1],
                             "greedy_mean_return": mean_return, "greedy_success_rate": success,
                             "V_gap_on_start_states": float(np.abs(V_pi - oracle["V"])[starts].max()),
                             "greedy_is_optimal_on_start_states": bool(np.allclose(V_pi[starts], oracle["V"][starts], atol=1e-9))},
              "optimal_policy": {"mean_return": optimal_return, "success_rate": optimal_success},
              "eval_episodes": sizes["eval_episodes"]}
    stem = env_id.lower()
    plots.curves({"scratch Q-learning": (history["q_error_episodes"], history["q_error"])}, out_dir / f"{stem}_q_error.png",
                 f"{env_id}: max |Q - Q*| while learning", "episode", "max |Q - Q*|")
    shape = getattr(env.unwrapped, "shape", None) or env.unwrapped.desc.shape
    if len(shape) == 2 and "Taxi" not in env_id:
        grid_plot(env_id, shape, [("Q-learning: V, greedy pi", agent.Q.max(axis=1), policy), ("oracle: V*, pi*", oracle["V"], pi_star)],
                  out_dir / f"{stem}_values.png", f"{env_id}: learned (success {success:.2f}) vs optimal ({optimal_success:.2f})")
    return report


def frozenlake_job(out_dir, sizes, quick):
    return {env_id: tabular_job(env_id, out_dir, sizes, quick) for env_id in (("FrozenLake-v1",) if quick else ("FrozenLake-v1", "FrozenLake-8x8"))}


def taxi_job(out_dir, sizes, quick):
    return {"Taxi-v4": tabular_job("Taxi-v4", out_dir, sizes, quick)}


def cliff_job(out_dir, sizes, quick):
    """Sutton & Barto's Example 6.6: SARSA against Q-learning, alpha 0.5, epsilon 0.1, over seeds."""
    env = make_env("CliffWalking-v1")
    oracle = tabular.solve(env, 1.0)
    report, lines, panels = {}, {}, []
    for algorithm in ("sarsa", "q_learning"):
        returns, paths = [], []
        for seed in range(sizes["cliff_seeds"]):
            config = TabularConfig(algorithm=algorithm, alpha=0.5, gamma=1.0, epsilon=0.1, num_episodes=sizes["cliff_episodes"], seed=seed)
            agent, history = tabular.train(env, config)
            returns.append(history["returns"])
            paths.append(agent)
        returns = np.array(returns)  # (seeds, episodes)
        smooth = np.array([np.convolve(r, np.ones(10) / 10, mode="valid") for r in returns])
        episodes = np.arange(10, returns.shape[1] + 1)
        lines[{"sarsa": "SARSA", "q_learning": "Q-learning"}[algorithm]] = (episodes, smooth.mean(axis=0), smooth.std(axis=0))
        greedy = paths[0].greedy_policy()
        report[algorithm] = {"mean_reward_per_episode_last_100": float(returns[:, -100:].mean()),
                             "std_over_seeds_last_100": float(returns[:, -100:].mean(axis=1).std()),
                             "greedy_path_return_seed0": tabular.greedy_return(env, greedy)}
        panels.append((f"{algorithm}: V, greedy path", paths[0].Q.max(axis=1), greedy))
    panels.append(("oracle: V*, pi*", oracle["V"], oracle["policy"]))
    report["seeds"], report["episodes"] = sizes["cliff_seeds"], sizes["cliff_episodes"]
    band_plot(lines, out_dir / "cliffwalking_sarsa_vs_q_learning.png",
              f"Cliff walking, epsilon 0.1: mean +- std over {sizes['cliff_seeds']} seeds", "episode",
              "sum of rewards during episode (10-episode average)", ylim=(-100, 0))
    grid_plot("CliffWalking-v1", (4, 12), panels, out_dir / "cliffwalking_paths.png",
              "Cliff walking: SARSA keeps away from the edge, Q-learning walks along it")
    return report


class SB3Greedy:
    """Stable-Baselines3's DQN behind the ``greedy(obs)`` the evaluation loop calls (and the
    ``load_state_dict`` that restores its best evaluation)."""

    def __init__(self, model):
        self.model = model

    def greedy(self, obs):
        return int(self.model.predict(obs, deterministic=True)[0])

    def load_state_dict(self, state):
        self.model.policy.load_state_dict(state)


def sb3_fit(env_id, config, eval_every, eval_episodes):
    """SB3's DQN with the same settings; its greedy return every ``eval_every`` steps."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    eval_env, history = make_env(env_id), {"eval_steps": [], "eval_returns": [], "best_state": None}

    class Evaluate(BaseCallback):
        def _on_step(self):
            if self.num_timesteps % eval_every == 0:
                history["eval_steps"].append(self.num_timesteps)
                returns = scratch_train.evaluate(SB3Greedy(self.model), eval_env, eval_episodes, seed=config.seed + self.num_timesteps)
                history["eval_returns"].append(float(returns.mean()))
                if history["eval_returns"][-1] >= max(history["eval_returns"]):
                    history["best_state"] = {key: value.clone() for key, value in self.model.policy.state_dict().items()}
            return True

    model = DQN("MlpPolicy", make_env(env_id), learning_rate=config.lr, buffer_size=config.buffer_size, learning_starts=config.learning_starts,
                batch_size=config.batch_size, tau=config.tau, gamma=config.gamma, train_freq=config.train_freq,
                gradient_steps=config.gradient_steps, target_update_interval=config.target_update_interval,
                exploration_fraction=config.exploration_fraction, exploration_final_eps=config.exploration_final_eps,
                max_grad_norm=config.max_grad_norm, policy_kwargs={"net_arch": list(config.hidden)}, seed=config.seed, device="cpu")
    model.learn(config.total_timesteps, callback=Evaluate())
    return SB3Greedy(model), history


def dqn_job(env_id, out_dir, sizes, quick, progress):
    """Scratch DQN, its torch twin from the same initial weights and SB3, over seeds."""
    import torch
    from threadpoolctl import threadpool_limits

    base = CONFIGS[env_id]
    if quick:
        base = dataclasses.replace(base, total_timesteps=sizes["dqn_steps"], learning_starts=500, train_freq=64,
                                   gradient_steps=16, buffer_size=sizes["dqn_steps"], hidden=(64, 64))
    eval_every = max(base.total_timesteps // 20, 500)
    runs, trained = {"scratch": [], "torch": [], "sb3": []}, []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add hand-offs; the same for every agent
    try:
        with threadpool_limits(1):
            for seed in range(sizes["dqn_seeds"]):
                config = dataclasses.replace(base, seed=seed)
                agent = scratch_train.make_agent(make_env(env_id), config)
                twin = copy_to_torch(agent, torch_train.make_agent(make_env(env_id), config))
                trained.append(agent)
                for side, module, loop in (("scratch", agent, scratch_train), ("torch", twin, torch_train)):
                    start = time.perf_counter()
                    history = loop.fit(module, make_env(env_id), config, eval_env=make_env(env_id), eval_every=eval_every, progress=progress)
                    runs[side].append(summarise(history, module, env_id, config, sizes, time.perf_counter() - start))
                start = time.perf_counter()
                peer, history = sb3_fit(env_id, config, eval_every, 5)
                runs["sb3"].append(summarise(history, peer, env_id, config, sizes, time.perf_counter() - start))
    finally:
        torch.set_num_threads(threads)
    report = {"config": dataclasses.asdict(base), "eval_every": eval_every, "seeds": sizes["dqn_seeds"], "solved_at": SOLVED[env_id]}
    lines = {}
    for side, results in runs.items():
        curves = np.array([r["eval_returns"] for r in results])
        lines[f"{side} DQN" if side != "sb3" else "Stable-Baselines3 DQN"] = (results[0]["eval_steps"], curves.mean(axis=0), curves.std(axis=0))
        finals = np.array([r["final_mean_return"] for r in results])
        best = np.array([r["best_checkpoint_mean_return"] for r in results])
        report[side] = {"final_mean_return": float(finals.mean()), "final_std_over_seeds": float(finals.std()),
                        "seeds_solved": int(sum(r["solved"] for r in results)), "best_checkpoint_mean_return": float(best.mean()),
                        "seeds_solved_by_best_checkpoint": int(sum(r["solved_by_best_checkpoint"] for r in results)), "runs": results}
    report["gif"] = greedy_gif(trained[0], env_id, out_dir / f"{env_id.lower()}_greedy.gif", sizes["gif_frames"])
    band_plot(lines, out_dir / f"{env_id.lower()}_dqn_returns.png",
              f"{env_id}: greedy return (5 episodes), mean +- std over {sizes['dqn_seeds']} seed(s)",
              "environment steps", "greedy return")
    return report


def greedy_gif(agent, env_id, path, max_frames, every=2):
    """An animated GIF of one greedy episode (gymnasium's rgb_array frames, every ``every``-th, half size);
    None, saying why, when rendering is unavailable (pygame missing)."""
    try:
        env = make_env(env_id, render_mode="rgb_array")
        obs, _ = env.reset(seed=0)
        frames, total, done = [env.render()], 0.0, False
    except gym_dependency_errors() as error:
        return {"path": None, "why": f"no rendering: {error}"}
    from PIL import Image
    while not done and len(frames) < max_frames * every:
        obs, reward, terminated, truncated, _ = env.step(agent.greedy(obs))
        total, done = total + reward, terminated or truncated
        frames.append(env.render())
    images = [Image.fromarray(frame).reduce(2) for frame in frames[::every]]
    images[0].save(path, save_all=True, append_images=images[1:], duration=40, loop=0)
    return {"path": path.name, "frames": len(images), "episode_return_shown": total, "episode_finished": bool(done)}


def gym_dependency_errors():
    import gymnasium
    return (gymnasium.error.DependencyNotInstalled, ImportError)


def summarise(history, agent, env_id, config, sizes, seconds):
    """Steps to solve (first evaluation at or above the threshold), and the final greedy return."""
    finals = scratch_train.evaluate(agent, make_env(env_id), sizes["dqn_final_episodes"], seed=10_000 + config.seed)
    best = finals
    if history["best_state"] is not None:  # the agent's last use: its best evaluation, as rl-zoo keeps it
        agent.load_state_dict(history["best_state"])
        best = scratch_train.evaluate(agent, make_env(env_id), sizes["dqn_final_episodes"], seed=10_000 + config.seed)
    solved_steps = [step for step, value in zip(history["eval_steps"], history["eval_returns"]) if value >= SOLVED[env_id]]
    return {"seed": config.seed, "seconds": seconds, "eval_steps": history["eval_steps"], "eval_returns": history["eval_returns"],
            "steps_to_solve": solved_steps[0] if solved_steps else None, "final_mean_return": float(finals.mean()),
            "best_checkpoint_mean_return": float(best.mean()), "solved_by_best_checkpoint": bool(best.mean() >= SOLVED[env_id]),
            "final_episodes": len(finals), "solved": bool(finals.mean() >= SOLVED[env_id]),
            "updates": len(history.get("losses", [])), "episodes": len(history.get("episode_returns", []))}


def run_job(name, out_dir, quick, progress):
    sizes = {**FULL, **QUICK} if quick else FULL
    if name == "frozenlake":
        return frozenlake_job(out_dir, sizes, quick)
    if name == "taxi":
        return taxi_job(out_dir, sizes, quick)
    if name == "cliffwalking":
        return cliff_job(out_dir, sizes, quick)
    return dqn_job({"cartpole": "CartPole-v1", "acrobot": "Acrobot-v1"}[name], out_dir, sizes, quick, progress)


def run(out_dir, dataset_names=("standard",), num_epochs=None, study=False, compare_sklearn=False, progress=True, quick=False):
    """``dataset_names``: jobs of JOBS, or ``standard``; ``quick`` shrinks every job to a smoke run."""
    jobs = [job for name in dataset_names for job in (STANDARD if name == "standard" else (name,))]
    out_dir, report = run_datasets(out_dir, dict.fromkeys(jobs), lambda name, out: run_job(name, out, quick, progress))
    report["quick"] = quick
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for job, result in report.items():
        if job in ("frozenlake", "taxi"):
            for env_id, r in result.items():
                q = r["q_learning"]
                lines.append(f"{env_id}: Q* residual {r['bellman_residual_Q_star']:.1e}; Q-learning ({r['episodes']} episodes) greedy "
                             f"success {q['greedy_success_rate']:.3f}, return {q['greedy_mean_return']:.2f} "
                             f"(pi*: {r['optimal_policy']['success_rate']:.3f}, {r['optimal_policy']['mean_return']:.2f}); "
                             f"max |Q - Q*| {q['max_abs_Q_error']:.3f}; optimal from every start: {q['greedy_is_optimal_on_start_states']}")
        elif job == "cliffwalking":
            lines.append(f"CliffWalking-v1 ({result['seeds']} seeds, {result['episodes']} episodes, epsilon 0.1): reward per episode "
                         f"(last 100) SARSA {result['sarsa']['mean_reward_per_episode_last_100']:.1f}, "
                         f"Q-learning {result['q_learning']['mean_reward_per_episode_last_100']:.1f}; greedy path return "
                         f"SARSA {result['sarsa']['greedy_path_return_seed0']}, Q-learning {result['q_learning']['greedy_path_return_seed0']}")
        elif job in ("cartpole", "acrobot"):
            parts = [f"{side} {result[side]['final_mean_return']:.1f} +- {result[side]['final_std_over_seeds']:.1f} "
                     f"({result[side]['seeds_solved']}/{result['seeds']} solved; best checkpoint "
                     f"{result[side]['best_checkpoint_mean_return']:.1f}, {result[side]['seeds_solved_by_best_checkpoint']} solved)"
                     for side in ("scratch", "torch", "sb3")]
            lines.append(f"{job} DQN ({result['config']['total_timesteps']} steps): final greedy return " + ", ".join(parts))
    return "\n".join(lines)
