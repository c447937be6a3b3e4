"""Project 20's pipeline stages, each callable alone (`twins mlops <stage>`) or all together
(`twins mlops pipeline`, `twins run mlops`): data (schema, quarantine, content hash), train and
track (a scratch scorer logged to MLflow as a NumPy-only pyfunc), gate (the candidate's own parity
with its torch twin and, in full runs, the project's parity suite; the holdout against the
champion's; the slices), promote or roll back by alias, and monitor (drift over served requests)."""
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scratch import datasets, nn
from scratch import training as scratch_training
from scratch.plumbing import validation_split
from scratch.projects.mlops import checkpoint, data, gate, monitor
from scratch.projects.mlops.config import CONFIGS, GAPMINDER_FEATURES, TASK_OF, TRAIN_YEARS, MonitorConfig
from scratch.projects.mlops.scorer import Scorer
from twins.registry import ROOT

MODEL_NAMES = {"gapminder": "gapminder-life-expectancy", "digits": "digits-classifier", "fashion-mnist": "fashion-mnist-classifier"}
HOLDOUT_FRACTION = 0.2
REFERENCE_ROWS = 2000  # training rows logged with a model: the monitor's reference


@dataclasses.dataclass
class Splits:
    X: np.ndarray
    y: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_holdout: np.ndarray
    y_holdout: np.ndarray
    slices: np.ndarray  # (holdout rows,) the slice each holdout row belongs to
    feature_names: tuple
    data_hash: str
    quarantined: int = 0


def check_dataset_name(name):
    if name not in MODEL_NAMES:
        raise ValueError(f"dataset: expected one of {sorted(MODEL_NAMES)}, got {name!r}")
    return name


def gapminder_splits(first_year, last_year, seed=0, table=None):
    """Valid gapminder rows of the years given: 80% train (a tenth of it validation), 20% holdout,
    sliced by continent; the rows the schema refuses are counted, never used."""
    table = data.load_gapminder() if table is None else table
    table = data.years(table, first_year, last_year)
    valid, quarantine = data.validate(table)
    table = data.select(table, valid)
    X, y = data.features(table)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    cut = int(len(X) * HOLDOUT_FRACTION)
    hold, rest = order[:cut], order[cut:]
    X_train, y_train, X_val, y_val = validation_split(X[rest], y[rest], 0.1, rng)
    return Splits(X_train.astype(np.float32), y_train.astype(np.float32)[:, None], X_val.astype(np.float32),
                  y_val.astype(np.float32)[:, None], X[hold].astype(np.float32), y[hold], table["continent"][hold],
                  GAPMINDER_FEATURES, data.content_hash(X[rest], y[rest]), len(quarantine))


def image_splits(name, quick=False, seed=0):
    """Digits or Fashion-MNIST: train/validation from the train split, the test split as the holdout, sliced by class."""
    X, y = datasets.load(name, "train")
    X_test, y_test = datasets.load(name, "test")
    if quick:
        X, y, X_test, y_test = X[:2000], y[:2000], X_test[:1000], y_test[:1000]
    X_train, y_train, X_val, y_val = validation_split(X, y, 0.1, np.random.default_rng(seed))
    return Splits(X_train, y_train, X_val, y_val, X_test, y_test, y_test.astype(str), tuple(f"pixel_{i}" for i in range(X.shape[1])),
                  data.content_hash(X, y))


def load_splits(name, quick=False, years=TRAIN_YEARS, seed=0):
    return gapminder_splits(*years, seed=seed) if check_dataset_name(name) == "gapminder" else image_splits(name, quick, seed)


def train(name, splits, num_epochs=None, seed=0, progress=False):
    """A scratch scorer trained on the splits: (scorer, history, config)."""
    config = CONFIGS[name] if num_epochs is None else dataclasses.replace(CONFIGS[name], num_epochs=num_epochs)
    config = dataclasses.replace(config, seed=seed)
    task = TASK_OF[name]
    outputs = 1 if task == "regression" else 10
    scorer = Scorer(splits.X.shape[1], config.hidden_sizes, outputs, task, config.activation, dtype=np.float32,
                    rng=np.random.default_rng(seed))
    spread = splits.X.std(axis=0)
    scorer.mean[...], scorer.scale[...] = splits.X.mean(axis=0), np.where(spread > 0, spread, 1.0)
    criterion = nn.MSELoss() if task == "regression" else None
    history = scratch_training.fit(scorer, splits.X, splits.y, splits.X_val, splits.y_val, config, criterion=criterion, progress=progress)
    return scorer, history, config


