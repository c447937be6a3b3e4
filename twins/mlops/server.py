"""The model server (`twins serve`): FastAPI over the NumPy scorer of ``models:/NAME@champion``.

The serving process imports NumPy, scratch, MLflow's client, FastAPI and prometheus_client, never
torch: the torch twin scores the same requests in a separate shadow process (shadow.py), off the
hot path, and only its disagreement comes back as metrics. A poller follows the ``champion`` alias:
a new version is loaded and checked beside the old one and swapped in with one assignment, so a
request is scored wholly by the old model or wholly by the new; a version that fails to load (a
corrupt or missing checkpoint) leaves the old one serving and /ready answering 503 for the new one;
an unreachable registry leaves the cached model serving. Requests are bounded in bytes and rows,
validated by pydantic (a 422 names the field), and logged to SQLite for the drift monitor.
"""
import json
import os
import queue
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scratch.projects.mlops.scorer import Scorer

MAX_BATCH = 1024  # rows a request may carry
MAX_BODY_BYTES = 2_000_000
Finite = Field(allow_inf_nan=False)


class PredictRequest(BaseModel):
    """One row (``instance``) or a batch (``instances``) of features in the signature's order."""
    model_config = ConfigDict(extra="forbid")
    instance: list[float] | None = Field(default=None, min_length=1)
    instances: list[list[float]] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)

    @model_validator(mode="after")
    def one_of(self):
        if (self.instance is None) == (self.instances is None):
            raise ValueError("instances: expected exactly one of 'instance' (one row) or 'instances' (a batch)")
        for row in [self.instance] if self.instance is not None else self.instances:
            if not all(np.isfinite(row)):
                raise ValueError("instances: expected finite numbers, got NaN or inf")
        return self

    def rows(self):
        return [self.instance] if self.instance is not None else self.instances


class PredictResponse(BaseModel):
    model_name: str
    model_version: str
    predictions: list[float]


@dataclass
class Loaded:
    """One fully loaded model: swapped in whole, never mutated."""
    version: str
    scorer: Scorer
    meta: dict
    checkpoint: str
    reference: dict | None = None  # {X, categorical}: training features logged with the model
    gates: list = field(default_factory=list)  # the gate results of its run


@dataclass
class State:
    model: Loaded | None = None
    failed_version: str | None = None
    failed_error: str | None = None
    registry_error: str | None = None
    started: float = field(default_factory=time.time)


