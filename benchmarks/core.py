"""Timing machinery shared by every project's benchmark: cases, the clock, the report.

A ``Case`` is one workload at one size, as zero-argument callables: the scratch twin,
the torch twin on the CPU, optionally the curriculum's naive version and torch on a
GPU. Each callable is timed the same way (warm-up runs, then the median of repeats
with ``time.perf_counter``) under the same thread count. A benchmark reports speed;
it asserts nothing about it.
"""
import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import SPIN_ENV, THREAD_ENV_VARS

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # optional: without it only the environment variables limit BLAS
    threadpool_info = threadpool_limits = None

IMPLEMENTATIONS = ("scratch", "torch", "naive", "gpu")


@dataclass
class Case:
    """One workload at one size.

    ``naive_scale`` multiplies the naive time when the naive callable does a fraction
    of the work (e.g. 1,000 of 10,000 samples: scale 10), so every column times the
    same workload; ``note`` says so in the table.
    """

    name: str
    size: str
    scratch: callable
    torch: callable
    naive: callable = None
    gpu: callable = None
    naive_scale: float = 1.0
    note: str = ""


@dataclass
class Result:
    name: str
    size: str
    times_ms: dict = field(default_factory=dict)  # implementation -> median ms
    spread_ms: dict = field(default_factory=dict)  # implementation -> (min, max) ms
    note: str = ""

    @property
    def ratio(self):
        """scratch / torch CPU: above 1, scratch is slower."""
        return self.times_ms["scratch"] / self.times_ms["torch"]

    @property
    def naive_ratio(self):
        """naive / scratch, or None without a naive row."""
        return self.times_ms["naive"] / self.times_ms["scratch"] if "naive" in self.times_ms else None

    def to_dict(self):
        return {**asdict(self), "ratio": self.ratio, "naive_ratio": self.naive_ratio}


def time_callable(fn, repeats, warmup=1, warmup_s=0.05):
    """Median and (min, max) wall time of ``fn()`` in milliseconds.

    Warm-up: at least ``warmup`` calls and, for short callables, until ``warmup_s``
    seconds have passed (first calls pay for allocator growth and library set-up).
    """
    if repeats < 1:
        raise ValueError(f"repeats: expected >= 1, got {repeats}")
    start = time.perf_counter()
    calls = 0
    while calls < warmup or (calls < 100 and time.perf_counter() - start < warmup_s):
        fn()
        calls += 1
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), (min(times), max(times))


def run_case(case, repeats, warmup=1, threads=None):
    """Time every implementation a case has, under ``threads`` threads on both sides."""
    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    result = Result(case.name, case.size, note=case.note)
    with _blas_limit(threads):
        for impl in IMPLEMENTATIONS:
            fn = getattr(case, impl)
            if fn is None or (impl == "gpu" and not torch.cuda.is_available()):
                continue
            median, spread = time_callable(fn, repeats, warmup)
            scale = case.naive_scale if impl == "naive" else 1.0
            result.times_ms[impl] = median * scale
            result.spread_ms[impl] = (spread[0] * scale, spread[1] * scale)
    return result


def run_cases(cases, repeats, warmup=1, threads=None, progress=print):
    results = []
    for case in cases:
        if progress:
            progress(f"  {case.name} [{case.size}] ...")
        results.append(run_case(case, repeats, warmup, threads))
    return results


class _blas_limit:
    """threadpoolctl's limit on NumPy's BLAS (and OpenMP), or nothing when it is absent."""

    def __init__(self, threads):
        self._limiter = threadpool_limits(limits=threads) if threadpool_limits else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._limiter is not None:
            self._limiter.restore_original_limits()


def machine_info(threads, dtype):
    info = {
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "dtype": str(np.dtype(dtype)),
        "env": {var: os.environ.get(var) for var in (*THREAD_ENV_VARS, *SPIN_ENV)},
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,  # other work shares the cores
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    if threadpool_info is not None:
        with _blas_limit(threads):
            info["threadpools"] = [{key: pool.get(key) for key in ("user_api", "internal_api", "prefix", "version", "num_threads")}
                                   for pool in threadpool_info()]
    return info


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def format_table(results):
    """A fixed-width text table: one row per case, the ratios beside the times."""
    headers = ["case", "size", "scratch ms", "torch ms", "scratch/torch", "naive ms", "naive/scratch"]
    has_gpu = any("gpu" in r.times_ms for r in results)
    if has_gpu:
        headers.append("gpu ms")
    headers.append("note")
    rows = []
    for r in results:
        t = r.times_ms
        row = [r.name, r.size, _ms(t["scratch"]), _ms(t["torch"]), f"{r.ratio:.2f}x",
               _ms(t.get("naive")), "" if r.naive_ratio is None else f"{r.naive_ratio:.1f}x"]
        if has_gpu:
            row.append(_ms(t.get("gpu")))
        rows.append(row + [r.note])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    numeric = set(range(2, len(headers) - 1))
    def line(cells):
        return " | ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(headers), "-+-".join("-" * w for w in widths), *map(line, rows)])


def _ms(value):
    if value is None:
        return ""
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def write_json(results, path, machine, config):
    payload = {"machine": machine, "config": config, "results": [r.to_dict() for r in results]}
    Path(path).write_text(json.dumps(payload, indent=2))
    return path


def plot(results, path, title):
    """Log-scale dot plot: one row per case, one marker per implementation, min-max whiskers."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"scratch": ("o", "tab:blue"), "torch": ("s", "tab:orange"), "naive": ("^", "tab:red"), "gpu": ("D", "tab:green")}
    offsets = {"scratch": -0.2, "torch": -0.067, "naive": 0.067, "gpu": 0.2}
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.6 * len(results)))
    labels = [f"{r.name}\n{r.size}" for r in results]
    for impl, (marker, color) in styles.items():
        ys = [i + offsets[impl] for i, r in enumerate(results) if impl in r.times_ms]
        if not ys:
            continue
        xs = [r.times_ms[impl] for r in results if impl in r.times_ms]
        lo = [r.times_ms[impl] - r.spread_ms[impl][0] for r in results if impl in r.times_ms]
        hi = [r.spread_ms[impl][1] - r.times_ms[impl] for r in results if impl in r.times_ms]
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt=marker, color=color, capsize=3, markersize=7,
                    label={"torch": "torch CPU", "gpu": "torch GPU"}.get(impl, impl))
    for i, r in enumerate(results):
        ax.annotate(f"{r.ratio:.2f}x", (max(r.times_ms.values()), i), xytext=(8, -4),
                    textcoords="offset points", fontsize=8, color="dimgray")
    ax.set_xscale("log")
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi * 2.5)  # room for the ratio labels
    ax.set_yticks(range(len(results)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time per call, ms (median; whiskers min-max; log scale)")
    ax.set_title(title + "\n(label: scratch/torch CPU ratio)", fontsize=10)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