def holdout_metrics(scorer, X, y, slices):
    """{accuracy or mae, slices: {name: the same per slice}} on the holdout."""
    predictions, _ = scorer.predict(X)
    if scorer.task == "regression":
        errors = np.abs(predictions - y)
        return {"mae": float(errors.mean()), "rmse": float(np.sqrt(np.mean(errors ** 2))),
                "slices": {str(name): float(errors[slices == name].mean()) for name in np.unique(slices)}}
    right = predictions == y
    return {"accuracy": float(right.mean()), "slices": {str(name): float(right[slices == name].mean()) for name in np.unique(slices)}}


def save_checkpoint(scorer, splits, config, path):
    """The deployable .npz: the scorer's state_dict and its description."""
    hidden = [layer.out_features for layer in scorer.mlp.layers if isinstance(layer, nn.Linear)][:-1]
    meta = {"task": scorer.task, "in_features": scorer.in_features, "hidden_sizes": hidden, "num_outputs": scorer.num_classes,
            "activation": config.activation, "feature_names": list(splits.feature_names)}
    checkpoint.save(scorer.state_dict(), meta, path)
    return path


def candidate_parity(path, X):
    """The candidate's own parity: its checkpoint loaded by the scratch scorer and by the torch twin
    scores the holdout alike (float32 tolerances). (passed, max |difference|)."""
    from reference.projects.mlops.scorer import Scorer as TorchScorer
    from twins.parity import tolerance

    scratch_scores = Scorer.load(path)[0].predict(X)[1]
    twin, meta = TorchScorer.load(path)
    torch_scores = twin.predict(X)[1]
    rtol, atol = tolerance(np.float32, "forward", max((*meta["hidden_sizes"], meta["in_features"])))
    difference = np.abs(scratch_scores - torch_scores)
    return bool(np.all(difference <= atol + rtol * np.abs(torch_scores))), float(difference.max())


def parity_suite(timeout=600):
    """The project's parity tests (ci profile), as the gate runs them in a full pipeline: (passed, the summary line)."""
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "parity_tests/projects/mlops/test_drift.py",
                           "parity_tests/projects/mlops/test_scorer.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    return done.returncode == 0, (done.stdout.strip().splitlines() or ["no output"])[-1]


def run_gate(tracking_uri, model_name, candidate_path, splits, run_suite=False, config=None):
    """Gate a candidate against the champion on the same holdout; (results, candidate metrics, champion metrics)."""
    from twins.mlops import tracking

    parity_ok, max_diff = candidate_parity(candidate_path, splits.X_holdout)
    detail = f"candidate scratch vs torch max |diff| {max_diff:.2e}"
    if run_suite:
        suite_ok, summary = parity_suite()
        parity_ok, detail = parity_ok and suite_ok, f"{detail}; parity suite: {summary}"
    candidate = Scorer.load(candidate_path)[0]
    candidate_metrics = holdout_metrics(candidate, splits.X_holdout, splits.y_holdout, splits.slices)
    champion_metrics = None
    if tracking.champion_version(tracking_uri, model_name) is not None:
        champion = Scorer.load(tracking.download_checkpoint(tracking_uri, model_name, dst=str(Path(candidate_path).parent / "champion"))[1])[0]
        champion_metrics = holdout_metrics(champion, splits.X_holdout, splits.y_holdout, splits.slices)
    results = gate.evaluate_gate(candidate_metrics, champion_metrics, candidate.task, parity_ok, config)
    results[0] = gate.GateResult("parity", results[0].passed, detail)
    return results, candidate_metrics, champion_metrics


def train_and_register(tracking_uri, name, splits, out_dir, tag, num_epochs=None, seed=0, run_suite=False, gate_config=None, progress=False):
    """Train, track, register as challenger, gate, and promote if it passes: a report dict."""
    from twins import plots
    from twins.mlops import tracking

    start = time.perf_counter()
    scorer, history, config = train(name, splits, num_epochs, seed, progress)
    train_seconds = time.perf_counter() - start
    path = save_checkpoint(scorer, splits, config, Path(out_dir) / f"{tag}.npz")
    reference = Path(out_dir) / f"{tag}_reference" / tracking.REFERENCE_SAMPLE
    reference.parent.mkdir(exist_ok=True)
    keep = np.random.default_rng(seed).permutation(len(splits.X))[:REFERENCE_ROWS]
    np.savez(reference, X=splits.X[keep], categorical=np.array([name.startswith("continent_") for name in splits.feature_names]))
    curves = plots.training_curves({"scratch": history}, Path(out_dir) / f"{tag}_curves.png", f"{tag}: scratch scorer on {name}",
                                   loss_name="MSE" if scorer.task == "regression" else "cross-entropy", accuracy=scorer.task != "regression")
    metrics = holdout_metrics(scorer, splits.X_holdout, splits.y_holdout, splits.slices)
    model_name = MODEL_NAMES[name]
    run_id, version = tracking.log_candidate(tracking_uri, model_name, path, dataclasses.asdict(config), config_history(history),
                                             splits.data_hash, metrics, plots=[curves], input_example=splits.X_holdout[:2],
                                             reference_sample=reference)
    results, candidate_metrics, champion_metrics = run_gate(tracking_uri, model_name, path, splits, run_suite, gate_config)
    tracking.log_gate(tracking_uri, run_id, results)
    promoted = gate.passed(results)
    if promoted:
        tracking.promote(tracking_uri, model_name, version)
    return {"tag": tag, "version": version, "run_id": run_id, "epochs": len(history["train_loss"]), "train_seconds": train_seconds,
            "holdout": candidate_metrics, "champion_holdout": champion_metrics, "promoted": promoted, "checkpoint": str(path),
            "gate": [{"version": version, "name": r.name, "passed": r.passed, "detail": r.detail} for r in results]}


