"""Project 18 demo: federated learning of project 2's scratch MLP on digits or Fashion-MNIST.

1. The sweep (in one process, the same Server as Flower's ServerApp): test accuracy against
   rounds for FedSGD, FedAvg, FedProx, SCAFFOLD and FedAdam on the IID, pathological and
   Dirichlet splits, mean and std over seeds; the rounds each needs to reach a target accuracy
   (FedAvg's speed-up over FedSGD, McMahan et al.'s headline); the client drift per round.
2. Flower: the same federation on Flower's simulation engine (``run_simulation``, Ray actors),
   and the largest gap between its global weights and the in-process federation's.
3. Lockstep: scratch and torch federations in float64, FedAvg and FedProx, their weight gap.

Writes metrics.json and the plots: accuracy against rounds per split, client drift per split,
and what each client holds under each split.
"""
import dataclasses
import time

import numpy as np

from reference.projects.federated import client as torch_client
from reference.projects.mlp.model import MLP as TorchMLP
from scratch.projects.federated import client, data, privacy, strategy
from scratch.projects.federated.config import ClientConfig, FederatedConfig
from scratch.projects.federated.federation import run_federation
from scratch.projects.mlp.model import MLP
from twins import plots
from twins.demos.common import run_datasets, save_report
from twins.demos.federated_deploy import RUN_CONFIG, federation_from, in_process_federation, run_deployment
from twins.demos.federated_flower import run_flower_simulation
from twins.demos.gan import single_threaded
from twins.parity import make_twins


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    """One data set's federation: McMahan et al.'s 100 clients, C = 0.1, E = 5, B = 10 by default."""
    hidden_sizes: tuple = (64,)
    num_clients: int = 100
    fraction: float = 0.1
    local_epochs: int = 5
    batch_size: int = 10
    lr: float = 0.05
    fedsgd_lr: float = 0.5  # FedSGD's one full-batch step a round takes a larger step (tuned as in the paper)
    mu: float = 0.1
    server_lr: float = 0.01  # FedAdam
    num_rounds: int = 50
    seeds: tuple = (0, 1, 2)
    target: float = 0.85  # test accuracy for the rounds-to-target table
    alphas: tuple = data.DIRICHLET_ALPHAS
    flower_rounds: int = 5


SETTINGS = {"digits": DemoSettings(),
            "fashion-mnist": DemoSettings(hidden_sizes=(128,), local_epochs=1, batch_size=50, num_rounds=30, seeds=(0,), target=0.75)}
# DP-FedAvg: fewer, larger clients (q = B / n small enough for a useful epsilon), clip norm 1, delta 1e-5
DP = {"num_clients": 10, "fraction": 0.5, "local_epochs": 1, "batch_size": 16, "lr": 0.1, "max_grad_norm": 1.0, "delta": 1e-5,
      "noise_multipliers": (0.5, 1.0, 2.0)}
QUICK = {"num_clients": 20, "num_rounds": 10, "seeds": (0,), "alphas": (0.5,), "flower_rounds": 2, "target": 0.6}
# `--deploy`: every SuperNode is a few processes of its own, so far fewer clients than the sweep's 100
DEPLOY = {"num-clients": 10, "rounds": 10, "split": "pathological", "fraction": 1.0, "min-clients": 1}
DEPLOY_QUICK = {**DEPLOY, "num-clients": 4, "rounds": 3}
STRATEGY_ORDER = ("fedsgd", "fedavg", "fedprox", "scaffold", "fedadam")


def make_strategy(name, settings):
    if name in ("fedsgd", "fedavg"):
        return strategy.FedAvg(settings.fraction)
    if name == "fedprox":
        return strategy.FedProx(settings.fraction, mu=settings.mu)
    if name == "fedadam":
        return strategy.FedAdam(settings.fraction, server_lr=settings.server_lr)
    return strategy.STRATEGIES[name](settings.fraction)


def federated_config(name, settings, seed, num_rounds=None):
    if name == "fedsgd":  # one full-batch gradient step per client per round
        client_config = ClientConfig(1, None, settings.fedsgd_lr)
    else:
        client_config = ClientConfig(settings.local_epochs, settings.batch_size, settings.lr)
    return FederatedConfig(settings.num_clients, num_rounds or settings.num_rounds, settings.fraction, 1, client_config, seed)


