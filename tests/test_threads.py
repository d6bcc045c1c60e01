"""The process-wide worker pool of the compiled kernels."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from skyfence.engine import _threads
from skyfence.engine._threads import pool_map


def test_results_in_order_on_pool_threads():
    names = pool_map(lambda k: (k, threading.current_thread().name), list(range(5)))
    assert [k for k, _ in names] == list(range(5))
    assert names[0][1] == threading.current_thread().name  # the caller runs the first
    assert all(n.startswith("skyfence-worker") for _, n in names[1:])


def test_pool_is_reused_and_grown():
    pool_map(lambda k: k, [0, 1, 2])
    first = _threads._pool
    pool_map(lambda k: k, [0, 1])
    assert _threads._pool is first
    pool_map(lambda k: k, list(range(first[1] + 3)))
    assert _threads._pool[1] == first[1] + 2


def test_error_raised_after_every_task_ended():
    done = []

    def fn(k):
        if k == 0:
            raise ValueError("first")
        threading.Event().wait(0.05)
        done.append(k)

    with pytest.raises(ValueError, match="first"):
        pool_map(fn, [0, 1, 2])
    assert sorted(done) == [1, 2]

    def both(k):
        raise ValueError("first" if k == 0 else "other")

    with pytest.raises(ValueError, match="first"):  # the caller's own error, not a worker's
        pool_map(both, [0, 1])
    with pytest.raises(ValueError, match="other"):
        pool_map(lambda k: k if k == 0 else both(k), [0, 1])


def test_nested_call_on_a_pool_thread_does_not_wait_on_the_pool():
    def outer(k):
        return pool_map(lambda j: (j, threading.current_thread().name), [0, 1, 2])

    for inner in pool_map(outer, [0, 1])[1:]:
        assert [j for j, _ in inner] == [0, 1, 2]
        assert len({n for _, n in inner}) == 1  # all on the one pool thread


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_its_own_pool():
    pool_map(lambda k: k, [0, 1])  # the parent's pool exists
    pid = os.fork()
    if pid == 0:  # child: the parent's threads are not here (reusing its pool would hang)
        ok = pool_map(lambda k: k * 2, [1, 2]) == [2, 4]  # as many threads as the parent had
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung on its parent's pool")
