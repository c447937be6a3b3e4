"""Project 2 demo: the scratch MLP and its torch twin trained on real data from the same
initial weights, compared with each other and with scikit-learn's MLPClassifier.

Writes into the output folder: training curves of both twins overlaid, the confusion
matrix, a learning-rate x hidden-size x optimizer study with its heatmap, and
metrics.json with every number reported.
"""
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch

from reference import mlp as torch_mlp
from reference import training as torch_training
from reference import plots
from scratch import datasets, metrics
from scratch import mlp as scratch_mlp
from scratch import training as scratch_training
from scratch.mlp import MLPConfig
from scratch.plumbing import validation_split

CONFIGS = {
    "digits": MLPConfig(hidden_sizes=(256, 128), dropout=0.2, lr=1e-3, batch_size=64, num_epochs=50, patience=15),
    "fashion-mnist": MLPConfig(hidden_sizes=(256, 128), dropout=0.2, lr=1e-3, batch_size=128, num_epochs=30, patience=10),
}
CLASS_NAMES = {"digits": [str(d) for d in range(10)], "fashion-mnist": list(datasets.FASHION_MNIST_CLASSES)}
STUDY_GRID = {"lr": (1e-3, 3e-3, 1e-2, 3e-2), "hidden": (32, 64, 128, 256), "optimizer": ("sgd", "adam", "rmsprop")}


def load_splits(name, seed=0, validation_fraction=0.1):
    X, y = datasets.load(name, "train")
    X_test, y_test = datasets.load(name, "test")
    X_train, y_train, X_val, y_val = validation_split(X, y, validation_fraction, np.random.default_rng(seed))
    return X_train, y_train, X_val, y_val, X_test, y_test


def twins(in_features, num_classes, config, dtype=np.float32):
    """A scratch MLP and a torch MLP holding the very same initial weights.

    torch draws its dropout masks from its global generator, seeded here so a run repeats.
    """
    torch.manual_seed(config.seed)
    model = scratch_mlp.MLP(in_features, config.hidden_sizes, num_classes, config.activation, config.dropout,
                            dtype=dtype, rng=np.random.default_rng(config.seed))
    twin = torch_mlp.MLP(in_features, config.hidden_sizes, num_classes, config.activation, config.dropout,
                         dtype=torch.float32 if dtype == np.float32 else torch.float64)
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in model.state_dict().items()})
    return model, twin


def lockstep_gap(X, y, X_val, y_val, config, num_classes):
    """Train both twins one epoch in float64 without dropout; the largest gap in loss and weights."""
    config = dataclasses.replace(config, dropout=0.0, num_epochs=1)
    model, twin = twins(X.shape[1], num_classes, config, dtype=np.float64)
    X, X_val = X.astype(np.float64), X_val.astype(np.float64)
    history = scratch_training.fit(model, X, y, X_val, y_val, config)
    torch_history = torch_training.fit(twin, X, y, X_val, y_val, config)
    torch_state = twin.state_dict()
    weight_gap = max(float(np.max(np.abs(value - torch_state[key].numpy()))) for key, value in model.state_dict().items())
    return {"steps": -(-len(X) // config.batch_size), "train_loss_gap": abs(history["train_loss"][0] - torch_history["train_loss"][0]),
            "max_weight_gap": weight_gap}


def sklearn_baseline(X, y, X_test, y_test, config):
    """scikit-learn's MLPClassifier with the same layers, activation, optimizer and batches."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    import warnings

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


def run_dataset(name, out_dir, num_epochs=None, compare_sklearn=True, progress=True):
    config = CONFIGS[name] if num_epochs is None else dataclasses.replace(CONFIGS[name], num_epochs=num_epochs)
    X, y, X_val, y_val, X_test, y_test = load_splits(name, config.seed)
    num_classes = len(CLASS_NAMES[name])
    model, twin = twins(X.shape[1], num_classes, config)
    report = {"dataset": name, "config": dataclasses.asdict(config), "samples": {"train": len(X), "val": len(X_val), "test": len(X_test)}}
    histories = {}
    for side, module, fit, predict in (("scratch", model, scratch_training.fit, scratch_training.predict),
                                       ("torch", twin, torch_training.fit, torch_training.predict)):
        start = time.perf_counter()
        histories[side] = fit(module, X, y, X_val, y_val, config, progress=progress)
        y_pred = predict(module, X_test)
        report[side] = {"test_accuracy": metrics.accuracy(y_test, y_pred), "fit_seconds": time.perf_counter() - start,
                        "epochs": len(histories[side]["train_loss"]), "best_epoch": histories[side]["best_epoch"],
                        "median_epoch_seconds": float(np.median(histories[side]["epoch_time"])), "history": histories[side]}
        if side == "scratch":
            counts = metrics.confusion_matrix(y_test, y_pred, num_classes)
            report["confusion_matrix"] = counts.tolist()
            report["per_class_accuracy"] = dict(zip(CLASS_NAMES[name], metrics.per_class_accuracy(y_test, y_pred, num_classes).tolist()))
            plots.confusion_matrix(counts, CLASS_NAMES[name], out_dir / f"{name}_confusion.png",
                                   f"scratch MLP on {name} test set (accuracy {report['scratch']['test_accuracy']:.4f})")
    report["accuracy_gap_points"] = 100 * abs(report["scratch"]["test_accuracy"] - report["torch"]["test_accuracy"])
    plots.training_curves(histories, out_dir / f"{name}_curves.png", f"MLP on {name}: scratch vs torch from the same initial weights")
    report["lockstep_float64_one_epoch"] = lockstep_gap(X, y, X_val, y_val, config, num_classes)
    if compare_sklearn:
        report["sklearn"] = sklearn_baseline(X, y, X_test, y_test, config)
    return report


def run(out_dir, dataset_names=("digits",), num_epochs=None, study=True, compare_sklearn=True, progress=True):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {name: run_dataset(name, out_dir, num_epochs, compare_sklearn, progress) for name in dataset_names}
    if study:
        X, y, X_val, y_val, _, _ = load_splits("digits", validation_fraction=0.25)  # more samples, finer accuracy
        report["study"] = hyperparameter_study(X, y, X_val, y_val, 10, CONFIGS["digits"], out_dir, num_epochs or 30)
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    return report


def summary(report):
    """The lines a person reads at the end of a run."""
    lines = []
    for name, result in report.items():
        if name == "study":
            best = result["best"]
            lines.append(f"study (digits): best validation accuracy {best['val_accuracy']:.4f} with {best['optimizer']}, "
                         f"hidden {best['hidden']}, lr {best['lr']} (validation loss {best['val_loss']:.4f})")
            continue
        lock = result["lockstep_float64_one_epoch"]
        lines.append(f"{name}: test accuracy scratch {result['scratch']['test_accuracy']:.4f}, torch {result['torch']['test_accuracy']:.4f} "
                     f"(gap {result['accuracy_gap_points']:.2f} points)"
                     + (f", sklearn {result['sklearn']['test_accuracy']:.4f}" if "sklearn" in result else ""))
        lines.append(f"  epoch time scratch {result['scratch']['median_epoch_seconds']:.2f}s, torch {result['torch']['median_epoch_seconds']:.2f}s"
                     + (f"; sklearn fit {result['sklearn']['fit_seconds']:.1f}s" if "sklearn" in result else ""))
        lines.append(f"  lockstep (float64, no dropout, {lock['steps']} steps): loss gap {lock['train_loss_gap']:.1e}, "
                     f"max weight gap {lock['max_weight_gap']:.1e}")
    return "\n".join(lines)
