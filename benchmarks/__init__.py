"""Benchmarks: scratch vs torch CPU (and the curriculum's naive loops, and torch on a GPU).

Run ``python -m benchmarks --project mlp``. The machinery is in ``core.py``; each
project adds a ``bench_<project>.py`` with a ``cases(dtype, quick)`` function, under the
project's registry name (twins/registry.py). Nothing here imports NumPy at package import,
so the CLI can fix the BLAS thread count before NumPy loads.
"""
import os

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads_env(threads):
    """Set the BLAS/OpenMP thread variables; effective only before NumPy and torch load."""
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(threads)