def split_names(settings):
    return ["iid", "pathological"] + [f"dirichlet-{alpha:g}" for alpha in settings.alphas]


def shards_for(split, y, settings, seed):
    name, _, alpha = split.partition("-")
    return data.client_shards(y, name, settings.num_clients, seed, float(alpha or 0.5))


def rounds_to(accuracies, target):
    """The first round (1-based) whose test accuracy reaches ``target``, or None."""
    reached = np.flatnonzero(np.asarray(accuracies) >= target)
    return int(reached[0]) + 1 if len(reached) else None


def sweep(X, y, test, settings, progress):
    """Every split x strategy x seed: accuracy and drift per round, mean and std over seeds."""
    results = {}
    runs = [(split, name) for split in split_names(settings) for name in STRATEGY_ORDER]
    if progress:
        from tqdm.auto import tqdm
        runs = tqdm(runs, desc="federations", unit="run")
    for split, name in runs:
        curves = {"test_accuracy": [], "drift": [], "train_loss": []}
        for seed in settings.seeds:
            model = MLP(X.shape[1], settings.hidden_sizes, 10, rng=np.random.default_rng(seed))
            server = run_federation(client, model, shards_for(split, y, settings, seed), X, y, make_strategy(name, settings),
                                    federated_config(name, settings, seed), test=test)
            for key, runs in curves.items():
                runs.append(server.history[key])
        entry = {f"{key}_{stat}": getattr(np, stat)(values, axis=0).tolist() for key, values in curves.items() for stat in ("mean", "std")}
        entry["rounds_to_target"] = [rounds_to(run, settings.target) for run in curves["test_accuracy"]]
        entry["final_accuracy"] = float(np.mean([run[-1] for run in curves["test_accuracy"]]))
        results.setdefault(split, {})[name] = entry
    return results


def speedups(results, settings):
    """Rounds to the target for FedSGD and FedAvg on each split, and FedAvg's speed-up (a lower bound when FedSGD never got there)."""
    table = {}
    for split, by_strategy in results.items():
        rounds = {name: by_strategy[name]["rounds_to_target"][0] for name in STRATEGY_ORDER}  # the first seed's run
        fedsgd, fedavg = rounds["fedsgd"], rounds["fedavg"]
        row = {"target": settings.target, "rounds": rounds}
        if fedavg is not None:
            row["fedavg_speedup_over_fedsgd"] = (fedsgd or settings.num_rounds) / fedavg
            row["speedup_is_lower_bound"] = fedsgd is None
        table[split] = row
    return table


def flower_check(dataset, X, y, test, settings, quick):
    """FedAvg on the pathological split through Flower's simulation and in one process: the same global weights?"""
    config = federated_config("fedavg", settings, 0, settings.flower_rounds)
    spec = {"dataset": dataset, "quick": quick, "split": "pathological", "alpha": 0.5, "num_clients": settings.num_clients,
            "seed": 0, "hidden_sizes": settings.hidden_sizes, "in_features": X.shape[1]}
    start = time.perf_counter()
    flower = run_flower_simulation(spec, config, make_strategy("fedavg", settings), test=test)
    seconds = time.perf_counter() - start
    model = MLP(X.shape[1], settings.hidden_sizes, 10, rng=np.random.default_rng(0))
    local = run_federation(client, model, shards_for("pathological", y, settings, 0), X, y, make_strategy("fedavg", settings), config, test=test)
    gap = max(float(np.max(np.abs(flower.global_state[key] - local.global_state[key]))) for key in local.global_state)
    return {"strategy": "fedavg", "split": "pathological", "rounds": settings.flower_rounds, "seconds": seconds,
            "test_accuracy": flower.history["test_accuracy"], "clients": flower.history["clients"],
            "max_weight_gap_vs_in_process": gap, "round_seconds": flower.history["round_time"]}


