"""The schedule: jobs fed to an executor, results stored as they come, failures isolated.

No more jobs are in flight than the executor runs at once (twice that without a timeout, to
keep workers busy). A job whose future fails (its worker died: a broken process pool, a dask
``KilledWorker``, a crash) is run again alone, since a dying worker takes down what else it
held; failing alone, a chunk is split into its points and a point is recorded as failed. A job
past its timeout is recorded likewise; on our own pool its worker is ended (the pool is made
anew), on a caller's executor it is abandoned. A caller's process pool that breaks is replaced
by one of our own for the rest of the sweep (the caller's is not shut down).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import executors as ex
from .chunks import _lost, _Task, run_chunk

__all__: list[str] = []


@dataclass
class _Job:
    task: _Task
    solo: bool = False  # run with nothing else in flight (to find who breaks a pool)


class _Runner:
    """Feeds jobs to an executor, stores results as they come, isolates failures."""

    def __init__(self, executor: cf.Executor, *, own: bool, workers: int, engine: str,
                 timeout: float | None, sink: Callable[[dict[str, Any]], None]) -> None:
        self.executor = executor
        self.own = own
        self.pools: list[cf.Executor] = [executor] if own else []
        self.workers = workers
        self.engine = engine
        self.timeout = timeout
        self.sink = sink
        cap = ex.capacity(executor)
        # with a timeout, no more in flight than can run (a job's clock starts when sent)
        self.limit = cap if timeout is not None or isinstance(executor, ex.InProcess) \
            else 2 * cap
        self.queue: collections.deque[_Job] = collections.deque()
        self.inflight: dict[cf.Future, tuple[_Job, float, int]] = {}
        self.generation = 0

    # ------------------------------------------------------------ the loop
    def run(self, tasks: Sequence[_Task]) -> None:
        self.sample = tasks[0] if tasks else None
        if self.own and self.timeout is not None:  # clocks start with the workers ready
            ex.warm(self.executor, self.workers, self.engine, self.sample)
        self.queue.extend(_Job(t) for t in tasks)
        while self.queue or self.inflight:
            self._fill()
            wait = 0.2
            if self.timeout is not None and self.inflight:
                nearest = min(d for _, d, _ in self.inflight.values())
                wait = max(0.01, min(wait, nearest - time.monotonic()))
            done, _ = cf.wait(list(self.inflight), timeout=wait,
                              return_when=cf.FIRST_COMPLETED)
            alone = len(self.inflight) == 1  # then a lost worker was this job's own
            for fut in done:
                if fut in self.inflight:
                    self._settle(fut, alone)
            self._expire()

    def _fill(self) -> None:
        while self.queue and len(self.inflight) < self.limit:
            if any(j.solo for j, _, _ in self.inflight.values()):
                return
            job = self.queue[0]
            if job.solo and self.inflight:
                return
            try:
                fut = self.executor.submit(run_chunk, job.task)
            except cf.BrokenExecutor as exc:
                self._replace(exc)
                continue
            self.queue.popleft()
            limit = math.inf if self.timeout is None else self.timeout * job.task.n_points
            self.inflight[fut] = (job, time.monotonic() + limit, self.generation)

    def _settle(self, fut: cf.Future, alone: bool = False) -> None:
        job, _, gen = self.inflight.pop(fut)
        if fut.cancelled():
            self.queue.appendleft(job)
            return
        exc = fut.exception()
        if exc is None:
            self.sink(fut.result())
            return
        if isinstance(exc, cf.BrokenExecutor) and gen == self.generation:
            self._replace(exc)
        if not (job.solo or alone):
            # a dying worker takes down what else it held (a stdlib pool: everything in
            # flight; dask: the tasks queued on it), so the cause is known only when the job
            # fails again with nothing else in flight
            self.queue.appendleft(_Job(job.task, solo=True))
            return
        self._fail(job, exc)

    def _fail(self, job: _Job, exc: BaseException) -> None:
        if job.task.n_points > 1:  # again point by point, in fresh workers
            self.queue.extendleft(_Job(t) for t in reversed(job.task.by_point()))
            return
        if isinstance(exc, TimeoutError):
            cause = f"TimeoutError: {exc}"
        else:
            cause = (f"the worker running this point was lost ({type(exc).__name__}: "
                     f"{exc or 'no message'}); it died, crashed or was killed (e.g. out of "
                     "memory)")
        self.sink(_lost(job.task, cause))

    def _expire(self) -> None:
        if self.timeout is None:
            return
        now = time.monotonic()
        for fut, (job, deadline, _) in list(self.inflight.items()):
            if fut not in self.inflight or now < deadline or fut.done():
                continue
            del self.inflight[fut]
            limit = self.timeout * job.task.n_points
            exc = TimeoutError(f"no result within {limit:g} s (timeout = {self.timeout:g} s "
                               "per point)")
            if self.own:  # a hung run stops only with its process: restart the pool
                for j, _, _ in self.inflight.values():
                    self.queue.appendleft(j)
                self.inflight.clear()
                self._replace(None)
            else:
                fut.cancel()
                if self.limit > 1:
                    self.limit -= 1  # its worker may stay busy
                warnings.warn(f"a chunk ran past timeout={self.timeout:g} s on an executor "
                              "commons does not own; it is recorded as failed, but its "
                              "worker may stay busy until it ends", RuntimeWarning,
                              stacklevel=2)
            self._fail(job, exc)

    def _replace(self, exc: BaseException | None) -> None:
        """A new pool of our own, after ours broke (or was stopped) or the caller's broke."""
        self.generation += 1
        if self.own:
            ex.kill(self.executor)
        else:
            warnings.warn(f"the executor broke ({type(exc).__name__}: {exc}); the rest of the "
                          "sweep runs on a process pool of its own", RuntimeWarning,
                          stacklevel=3)
        pool = ex.own_pool(self.workers)
        if self.timeout is not None:
            ex.warm(pool, self.workers, self.engine, getattr(self, "sample", None))
        self.executor, self.own = pool, True
        self.pools.append(pool)
        self.limit = self.workers if self.timeout is not None else 2 * self.workers

    # ------------------------------------------------------------ the end
    def interrupt(self) -> None:
        """Store what has finished, drop the rest, stop our pools at once."""
        for fut, _ in list(self.inflight.items()):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.sink(fut.result())
        for fut in self.inflight:
            fut.cancel()
        self.inflight.clear()
        for pool in self.pools:
            ex.kill(pool)
        self.pools.clear()

    def close(self) -> None:
        for pool in self.pools:
            if self.inflight:
                ex.kill(pool)
            else:
                pool.shutdown(wait=True, cancel_futures=True)
        self.pools.clear()
