"""The pipeline against a real MLflow tracking server over HTTP, the way a team outgrows the embedded
SQLite store: `mlflow server` (its own SQLite store, artifacts proxied through it) and `twins serve`
both started here on loopback and stopped at the end, every wait bounded. A candidate is trained,
logged, gated and promoted over REST; the model server pulls models:/NAME@champion through the
tracking server's artifact proxy and scores as the checkpoint does; when the tracking server goes
down the model server says so on /ready and keeps serving its cached model."""
import httpx
import numpy as np
import pytest

from scratch.projects.mlops.scorer import Scorer
from twins.mlops import pipeline, tracking


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow-server")
    process, uri = pipeline.start_tracking_server(folder, timeout=120)
    try:
        yield process, uri, folder
    finally:
        pipeline.stop_server(process)


def test_train_register_and_serve_through_a_real_tracking_server(tracking_server, tmp_path):
    process, uri, folder = tracking_server
    name = pipeline.MODEL_NAMES["gapminder"]
    splits = pipeline.gapminder_splits(1960, 1990)
    report = pipeline.train_and_register(uri, "gapminder", splits, tmp_path, "v1", num_epochs=10)
    assert report["promoted"] and tracking.champion_version(uri, name) == report["version"] == "1"

    run = tracking.client(uri).get_run(report["run_id"])  # read back over REST
    assert run.data.tags["gate"] == "passed" and len(run.data.tags["data_hash"]) == 64
    assert "holdout_mae" in run.data.metrics and run.info.artifact_uri.startswith("mlflow-artifacts:")
    stored = list((folder / "artifacts").rglob("v1.npz"))  # the server's artifact store holds the checkpoint, no local ./mlruns
    assert len(stored) == 1 and not (tmp_path / "mlruns").exists()

    served, url = pipeline.start_server(uri, name, tmp_path, poll_seconds=0.5, timeout=90)
    try:
        rows = splits.X_holdout[:5].astype(np.float64)
        answer = httpx.post(url + "/predict", json={"instances": rows.tolist()}, timeout=30).json()
        expected = Scorer.load(stored[0])[0].predict(rows)[0]
        assert answer["model_version"] == "1" and np.allclose(answer["predictions"], expected, rtol=1e-6)

        pipeline.stop_server(process)  # the registry goes away under the running model server
        pipeline.wait_for(lambda: httpx.get(url + "/ready", timeout=10).json()["registry_error"], 30, "/ready reporting the lost tracking server")
        again = httpx.post(url + "/predict", json={"instances": rows.tolist()}, timeout=30).json()
        assert again["model_version"] == "1" and again["predictions"] == answer["predictions"]
    finally:
        pipeline.stop_server(served)
    with pytest.raises(ConnectionError, match=f"tracking_uri: cannot reach the MLflow server at {uri}"):
        tracking.check_reachable(uri, timeout=2)
