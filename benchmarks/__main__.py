"""Command line: ``python -m benchmarks --project mlp [--threads N] [--dtype float64] [--quick]``.

Arguments are parsed before NumPy or torch is imported, so the thread-count
environment variables take effect; threadpoolctl and torch.set_num_threads then
hold both sides to the same count while timing.
"""
import argparse
import importlib
import os
import pkgutil
import time
from pathlib import Path

from . import limit_threads_env

# project name -> its module bench_<name>.py with cases(dtype, quick) -> list[Case]. The names are
# the registry's (twins/registry.py); a test keeps the two lists equal.
PROJECTS = {module.name.removeprefix("bench_"): f"benchmarks.{module.name}"
            for module in pkgutil.iter_modules([str(Path(__file__).parent)]) if module.name.startswith("bench_")}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Time scratch vs torch (CPU, and GPU when present).")
    parser.add_argument("--project", choices=sorted(PROJECTS), default="mlp")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for NumPy's BLAS and torch alike")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per implementation (default 10; 1 with --quick)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls first (default 2; 1 with --quick)")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks"), help="folder for the JSON, PNG and table")
    parser.add_argument("--quick", action="store_true", help="smoke run: one timed repeat, smaller naive workloads")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads: expected >= 1, got {args.threads}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 10
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.repeats < 1:
        parser.error(f"--repeats: expected >= 1, got {args.repeats}")
    return args


def main(argv=None):
    args = parse_args(argv)
    limit_threads_env(args.threads)  # before the first import of NumPy / torch
    import numpy as np
    import torch

    from . import core

    torch.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    project = importlib.import_module(PROJECTS[args.project])
    print(f"{args.project}: {dtype}, {args.threads} thread(s), {args.repeats} repeat(s)"
          f"{', quick' if args.quick else ''}; building cases ...")
    started = time.perf_counter()
    cases = project.cases(dtype=dtype, quick=args.quick)
    results = core.run_cases(cases, args.repeats, args.warmup, args.threads)
    table = core.format_table(results)
    print()
    print(table)
    print("\nratio scratch/torch > 1: scratch is slower. Times are the median per call, in ms.")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 1.0:
        print(f"warning: load average {load:.1f} on {os.cpu_count()} cores: other processes share the CPU, "
              "so times (multi-threaded BLAS above all) may be inflated; compare runs on a quiet machine.")

    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{args.project}-{dtype}-{args.threads}t"
    config = {"project": args.project, "repeats": args.repeats, "warmup": args.warmup, "quick": args.quick,
              "wall_s": round(time.perf_counter() - started, 2)}
    core.write_json(results, stem.with_suffix(".json"), core.machine_info(args.threads, dtype), config)
    stem.with_suffix(".txt").write_text(table + "\n")
    core.plot(results, stem.with_suffix(".png"),
              f"{args.project}: scratch (NumPy) vs torch, {dtype}, {args.threads} thread(s), median of {args.repeats}")
    print(f"\nwrote {stem}.json, .png, .txt ({config['wall_s']} s)")
    return results


if __name__ == "__main__":
    main()
