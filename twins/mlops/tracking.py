"""MLflow for Project 20: a tracking store (SQLite by default, any tracking URI to outgrow it), one
run per trained candidate (params, per-epoch metrics, the data's content hash, the git commit, the
environment, plots, the gate's results) with the model as a NumPy-only pyfunc, and the registry's
aliases: ``champion`` (served), ``challenger`` (the latest candidate), ``previous`` (for rollback)."""
import os
import platform
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from twins.registry import ROOT

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
EXPERIMENT = "mlops"
PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")


def sqlite_uri(folder):
    """The embedded default: folder/mlflow.db; artifacts go to folder/artifacts (never ./mlruns)."""
    return f"sqlite:///{Path(folder).resolve() / 'mlflow.db'}"


def check_reachable(tracking_uri, timeout=3.0):
    """Refuse a tracking URI that cannot be reached, saying which: an HTTP server that does not
    answer /health, or a SQLite file whose folder does not exist."""
    if not isinstance(tracking_uri, str) or ":" not in tracking_uri:
        raise ValueError(f"tracking_uri: expected a URI such as sqlite:///path/mlflow.db or http://host:5000, got {tracking_uri!r}")
    if tracking_uri.startswith(("http://", "https://")):
        try:
            urllib.request.urlopen(tracking_uri.rstrip("/") + "/health", timeout=timeout).close()
        except (urllib.error.URLError, OSError) as error:
            raise ConnectionError(f"tracking_uri: cannot reach the MLflow server at {tracking_uri}: {error}") from None
    elif tracking_uri.startswith("sqlite:///"):
        folder = Path(tracking_uri.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            raise ConnectionError(f"tracking_uri: cannot reach {tracking_uri}: the folder {folder} does not exist")
    return tracking_uri


def client(tracking_uri):
    """An MlflowClient on a reachable store, with the experiment made (artifacts beside a SQLite store)."""
    import mlflow

    mlflow.set_tracking_uri(check_reachable(tracking_uri))
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        location = None
        if tracking_uri.startswith("sqlite:///"):
            location = (Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()
        mlflow.create_experiment(EXPERIMENT, artifact_location=location)
    return mlflow.MlflowClient(tracking_uri)


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment():
    import mlflow
    return {"python": platform.python_version(), "numpy": np.__version__, "mlflow": mlflow.__version__, "platform": platform.platform()}


def log_candidate(tracking_uri, model_name, checkpoint_path, config, history, data_hash, holdout, plots=(), input_example=None):
    """One MLflow run for a trained candidate, its model logged as a pyfunc and registered as a new
    version of ``model_name`` with the ``challenger`` alias. Returns (run_id, version)."""
    import mlflow
    from mlflow.models import infer_signature

    from scratch.projects.mlops.scorer import Scorer

    scorer, meta = Scorer.load(checkpoint_path)
    mlflow_client = client(tracking_uri)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    with mlflow.start_run(experiment_id=experiment.experiment_id) as run:
        mlflow.log_params({key: str(value) for key, value in config.items()})
        mlflow.set_tags({"data_hash": data_hash, "git_commit": git_commit(), "task": meta["task"], "model_name": model_name,
                         **{f"env.{key}": value for key, value in environment().items()}})
        for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
            for epoch, value in enumerate(history.get(key, []), start=1):
                mlflow.log_metric(key, float(value), step=epoch)
        mlflow.log_metrics({f"holdout_{key}": float(value) for key, value in holdout.items() if key != "slices"})
        mlflow.log_metrics({f"holdout_slice_{name}": float(value) for name, value in holdout["slices"].items()})
        mlflow.log_dict(holdout, "holdout.json")
        mlflow.log_dict(environment(), "environment.json")
        for plot in plots:
            mlflow.log_artifact(str(plot), "plots")
        example = np.asarray(input_example, dtype=np.float32)
        output = scorer.predict(example)[0]
        info = mlflow.pyfunc.log_model(name="model", python_model=str(PYFUNC_CODE), artifacts={"checkpoint": str(checkpoint_path)},
                                       signature=infer_signature(example, output), input_example=example,
                                       code_paths=None, pip_requirements=[f"numpy=={np.__version__}", f"mlflow=={mlflow.__version__}"],
                                       registered_model_name=model_name)
    version = str(info.registered_model_version)
    mlflow_client.set_registered_model_alias(model_name, "challenger", version)
    return run.info.run_id, version


def log_gate(tracking_uri, run_id, results):
    """Each gate check as a metric (1 passed, 0 failed) and all of them as gate.json, on the candidate's run."""
    mlflow_client = client(tracking_uri)
    for result in results:
        mlflow_client.log_metric(run_id, f"gate_{result.name.replace(' ', '_')}", float(result.passed))
    mlflow_client.log_dict(run_id, [{"name": r.name, "passed": r.passed, "detail": r.detail} for r in results], "gate.json")
    mlflow_client.set_tag(run_id, "gate", "passed" if all(r.passed for r in results) else "failed")


def champion_version(tracking_uri, model_name):
    """The champion's version, or None before the first promotion."""
    from mlflow.exceptions import MlflowException
    try:
        return str(client(tracking_uri).get_model_version_by_alias(model_name, "champion").version)
    except MlflowException:
        return None


def promote(tracking_uri, model_name, version):
    """Move ``champion`` to ``version``; the old champion keeps the ``previous`` alias (rollback's target)."""
    mlflow_client = client(tracking_uri)
    old = champion_version(tracking_uri, model_name)
    if old is not None and old != str(version):
        mlflow_client.set_registered_model_alias(model_name, "previous", old)
    mlflow_client.set_registered_model_alias(model_name, "champion", str(version))
    return old


def rollback(tracking_uri, model_name):
    """Move ``champion`` back to ``previous``; the version rolled back from becomes ``previous``."""
    from mlflow.exceptions import MlflowException
    mlflow_client = client(tracking_uri)
    try:
        previous = str(mlflow_client.get_model_version_by_alias(model_name, "previous").version)
    except MlflowException:
        raise ValueError(f"model_name: {model_name!r} has no 'previous' version to roll back to") from None
    return previous, promote(tracking_uri, model_name, previous)


def download_checkpoint(tracking_uri, model_name, alias="champion", dst=None):
    """(version, local path of the .npz) of ``models:/NAME@alias``: the checkpoint the pyfunc loads."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    version = client(tracking_uri).get_model_version_by_alias(model_name, alias)
    root = mlflow.artifacts.download_artifacts(f"models:/{model_name}/{version.version}", dst_path=dst)
    found = sorted(Path(root, "artifacts").glob("*.npz"))
    if not found:
        raise FileNotFoundError(f"models:/{model_name}@{alias}: version {version.version} has no .npz checkpoint")
    return str(version.version), found[0]
