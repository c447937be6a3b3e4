"""Threads for the kernels that BLAS does not parallelise: copies, adds and element-wise passes.

A batch is cut into chunks of whole images, sized to stay in cache; the chunks run on a pool of as
many threads as NumPy's BLAS may use (set it with threadpoolctl or OMP_NUM_THREADS, as torch's
set_num_threads sets torch's), and the BLAS calls inside a chunk run on one thread each. NumPy
releases the GIL inside ufuncs, copies and BLAS calls, so the chunks run side by side. The chunk size
never depends on the thread count, so results are the same bit for bit at any thread count. Without
threadpoolctl every chunk runs on the calling thread, and BLAS keeps its own threads.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional: scratch depends on NumPy alone
    ThreadpoolController = None

CHUNK_BYTES = 1 << 20  # a chunk's largest arrays should stay in a core's L2 cache
_forced_threads = None  # set by settings()
_controller = None  # built on first use: finding the loaded BLAS libraries takes milliseconds
_pools = {}
os.register_at_fork(after_in_child=_pools.clear)  # a forked child has none of its parent's threads


def _blas():
    global _controller
    if _controller is None and ThreadpoolController is not None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def get_num_threads():
    """The threads scratch's kernels use: as many as NumPy's BLAS may (1 without threadpoolctl)."""
    if _forced_threads is not None:
        return _forced_threads
    blas = _blas()
    if not blas or not blas.lib_controllers:
        return 1
    return max(1, max(lib.num_threads for lib in blas.lib_controllers))


@contextmanager
def settings(threads=None, chunk_bytes=None):
    """Within the block, ``threads`` kernel threads (instead of BLAS's count) and chunks of about
    ``chunk_bytes`` bytes; None keeps the current value. For tests and experiments."""
    global _forced_threads, CHUNK_BYTES
    before = _forced_threads, CHUNK_BYTES
    _forced_threads = threads if threads is not None else _forced_threads
    CHUNK_BYTES = chunk_bytes if chunk_bytes is not None else CHUNK_BYTES
    try:
        yield
    finally:
        _forced_threads, CHUNK_BYTES = before


def chunk_size(total, bytes_per_item):
    """Items per chunk: as many as fit CHUNK_BYTES, at least 1, at most ``total``."""
    return max(1, min(total, CHUNK_BYTES // max(1, bytes_per_item)))


def map_chunks(fn, total, size):
    """[fn(start, stop) for each chunk of ``size`` items of range(total)], in order, on the kernel threads."""
    bounds = [(start, min(start + size, total)) for start in range(0, total, size)]
    threads = min(get_num_threads(), len(bounds))
    if threads <= 1:
        return [fn(*b) for b in bounds]
    pool = _pools.get(threads) or _pools.setdefault(threads, ThreadPoolExecutor(threads, thread_name_prefix="scratch"))
    blas = _blas()
    if not blas:  # forced threads without threadpoolctl: BLAS keeps its own threads
        return list(pool.map(lambda b: fn(*b), bounds))
    with blas.limit(limits=1):  # kernel threads x BLAS threads stays at the count the caller allowed
        return list(pool.map(lambda b: fn(*b), bounds))
