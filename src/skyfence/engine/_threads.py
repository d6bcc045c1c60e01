"""Worker threads for the compiled kernels (which release the GIL).

One pool per process, started on first use: a stream over 10 M fixes makes
hundreds of parallel calls, and starting and joining fresh threads for each
cost more CPU than the short calls they ran.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

_PREFIX = "skyfence-worker"
_lock = threading.Lock()
_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (pid, workers, pool)


def threads() -> int:
    """Worker threads for the compiled kernels: ``$SKYFENCE_THREADS`` or all cores."""
    env = os.environ.get("SKYFENCE_THREADS")
    if env:
        return max(1, int(env))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process's pool, with at least ``workers`` threads (a new one after a
    fork: the parent's threads do not exist in the child)."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < workers:
            old = _pool
            _pool = (os.getpid(), workers, ThreadPoolExecutor(workers, thread_name_prefix=_PREFIX))
            if old is not None and old[0] == os.getpid():
                old[2].shutdown(wait=False)  # its idle threads exit
        return _pool[2]


def pool_map(fn, items: list) -> list:
    """``[fn(x) for x in items]``, the first on the calling thread and the
    others on the pool's threads; results in order.  Called from a pool
    thread, it runs them all on that thread (no waiting on its own pool)."""
    if len(items) <= 1 or threading.current_thread().name.startswith(_PREFIX):
        return [fn(x) for x in items]
    futures = [_executor(len(items) - 1).submit(fn, x) for x in items[1:]]
    try:
        first = fn(items[0])
    finally:
        wait(futures)  # the others end before this returns or raises
    return [first, *(f.result() for f in futures)]


def pool_ranges(fn, cuts) -> list:
    """``fn(a, b)`` for each range between consecutive ``cuts``, as :func:`pool_map`
    runs them (the compiled kernels release the GIL); results in order."""
    ranges = [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:])] or [(0, 0)]
    return pool_map(lambda r: fn(*r), ranges)


def row_shares(start: np.ndarray, n: int) -> np.ndarray:
    """Cuts of the tracks bounded by ``start`` (track k: rows ``start[k]`` to
    ``start[k + 1]``) into at most ``n`` ranges of tracks with about equal rows."""
    cuts = np.searchsorted(start, np.linspace(0, start[-1], n + 1))
    cuts[0], cuts[-1] = 0, len(start) - 1
    return np.unique(cuts)
