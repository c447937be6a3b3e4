"""The model server end to end: a real SQLite MLflow store and a real `twins serve` (uvicorn) in a
subprocess, both started here and stopped at the end, every wait bounded. Covers the endpoints,
the 4xx answers to poison requests (the worker survives them), the request-size limit, the admin
token, no torch in the serving process, the torch shadow's metrics, reloading when the alias moves,
a corrupt new version (the old one keeps serving, /ready says 503), rollback by alias, and an
unreachable registry (the cached model keeps serving)."""
import json
import re
import time

import httpx
import numpy as np
import pytest

from scratch.projects.mlops.scorer import Scorer
from twins.mlops import pipeline, tracking
from twins.mlops.pipeline import wait_for

TOKEN = "test-token"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A store with one promoted gapminder model, and the server on it: (url, store uri, splits, first report, work dir)."""
    work = tmp_path_factory.mktemp("mlops")
    (work / "store").mkdir()
    uri = tracking.sqlite_uri(work / "store")
    splits = pipeline.gapminder_splits(1960, 1990)
    first = pipeline.train_and_register(uri, "gapminder", splits, work, "v1", num_epochs=30)
    assert first["promoted"] and first["version"] == "1"
    process, url = pipeline.start_server(uri, pipeline.MODEL_NAMES["gapminder"], work, shadow=True, log_path=work / "log.db",
                                         token=TOKEN, poll_seconds=0.5, timeout=90)
    try:
        yield url, uri, splits, first, work
    finally:
        pipeline.stop_server(process)
    assert process.poll() is not None


def post(url, body, **kwargs):
    return httpx.post(url + "/predict", timeout=30, **({"json": body} if not isinstance(body, (bytes, str)) else {"content": body}), **kwargs)


def test_endpoints_answer_and_torch_stays_out_of_the_server(served):
    url, _, _, _, _ = served
    health = httpx.get(url + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["torch_imported"] is False
    assert httpx.get(url + "/ready", timeout=10).status_code == 200
    version = httpx.get(url + "/version", timeout=10).json()
    assert version["version"] == "1" and version["feature_names"][0] == "infant_mortality" and version["task"] == "regression"
    assert "mlops_requests_total" in httpx.get(url + "/metrics", timeout=10).text


def test_predictions_are_the_checkpoints_one_and_many(served):
    url, _, splits, first, _ = served
    X = splits.X_holdout[:40].astype(np.float64)
    expected = Scorer.load(first["checkpoint"])[0].predict(X)[0]
    batch = post(url, {"instances": X.tolist()}).json()
    assert batch["model_version"] == "1" and np.allclose(batch["predictions"], expected, rtol=1e-6)
    one = post(url, {"instance": X[0].tolist()}).json()
    assert one["predictions"] == pytest.approx([expected[0]], rel=1e-6)


@pytest.mark.parametrize("body, status, field", [
    ({"rows": [[1.0]]}, 422, "rows"),  # an unknown field
    ({}, 422, "instances"),  # neither one row nor a batch
    ({"instances": []}, 422, "instances"),  # an empty batch
    ({"instances": [[1.0] * 8]}, 422, "instances"),  # a schema mismatch with the signature (9 features)
    ({"instances": [[1.0] * 9, [1.0] * 10]}, 422, "instances"),  # ragged rows
    ({"instances": [["a"] * 9]}, 422, "instances"),  # not numbers
    ('{"instances": [[NaN, 1, 1, 1, 1, 1, 1, 1, 1]]}', 422, "instances"),  # NaN (JSON's extension)
    ({"instances": [[1.0] * 9] * 1025}, 422, "instances"),  # over the batch limit
    ("{not json", 422, "body"),
])
def test_poison_requests_get_a_4xx_that_names_the_field_and_the_worker_survives(served, body, status, field):
    url = served[0]
    response = post(url, body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert field in response.text
    assert httpx.get(url + "/health", timeout=10).status_code == 200


def test_request_size_limit_and_admin_token(served):
    url = served[0]
    huge = json.dumps({"instances": [[1.0] * 9] * 60_000})  # about 2.7 MB, over the 2 MB limit
    response = post(url, huge, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "body: expected at most 2000000 bytes" in response.text
    assert httpx.post(url + "/admin/reload", timeout=10).status_code == 401
    assert httpx.post(url + "/admin/reload", headers={"authorization": "Bearer wrong"}, timeout=10).status_code == 401


def test_shadow_scores_the_traffic_off_the_hot_path_and_agrees(served):
    url, _, splits, _, _ = served
    post(url, {"instances": splits.X_holdout[:200].astype(np.float64).tolist()})

    def shadow_rows():
        text = httpx.get(url + "/metrics", timeout=10).text
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith("mlops_shadow_rows_total ")), 0.0)
    wait_for(lambda: shadow_rows() >= 200, 60)
    text = httpx.get(url + "/metrics", timeout=10).text
    assert "mlops_shadow_disagreement_rate 0.0" in text
    max_diff = next(float(line.split()[-1]) for line in text.splitlines() if line.startswith("mlops_shadow_max_abs_difference "))
    assert 0 <= max_diff < 1e-3  # float32 scratch vs float32 torch, life expectancy in years


def test_reload_corrupt_version_rollback_and_unreachable_registry(served):
    url, uri, splits, _, work = served
    name = pipeline.MODEL_NAMES["gapminder"]
    auth = {"authorization": f"Bearer {TOKEN}"}
    second = pipeline.train_and_register(uri, "gapminder", splits, work, "v2", num_epochs=30, seed=3)
    tracking.promote(uri, name, second["version"])  # whatever the gate said: the alias moves, the server follows
    assert httpx.post(url + "/admin/reload", headers=auth, timeout=60).status_code == 200
    assert httpx.get(url + "/version", timeout=10).json()["version"] == second["version"]

    third = pipeline.train_and_register(uri, "gapminder", splits, work, "v3", num_epochs=30, seed=4)
    stored = next((work / "store" / "artifacts").rglob("v3.npz"))
    stored.write_bytes(b"not a checkpoint")  # the registry now holds a corrupt file for version 3
    tracking.promote(uri, name, third["version"])
    ready = httpx.post(url + "/admin/reload", headers=auth, timeout=60)
    assert ready.status_code == 503 and ready.json()["failed_version"] == third["version"] and "not a readable checkpoint" in ready.json()["error"]
    answer = post(url, {"instance": splits.X_holdout[0].astype(np.float64).tolist()}).json()
    assert answer["model_version"] == second["version"]  # the old model keeps serving

    tracking.rollback(uri, name)  # champion back to the previous version (2)
    assert httpx.post(url + "/admin/reload", headers=auth, timeout=60).status_code == 200

    store = work / "store"
    store.rename(work / "store-away")  # the registry is gone: the server must keep serving its cached model
    try:
        wait_for(lambda: httpx.get(url + "/ready", timeout=10).json()["registry_error"] is not None, 30)
        assert post(url, {"instance": splits.X_holdout[0].astype(np.float64).tolist()}).json()["model_version"] == second["version"]
    finally:
        (work / "store-away").rename(store)
    wait_for(lambda: httpx.get(url + "/ready", timeout=10).json()["registry_error"] is None, 30)


def test_concurrent_promotion_never_scores_with_a_half_loaded_model(served):
    """Requests run while the champion flips between two versions: each answer is exactly the
    predictions of the one version it names, never a mix."""
    import threading

    url, uri, splits, first, work = served
    name = pipeline.MODEL_NAMES["gapminder"]
    auth = {"authorization": f"Bearer {TOKEN}"}
    X = splits.X_holdout[:20].astype(np.float64)
    expected = {"1": Scorer.load(first["checkpoint"])[0].predict(X)[0], "2": Scorer.load(work / "v2.npz")[0].predict(X)[0]}
    answers, stop = [], threading.Event()

    def traffic():
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set():
                answers.append(client.post("/predict", json={"instances": X.tolist()}).json())
    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        for version in ("1", "2", "1", "2"):
            tracking.promote(uri, name, version)
            assert httpx.post(url + "/admin/reload", headers=auth, timeout=60).json()["serving"] == version
    finally:
        stop.set()
        thread.join(30)
    assert {answer["model_version"] for answer in answers} == {"1", "2"}
    for answer in answers:
        np.testing.assert_allclose(answer["predictions"], expected[answer["model_version"]], rtol=1e-6)


def test_the_registered_pyfunc_scores_with_numpy_only(served):
    """mlflow.pyfunc.load_model in a fresh process: the model logged from code, its .npz read without
    pickle, the signature and input example stored, predictions equal to the checkpoint's, no torch."""
    import subprocess
    import sys

    _, uri, splits, first, _ = served
    code = (f"import json, sys, numpy as np, mlflow\nmlflow.set_tracking_uri({uri!r})\n"
            "model = mlflow.pyfunc.load_model('models:/gapminder-life-expectancy/1')\n"
            "X = np.array(json.loads(sys.stdin.read()), dtype=np.float32)\n"
            "print(json.dumps({'torch': 'torch' in sys.modules, 'predictions': model.predict(X).tolist(),"
            " 'inputs': str(model.metadata.signature.inputs), 'example': model.metadata.saved_input_example_info is not None}))")
    X = splits.X_holdout[:5]
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(X.tolist()), capture_output=True, text=True, timeout=120, check=True)
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["torch"] is False and answer["example"] and "(-1, 9)" in answer["inputs"]
    np.testing.assert_allclose(answer["predictions"], Scorer.load(first["checkpoint"])[0].predict(X)[0], rtol=1e-6)
    model_dir = next((served[4] / "store" / "artifacts").rglob("MLmodel")).parent
    assert (model_dir / "pyfunc_model.py").exists() and not list(model_dir.rglob("*.pkl"))  # models from code: nothing pickled


