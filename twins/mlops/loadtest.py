"""The load test (`twins mlops load`): Locust, headless, on loopback against `twins serve` with 1
and then 2 uvicorn workers; bounded in users and seconds. Reports p50, p95 and p99 latency and
requests per second for single-row and batched /predict, from Locust's CSV statistics."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from twins.mlops import pipeline
from twins.registry import ROOT

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def run_locust(url, rows_path, out_prefix, users=8, seconds=10, batch=50):
    """One headless Locust run: {request name: {requests, failures, rps, p50, p95, p99 (ms)}}."""
    env = dict(os.environ, MLOPS_LOAD_ROWS=str(rows_path), MLOPS_LOAD_BATCH=str(batch))
    subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(users),
                    "-t", f"{seconds}s", "--host", url, "--csv", str(out_prefix), "--only-summary", "--stop-timeout", "5"],
                   cwd=ROOT, env=env, capture_output=True, timeout=seconds + 120, check=False)
    with open(f"{out_prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    return {row["Name"]: {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]), "rps": float(row["Requests/s"]),
                          "p50": float(row["50%"]), "p95": float(row["95%"]), "p99": float(row["99%"])}
            for row in rows if row["Name"] != "Aggregated"}


def load_test(tracking_uri, model_name, rows, work_dir, workers=(1, 2), users=8, seconds=10, batch=50):
    """Each worker count: start the server, run Locust, stop it. {f"{n} worker(s)": stats}."""
    work_dir = Path(work_dir)
    rows_path = work_dir / "load_rows.json"
    rows_path.write_text(json.dumps(rows))
    results = {}
    for count in workers:
        process, url = pipeline.start_server(tracking_uri, model_name, work_dir, workers=count, timeout=120)
        try:
            results[f"{count} worker{'s' if count > 1 else ''}"] = run_locust(url, rows_path, work_dir / f"locust_{count}", users, seconds, batch)
        finally:
            pipeline.stop_server(process)
    return results
