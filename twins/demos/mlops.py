"""Project 20 demo: the production pipeline end to end against a temporary MLflow store.

On gapminder: validate the data (bad rows quarantined, counted), train a scratch scorer of life
expectancy on the years up to 1990, track it in MLflow (SQLite), gate and register it as champion;
train an under-trained challenger and watch the gate refuse it; serve the champion with
`twins serve` (NumPy only, the torch twin as a shadow process); send 2000-2016 as traffic; detect
the drift in the logged requests; retrain on data up to 2016, gate it against the champion on the
same holdout, promote it and watch the server reload; roll back by moving the alias and forward
again. On digits or Fashion-MNIST: train, track, gate and register. Writes metrics.json, the
dashboard page and the plots (training curves, drift per feature, request latency).
"""
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from scratch.projects.mlops.config import GAPMINDER_FEATURES, MONITOR_YEARS, GateConfig
from twins import plots
from twins.demos.common import save_report
from twins.mlops import pipeline, tracking
from twins.mlops.pipeline import wait_for

QUICK_EPOCHS = {"gapminder": 40, "digits": 8, "fashion-mnist": 3}
BATCH_ROWS = 50  # rows per batched request in the traffic


def send_traffic(url, X):
    """POST the rows as batches, then the first rows one at a time: (predictions, versions, latencies ms by kind)."""
    import httpx

    predictions, versions, latency = [], set(), {"batch": [], "single": []}
    with httpx.Client(base_url=url, timeout=30) as client:
        for start in range(0, len(X), BATCH_ROWS):
            t = time.perf_counter()
            response = client.post("/predict", json={"instances": X[start:start + BATCH_ROWS].tolist()})
            latency["batch"].append(1000 * (time.perf_counter() - t))
            response.raise_for_status()
            predictions += response.json()["predictions"]
            versions.add(response.json()["model_version"])
        for row in X[:30]:
            t = time.perf_counter()
            client.post("/predict", json={"instance": row.tolist()}).raise_for_status()
            latency["single"].append(1000 * (time.perf_counter() - t))
    return np.array(predictions), versions, latency


def metric_value(url, name):
    import httpx
    for line in httpx.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    return None


def served_version(url):
    import httpx
    return httpx.get(url + "/version", timeout=10).json()["version"]


def drift_plot(report, path):
    import matplotlib.pyplot as plt
    names = list(report["features"])
    values = [report["features"][name]["psi"] for name in names]
    colours = ["tab:red" if report["features"][name]["drifted"] else "tab:blue" for name in names]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(names, values, color=colours)
    ax.axvline(0.1, color="k", linestyle="--", linewidth=1, label="PSI 0.1 (Evidently's threshold)")
    ax.set(xlabel="PSI, training years 1960-1990 vs served requests 2000-2016", title="gapminder drift per feature (red: drifted)")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    return plots._save(fig, path)


def latency_plot(latency, path):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, values in latency.items():
        ax.hist(values, bins=30, alpha=0.6, label=f"{kind} (median {statistics.median(values):.1f} ms)")
    ax.set(xlabel="client-side latency, ms", ylabel="requests", title="twins serve on loopback: /predict latency")
    ax.legend(fontsize=8)
    return plots._save(fig, path)


def percentiles(values):
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}


def run_gapminder(out_dir, store, num_epochs, quick, gate_config, progress):
    uri = store
    epochs = num_epochs or (QUICK_EPOCHS["gapminder"] if quick else None)
    report = {"stage_seconds": {}}
    clock = [time.perf_counter()]

    def stage(name):
        now = time.perf_counter()
        report["stage_seconds"][name] = now - clock[0]
        clock[0] = now
    splits = pipeline.gapminder_splits(1960, 1990)
    report["data"] = {"train_rows": len(splits.X), "validation_rows": len(splits.X_val), "holdout_rows": len(splits.X_holdout),
                      "quarantined_rows": splits.quarantined, "data_hash": splits.data_hash}
    first = pipeline.train_and_register(uri, "gapminder", splits, out_dir, "v1", epochs, gate_config=gate_config, progress=progress,
                                        run_suite=not quick)  # a full run's gate also runs the project's parity suite
    name = pipeline.MODEL_NAMES["gapminder"]
    log_path = Path(out_dir) / "predictions.db"
    log_path.unlink(missing_ok=True)
    # the server boots (MLflow, the champion, the torch shadow) while the under-trained challenger trains and is gated
    process, url = pipeline.start_server(uri, name, out_dir, shadow=True, log_path=log_path, token="demo-token", poll_seconds=0.5, wait=False)
    try:
        worse = pipeline.train_and_register(uri, "gapminder", splits, out_dir, "undertrained", 2, seed=1, gate_config=gate_config)
        report["candidates"] = [first, worse]
        assert first["promoted"] and not worse["promoted"], "the gate must promote the first model and refuse the under-trained one"
        stage("data, train, track, gate (two candidates)")
        table = pipeline.data.load_gapminder()
        now = pipeline.data.years(table, *MONITOR_YEARS)
        now = pipeline.data.select(now, pipeline.data.validate(now)[0])
        X_now, y_now = pipeline.data.features(now)
        pipeline.wait_ready(process, url, out_dir)
    except BaseException:
        pipeline.stop_server(process)
        raise
    stage("server start (beyond the challenger's training)")
    try:
        predictions, versions, latency = send_traffic(url, X_now)
        wait_for(lambda: (metric_value(url, "mlops_shadow_rows_total") or 0) >= len(X_now), 60, "the shadow scoring the traffic")
        health = json.loads(__import__("httpx").get(url + "/health", timeout=10).text)
        report["serving"] = {"version": sorted(versions), "rows": len(X_now), "batch_rows": BATCH_ROWS, "torch_in_server": health["torch_imported"],
                             "latency_ms": {kind: percentiles(values) for kind, values in latency.items()},
                             "shadow_disagreement_rate": metric_value(url, "mlops_shadow_disagreement_rate"),
                             "shadow_max_abs_difference": metric_value(url, "mlops_shadow_max_abs_difference")}
        stage("traffic and shadow")
        time.sleep(0.5)  # the log's writer thread
        monitored = pipeline.monitor_gapminder(log_path, splits, y_now, predictions)
        report["monitor"] = monitored
        stage("monitor")
        if monitored["retrain"]:
            recent = pipeline.gapminder_splits(1960, MONITOR_YEARS[1], seed=2)
            retrained = pipeline.train_and_register(uri, "gapminder", recent, out_dir, "v3-retrained", epochs, gate_config=gate_config)
            report["retrained"] = retrained
            if retrained["promoted"]:
                report["reloaded_version"] = wait_for(lambda: served_version(url) == retrained["version"] and served_version(url), 30,
                                                      "the server following the champion alias")
                back, _ = tracking.rollback(uri, name)
                report["rollback"] = {"to": back, "served": wait_for(lambda: served_version(url) == back and back, 30, "rollback")}
                tracking.promote(uri, name, retrained["version"])
                wait_for(lambda: served_version(url) == retrained["version"], 30, "promotion after rollback")
        stage("retrain, gate, reload, rollback")
        import httpx
        (Path(out_dir) / "dashboard.html").write_text(httpx.get(url + "/dashboard", timeout=60).text)
    finally:
        pipeline.stop_server(process)
    stage("dashboard, stop")
    drift_plot(monitored["report"], Path(out_dir) / "gapminder_drift.png")
    latency_plot(latency, Path(out_dir) / "latency.png")
    return report