def test_dashboard_shows_the_model_drift_and_gates(served):
    url = served[0]
    post(url, {"instances": served[2].X_holdout[:100].astype(np.float64).tolist()})  # logged requests for the drift rows
    time.sleep(0.5)  # the log's writer thread
    page = httpx.get(url + "/dashboard", timeout=60).text
    for marker in ("id='model'", "id='version'", "id='latency'", "id='drift'", "id='gates'", "infant_mortality", "beats champion"):
        assert marker in page


def test_tracking_uri_that_cannot_be_reached_is_named(tmp_path):
    with pytest.raises(ConnectionError, match=r"tracking_uri: cannot reach sqlite:////nonexistent/folder/mlflow.db"):
        tracking.check_reachable("sqlite:////nonexistent/folder/mlflow.db")
    with pytest.raises(ConnectionError, match=r"tracking_uri: cannot reach the MLflow server at http://127.0.0.1:9"):
        tracking.check_reachable("http://127.0.0.1:9", timeout=2)
    with pytest.raises(ValueError, match="tracking_uri: expected a URI"):
        tracking.check_reachable("mlflow.db")


def colour_share(image, rgb):
    """The share of pixels within 3/255 of ``rgb`` in an (H, W, 3 or 4) float image."""
    return float(np.mean(np.all(np.abs(image[..., :3] - np.array(rgb) / 255) < 3 / 255, axis=-1)))


