"""Threads for the kernels that BLAS does not parallelise: copies, adds and element-wise passes.

A batch is cut into chunks of whole images, sized to stay in cache; the chunks run on a pool of as
many threads as NumPy's BLAS may use (set it with threadpoolctl or OMP_NUM_THREADS, as torch's
set_num_threads sets torch's), and the BLAS calls inside a chunk run on one thread each. NumPy
releases the GIL inside ufuncs, copies and BLAS calls, so the chunks run side by side. The chunk
size never depends on the thread count, so neither do the results (partial sums add in chunk
order). Without threadpoolctl every chunk runs on the calling thread, and BLAS keeps its own threads.
"""
import contextlib
import itertools
import os
from concurrent.futures import ThreadPoolExecutor

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional: scratch depends on NumPy alone
    ThreadpoolController = None

CHUNK_BYTES = 1 << 21  # a chunk's largest arrays stay in cache (2 MiB measured best here: 1 MiB L2 per core, a shared L3)
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


@contextlib.contextmanager
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
    """[fn(start, stop) for each chunk of ``size`` items of range(total)], in order, on the kernel threads.

    The calling thread takes chunks too, from the same queue as the pool's threads: a pool thread wakes
    up late (a fraction of a millisecond, more on a busy machine), and by then the caller has started;
    should it never wake in time, the caller does all the chunks, no slower than one thread."""
    bounds = [(start, min(start + size, total)) for start in range(0, total, size)]
    threads = min(get_num_threads(), len(bounds))
    if threads <= 1:
        return [fn(*b) for b in bounds]
    results = [None] * len(bounds)
    order = itertools.count()  # next() on it is atomic: each chunk is taken once

    def work():
        for index in order:
            if index >= len(bounds):
                return
            results[index] = fn(*bounds[index])

    pool = _pools.get(threads) or _pools.setdefault(threads, ThreadPoolExecutor(threads - 1, thread_name_prefix="scratch"))
    blas = _blas()
    with blas.limit(limits=1) if blas else contextlib.nullcontext():  # kernel threads x BLAS threads stays put
        helpers = [pool.submit(work) for _ in range(threads - 1)]
        try:
            work()
        finally:
            for helper in helpers:
                helper.result()  # waits for the chunks in flight; raises a helper's error
    return results
