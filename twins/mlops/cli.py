"""`twins mlops <stage>` and `twins serve`: Project 20's commands, added to the `twins` parser by
twins/cli.py (one call). Heavy imports (MLflow, FastAPI) wait until a command runs.

    twins mlops pipeline --out runs/mlops [--quick]       # every stage, against a temporary store unless --tracking-uri
    twins mlops train --dataset gapminder --tracking-uri sqlite:///store/mlflow.db [--margin 0.01]
    twins mlops promote --model NAME --version 3 --tracking-uri URI
    twins mlops rollback --model NAME --tracking-uri URI
    twins mlops monitor --log predictions.db [--out DIR]
    twins serve --model NAME --tracking-uri URI [--port 8000] [--workers 2] [--shadow] [--log predictions.db]
"""
import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

STAGES = ("pipeline", "data", "train", "promote", "rollback", "monitor", "load")


def fraction(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def as_option(error):
    """'max_slice_regression: expected ...' as '--max-slice-regression: expected ...': the option the user typed."""
    name, _, rest = str(error).partition(":")
    return f"--{name.replace('_', '-')}:{rest}"


def add_commands(sub):
    mlops = sub.add_parser("mlops", help="Project 20's pipeline stages: data, train (track, gate, register), promote, rollback, monitor")
    mlops.add_argument("stage", choices=STAGES, help="the stage to run ('pipeline': all of them)")
    mlops.add_argument("--dataset", default="gapminder", help="gapminder, digits or fashion-mnist (default: gapminder)")
    mlops.add_argument("--tracking-uri", help="an MLflow tracking URI (default for pipeline: a SQLite store in a temporary folder)")
    mlops.add_argument("--model", help="registered model name (promote, rollback)")
    mlops.add_argument("--version", help="registered model version (promote)")
    mlops.add_argument("--margin", type=fraction, default=0.0, help="gate: how much the candidate must beat the champion by, in [0, 1)")
    mlops.add_argument("--max-slice-regression", type=fraction, default=0.05, help="gate: the worst slice regression allowed, in [0, 1]")
    mlops.add_argument("--epochs", type=int, help="training epochs (default: the data set's tuned number)")
    mlops.add_argument("--log", type=Path, help="monitor: the server's prediction log (SQLite)")
    mlops.add_argument("--out", type=Path, default=Path("runs/mlops"), help="output folder (default: runs/mlops)")
    mlops.add_argument("--quick", action="store_true", help="few epochs and small data: a smoke run")
    mlops.add_argument("--users", type=int, default=8, help="load: concurrent Locust users")
    mlops.add_argument("--seconds", type=int, default=10, help="load: seconds per run")
    mlops.set_defaults(func=cmd_mlops)

    serve = sub.add_parser("serve", help="serve models:/NAME@champion over HTTP (FastAPI + uvicorn, NumPy-only scoring)")
    serve.add_argument("--model", required=True, help="registered model name")
    serve.add_argument("--tracking-uri", required=True, help="the MLflow tracking URI of the registry")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--shadow", action="store_true", help="score every request again with the torch twin, in a separate process")
    serve.add_argument("--log", type=Path, help="log requests and predictions to this SQLite file")
    serve.add_argument("--cache-dir", type=Path, help="where downloaded checkpoints go (default: a temporary folder)")
    serve.add_argument("--poll-seconds", type=float, default=2.0, help="how often to check the champion alias")
    serve.add_argument("--max-body", type=int, default=2_000_000, help="the largest request body in bytes")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args):
    import uvicorn

    from twins.mlops import tracking
    try:
        tracking.check_reachable(args.tracking_uri)
        tracking.check_model(args.tracking_uri, args.model)
    except (ValueError, ConnectionError) as error:
        raise SystemExit(f"twins serve: {as_option(error)}") from None
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="mlops-serve-"))
    os.environ.update({"MLOPS_MODEL": args.model, "MLOPS_TRACKING_URI": args.tracking_uri, "MLOPS_CACHE_DIR": str(cache),
                       "MLOPS_POLL_SECONDS": str(args.poll_seconds), "MLOPS_SHADOW": "1" if args.shadow else "0",
                       "MLOPS_LOG": str(args.log or ""), "MLOPS_MAX_BODY": str(args.max_body)})
    if args.workers > 1:  # the workers' Prometheus values meet in files there (server.Metrics), a fresh folder per start
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mlops-prometheus-")
    try:
        uvicorn.run("twins.mlops.server:app_from_env", factory=True, host=args.host, port=args.port, workers=args.workers,
                    log_level="warning", timeout_graceful_shutdown=5)
    finally:
        if args.workers > 1:
            shutil.rmtree(os.environ.pop("PROMETHEUS_MULTIPROC_DIR"), ignore_errors=True)
    return 0