class DPClient:
    """run_federation's client interface with DP-SGD as the local update (FedAvg's server, unchanged)."""

    def __init__(self, noise_multiplier, max_grad_norm):
        self.noise_multiplier, self.max_grad_norm = noise_multiplier, max_grad_norm

    def local_update(self, model, X, y, global_state, config, rng, control=None):
        state, loss = privacy.dp_local_update(model, X, y, global_state, config, rng, self.noise_multiplier, self.max_grad_norm)
        return state, loss, None

    evaluate, numpy_state = staticmethod(client.evaluate), staticmethod(client.numpy_state)


def privacy_utility(X, y, test, settings, quick):
    """DP-FedAvg on the IID split at each noise multiplier: test accuracy against the epsilon spent by the
    client that took part most often (sample-level DP for each client's data; no credit taken for client sampling)."""
    rows = []
    noise_multipliers = DP["noise_multipliers"][1:2] if quick else DP["noise_multipliers"]
    shards = data.client_shards(y, "iid", DP["num_clients"], 0)
    client_config = ClientConfig(DP["local_epochs"], DP["batch_size"], DP["lr"])
    config = FederatedConfig(DP["num_clients"], settings.num_rounds, DP["fraction"], 1, client_config, 0)
    for sigma in (None, *noise_multipliers):
        model = MLP(X.shape[1], settings.hidden_sizes, 10, rng=np.random.default_rng(0))
        side = client if sigma is None else DPClient(sigma, DP["max_grad_norm"])
        server = run_federation(side, model, shards, X, y, strategy.FedAvg(DP["fraction"]), config, test=test)
        row = {"noise_multiplier": sigma, "test_accuracy": server.history["test_accuracy"][-1], "epsilon": None}
        if sigma is not None:
            rounds_taken = np.bincount(np.concatenate(server.history["clients"]), minlength=DP["num_clients"]).max()
            sample_rate, steps = privacy.dp_steps_per_round(min(len(s) for s in shards), client_config)
            accountant = privacy.RDPAccountant()
            accountant.history = [[sigma, sample_rate, int(rounds_taken * steps)]]
            row.update(epsilon=accountant.get_epsilon(DP["delta"]), sample_rate=sample_rate, steps=int(rounds_taken * steps))
        rows.append(row)
    return {"settings": {key: value for key, value in DP.items()}, "rows": rows}


def lockstep_gaps(X, y, settings, rounds=2):
    """Scratch and torch federations in float64 (FedAvg, FedProx): the largest weight gap after ``rounds`` rounds."""
    X = X.astype(np.float64)
    gaps = {}
    for name in ("fedavg", "fedprox"):
        model, twin = make_twins(MLP, TorchMLP, 0, np.float64, in_features=X.shape[1], hidden_sizes=settings.hidden_sizes, num_classes=10)
        shards = shards_for("dirichlet-0.5", y, settings, 0)
        servers = [run_federation(side, net, shards, X, y, make_strategy(name, settings), federated_config(name, settings, 0, rounds))
                   for side, net in ((client, model), (torch_client, twin))]
        gaps[name] = {"rounds": rounds, "max_weight_gap": max(float(np.max(np.abs(value - servers[1].global_state[key])))
                                                             for key, value in servers[0].global_state.items())}
    return gaps