def test_dashboard_in_a_real_browser(served, tmp_path):
    """Headless Chromium loads the served dashboard: the DOM holds every section and the screenshot shows
    the drift table's red (drifted) and green (stable) rows and the gate table."""
    import matplotlib.image

    from twins.mlops import browser

    url = served[0]
    post(url, {"instances": served[2].X_holdout[:100].astype(np.float64).tolist()})  # some traffic for the drift rows
    time.sleep(0.5)
    page = browser.dom(url + "/dashboard")
    for marker in ('id="model"', 'id="version"', 'id="rate"', 'id="latency"', 'id="drift"', 'id="gates"', "beats champion"):
        assert marker in page, marker
    image = matplotlib.image.imread(browser.screenshot(url + "/dashboard", tmp_path / "dashboard.png"))
    assert image.shape[:2] == (800, 1000)
    assert colour_share(image, (0xcc, 0xff, 0xcc)) > 0.002  # the passed gate checks and stable features
    assert colour_share(image, (0xff, 0xbb, 0xbb)) > 0.001  # the drifted features (the holdout is 1960-1990 too, but few rows)


def test_dashboard_escapes_what_it_shows(tmp_path):
    """A hostile model name and gate detail are shown as text: the browser runs no script from them."""
    from twins.mlops import browser
    from twins.mlops.dashboard import render
    from twins.mlops.server import Loaded, Metrics, State

    hostile = "<script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\">"
    scorer = Scorer(2, (3,), 1, "regression")
    state = State(model=Loaded("7", scorer, {"feature_names": ["a", "b"]}, "x.npz",
                               gates=[{"version": "7", "name": hostile, "passed": False, "detail": hostile}]))
    drift_rows = {hostile: {"psi": 0.5, "drifted": True}}
    path = tmp_path / "page.html"
    path.write_text(render(hostile, state, Metrics(), drift_rows))
    page = browser.dom(path.as_uri())
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)
    assert "owned" in title and title.startswith("twins mlops: &lt;script&gt;")  # the name, as text; no script renamed the page
    assert "<script>document" not in page and "<img" not in page and "&lt;script&gt;document.title" in page


def test_promote_rollback_and_monitor_from_the_command_line(served, capsys):
    """The stages as a user runs them: `twins mlops promote`, `rollback` and `monitor` on the served store and log."""
    from twins.cli import main

    url, uri, splits, _, work = served
    name = pipeline.MODEL_NAMES["gapminder"]
    auth = {"authorization": f"Bearer {TOKEN}"}
    if len(tracking.client(uri).search_model_versions(f"name = '{name}'")) < 2:  # run alone: register a second version
        pipeline.train_and_register(uri, "gapminder", splits, work, "v2", num_epochs=30, seed=3)
    assert main(["mlops", "promote", "--model", name, "--version", "1", "--tracking-uri", uri]) == 0
    assert main(["mlops", "promote", "--model", name, "--version", "2", "--tracking-uri", uri]) == 0
    assert main(["mlops", "rollback", "--model", name, "--tracking-uri", uri]) == 0
    assert "champion 2 -> 1 (rolled back)" in capsys.readouterr().out
    assert httpx.post(url + "/admin/reload", headers=auth, timeout=60).json()["serving"] == "1"
    post(url, {"instances": splits.X_holdout[:50].astype(np.float64).tolist()})
    time.sleep(0.5)  # the log's writer thread
    assert main(["mlops", "monitor", "--log", str(work / "log.db")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] > 0 and set(report["features"]) >= {"infant_mortality", "fertility"} and 0 <= report["drift_share"] <= 1
