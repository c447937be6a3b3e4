"""Project 2 demo: the scratch MLP and its torch twin trained on real data from the same
initial weights, compared with each other and with scikit-learn's MLPClassifier.

Writes into the output folder: training curves of both twins overlaid, the confusion
matrix, a learning-rate x hidden-size x optimizer study with its heatmap, and
metrics.json with every number reported.
"""
import dataclasses
import time

import numpy as np

from reference.bridge import twin_pair
from reference.projects.mlp import model as torch_mlp
from scratch import training as scratch_training
from scratch.projects.mlp import model as scratch_mlp
from scratch.projects.mlp.config import CONFIGS
from twins import plots
from twins.demos.common import load_splits, lockstep_gap, run_datasets, save_report, summary_lines, train_and_compare, tuned_config

STUDY_GRID = {"lr": (1e-3, 3e-3, 1e-2, 3e-2), "hidden": (32, 64, 128, 256), "optimizer": ("sgd", "adam", "rmsprop")}


def sklearn_baseline(X, y, X_test, y_test, config):
    """scikit-learn's MLPClassifier with the same layers, activation, optimizer and batches."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    classifier = MLPClassifier(hidden_layer_sizes=config.hidden_sizes, activation=config.activation, solver="adam",
                               alpha=config.weight_decay, batch_size=config.batch_size, learning_rate_init=config.lr,
                               max_iter=config.num_epochs, early_stopping=True, n_iter_no_change=config.patience,
                               random_state=config.seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(X, y)
    return {"test_accuracy": float(classifier.score(X_test, y_test)), "fit_seconds": time.perf_counter() - start,
            "epochs": int(classifier.n_iter_)}


def hyperparameter_study(X, y, X_val, y_val, num_classes, base, out_dir, num_epochs):
    """Validation accuracy of the scratch MLP over lr x hidden size x optimizer, as heatmaps.

    Each run keeps the weights of its best validation loss (early stopping); ties in
    accuracy go to the lower validation loss.
    """
    grids = {name: np.zeros((len(STUDY_GRID["hidden"]), len(STUDY_GRID["lr"]))) for name in STUDY_GRID["optimizer"]}
    runs = []
    for optimizer in STUDY_GRID["optimizer"]:
        for i, hidden in enumerate(STUDY_GRID["hidden"]):
            for j, lr in enumerate(STUDY_GRID["lr"]):
                config = dataclasses.replace(base, hidden_sizes=(hidden,), lr=lr, optimizer=optimizer, num_epochs=num_epochs)
                model = scratch_mlp.MLP(X.shape[1], config.hidden_sizes, num_classes, config.activation, config.dropout,
                                        dtype=X.dtype, rng=np.random.default_rng(config.seed))
                try:
                    scratch_training.fit(model, X, y, X_val, y_val, config)
                    val_loss, accuracy = scratch_training.evaluate(model, X_val, y_val)
                except FloatingPointError:
                    val_loss, accuracy = float("nan"), float("nan")  # a diverged run is a result, not a crash
                grids[optimizer][i, j] = accuracy
                runs.append({"optimizer": optimizer, "hidden": hidden, "lr": lr, "val_accuracy": accuracy, "val_loss": val_loss})
    best = max((run for run in runs if np.isfinite(run["val_accuracy"])), key=lambda run: (run["val_accuracy"], -run["val_loss"]))
    plots.heatmaps(grids, STUDY_GRID["hidden"], STUDY_GRID["lr"], out_dir / "study_heatmap.png",
                   f"scratch MLP on digits: validation accuracy ({len(X_val)} samples) at the best epoch",
                   "hidden units", "learning rate", "validation accuracy")
    return {"runs": runs, "best": best, "validation_samples": len(X_val)}


def run_dataset(name, out_dir, num_epochs=None, compare_sklearn=True, progress=True, quick=False):
    config = tuned_config(CONFIGS, name, num_epochs, quick)
    splits = load_splits(name, config.seed, quick=quick)
    X, y, X_val, y_val, X_test, y_test = splits

    def pair(config, dtype=np.float32):
        return twin_pair(scratch_mlp.MLP, torch_mlp.MLP, config.seed, dtype, in_features=X.shape[1], num_classes=10,
                         **config.architecture())

    model, twin = pair(config)
    report = train_and_compare("MLP", name, model, twin, splits, config, out_dir, progress=progress)
    report["lockstep_float64"] = lockstep_gap(pair, X, y, X_val, y_val, config)
    if compare_sklearn:
        report["sklearn"] = sklearn_baseline(X, y, X_test, y_test, config)
    return report


def run(out_dir, dataset_names=("digits",), num_epochs=None, study=True, compare_sklearn=True, progress=True, quick=False):
    """``quick``: the first samples of each split, QUICK_EPOCHS epochs, no study."""
    out_dir, report = run_datasets(out_dir, dataset_names,
                                   lambda name, out: run_dataset(name, out, num_epochs, compare_sklearn, progress, quick))
    if study and not quick:
        X, y, X_val, y_val, _, _ = load_splits("digits", validation_fraction=0.25)  # more samples, finer accuracy
        report["study"] = hyperparameter_study(X, y, X_val, y_val, 10, CONFIGS["digits"], out_dir, num_epochs or 30)
    return save_report(out_dir, report)


def summary(report):
    """The lines a person reads at the end of a run."""
    lines = []
    for name, result in report.items():
        if name == "study":
            best = result["best"]
            lines.append(f"study (digits): best validation accuracy {best['val_accuracy']:.4f} with {best['optimizer']}, "
                         f"hidden {best['hidden']}, lr {best['lr']} (validation loss {best['val_loss']:.4f})")
        else:
            lines += summary_lines(name, result)
    return "\n".join(lines)