class BodyLimit:
    """ASGI middleware: a 413 for a body over ``limit`` bytes, by its Content-Length or as it streams."""

    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and int(length) > self.limit:
            return await self.too_large(send, int(length))
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise OverflowError(received)
            return message
        try:
            await self.app(scope, limited, send)
        except OverflowError as error:
            await self.too_large(send, error.args[0])

    async def too_large(self, send, size):
        body = json.dumps({"detail": f"body: expected at most {self.limit} bytes, got {size}"}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


class PredictionLog:
    """The served requests in SQLite (version, features, predictions), written by a thread off the request path."""

    def __init__(self, path):
        self.path, self.queue = path, queue.Queue(maxsize=10_000)
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS predictions (id INTEGER PRIMARY KEY, ts REAL, version TEXT, "
                       "features TEXT, predictions TEXT, latency_ms REAL)")
        threading.Thread(target=self.write, daemon=True).start()

    def add(self, version, X, predictions, latency_ms):
        try:
            self.queue.put_nowait((time.time(), version, json.dumps(X.tolist()), json.dumps(predictions.tolist()), latency_ms))
        except queue.Full:
            pass

    def write(self):
        db = sqlite3.connect(self.path)
        while True:
            rows = [self.queue.get()]
            while not self.queue.empty() and len(rows) < 500:
                rows.append(self.queue.get_nowait())
            db.executemany("INSERT INTO predictions (ts, version, features, predictions, latency_ms) VALUES (?, ?, ?, ?, ?)", rows)
            db.commit()


def read_log(path):
    """(features (rows, features), predictions (rows,), versions (rows,)) of every logged request."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT version, features, predictions FROM predictions ORDER BY id").fetchall()
    if not rows:
        return np.zeros((0, 0)), np.zeros(0), np.array([], dtype=str)
    X = np.concatenate([np.array(json.loads(f), dtype=np.float64) for _, f, _ in rows])
    y = np.concatenate([np.array(json.loads(p), dtype=np.float64) for _, _, p in rows])
    versions = np.concatenate([[v] * len(json.loads(p)) for v, _, p in rows])
    return X, y, versions


class Metrics:
    """The server's Prometheus metrics. With several uvicorn workers (`twins serve --workers N` sets
    PROMETHEUS_MULTIPROC_DIR) each worker writes its values to files there and every scrape merges
    them, so /metrics and the dashboard show the whole server whichever worker answers: counters
    and histograms summed, gauges by the mode given per gauge over the live workers."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        r = self.registry

        def gauge(name, documentation, mode):
            return Gauge(name, documentation, registry=r, **({"multiprocess_mode": mode} if self.multiprocess else {}))

        self.requests = Counter("mlops_requests_total", "HTTP requests by path and status", ["path", "status"], registry=r)
        self.latency = Histogram("mlops_predict_latency_seconds", "time to score one /predict request", registry=r,
                                 buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0))
        self.rows = Counter("mlops_predicted_rows_total", "rows scored", registry=r)
        self.version = gauge("mlops_model_version", "the served registry version", "livemostrecent")
        self.ready = gauge("mlops_ready", "1 when the champion alias is the served version (every worker's)", "livemin")
        self.reloads = Counter("mlops_reloads_total", "model reloads by outcome", ["outcome"], registry=r)
        self.shadow_rows = Counter("mlops_shadow_rows_total", "rows scored by the torch shadow", registry=r)
        self.shadow_disagreements = Counter("mlops_shadow_disagreements_total", "rows where the shadow disagrees", registry=r)
        self.shadow_rate = gauge("mlops_shadow_disagreement_rate", "disagreeing rows / shadow rows (the worst worker's)", "livemax")
        self.shadow_max_diff = gauge("mlops_shadow_max_abs_difference", "largest |scratch - torch| score seen", "livemax")
        self.shadow_dropped = Counter("mlops_shadow_dropped_total", "batches the shadow queue had no room for", registry=r)

    def snapshot(self):
        """The registry to read: this process's, or every worker's merged from the multiprocess folder."""
        if not self.multiprocess:
            return self.registry
        from prometheus_client import multiprocess
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return merged

    def samples(self, name):
        """[(sample name, labels, value)] of the metric family ``name`` in the snapshot."""
        return [(sample.name, sample.labels, sample.value) for family in self.snapshot().collect() if family.name == name
                for sample in family.samples]

    def close(self):
        """A worker going away: its live gauges leave the merge."""
        if self.multiprocess:
            from prometheus_client import multiprocess
            multiprocess.mark_process_dead(os.getpid())


