"""Where chunks run: this process, a process pool of our own, or any caller's executor.

We never write a cluster layer of our own: chunks go to a standard
:class:`concurrent.futures.Executor` (the stdlib process pool, ``dask.distributed``'s
``client.get_executor(pure=False)``, or :class:`RayExecutor`). An executor a caller passes is
never shut down here. Our own pool's workers ignore Ctrl-C (the parent decides), use one numba
thread each (one process per core), and exit when their parent dies, so no worker outlives a
killed sweep.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

from ..._optional import require

__all__ = ["InProcess", "RayExecutor"]


class RayExecutor(cf.Executor):
    """A :class:`concurrent.futures.Executor` over Ray tasks (``ray.remote(fn).remote(...)``).

    Uses the Ray cluster the caller initialised (``ray.init(...)``); :meth:`shutdown` leaves it
    running. Each submission becomes a Ray task whose ObjectRef is turned into a standard
    future with ``ObjectRef.future()``.

    Parameters
    ----------
    **remote_options
        Passed to ``ray.remote`` (e.g. ``num_cpus=1``, ``max_retries=0``).
    """

    def __init__(self, **remote_options: Any) -> None:
        self._ray = require("ray", "ray", "RayExecutor")
        if not self._ray.is_initialized():
            raise RuntimeError("RayExecutor: call ray.init(...) first (a local or remote cluster)")
        self._options = remote_options
        self._remote: dict[Any, Any] = {}

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._ray.remote(**self._options)(fn) if self._options else \
                self._ray.remote(fn)
            self._remote[fn] = remote
        return remote.remote(*args, **kwargs).future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


# one compiled kernel at a time in this process: numba's workqueue threading layer refuses
# concurrent launches, and a chunk abandoned by Ctrl-C may still be running
_IN_PROCESS = threading.Lock()


class InProcess(cf.Executor):
    """Runs each submission in a daemon thread of this process, one at a time.

    The caller's thread only waits (with a short timeout), so Ctrl-C reaches it at once even
    while a chunk runs inside a compiled kernel; the abandoned chunk's thread is a daemon and
    dies with the process.
    """

    capacity = 1

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        fut: cf.Future = cf.Future()

        def work() -> None:
            with _IN_PROCESS:
                if not fut.set_running_or_notify_cancel():
                    return
                try:
                    fut.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # delivered through the future
                    fut.set_exception(exc)

        threading.Thread(target=work, name="commons-sweep-chunk", daemon=True).start()
        return fut


# ---------------------------------------------------------------------- our own pool
def _watch_parent(parent: int) -> None:  # pragma: no cover - runs in worker processes
    while True:
        time.sleep(0.25)
        if os.getppid() != parent:
            os._exit(1)


def worker_init(parent: int) -> None:  # pragma: no cover - runs in worker processes
    """Initialise a worker of our own pool: ignore Ctrl-C (the parent stops the pool), one
    numba thread (one process per core), and exit when the parent process dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), name="commons-parent-watch",
                     daemon=True).start()
    try:
        import numba
        numba.set_num_threads(1)
    except ImportError:
        pass


def ping(engine: str, sample: Any = None) -> int:  # pragma: no cover - in worker processes
    """Load what a chunk needs so that timing starts warm: with ``sample`` (a chunk's task),
    its model is built and run for one round, which loads its compiled kernel from the cache
    (or compiles it: a hung point's timeout must not count the compilation)."""
    from . import run  # noqa: F401
    if sample is not None and engine != "numpy":
        with contextlib.suppress(Exception):
            from .chunks import warm_model
            warm_model(sample)
    time.sleep(0.05)
    return os.getpid()


def own_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A process pool of our own (spawn context: no fork of a threaded parent)."""
    return cf.ProcessPoolExecutor(max_workers=workers, initializer=worker_init,
                                  initargs=(os.getpid(),),
                                  mp_context=multiprocessing.get_context("spawn"))


def warm(pool: cf.ProcessPoolExecutor, workers: int, engine: str, sample: Any = None) -> None:
    """Start every worker of ``pool`` and load the sample chunk's compiled model in it."""
    seen: set[int] = set()
    for _ in range(4):
        seen.update(f.result() for f in [pool.submit(ping, engine, sample)
                                         for _ in range(workers)])
        if len(seen) >= workers:
            return


def kill(pool: cf.ProcessPoolExecutor) -> None:
    """Stop our own pool now: kill its workers (a hung or interrupted chunk cannot be asked)."""
    stop = getattr(pool, "kill_workers", None)  # Python >= 3.14
    if stop is not None:
        with contextlib.suppress(Exception):
            stop()
    else:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                proc.kill()
    with contextlib.suppress(Exception):
        pool.shutdown(wait=False, cancel_futures=True)


def capacity(executor: cf.Executor) -> int:
    """How many tasks ``executor`` runs at once (best effort; at least 1)."""
    cap = getattr(executor, "capacity", None) or getattr(executor, "_max_workers", None)
    if cap is None:
        client = getattr(executor, "_client", None)  # dask's ClientExecutor
        with contextlib.suppress(Exception):
            cap = sum(client.nthreads().values())
    if cap is None and isinstance(executor, RayExecutor):
        with contextlib.suppress(Exception):
            cap = int(executor._ray.cluster_resources().get("CPU", 0))
    return max(1, int(cap or os.cpu_count() or 1))


def uses_processes(executor: cf.Executor) -> bool:
    """Whether tasks for ``executor`` are pickled with the standard pickle."""
    return isinstance(executor, cf.ProcessPoolExecutor)
