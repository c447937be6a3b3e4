"""A server with two uvicorn workers (about a minute): its Prometheus metrics are the whole
server's whichever worker answers the scrape, and a worker killed under load loses no accepted
request. Every request either gets its full, correct answer or fails with a connection error that
the client records by its id: no request is half-answered, the failed ones are known exactly, and
the server serves on."""
import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from scratch.projects.mlops.scorer import Scorer
from twins.mlops import pipeline, tracking


def worker_pids(pid):
    """The uvicorn workers: the serving process's children started by multiprocessing's spawn (not its resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """(serving process, url, holdout rows, their expected predictions) of a gapminder champion on two workers."""
    work = tmp_path_factory.mktemp("two-workers")
    (work / "store").mkdir()
    uri = tracking.sqlite_uri(work / "store")
    splits = pipeline.gapminder_splits(1960, 1990)
    first = pipeline.train_and_register(uri, "gapminder", splits, work, "v1", num_epochs=20)
    X = splits.X_holdout.astype(np.float64)
    process, url = pipeline.start_server(uri, pipeline.MODEL_NAMES["gapminder"], work, workers=2, timeout=120)
    try:
        yield process, url, X, Scorer.load(first["checkpoint"])[0].predict(X)[0]
    finally:
        pipeline.stop_server(process)


def scraped_rows(url):
    """mlops_predicted_rows_total from one scrape of /metrics (a new connection: any worker may answer)."""
    text = httpx.get(url + "/metrics", timeout=30).text
    return float(re.search(r"^mlops_predicted_rows_total (\S+)$", text, re.MULTILINE).group(1))


def test_every_scrape_counts_both_workers(two_workers):
    """Each worker counts its own rows (its /health says how many); /metrics and the dashboard give the
    sum, whichever worker answers. With a registry per process a scrape would see one worker's share."""
    _, url, X, expected = two_workers

    def send(ids):
        for i in ids:  # a new connection per request, so the kernel hands them to either worker
            assert httpx.post(url + "/predict", json={"instance": X[i].tolist()}, timeout=30).json()["predictions"] == pytest.approx([expected[i]], rel=1e-6)
    threads = [threading.Thread(target=send, args=(range(k, 200, 4),)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    by_worker = {}
    for _ in range(60):
        health = httpx.get(url + "/health", timeout=30).json()
        by_worker[health["pid"]] = health["rows_scored_by_this_worker"]
    assert len(by_worker) == 2 and all(rows > 0 for rows in by_worker.values()), by_worker  # both workers scored
    assert sum(by_worker.values()) == 200
    assert [scraped_rows(url) for _ in range(10)] == [200.0] * 10
    assert "200 rows scored" in httpx.get(url + "/dashboard", timeout=60).text


def test_killing_a_worker_under_load_loses_no_accepted_request(two_workers):
    process, url, X, expected = two_workers
    outcomes = {}  # request id (the holdout row) -> "ok" or the error

    def traffic(ids):
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in ids:
                try:
                    answer = client.post("/predict", json={"instance": X[i].tolist()}).json()
                    assert answer["predictions"] == pytest.approx([expected[i]], rel=1e-6)  # a full, right answer, or none
                    outcomes[i] = "ok"
                except httpx.HTTPError as error:
                    outcomes[i] = f"{type(error).__name__}"
    workers = worker_pids(process.pid)
    assert len(workers) == 2, workers
    threads = [threading.Thread(target=traffic, args=(range(k, 600, 4),)) for k in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    os.kill(workers[0], signal.SIGKILL)
    for thread in threads:
        thread.join(120)
    failed = sorted(i for i, outcome in outcomes.items() if outcome != "ok")
    assert len(outcomes) == 600 and len(failed) <= 8, failed  # at most the requests in flight on the killed worker
    deadline = time.monotonic() + 60
    while len(worker_pids(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(worker_pids(process.pid)) == 2  # uvicorn replaced the worker
    assert httpx.get(url + "/ready", timeout=30).status_code == 200
    print(f"killed worker {workers[0]}: {600 - len(failed)} requests answered, failed (by id): {failed}")