def cmd_mlops(args):
    from scratch.projects.mlops.config import GateConfig
    from twins.mlops import pipeline, tracking
    try:
        gate_config = GateConfig(margin=args.margin, max_slice_regression=args.max_slice_regression)
        dataset = pipeline.check_dataset_name(args.dataset)
        if args.tracking_uri:
            tracking.check_reachable(args.tracking_uri)
    except (ValueError, TypeError, ConnectionError) as error:
        raise SystemExit(f"twins mlops {args.stage}: {as_option(error)}") from None
    if args.stage == "pipeline":
        from twins.demos import mlops as demo
        report = demo.run(args.out, (dataset,), num_epochs=args.epochs, quick=args.quick, tracking_uri=args.tracking_uri,
                          gate_config=gate_config)
        print(demo.summary(report))
        return 0
    if args.stage == "data":
        splits = pipeline.load_splits(dataset, args.quick)
        print(json.dumps({"dataset": dataset, "train_rows": len(splits.X), "holdout_rows": len(splits.X_holdout),
                          "quarantined": splits.quarantined, "data_hash": splits.data_hash}, indent=2))
        return 0
    if args.stage == "monitor":
        if args.log is None or not args.log.is_file():
            raise SystemExit(f"twins mlops monitor: --log: expected the server's prediction log (a SQLite file), got {args.log}")
        from scratch.projects.mlops.config import GAPMINDER_FEATURES
        splits = pipeline.load_splits("gapminder")
        try:
            report, rows = pipeline.drift_from_log(args.log, splits.X, GAPMINDER_FEATURES, GAPMINDER_FEATURES[4:])
        except ValueError as error:
            raise SystemExit(f"twins mlops monitor: {as_option(error)}") from None
        print(json.dumps({"rows": rows, **report}, indent=2, default=float))
        return 0
    if args.stage == "load":
        return cmd_load(args, pipeline, tracking)
    if not args.tracking_uri:
        raise SystemExit(f"twins mlops {args.stage}: --tracking-uri: expected an MLflow tracking URI, got none")
    if args.stage == "train":
        args.out.mkdir(parents=True, exist_ok=True)
        splits = pipeline.load_splits(dataset, args.quick)
        report = pipeline.train_and_register(args.tracking_uri, dataset, splits, args.out, f"{dataset}-candidate", args.epochs,
                                             run_suite=not args.quick, gate_config=gate_config)
        print(json.dumps(report, indent=2, default=float))
        return 0 if report["promoted"] else 1
    if not args.model:
        raise SystemExit(f"twins mlops {args.stage}: --model: expected a registered model name, got none")
    try:
        if args.stage == "promote":
            if not args.version:
                raise SystemExit("twins mlops promote: --version: expected a registered model version, got none")
            old = tracking.promote(args.tracking_uri, args.model, args.version)
            print(f"{args.model}: champion {old} -> {args.version}")
        else:
            now, old = tracking.rollback(args.tracking_uri, args.model)
            print(f"{args.model}: champion {old} -> {now} (rolled back)")
    except ValueError as error:
        raise SystemExit(f"twins mlops {args.stage}: {as_option(error)}") from None
    return 0


def cmd_load(args, pipeline, tracking):
    """Train and promote a gapminder scorer in a temporary store (or serve --model from --tracking-uri), then Locust
    against 1 and 2 workers; writes load.json into --out."""
    from twins.mlops.loadtest import load_test

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlops-load-") as folder:
        uri, name = args.tracking_uri, args.model
        splits = pipeline.load_splits("gapminder")
        if uri is None:
            uri, name = tracking.sqlite_uri(folder), pipeline.MODEL_NAMES["gapminder"]
            pipeline.train_and_register(uri, "gapminder", splits, folder, "load", num_epochs=args.epochs or 30)
        results = load_test(uri, name, splits.X_holdout.astype(float).tolist(), folder, users=args.users, seconds=args.seconds)
    (args.out / "load.json").write_text(json.dumps(results, indent=2))
    for workers, rows in results.items():
        for request, row in rows.items():
            print(f"{workers:>10} {request:<12} {row['requests']:>6} requests ({row['failures']} failed), {row['rps']:7.1f} req/s, "
                  f"p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms, p99 {row['p99']:.0f} ms")
    return 0
