"""What every project demo does: load the splits, build twins holding the same weights,
train both, compare them (test accuracy, curves, lockstep gap) and plot the results."""
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from reference import training as torch_training
from scratch import datasets, metrics
from scratch import training as scratch_training
from scratch.plumbing import validation_split
from twins import plots

CLASS_NAMES = {"digits": [str(d) for d in range(10)], "fashion-mnist": list(datasets.FASHION_MNIST_CLASSES)}


# --quick: the first samples of each split and a few epochs, a smoke run of the whole demo
QUICK_SAMPLES = {"train": 2000, "test": 1000}
QUICK_EPOCHS = 2


def tuned_config(configs, name, num_epochs=None, quick=False):
    """The data set's tuned config, with ``num_epochs`` (or QUICK_EPOCHS when quick) if given."""
    num_epochs = QUICK_EPOCHS if quick and num_epochs is None else num_epochs
    return configs[name] if num_epochs is None else dataclasses.replace(configs[name], num_epochs=num_epochs)


def load_splits(name, seed=0, validation_fraction=0.1, quick=False):
    """(X, y, X_val, y_val, X_test, y_test): images flattened, the validation part cut from train;
    ``quick`` keeps the first QUICK_SAMPLES of each split."""
    X, y = datasets.load(name, "train")
    X_test, y_test = datasets.load(name, "test")
    if quick:
        X, y, X_test, y_test = X[:QUICK_SAMPLES["train"]], y[:QUICK_SAMPLES["train"]], X_test[:QUICK_SAMPLES["test"]], y_test[:QUICK_SAMPLES["test"]]
    X_train, y_train, X_val, y_val = validation_split(X, y, validation_fraction, np.random.default_rng(seed))
    return X_train, y_train, X_val, y_val, X_test, y_test


def lockstep_gap(make_twins, X, y, X_val, y_val, config, max_steps=None):
    """Train both twins for one epoch (or ``max_steps`` batches) in float64 with dropout and
    augmentation off; the gap in training loss and the largest gap in any weight."""
    if max_steps is not None:
        X, y = X[:max_steps * config.batch_size], y[:max_steps * config.batch_size]
    config = dataclasses.replace(config, num_epochs=1, **({"dropout": 0.0} if hasattr(config, "dropout") else {}))
    model, twin = make_twins(config, np.float64)
    if np.issubdtype(X.dtype, np.floating):  # token ids stay integers
        X, X_val = X.astype(np.float64), X_val.astype(np.float64)
    history = scratch_training.fit(model, X, y, X_val, y_val, config)
    torch_history = torch_training.fit(twin, X, y, X_val, y_val, config)
    torch_state = twin.state_dict()
    gap = max(float(np.max(np.abs(value - torch_state[key].numpy()))) for key, value in model.state_dict().items())
    return {"steps": -(-len(X) // config.batch_size), "max_weight_gap": gap,
            "train_loss_gap": abs(history["train_loss"][0] - torch_history["train_loss"][0])}


def train_and_compare(title, name, model, twin, splits, config, out_dir, transforms=(None, None), progress=True):
    """Train the scratch model and its twin on the same data; test both; plot the curves
    overlaid and the scratch model's confusion matrix. Returns the report (a dict)."""
    X, y, X_val, y_val, X_test, y_test = splits
    classes = CLASS_NAMES[name]
    report = {"dataset": name, "config": dataclasses.asdict(config),
              "samples": {"train": len(X), "val": len(X_val), "test": len(X_test)}}
    histories = {}
    for side, module, training, transform in (("scratch", model, scratch_training, transforms[0]),
                                              ("torch", twin, torch_training, transforms[1])):
        start = time.perf_counter()
        histories[side] = training.fit(module, X, y, X_val, y_val, config, transform=transform, progress=progress)
        y_pred = training.predict(module, X_test)
        report[side] = {"test_accuracy": metrics.accuracy(y_test, y_pred), "fit_seconds": time.perf_counter() - start,
                        "epochs": len(histories[side]["train_loss"]), "best_epoch": histories[side]["best_epoch"],
                        "median_epoch_seconds": float(np.median(histories[side]["epoch_time"])),
                        "per_class_accuracy": dict(zip(classes, metrics.per_class_accuracy(y_test, y_pred, len(classes)).tolist())),
                        "history": histories[side]}
        if side == "scratch":
            counts = metrics.confusion_matrix(y_test, y_pred, len(classes))
            report["confusion_matrix"] = counts.tolist()
            plots.confusion_matrix(counts, classes, out_dir / f"{name}_confusion.png",
                                   f"scratch {title} on {name} test set (accuracy {report['scratch']['test_accuracy']:.4f})")
    report["accuracy_gap_points"] = 100 * abs(report["scratch"]["test_accuracy"] - report["torch"]["test_accuracy"])
    plots.training_curves(histories, out_dir / f"{name}_curves.png", f"{title} on {name}: scratch vs torch from the same initial weights")
    return report


def summary_lines(name, result):
    """The lines a person reads for one data set at the end of a run."""
    lock = result["lockstep_float64"]
    lines = [f"{name}: test accuracy scratch {result['scratch']['test_accuracy']:.4f}, torch {result['torch']['test_accuracy']:.4f} "
             f"(gap {result['accuracy_gap_points']:.2f} points)"
             + (f", sklearn {result['sklearn']['test_accuracy']:.4f}" if "sklearn" in result else ""),
             f"  epoch time scratch {result['scratch']['median_epoch_seconds']:.2f}s, torch {result['torch']['median_epoch_seconds']:.2f}s"
             + (f"; sklearn fit {result['sklearn']['fit_seconds']:.1f}s" if "sklearn" in result else ""),
             f"  lockstep (float64, no dropout, {lock['steps']} steps): loss gap {lock['train_loss_gap']:.1e}, "
             f"max weight gap {lock['max_weight_gap']:.1e}"]
    return lines


def run_datasets(out_dir, dataset_names, run_dataset):
    """Make ``out_dir`` and run ``run_dataset(name, out_dir)`` for each data set: (out_dir, report)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir, {name: run_dataset(name, out_dir) for name in dataset_names}


def save_report(out_dir, report):
    """Write the report as out_dir/metrics.json and return it."""
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2))
    return report
