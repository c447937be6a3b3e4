"""Project 15 demo: Bayesian optimisation with the scratch GP.

- ``posterior_panels``: BO on a 1-D function, one panel per iteration (the GP posterior with its
  2-sigma band above, expected improvement below, the next point marked), saved as a GIF and a PNG;
- a test function (``branin``, ``hartmann6``): log10 simple regret against evaluations over seeds,
  mean +- 2 standard errors, scratch BO (log EI) against random search and Optuna's TPE with the
  same initial design size (and scikit-optimize's gp_minimize unless quick), with the wall time
  per iteration of each;
- ``co2``: the Mauna Loa CO2 kernel of Rasmussen & Williams (ch. 5.4.3) and scikit-learn's example
  (long-term RBF + seasonal RBF x ExpSineSquared + rational quadratic + noise), fitted by the
  scratch GP and by scikit-learn from the same start: hyperparameters side by side, and the
  extrapolation with its uncertainty;
- ``digits-mlp``: tune the scratch MLP (project 2) on digits (lr, weight decay, width, dropout, batch
  size; a fixed number of epochs per trial) by scratch BO, random search and Optuna TPE at the same
  budget; the chosen configs' validation and test accuracy and the best-so-far curves.
"""
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from threadpoolctl import threadpool_limits

from reference.projects.bayesopt import gp as reference_gp
from reference.projects.bayesopt import kernels as reference_kernels
from scratch.datasets import load_series
from scratch.projects.bayesopt import gp as scratch_gp
from scratch.projects.bayesopt import kernels as scratch_kernels
from scratch.projects.bayesopt import tuner
from scratch.projects.bayesopt.acquisition import ExpectedImprovement
from scratch.projects.bayesopt.functions import TEST_FUNCTIONS
from scratch.projects.bayesopt.space import Categorical, Integer, Real
from twins.demos.common import run_datasets, save_report

SETTINGS = {"quick": {"seeds": 2, "n_calls": {"branin": 16, "hartmann6": 20}, "n_initial": {"branin": 8, "hartmann6": 10},
                      "panels": 4, "co2_step": 4, "peers": ("random", "optuna tpe"), "mlp": (10, 5, 3)},
            "full": {"seeds": 20, "n_calls": {"branin": 50, "hartmann6": 60}, "n_initial": {"branin": 8, "hartmann6": 12},
                     "panels": 10, "co2_step": 1, "peers": ("random", "optuna tpe", "optuna gp", "gp_minimize", "botorch"),
                     "mlp": (30, 8, 20)}}
# The scratch MLP's (project 2) hyperparameters on digits: (trials, initial design, epochs per trial) above.
MLP_SPACE = {"lr": Real(1e-4, 3e-2, log=True), "weight_decay": Real(1e-6, 1e-2, log=True),
             "width": Integer(16, 256, log=True), "dropout": Real(0.0, 0.5), "batch_size": Categorical((32, 64, 128))}


def forrester(x):
    """A 1-D test function with two local minima on [0, 1] (Forrester et al. 2008)."""
    return (6 * x - 2) ** 2 * np.sin(12 * x - 4)


