"""MLflow for Project 20: a tracking store (SQLite by default, any tracking URI to outgrow it), one
run per trained candidate (params, per-epoch metrics, the data's content hash, the git commit, the
environment, plots, the gate's results) with the model as a NumPy-only pyfunc, and the registry's
aliases: ``champion`` (served), ``challenger`` (the latest candidate), ``previous`` (for rollback)."""
import os
import platform
import shutil
import subprocess
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import numpy as np

from twins.registry import ROOT

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
EXPERIMENT = "mlops"
PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")
REFERENCE_SAMPLE = "reference_sample.npz"


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


def empty_store(path):
    """A new SQLite store at ``path``, copied from an empty one migrated once per MLflow version (in the
    temporary folder): MLflow's schema migrations take about 10 s, a copy milliseconds."""
    import tempfile

    import mlflow

    template = Path(tempfile.gettempdir()) / f"twins-mlops-empty-mlflow-{mlflow.__version__}.db"
    if not template.exists():
        building = template.with_suffix(f".{os.getpid()}.db")
        mlflow.MlflowClient(f"sqlite:///{building}").search_experiments()  # creates and migrates the schema
        os.replace(building, template)
    shutil.copyfile(template, path)


def client(tracking_uri, create=True):
    """An MlflowClient on a reachable store, with the experiment made (artifacts beside a SQLite store).
    A SQLite store that does not exist yet is made, unless ``create`` is False (the server's calls:
    a vanished store is an unreachable registry, not a new empty one)."""
    import mlflow

    check_reachable(tracking_uri)
    if tracking_uri.startswith("sqlite:///") and not Path(tracking_uri.removeprefix("sqlite:///")).exists():
        if not create:
            raise ConnectionError(f"tracking_uri: cannot reach {tracking_uri}: no store there")
        empty_store(tracking_uri.removeprefix("sqlite:///"))
    mlflow.set_tracking_uri(tracking_uri)
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


def log_candidate(tracking_uri, model_name, checkpoint_path, config, history, data_hash, holdout, plots=(), input_example=None,
                  reference_sample=None):
    """One MLflow run for a trained candidate, its model logged as a pyfunc and registered as a new
    version of ``model_name`` with the ``challenger`` alias. ``reference_sample``: an .npz of training
    features (X, categorical) that travels with the model, the monitor's reference. Returns (run_id, version)."""
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
        artifacts = {"checkpoint": str(checkpoint_path)} | ({"reference_sample": str(reference_sample)} if reference_sample else {})
        warnings.filterwarnings("ignore", message=".*type hints to the `predict` method.*")  # inputs are checked by the scorer
        info = mlflow.pyfunc.log_model(name="model", python_model=str(PYFUNC_CODE), artifacts=artifacts,
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


def check_model(tracking_uri, model_name):
    """``model_name`` if the registry holds it; a ValueError naming the registered ones otherwise."""
    names = sorted(model.name for model in client(tracking_uri, create=False).search_registered_models())
    if model_name not in names:
        raise ValueError(f"model: unknown registered model {model_name!r}; expected one of {names} in {tracking_uri}")
    return model_name


def champion_version(tracking_uri, model_name):
    """The champion's version, or None before the first promotion."""
    from mlflow.exceptions import MlflowException
    try:
        return str(client(tracking_uri, create=False).get_model_version_by_alias(model_name, "champion").version)
    except MlflowException:
        return None


def promote(tracking_uri, model_name, version):
    """Move ``champion`` to ``version``; the old champion keeps the ``previous`` alias (rollback's target)."""
    mlflow_client = client(tracking_uri)
    check_model(tracking_uri, model_name)
    versions = sorted(str(v.version) for v in mlflow_client.search_model_versions(f"name = '{model_name}'"))
    if str(version) not in versions:
        raise ValueError(f"version: {model_name!r} has no version {version!r}; expected one of {versions}")
    old = champion_version(tracking_uri, model_name)
    if old is not None and old != str(version):
        mlflow_client.set_registered_model_alias(model_name, "previous", old)
    mlflow_client.set_registered_model_alias(model_name, "champion", str(version))
    return old


def rollback(tracking_uri, model_name):
    """Move ``champion`` back to ``previous``; the version rolled back from becomes ``previous``."""
    from mlflow.exceptions import MlflowException
    mlflow_client = client(tracking_uri)
    check_model(tracking_uri, model_name)
    try:
        previous = str(mlflow_client.get_model_version_by_alias(model_name, "previous").version)
    except MlflowException:
        raise ValueError(f"model: {model_name!r} has no 'previous' version to roll back to") from None
    return previous, promote(tracking_uri, model_name, previous)


def download_checkpoint(tracking_uri, model_name, alias="champion", dst=None):
    """(version, local path of the checkpoint .npz, extras) of ``models:/NAME@alias``: the checkpoint
    the pyfunc loads; extras: the run id and the path of the reference sample (None without one)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    version = client(tracking_uri, create=False).get_model_version_by_alias(model_name, alias)
    root = mlflow.artifacts.download_artifacts(f"models:/{model_name}/{version.version}", dst_path=dst)
    found = sorted(p for p in Path(root, "artifacts").glob("*.npz") if p.name != REFERENCE_SAMPLE)
    if not found:
        raise FileNotFoundError(f"models:/{model_name}@{alias}: version {version.version} has no .npz checkpoint")
    reference = Path(root, "artifacts", REFERENCE_SAMPLE)
    return str(version.version), found[0], {"run_id": version.run_id, "reference_sample": reference if reference.exists() else None}


def gate_results(tracking_uri, run_id):
    """The gate results logged on a run (gate.json), or [] when it has none."""
    import mlflow
    from mlflow.exceptions import MlflowException
    try:
        mlflow.set_tracking_uri(tracking_uri)
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/gate.json")
    except (MlflowException, OSError, ValueError):
        return []