class Shadow:
    """The torch twin in its own process (``python -m twins.mlops.shadow``), fed through a bounded
    queue by a thread: the request path only enqueues, and drops a batch when the queue is full."""

    def __init__(self, metrics):
        import subprocess
        self.metrics, self.queue, self.checkpoint = metrics, queue.Queue(maxsize=64), None
        self.process = subprocess.Popen([sys.executable, "-m", "twins.mlops.shadow"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.seen = self.disagree = 0
        self.max_diff = 0.0
        threading.Thread(target=self.feed, daemon=True).start()
        threading.Thread(target=self.read, daemon=True).start()

    def submit(self, loaded, X, scores):
        try:
            self.queue.put_nowait((loaded.checkpoint, X, scores))
        except queue.Full:
            self.metrics.shadow_dropped.inc()

    def feed(self):
        while True:
            checkpoint, X, scores = self.queue.get()
            try:
                self.process.stdin.write(json.dumps({"checkpoint": checkpoint, "X": X.tolist(), "scores": scores.tolist()}) + "\n")
            except (BrokenPipeError, ValueError):
                return

    def read(self):
        for line in self.process.stdout:
            result = json.loads(line)
            self.seen += result["rows"]
            self.disagree += result["disagree"]
            self.max_diff = max(self.max_diff, result["max_abs_diff"])
            self.metrics.shadow_rows.inc(result["rows"])
            self.metrics.shadow_disagreements.inc(result["disagree"])
            self.metrics.shadow_rate.set(self.disagree / max(self.seen, 1))
            self.metrics.shadow_max_diff.set(self.max_diff)

    def close(self):
        self.process.terminate()


def load_version(tracking_uri, model_name, cache_dir):
    """The champion's version, downloaded and loaded, then checked on its own input example."""
    from twins.mlops import tracking
    version, path, extras = tracking.download_checkpoint(tracking_uri, model_name, "champion", dst=os.path.join(cache_dir, "incoming"))
    scorer, meta = Scorer.load(path)
    scorer.predict(np.zeros((1, meta["in_features"])))  # a model that cannot score is never swapped in
    reference = None
    if extras["reference_sample"] is not None:
        with np.load(extras["reference_sample"], allow_pickle=False) as sample:
            reference = {"X": sample["X"], "categorical": sample["categorical"]}
    final = os.path.join(cache_dir, f"v{version}.npz")
    os.replace(path, final)
    gates = [dict(row, version=version) for row in tracking.gate_results(tracking_uri, extras["run_id"])]
    return Loaded(version, scorer, meta, final, reference, gates)


def live_drift(loaded, log_path, max_rows=2000, max_features=20):
    """Drift per feature of the last logged requests against the model's reference sample ({} when either is missing)."""
    from scratch.projects.mlops.monitor import drift_report
    if loaded is None or loaded.reference is None or not log_path or not os.path.exists(log_path):
        return {}
    X, _, _ = read_log(log_path)
    names = loaded.meta["feature_names"]
    if len(X) < 2 or X.shape[1] != len(names) or len(names) > max_features:
        return {}
    categorical = [name for name, flag in zip(names, loaded.reference["categorical"]) if flag]
    return drift_report(loaded.reference["X"], X[-max_rows:], names, categorical)["features"]


def create_app(model_name, tracking_uri, cache_dir, poll_seconds=2.0, shadow=False, log_path=None, token=None, max_body=MAX_BODY_BYTES):
    """The app; it loads the champion at start (serving nothing, not ready, if that fails) and polls the alias."""
    from twins.mlops import tracking
    from twins.mlops.dashboard import render

    os.makedirs(cache_dir, exist_ok=True)
    state, metrics = State(), Metrics()
    log = PredictionLog(log_path) if log_path else None
    lock = threading.Lock()  # one reload at a time (poller and /admin/reload)

    def check_alias():
        with lock:
            try:
                wanted = tracking.champion_version(tracking_uri, model_name)
                state.registry_error = None
            except Exception as error:  # noqa: BLE001 - any registry failure: keep serving the cached model
                state.registry_error = f"{type(error).__name__}: {error}"
                return
            current = state.model.version if state.model else None
            if wanted is not None and wanted == current:  # e.g. rolled back to the served version: nothing pending
                state.failed_version = state.failed_error = None
            if wanted is None or wanted == current or wanted == state.failed_version:  # a failed version is retried when the alias moves
                metrics.ready.set(int(state.model is not None and state.failed_version is None))
                return
            try:
                state.model = load_version(tracking_uri, model_name, cache_dir)  # the swap: one assignment
                state.failed_version = state.failed_error = None
                metrics.reloads.labels("loaded").inc()
                metrics.version.set(float(state.model.version))
            except Exception as error:  # noqa: BLE001 - a corrupt or missing model must not take the server down
                state.failed_version, state.failed_error = wanted, f"{type(error).__name__}: {error}"
                metrics.reloads.labels("failed").inc()
            metrics.ready.set(int(state.model is not None and state.failed_version is None))

    def poll():
        while True:
            time.sleep(poll_seconds)
            check_alias()

    check_alias()
    threading.Thread(target=poll, daemon=True).start()
    shadow_process = Shadow(metrics) if shadow else None
    app = FastAPI(title=f"twins mlops: {model_name}")
    app.add_middleware(BodyLimit, limit=max_body)
    app.state.mlops, app.state.metrics, app.state.shadow = state, metrics, shadow_process

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        """FastAPI's 422 without echoing the input back: a NaN in it cannot be written as JSON (a 500 otherwise)."""
        detail = [{"loc": [str(part) for part in e["loc"]], "type": e["type"], "msg": e["msg"]} for e in error.errors()]
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.middleware("http")
    async def count(request: Request, call_next):
        response = await call_next(request)
        metrics.requests.labels(request.url.path if request.url.path in KNOWN_PATHS else "other", str(response.status_code)).inc()
        return response

    @app.post("/predict", response_model=PredictResponse)
    def predict(request: PredictRequest):
        loaded = state.model  # read once: the whole request is scored by this one model
        if loaded is None:
            raise HTTPException(503, detail=f"model: no version of {model_name!r} is loaded ({state.failed_error or 'none yet'})")
        width, lengths = loaded.meta["in_features"], sorted({len(row) for row in request.rows()})
        if lengths != [width]:
            return JSONResponse(status_code=422, content={"detail": [{
                "loc": ["body", "instances"], "type": "signature_mismatch",
                "msg": f"instances: expected rows of {width} features {loaded.meta['feature_names']}, got rows of length {lengths}"}]})
        X = np.asarray(request.rows(), dtype=np.float64)
        start = time.perf_counter()
        predictions, scores = loaded.scorer.predict(X)
        elapsed = time.perf_counter() - start
        metrics.latency.observe(elapsed)
        metrics.rows.inc(len(X))
        if log is not None:
            log.add(loaded.version, X, predictions, 1000 * elapsed)
        if shadow_process is not None:
            shadow_process.submit(loaded, X, scores)
        return PredictResponse(model_name=model_name, model_version=loaded.version, predictions=predictions.astype(float).tolist())

    @app.get("/health")
    def health():
        return {"status": "ok", "uptime_s": time.time() - state.started, "pid": os.getpid(), "torch_imported": "torch" in sys.modules,
                "rows_scored_by_this_worker": int(metrics.rows._value.get())}

    @app.get("/ready")
    def ready():
        body = {"ready": state.model is not None and state.failed_version is None, "serving": state.model.version if state.model else None,
                "failed_version": state.failed_version, "error": state.failed_error, "registry_error": state.registry_error}
        return JSONResponse(body, status_code=200 if body["ready"] else 503)

    @app.get("/version")
    def version():
        loaded = state.model
        return {"model_name": model_name, "version": loaded.version if loaded else None, "task": loaded.meta["task"] if loaded else None,
                "feature_names": loaded.meta["feature_names"] if loaded else None, "tracking_uri": tracking_uri,
                "failed_version": state.failed_version, "registry_error": state.registry_error}

    @app.get("/metrics")
    def prometheus():
        return Response(generate_latest(metrics.snapshot()), media_type=CONTENT_TYPE_LATEST)

    @app.post("/admin/reload")
    def reload(authorization: str | None = Header(default=None)):
        if token is None or authorization != f"Bearer {token}":
            raise HTTPException(401 if token else 403, detail="authorization: expected 'Bearer <the server's admin token>'")
        check_alias()
        return ready()

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard():
        return render(model_name, state, metrics, live_drift(state.model, log_path))

    KNOWN_PATHS = {"/predict", "/health", "/ready", "/version", "/metrics", "/admin/reload", "/dashboard"}
    app.router.on_shutdown.append(lambda: shadow_process.close() if shadow_process else None)
    app.router.on_shutdown.append(metrics.close)
    return app


def app_from_env():
    """uvicorn's factory for `twins serve` (one app per worker process), configured by MLOPS_* variables."""
    env = os.environ
    return create_app(env["MLOPS_MODEL"], env["MLOPS_TRACKING_URI"], env["MLOPS_CACHE_DIR"] + f"/{os.getpid()}",
                      poll_seconds=float(env.get("MLOPS_POLL_SECONDS", "2")), shadow=env.get("MLOPS_SHADOW") == "1",
                      log_path=env.get("MLOPS_LOG") or None, token=env.get("MLOPS_TOKEN") or None,
                      max_body=int(env.get("MLOPS_MAX_BODY", MAX_BODY_BYTES)))