def posterior_panels(out_dir, n_iterations, seed=0):
    """BO on forrester from 3 points; one frame per iteration; returns the points chosen."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, 300)[:, None]
    X = tuner.initial_design(3, 1, "sobol", rng)
    y = forrester(X[:, 0])
    frames = []
    for _ in range(n_iterations):
        gp = tuner.fit_gp(X, y, rng)
        acquisition = ExpectedImprovement(gp, y.min(), maximize=False)
        mean, std = gp.predict(grid, return_std=True)
        x_next = tuner.maximize_acquisition(acquisition, 1, rng)
        frames.append((X.copy(), y.copy(), mean, std, acquisition(grid), x_next[0]))
        X, y = np.vstack([X, x_next[None]]), np.append(y, forrester(x_next))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True, gridspec_kw={"height_ratios": (2, 1)})

    def draw(k):
        Xk, yk, mean, std, ei, x_next = frames[k]
        top.clear()
        bottom.clear()
        top.plot(grid, forrester(grid[:, 0]), "k:", lw=1, label="objective")
        top.plot(grid, mean, color="tab:blue", label="scratch GP mean")
        top.fill_between(grid[:, 0], mean - 2 * std, mean + 2 * std, color="tab:blue", alpha=0.2, label="+- 2 sd")
        top.plot(Xk[:, 0], yk, "ko", ms=4, label="evaluated")
        top.axvline(x_next, color="tab:red", lw=1)
        top.set(title=f"BO on the Forrester function, iteration {k + 1}", ylim=(-12, 18))
        top.legend(fontsize=7, loc="upper left")
        bottom.plot(grid, ei, color="tab:green")
        bottom.axvline(x_next, color="tab:red", lw=1, label="next point (argmax, multi-start L-BFGS-B)")
        bottom.set(xlabel="x", ylabel="EI")
        bottom.legend(fontsize=7)

    FuncAnimation(fig, draw, frames=len(frames)).save(out_dir / "bo_1d.gif", writer=PillowWriter(fps=1))
    draw(len(frames) - 1)
    fig.tight_layout()
    fig.savefig(out_dir / "bo_1d_last.png", dpi=110)
    plt.close(fig)
    return {"points": X[:, 0].tolist(), "best_value": float(y.min()), "minimum": -6.02074}


def _optuna_tpe(function, n_calls, n_initial, seed):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(n_startup_trials=n_initial, seed=seed)
    study = optuna.create_study(sampler=sampler)
    bounds = function.bounds
    study.optimize(lambda trial: function({f"x{i}": trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)}),
                   n_trials=n_calls)
    return np.array([t.value for t in study.trials])


def _optuna_gp(function, n_calls, n_initial, seed):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(n_startup_trials=n_initial, seed=seed))
    bounds = function.bounds
    study.optimize(lambda trial: function({f"x{i}": trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)}),
                   n_trials=n_calls)
    return np.array([t.value for t in study.trials])


def _botorch(function, n_calls, n_initial, seed):
    """BoTorch's standard loop: a scrambled Sobol design, then SingleTaskGP (inputs scaled to the unit cube,
    outputs standardised) refitted by marginal likelihood each step, log EI maximised by optimize_acqf
    (10 restarts from 512 raw samples). BoTorch maximises, so it sees -f."""
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.manual_seed(seed)
    low, high = (torch.tensor(side, dtype=torch.float64) for side in zip(*function.bounds))
    unit = torch.stack([torch.zeros_like(low), torch.ones_like(low)])

    def evaluate(u):  # (d,) in the unit cube -> f at the point it stands for
        x = (low + u * (high - low)).tolist()
        return function({f"x{i}": v for i, v in enumerate(x)})

    U = torch.quasirandom.SobolEngine(len(low), scramble=True, seed=seed).draw(n_initial, dtype=torch.float64)
    values = [evaluate(u) for u in U]
    while len(values) < n_calls:
        y = -torch.tensor(values, dtype=torch.float64).unsqueeze(-1)
        model = SingleTaskGP(U, y, input_transform=Normalize(len(low), bounds=unit), outcome_transform=Standardize(1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        candidate, _ = optimize_acqf(LogExpectedImprovement(model, best_f=y.max()), bounds=unit, q=1, num_restarts=10,
                                     raw_samples=512)
        U = torch.cat([U, candidate])
        values.append(evaluate(candidate[0]))
    return np.array(values)


def _gp_minimize(function, n_calls, n_initial, seed):
    from skopt import gp_minimize

    result = gp_minimize(lambda x: function({f"x{i}": v for i, v in enumerate(x)}), list(function.bounds), n_calls=n_calls,
                         n_initial_points=n_initial, initial_point_generator="sobol", random_state=seed)
    return np.array(result.func_vals)


def regret(name, out_dir, settings, progress):
    """Best-so-far log10 regret curves per method over seeds; wall seconds per iteration."""
    function, n_calls, n_initial = TEST_FUNCTIONS[name], settings["n_calls"][name], settings["n_initial"][name]
    methods = {"scratch BO (log EI)": lambda seed: tuner.minimize(function, function.space, n_calls, n_initial,
                                                                   rng=np.random.default_rng(seed)).values,
               "random": lambda seed: tuner.random_search(function, function.space, n_calls, np.random.default_rng(seed)).values,
               "optuna tpe": lambda seed: _optuna_tpe(function, n_calls, n_initial, seed),
               "gp_minimize": lambda seed: _gp_minimize(function, n_calls, n_initial, seed),
               "optuna gp": lambda seed: _optuna_gp(function, n_calls, n_initial, seed),
               "botorch": lambda seed: _botorch(function, n_calls, n_initial, seed)}
    curves, seconds = {}, {}
    for method, run_one in methods.items():
        if method != "scratch BO (log EI)" and method not in settings["peers"]:
            continue
        runs, start = [], time.perf_counter()
        for seed in range(settings["seeds"]):
            values = run_one(seed)
            runs.append(np.log10(np.maximum(np.minimum.accumulate(values) - function.minimum, 1e-12)))
        seconds[method] = (time.perf_counter() - start) / (settings["seeds"] * (n_calls - n_initial))
        curves[method] = np.array(runs)
        if progress:
            print(f"  {name}: {method} done, final log10 regret {curves[method][:, -1].mean():.2f}")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    steps = np.arange(1, n_calls + 1)
    for method, runs in curves.items():
        mean, error = runs.mean(0), 2 * runs.std(0, ddof=1) / np.sqrt(len(runs))
        ax.plot(steps, mean, label=method)
        ax.fill_between(steps, mean - error, mean + error, alpha=0.2)
    ax.axvline(n_initial, color="gray", lw=0.8, ls=":")
    ax.set(xlabel="evaluations", ylabel="log10 simple regret", title=f"{name}: mean +- 2 s.e. over {settings['seeds']} seeds")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / f"{name}_regret.png", dpi=130)
    plt.close(fig)
    return {"n_calls": n_calls, "n_initial_points": n_initial, "seeds": settings["seeds"],
            "final_log10_regret": {m: {"mean": float(r[:, -1].mean()), "two_se": float(2 * r[:, -1].std(ddof=1) / np.sqrt(len(r)))}
                                   for m, r in curves.items()},
            "seconds_per_iteration": seconds}


def co2_kernel(module):
    """The Mauna Loa kernel (scikit-learn's example, R&W 5.4.3) from ``module``'s kernel classes."""
    k = module
    return (50.0 ** 2 * k.RBF(50.0)
            + 2.0 ** 2 * k.RBF(100.0) * k.ExpSineSquared(1.0, 1.0, periodicity_bounds="fixed")
            + 0.5 ** 2 * k.RationalQuadratic(1.0, 1.0)
            + 0.1 ** 2 * k.RBF(0.1) + k.WhiteKernel(0.1 ** 2, (1e-5, 1e5)))


def co2(out_dir, step):
    """Monthly means of the weekly series (as scikit-learn's example), every ``step``-th month."""
    values, timestamps = load_series("co2")
    months = timestamps.astype("datetime64[M]")
    unique, index = np.unique(months, return_inverse=True)
    keep = ~np.isnan(values)
    counts = np.bincount(index[keep], minlength=len(unique))
    observed = counts > 0  # a few months have no measurement at all
    monthly = np.bincount(index[keep], values[keep], len(unique))[observed] / counts[observed]
    years = (1970 + unique.astype(np.int64) / 12 + 1 / 24)[observed]  # mid-month, in years
    X, y = years[::step, None], monthly[::step]
    y_mean = y.mean()
    report, models = {"months": len(X)}, {}
    for side, gp_module, kernel_module in (("scratch", scratch_gp, scratch_kernels), ("sklearn", reference_gp, reference_kernels)):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = gp_module.GaussianProcessRegressor(co2_kernel(kernel_module), normalize_y=False).fit(X, y - y_mean)
        models[side] = model
        report[side] = {"fit_seconds": time.perf_counter() - start, "log_marginal_likelihood": float(model.log_marginal_likelihood_value_),
                        "kernel": repr(model.kernel_), "hyperparameters": dict(zip(
                            [h.name for h in model.kernel_.hyperparameters if not h.fixed], np.exp(model.kernel_.theta).tolist()))}
    report["max_theta_gap"] = float(np.max(np.abs(models["scratch"].kernel_.theta - models["sklearn"].kernel_.theta)))
    future = np.linspace(years[0], 2015, 800)[:, None]
    mean, std = models["scratch"].predict(future, return_std=True)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.plot(X[:, 0], y, "k.", ms=2, label="monthly mean (observed)")
    ax.plot(future[:, 0], mean + y_mean, color="tab:blue", label="scratch GP mean")
    ax.fill_between(future[:, 0], mean + y_mean - 2 * std, mean + y_mean + 2 * std, color="tab:blue", alpha=0.25, label="+- 2 sd")
    ax.plot(future[:, 0], models["sklearn"].predict(future) + y_mean, color="tab:orange", ls="--", lw=1, label="scikit-learn mean")
    ax.set(xlabel="year", ylabel="CO2 (ppm)", title="Mauna Loa CO2: composite kernel fitted to 1958-2001, extrapolated")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "co2_extrapolation.png", dpi=130)
    plt.close(fig)
    report["prediction_gap_ppm"] = float(np.max(np.abs(mean - models["sklearn"].predict(future))))
    return report


def tune_mlp(out_dir, settings, progress):
    """Tune the scratch MLP on digits by its validation loss after a fixed number of epochs: scratch
    BO, random search and Optuna TPE at the same budget; the chosen config's validation and test accuracy."""
    import optuna

    from scratch import training
    from scratch.projects.mlp.config import MLPConfig
    from scratch.projects.mlp.model import MLP
    from twins.demos.common import load_splits

    n_trials, n_initial, num_epochs = settings["mlp"]
    X, y, X_val, y_val, X_test, y_test = load_splits("digits")

    def train(params):
        config = MLPConfig(hidden_sizes=(params["width"], params["width"]), dropout=params["dropout"], lr=params["lr"],
                           weight_decay=params["weight_decay"], batch_size=params["batch_size"], num_epochs=num_epochs,
                           patience=num_epochs)
        model = MLP(X.shape[1], config.hidden_sizes, 10, dropout=config.dropout, dtype=np.float32, rng=np.random.default_rng(0))
        training.fit(model, X, y, X_val, y_val, config)
        return model

    def objective(params):
        try:
            return training.evaluate(train(params), X_val, y_val)[0]
        except FloatingPointError:  # a diverging lr: a failed trial (on_nonfinite="skip")
            return float("nan")

    def optuna_objective(trial):
        params = {"lr": trial.suggest_float("lr", 1e-4, 3e-2, log=True),
                  "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
                  "width": trial.suggest_int("width", 16, 256, log=True), "dropout": trial.suggest_float("dropout", 0.0, 0.5),
                  "batch_size": trial.suggest_categorical("batch_size", (32, 64, 128))}
        trial.set_user_attr("params", params)
        return objective(params)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    studies, rows = {}, {}
    start = time.perf_counter()
    studies["scratch BO (log EI)"] = tuner.minimize(objective, MLP_SPACE, n_trials, n_initial, on_nonfinite="skip",
                                                    rng=np.random.default_rng(0))
    rows["scratch BO (log EI)"] = time.perf_counter() - start
    start = time.perf_counter()
    studies["random"] = tuner.random_search(objective, MLP_SPACE, n_trials, np.random.default_rng(0))
    rows["random"] = time.perf_counter() - start
    start = time.perf_counter()
    tpe = optuna.create_study(sampler=optuna.samplers.TPESampler(n_startup_trials=n_initial, seed=0))
    tpe.optimize(optuna_objective, n_trials=n_trials)
    rows["optuna tpe"] = time.perf_counter() - start
    best = {name: (study.best_params, study.best_value) for name, study in studies.items()}
    best["optuna tpe"] = (tpe.best_trial.user_attrs["params"], tpe.best_value)
    curves = {name: np.minimum.accumulate(np.nan_to_num(study.values, nan=np.inf)) for name, study in studies.items()}
    curves["optuna tpe"] = np.minimum.accumulate([t.value if t.value is not None else np.inf for t in tpe.trials])
    report = {"trials": n_trials, "n_initial_points": n_initial, "epochs_per_trial": num_epochs, "methods": {}}
    for name, (params, value) in best.items():
        model = train(params)
        report["methods"][name] = {"best_params": params, "best_val_loss": float(value),
                                   "val_accuracy": float(training.evaluate(model, X_val, y_val)[1]),
                                   "test_accuracy": float(training.evaluate(model, X_test, y_test)[1]),
                                   "seconds": rows[name]}
        if progress:
            print(f"  digits-mlp: {name} best val loss {value:.4f}")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, curve in curves.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", ms=3, label=name)
    ax.set(xlabel="trials", ylabel="best validation loss so far", title=f"Tuning the scratch MLP on digits ({num_epochs} epochs per trial)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "digits_mlp_tuning.png", dpi=130)
    plt.close(fig)
    return report


def run(out_dir, dataset_names=("branin",), num_epochs=None, study=False, compare_sklearn=False, progress=True, quick=False):
    """``num_epochs``, ``study`` and ``compare_sklearn`` are accepted for the command line's sake."""
    settings = SETTINGS["quick" if quick else "full"]

    def run_dataset(name, out):
        if name == "co2":
            return co2(out, settings["co2_step"])
        if name == "digits-mlp":
            return tune_mlp(out, settings, progress)
        return regret(name, out, settings, progress)

    with threadpool_limits(1, user_api="blas"):  # small matrices: BLAS threads only cost time
        out_dir, report = run_datasets(out_dir, dataset_names, run_dataset)
        report["posterior_panels"] = posterior_panels(out_dir, settings["panels"])
    report["quick"] = quick
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        if name in TEST_FUNCTIONS:
            lines.append(f"{name}: final log10 simple regret after {result['n_calls']} evaluations "
                         f"({result['n_initial_points']} initial), mean +- 2 s.e. over {result['seeds']} seeds")
            for method, row in result["final_log10_regret"].items():
                lines.append(f"  {method:<22}{row['mean']:>7.2f} +- {row['two_se']:.2f}   "
                             f"{1e3 * result['seconds_per_iteration'][method]:8.1f} ms per iteration")
        elif name == "co2":
            lines.append(f"co2: {result['months']} months; LML scratch {result['scratch']['log_marginal_likelihood']:.3f}, "
                         f"scikit-learn {result['sklearn']['log_marginal_likelihood']:.3f}; max |theta gap| "
                         f"{result['max_theta_gap']:.1e}; fit {result['scratch']['fit_seconds']:.1f}s vs "
                         f"{result['sklearn']['fit_seconds']:.1f}s")
            lines.append(f"  scratch kernel: {result['scratch']['kernel']}")
        elif name == "digits-mlp":
            lines.append(f"digits-mlp: tuning the scratch MLP, {result['trials']} trials of {result['epochs_per_trial']} epochs")
            for method, row in result["methods"].items():
                lines.append(f"  {method:<22} val loss {row['best_val_loss']:.4f}, val acc {row['val_accuracy']:.4f}, "
                             f"test acc {row['test_accuracy']:.4f} ({row['seconds']:.0f}s)")
    panels = report["posterior_panels"]
    lines.append(f"1-D panels: best {panels['best_value']:.4f} after {len(panels['points'])} points (minimum {panels['minimum']})")
    return "\n".join(lines)