def plot_panels(results, key, path, title, ylabel):
    """One panel per split, a line per strategy: the mean over seeds, shaded +- one std."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = list(results)
    fig, axes = plt.subplots(1, len(splits), figsize=(3.6 * len(splits), 3.4), sharey=True, squeeze=False)
    for ax, split in zip(axes[0], splits):
        for name, entry in results[split].items():
            mean, std = np.array(entry[f"{key}_mean"]), np.array(entry[f"{key}_std"])
            rounds = np.arange(1, len(mean) + 1)
            ax.plot(rounds, mean, label=name, linewidth=1.2)
            ax.fill_between(rounds, mean - std, mean + std, alpha=0.2)
        ax.set(title=split, xlabel="round")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_splits(y, settings, path, shown=20):
    """What the first ``shown`` clients hold under each split: their label counts as heatmaps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = split_names(settings)
    fig, axes = plt.subplots(1, len(splits), figsize=(3.2 * len(splits), 3.6), squeeze=False)
    for ax, split in zip(axes[0], splits):
        counts = data.label_histogram(shards_for(split, y, settings, 0), y, 10)[:shown]
        ax.imshow(counts, aspect="auto", cmap="viridis")
        ax.set(title=split, xlabel="label", ylabel="client")
    fig.suptitle(f"samples per label held by the first {shown} of {settings.num_clients} clients", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_privacy(result, path, title):
    """Test accuracy against epsilon, one point per noise multiplier; the non-private run as a line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    private = [row for row in result["rows"] if row["epsilon"] is not None]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot([row["epsilon"] for row in private], [row["test_accuracy"] for row in private], marker="o", label="DP-FedAvg")
    for row in private:
        ax.annotate(f"sigma {row['noise_multiplier']:g}", (row["epsilon"], row["test_accuracy"]), xytext=(4, 4), textcoords="offset points", fontsize=8)
    baseline = next(row["test_accuracy"] for row in result["rows"] if row["epsilon"] is None)
    ax.axhline(baseline, color="gray", linestyle="--", label="FedAvg, no privacy")
    ax.set(xscale="log", xlabel=f"epsilon (delta = {result['settings']['delta']:g})", ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_dataset(name, out_dir, num_rounds=None, progress=True, quick=False, flower=True):
    with single_threaded():  # an MLP on shards of tens of samples: a second thread only adds hand-offs
        return federate(name, out_dir, num_rounds, progress, quick, flower)


def federate(name, out_dir, num_rounds, progress, quick, flower):
    settings = SETTINGS[name]
    if quick:
        settings = dataclasses.replace(settings, **QUICK)
    if num_rounds is not None:
        settings = dataclasses.replace(settings, num_rounds=num_rounds)
    X, y, X_test, y_test = data.load(name, quick)
    start = time.perf_counter()
    results = sweep(X, y, (X_test, y_test), settings, progress)
    report = {"dataset": name, "settings": dataclasses.asdict(settings), "quick": quick,
              "samples": {"train": len(X), "test": len(X_test)}, "sweep_seconds": time.perf_counter() - start,
              "results": results, "rounds_to_target": speedups(results, settings),
              "lockstep_float64": lockstep_gaps(X, y, settings), "privacy_utility": privacy_utility(X, y, (X_test, y_test), settings, quick)}
    if flower:
        report["flower_simulation"] = flower_check(name, X, y, (X_test, y_test), settings, quick)
    plot_panels(results, "test_accuracy", out_dir / f"{name}_accuracy.png",
                f"test accuracy on {name}, {settings.num_clients} clients, C = {settings.fraction:g} (mean +- std over {len(settings.seeds)} seeds)",
                "test accuracy")
    plot_panels(results, "drift", out_dir / f"{name}_drift.png",
                f"client drift on {name}: mean ||w_k - w_t|| of the round's clients", "distance from the global model")
    plot_splits(y, settings, out_dir / f"{name}_splits.png")
    plot_privacy(report["privacy_utility"], out_dir / f"{name}_privacy.png", f"privacy against utility: DP-FedAvg on {name} (IID)")
    return report


def deploy_dataset(name, out_dir, num_rounds=None, quick=False):
    """FedAvg on Flower's deployment engine (a SuperLink and DEPLOY's SuperNodes as processes on loopback), and
    the same federation in one process: the rounds' accuracy and the largest gap between the two global models."""
    overrides = {**(DEPLOY_QUICK if quick else DEPLOY), "dataset": name, "quick": quick}
    if num_rounds is not None:
        overrides["rounds"] = num_rounds
    state, history = run_deployment(out_dir / f"{name}_deployment", **{key.replace("-", "_"): value for key, value in overrides.items()})
    local = in_process_federation({**RUN_CONFIG, **overrides})
    gap = max(float(np.max(np.abs(state[key] - local.global_state[key]))) for key in local.global_state)
    spec, config = federation_from({**RUN_CONFIG, **overrides})  # the same apps on the simulation engine: its round latency
    X_test, y_test = data.load(name, quick)[2:]
    start = time.perf_counter()
    simulated = run_flower_simulation(spec, config, strategy.FedAvg(config.fraction, config.min_clients), test=(X_test, y_test))
    simulation = {"round_seconds": simulated.history["round_time"], "wall_seconds": time.perf_counter() - start,
                  "max_weight_gap_vs_in_process": max(float(np.max(np.abs(simulated.global_state[key] - local.global_state[key])))
                                                      for key in local.global_state)}
    rounds = list(range(1, overrides["rounds"] + 1))
    plots.curves({"deployment": (rounds, history["test_accuracy"]), "in-process": (rounds, local.history["test_accuracy"])},
                 out_dir / f"{name}_deployment.png", f"FedAvg on {overrides['num-clients']} SuperNodes ({name}, {overrides['split']} split)",
                 "round", "test accuracy")
    return {"dataset": name, "deployment": {**overrides, "test_accuracy": history["test_accuracy"], "clients": history["clients"],
                                            "round_seconds": history["round_time"], "wall_seconds": history["wall_seconds"],
                                            "max_weight_gap_vs_in_process": gap},
            "simulation": simulation}