def config_history(history):
    return {key: value for key, value in history.items() if isinstance(value, list)}


def drift_from_log(log_path, reference_X, names, categorical=(), config=None):
    """The monitor on the served requests: the drift report of the logged features against the training features."""
    from twins.mlops.server import read_log

    X, _, _ = read_log(log_path)
    if len(X) == 0:
        raise ValueError(f"log: expected logged requests in {log_path}, got none")
    return monitor.drift_report(reference_X, X, names, categorical, config), len(X)


def monitor_gapminder(log_path, splits, current_y, predictions, config=None):
    """Drift per feature (and of the predictions) from the prediction log, the live error, the retraining verdict."""
    config = MonitorConfig(max_live_error=6.0) if config is None else config
    report, rows = drift_from_log(log_path, splits.X, GAPMINDER_FEATURES, GAPMINDER_FEATURES[4:], config)
    report["predictions"] = monitor.feature_drift(splits.y[:, 0], predictions, config=config)
    live_mae = float(np.mean(np.abs(predictions - current_y)))
    retrain, reasons = monitor.should_retrain(report, live_mae, config)
    return {"rows": rows, "report": report, "live_mae": live_mae, "retrain": retrain, "reasons": reasons}



def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tracking_uri, model_name, work_dir, port=None, workers=1, shadow=False, log_path=None, token=None, poll_seconds=1.0,
                 timeout=60.0, wait=True):
    """`twins serve` in a subprocess on loopback: (process, base URL), once /ready answers 200 (or at
    once when not ``wait``: then call wait_ready)."""
    port = port or free_port()
    command = [sys.executable, "-m", "twins", "serve", "--model", model_name, "--tracking-uri", tracking_uri, "--port", str(port),
               "--workers", str(workers), "--cache-dir", str(Path(work_dir) / "serve-cache"), "--poll-seconds", str(poll_seconds)]
    command += (["--shadow"] if shadow else []) + (["--log", str(log_path)] if log_path else [])
    env = dict(os.environ, **({"MLOPS_TOKEN": token} if token else {}))
    with open(Path(work_dir) / "server.log", "ab") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if wait:
        wait_ready(process, url, work_dir, timeout)
    return process, url


def wait_for(condition, timeout=30.0, what="the condition"):
    """Poll ``condition`` every 0.2 s until it returns something true, and return that; a TimeoutError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def wait_ready(process, url, work_dir, timeout=60.0, path="/ready", name="twins serve"):
    """Poll ``path`` until it answers 200; stop the server and raise when it exits or the time is up."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}; see {Path(work_dir) / 'server.log'}")
        try:
            if httpx.get(url + path, timeout=1.0).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise TimeoutError(f"{name}: not ready within {timeout:.0f} s; see {Path(work_dir) / 'server.log'}")


def start_tracking_server(folder, port=None, timeout=120.0):
    """A real MLflow tracking server on loopback, `mlflow server` in a subprocess: the SQLite store
    folder/mlflow.db behind it, artifacts proxied into folder/artifacts. (process, its http:// URI)
    once /health answers; stop it with stop_server."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    from twins.mlops import tracking

    tracking.empty_store(folder / "mlflow.db")
    port = port or free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking.sqlite_uri(folder),
               "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with open(folder / "server.log", "ab") as log:
        process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    return process, wait_ready(process, url, folder, timeout, path="/health", name="mlflow server")


def stop_server(process, timeout=15.0):
    """SIGTERM to the server's process group (uvicorn, its workers, the shadow), SIGKILL after ``timeout``."""
    import signal
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