def run_images(name, out_dir, store, num_epochs, quick, gate_config, progress):
    splits = pipeline.image_splits(name, quick)
    epochs = num_epochs or (QUICK_EPOCHS[name] if quick else None)
    first = pipeline.train_and_register(store, name, splits, out_dir, f"{name}-v1", epochs, gate_config=gate_config, progress=progress,
                                        run_suite=not quick)
    worse = pipeline.train_and_register(store, name, splits, out_dir, f"{name}-undertrained", 1, seed=1, gate_config=gate_config)
    return {"candidates": [first, worse], "data": {"train_rows": len(splits.X), "holdout_rows": len(splits.X_holdout), "data_hash": splits.data_hash}}


def run(out_dir, dataset_names=("gapminder",), num_epochs=None, study=True, compare_sklearn=True, progress=True, quick=False,
        tracking_uri=None, gate_config=None):
    """Every stage against ``tracking_uri`` or a temporary SQLite store; ``quick``: fewer epochs, small image sets."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gate_config = gate_config or GateConfig(margin=0.0, max_slice_regression=0.05)
    report = {}
    with tempfile.TemporaryDirectory(prefix="mlops-store-") as folder:
        store = tracking_uri or tracking.sqlite_uri(folder)
        start = time.perf_counter()
        for name in dataset_names:
            pipeline.check_dataset_name(name)
            if name == "gapminder":
                report[name] = run_gapminder(out_dir, store, num_epochs, quick, gate_config, progress)
            else:
                report[name] = run_images(name, out_dir, store, num_epochs, quick, gate_config, progress)
        report["tracking_uri"] = "a temporary SQLite store (deleted)" if tracking_uri is None else tracking_uri
        report["seconds"] = time.perf_counter() - start
    report["features"] = list(GAPMINDER_FEATURES)
    return save_report(out_dir, report)


def summary(report):
    lines = []
    for name, result in report.items():
        if not isinstance(result, dict) or "candidates" not in result:
            continue
        for candidate in result["candidates"] + ([result["retrained"]] if "retrained" in result else []):
            score = candidate["holdout"].get("mae", candidate["holdout"].get("accuracy"))
            metric = "MAE (years)" if "mae" in candidate["holdout"] else "accuracy"
            failed = [g["name"] for g in candidate["gate"] if not g["passed"]]
            lines.append(f"{name} {candidate['tag']} (version {candidate['version']}): holdout {metric} {score:.3f}, "
                         + ("promoted" if candidate["promoted"] else f"refused by the gate ({', '.join(failed)})"))
        if "serving" in result:
            serving, monitored = result["serving"], result["monitor"]
            lines.append(f"  served {serving['rows']} rows of {MONITOR_YEARS[0]}-{MONITOR_YEARS[1]}: batch p50 "
                         f"{serving['latency_ms']['batch']['p50']:.1f} ms; torch in the server: {serving['torch_in_server']}; "
                         f"shadow disagreement {serving['shadow_disagreement_rate']}, max |diff| {serving['shadow_max_abs_difference']:.1e}")
            drifted = [f for f, row in monitored["report"]["features"].items() if row["drifted"]]
            lines.append(f"  drift: {len(drifted)} of {len(monitored['report']['features'])} features ({', '.join(drifted)}); "
                         f"live MAE {monitored['live_mae']:.2f}; retrain: {monitored['retrain']}")
            if "reloaded_version" in result:
                lines.append(f"  the server reloaded version {result['reloaded_version']}; rollback to {result['rollback']['to']} and forward again")
    lines.append(f"pipeline took {report['seconds']:.1f} s")
    return "\n".join(lines)