def run(out_dir, dataset_names=("digits",), num_epochs=None, progress=True, quick=False, flower=True, deploy=False, **_):
    """``num_epochs`` sets the number of rounds; ``quick``: 20 clients, 10 rounds, one seed, Dirichlet alpha 0.5
    only, a target of 0.6, the first samples of Fashion-MNIST; ``flower``: also run Flower's simulation;
    ``deploy``: instead of all that, FedAvg on Flower's deployment engine (``deploy_dataset``)."""
    if deploy:
        out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: deploy_dataset(name, out, num_epochs, quick))
    else:
        out_dir, report = run_datasets(out_dir, dataset_names, lambda name, out: run_dataset(name, out, num_epochs, progress, quick, flower))
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        if "deployment" in result:
            deployment = result["deployment"]
            lines.append(f"{name}: FedAvg on {deployment['num-clients']} SuperNodes, {deployment['rounds']} rounds in "
                         f"{deployment['wall_seconds']:.1f} s: test accuracy {deployment['test_accuracy'][-1]:.3f}, "
                         f"weight gap to the in-process federation {deployment['max_weight_gap_vs_in_process']:.1e}")
            if "simulation" in result:  # the same apps on Flower's simulation engine
                simulation = result["simulation"]
                lines.append("  round seconds, deployment / simulation: " + ", ".join(
                    f"{a:.1f} / {b:.1f}" for a, b in zip(deployment["round_seconds"], simulation["round_seconds"]))
                    + f"; simulation's weight gap to the in-process federation {simulation['max_weight_gap_vs_in_process']:.1e}")
            continue
        lines.append(f"{name}: final test accuracy (mean over seeds) after {result['settings']['num_rounds']} rounds")
        for split, by_strategy in result["results"].items():
            lines.append(f"  {split:>14}: " + ", ".join(f"{s} {e['final_accuracy']:.3f}" for s, e in by_strategy.items()))
        for split, row in result["rounds_to_target"].items():
            if "fedavg_speedup_over_fedsgd" in row:
                bound = ">= " if row["speedup_is_lower_bound"] else ""
                lines.append(f"  rounds to {row['target']:.2f} on {split}: FedAvg {row['rounds']['fedavg']}, FedSGD "
                             f"{row['rounds']['fedsgd']}: speed-up {bound}{row['fedavg_speedup_over_fedsgd']:.1f}x")
        lines.append("  DP-FedAvg (IID): " + ", ".join(
            f"sigma {row['noise_multiplier']}: accuracy {row['test_accuracy']:.3f}" + (f", epsilon {row['epsilon']:.2f}" if row["epsilon"] else "")
            for row in result["privacy_utility"]["rows"]))
        lock = result["lockstep_float64"]
        lines.append("  lockstep float64 scratch vs torch: " + ", ".join(f"{k} {v['max_weight_gap']:.1e}" for k, v in lock.items()))
        if "flower_simulation" in result:
            flower = result["flower_simulation"]
            lines.append(f"  Flower simulation ({flower['rounds']} rounds, {flower['seconds']:.1f} s): accuracy "
                         f"{flower['test_accuracy'][-1]:.3f}, weight gap to the in-process federation {flower['max_weight_gap_vs_in_process']:.1e}")
    return "\n".join(lines)
