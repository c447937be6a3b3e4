"""Benchmarks: scratch vs torch CPU (and the curriculum's naive loops, and torch on a GPU).

Run ``python -m benchmarks --project mlp``. The machinery is in ``core.py``; each
project adds a ``bench_<project>.py`` with a ``cases(dtype, quick)`` function, under the
project's registry name (twins/registry.py). Nothing here imports NumPy at package import,
so the CLI can fix the BLAS thread count before NumPy loads.
"""
import os

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# After each multi-threaded call OpenBLAS's idle threads spin for 2**28 clock ticks (~0.1 s) before they
# sleep, holding a core that scratch's own kernel threads need (measured: a 2-thread CNN training step ran
# 20-30% slower). 2**20 ticks (~0.4 ms) keeps back-to-back GEMMs warm, as OpenMP's default spin does for torch.
SPIN_ENV = {"OPENBLAS_THREAD_TIMEOUT": "20"}


def limit_threads_env(threads):
    """Set the BLAS/OpenMP thread variables (and OpenBLAS's spin, unless set); effective only before
    NumPy and torch load."""
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(threads)
    for var, value in SPIN_ENV.items():
        os.environ.setdefault(var, value)
