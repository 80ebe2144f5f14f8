"""Running a model's compiled plan: the fused kernel, or act by act beside numpy plug-ins."""

from __future__ import annotations

from typing import Any

import numpy as np

from .codegen import CHECKS, plugin_args
from .layout import cnet, cstate
from .model import Model
from .state import State

__all__ = ["CompileError", "block_rounds", "in_threads", "launches", "org_blocks", "pieces",
           "run_fused", "run_mixed", "run_orgs", "run_pieces"]

#: Agent-round updates (organisations and edges) of all threads' kernel calls together: a
#: fraction of a second, so that Ctrl-C, which Python sees between calls, stops a run promptly.
LAUNCH_WORK = 4_000_000


def block_rounds(R: int, N: int, E: int, T: int) -> int:
    """Rounds per block when all R replicates advance together: about :data:`LAUNCH_WORK`
    updates. A run reports the first error of the earliest such block (see
    :func:`_raise_error`), whatever order the launches take."""
    return int(max(1, min(T, LAUNCH_WORK // max(1, R * (N + E)))))


def pieces(R: int, N: int, E: int, T: int, n_threads: int) -> list[tuple[int, int, int]]:
    """How a fused run is shared among threads: (r0, r1, rounds per call) per piece.

    A piece is a contiguous chunk of replicates, run through all T rounds by one thread in
    calls of ``rounds per call`` rounds, each about :data:`LAUNCH_WORK` / 4 updates (so a
    Ctrl-C is seen between calls within a fraction of a second). Replicates first: a chunk
    is small enough that its whole run is one call when it can be, so its rows of the state
    stay in the core's cache from one round to the next. There are at least as many chunks
    as threads (when R allows), and many more for large R, taken in turn by whichever thread
    is free, so a thread slowed by other work on the machine does not hold the others up,
    and no thread waits at a barrier between blocks of rounds. Replicates are independent,
    so neither the chunks nor their order change a bit.

    The chunks come in an order that keeps the threads' replicates apart (:func:`_apart`):
    rows of neighbouring replicates share a cache line wherever a row's bytes are not a
    multiple of 64 (a row of 100 flags, or of 1910 trusts), so two threads running
    neighbouring chunks would pass those lines back and forth every round (the Ostrom
    commons, two replicates a chunk, got 1.6x from the second core; 1.8x apart).
    """
    per = max(1, N + E)
    quarter = max(1, LAUNCH_WORK // 4)
    rc = int(max(1, min(quarter // (per * T), R // max(1, n_threads))))
    tb = int(max(1, min(T, quarter // (per * rc))))
    return _apart([(r0, min(R, r0 + rc), tb) for r0 in range(0, R, rc)], n_threads)


def _apart(chunks: list, n: int) -> list:
    """The chunks cut into n runs of consecutive chunks and taken from the runs in turn:
    the first of each run, then the second of each, and so on. Threads taking them in
    this order run chunks about len(chunks) / n apart, not neighbours."""
    if n <= 1:
        return chunks
    k = -(-len(chunks) // n)
    return [chunks[g * k + j] for j in range(k) for g in range(n) if g * k + j < len(chunks)]


def launches(R: int, N: int, E: int, T: int, n_threads: int) -> list[tuple[int, int, int, int]]:
    """The kernel calls of a run, (r0, r1, t0, t1) each, piece by piece (:func:`pieces`),
    each piece's in the order of its rounds."""
    return [(r0, r1, t0, min(T, t0 + tb)) for r0, r1, tb in pieces(R, N, E, T, n_threads)
            for t0 in range(0, T, tb)]


def run_pieces(fn: Any, R: int, N: int, E: int, T: int, *args: Any) -> None:
    """``fn(r0, r1, t0, t1, *args)`` over the whole run: the pieces of :func:`pieces` in a
    pool of :func:`threads` threads (the compiled kernel releases the GIL), or in the
    calling thread for one thread, one piece or a small run.

    A Ctrl-C in the calling thread stops the run: the pieces not started are dropped, and
    those running stop at the end of their current call.
    """
    n = threads()
    plan = pieces(R, N, E, T, n)
    if n <= 1 or len(plan) == 1 or R * (N + E) * T < 50_000:
        for r0, r1, t0, t1 in launches(R, N, E, T, 1):
            fn(r0, r1, t0, t1, *args)
        return
    import threading
    stop = threading.Event()

    def piece(r0: int, r1: int, tb: int) -> None:
        for t0 in range(0, T, tb):
            if stop.is_set():
                return
            fn(r0, r1, t0, min(T, t0 + tb), *args)

    _in_pool(min(n, len(plan)), piece, plan, stop.set)


def _in_pool(n: int, fn: Any, calls: list[tuple], on_exit: Any = None) -> None:
    """``fn(*c)`` for each c of ``calls`` in a pool of n threads, in turn as threads come
    free; on any exit (a Ctrl-C or an error in the calling thread included) ``on_exit()``
    runs and the calls not started are dropped."""
    import concurrent.futures as cf
    pool = cf.ThreadPoolExecutor(n, thread_name_prefix="commons-kernel")
    try:
        for f in [pool.submit(fn, *c) for c in calls]:
            f.result()
    finally:
        if on_exit is not None:
            on_exit()
        pool.shutdown(wait=True, cancel_futures=True)


#: Fewest organisations per thread for a replicate to be shared among threads: below, the
#: barriers after each act would cost more than the second core gives.
ORGS_MIN = 2_000


def org_blocks(R: int, N: int, n_threads: int) -> int:
    """How many threads share each replicate's organisations: the number of threads when the
    replicates are fewer than the threads, with at least :data:`ORGS_MIN` organisations and
    one block of the recorder's sums (:data:`commons.sim._steps.RB` organisations) per
    thread; else 1 (replicates run side by side instead)."""
    from ._steps import blocks
    if R >= n_threads or n_threads <= 1:
        return 1
    return int(max(1, min(n_threads, N // max(1, ORGS_MIN), blocks(N))))


def sync_array(nb: int) -> np.ndarray:
    """What nb threads sharing a replicate meet on (:mod:`commons.sim._sync`): the barrier
    count of each thread, the abort flag, two error flags and the ticket counters."""
    from ._sync import slots
    return np.zeros(slots(nb), np.int64)


def run_orgs(fn: Any, nb: int, R: int, N: int, E: int, T: int, *args: Any) -> None:
    """``fn(b, nb, 0, R, t0, t1, *args, sync)`` for b = 0..nb-1 in nb threads at once, block of
    rounds by block of rounds (:func:`block_rounds`): in each act the threads take chunks of
    every replicate's organisations in turn, and meet at a barrier after it
    (:mod:`commons.sim._sync`). Each organisation's numbers are the same whichever thread
    computes them, and sums over organisations are added in the same order (block by block),
    so the bits are those of :func:`run_pieces`.

    A Ctrl-C in the calling thread, or an exception in any thread, sets the barrier's abort
    flag: every thread returns at its next barrier, and the run stops.
    """
    import concurrent.futures as cf
    tb = block_rounds(R, N, E, T)

    def call(b: int, t0: int, t1: int, sync: np.ndarray) -> None:
        try:
            fn(b, nb, 0, R, t0, t1, *args, sync)
        except BaseException:
            sync[nb] = 1
            raise

    with cf.ThreadPoolExecutor(nb, thread_name_prefix="commons-kernel") as pool:
        for t0 in range(0, T, tb):
            sync = sync_array(nb)
            futures = [pool.submit(call, b, t0, min(T, t0 + tb), sync) for b in range(nb)]
            try:
                for f in futures:
                    f.result()
            except BaseException:
                sync[nb] = 1
                cf.wait(futures)
                raise
            if sync[nb]:  # pragma: no cover - a thread failed without raising
                raise RuntimeError("a thread of the run stopped at a barrier")


def _net(model: Model) -> Any:
    net = model.__dict__.get("_cnet")
    if net is None:
        triads = any("Gossip" in type(a.plugin).__name__ for a in model.acts)
        net = cnet(model.network, triads=triads)
        model.__dict__["_cnet"] = net
    return net


def _stream(ctx: Any, plugin: Any) -> np.uint64:
    return np.uint64(ctx.stream_ids[plugin])


def threads() -> int:
    """Threads a compiled run uses: numba's setting (``numba.set_num_threads``)."""
    import numba
    return int(numba.get_num_threads())


def in_threads(fn: Any, R: int, *args: Any, work: int = 1 << 30, start: int = 0) -> None:
    """``fn(r0, r1, *args)`` over contiguous ranges of the replicates start..R-1, in threads.

    The compiled functions release the GIL, so the ranges run in parallel; each replicate's
    numbers depend on it alone, so the split changes no bit. The ranges are a few per thread,
    taken in turn by whichever thread is free, so a thread slowed by other work on the machine
    does not hold the others up. Below about 50,000 updates of ``work`` a call runs in the
    calling thread (starting threads would cost more). A Ctrl-C drops the ranges not started.
    """
    n = min(threads(), R - start) if work >= 50_000 else 1
    if n <= 1:
        fn(start, R, *args)
        return
    pieces = min(R - start, 4 * n)
    bounds = np.linspace(start, R, pieces + 1).astype(int)
    _in_pool(n, fn, [(int(bounds[k]), int(bounds[k + 1]), *args) for k in range(pieces)])


def _raise_error(model: Model, err: np.ndarray, step: int) -> None:
    """Raise the error of the first replicate failing in the earliest block of ``step``
    rounds (the one a run advancing all replicates block by block would meet first)."""
    from .engine import PluginError
    bad = np.flatnonzero(err[:, 0])
    if not bad.size:
        return
    block = err[bad, 1] // step
    first = bad[block == block.min()][0]
    k, t = int(err[first, 0]) - 1, int(err[first, 1])
    act = model.acts[k]
    field = CHECKS.get(act.phase, ("next_draws", False))[0]
    what = "draws" if field in ("draws", "next_draws") else field
    fault = "non-finite" if err[first, 2] == 1 else "negative"  # as the numpy path says
    raise PluginError(f"{type(act.plugin).__name__} produced {fault} {what} in the "
                      f"{act.phase} phase of round {t}")


class CompileError(RuntimeError):
    """A plug-in's compiled form that numba cannot compile (the message names the plug-in,
    the phase and numba's own message)."""


def _compile_error(model: Model, plan: Any, exc: Exception, S: Any, net: Any, keys: Any,
                   TP: Any, st: State, ctx: Any) -> CompileError:
    """Find the act whose form does not compile, by compiling each for no replicate."""
    for k, a in enumerate(model.acts):
        if k not in plan.batch:
            continue
        P, M = plugin_args(a.plugin, st, ctx)
        act, View, fields = plan.batch[k]
        try:
            act(0, 0, 0, View(*(getattr(st, f) for f in fields)), net, keys, P, M,
                _stream(ctx, a.plugin), TP)
        except Exception as inner:  # numba's typing and lowering errors
            return CompileError(f"the compiled form of {type(a.plugin).__name__}.{a.phase} "
                                f"({plan.forms[k].__qualname__}) does not compile: {inner}")
    return CompileError(f"the model's fused kernel does not compile: {exc}")


def _compiling(fn: Any, on_error: Any, *args: Any) -> None:
    """Run ``fn`` and turn numba's compilation errors into a CompileError naming the act."""
    from numba.core.errors import NumbaError
    try:
        fn(*args)
    except NumbaError as exc:
        raise on_error(exc) from exc


def run_fused(model: Model, ctx: Any, record: Any, bind, recorder_cls, plan) -> tuple:
    """The whole run in the fused kernel, launched in blocks of rounds."""
    from .engine import SERIES
    st: State = bind(model, ctx)
    R, N, T = ctx.R, ctx.N, ctx.rounds
    S = cstate(st)
    net = _net(model)
    TP = model.technology.compiled_values(ctx)
    from .codegen import Composite
    args: list[Any] = []
    children: list[Any] = []
    for a, form in zip(model.acts, plan.forms, strict=True):
        P, M = plugin_args(a.plugin, st, ctx)
        args += [P, M, _stream(ctx, a.plugin)]
        if isinstance(form, Composite):
            for child in form.children:
                Pc, Mc = plugin_args(child, st, ctx)
                children += [Pc, Mc, _stream(ctx, child)]
    args += children
    rec = recorder_cls(R, N, T, record, np.asarray(model.technology.baseline(ctx)),
                       arrays=False)
    # every kept (series, replicate, round) is written, or the run raises: no zeros needed;
    # rows[s] is series s's row, -1 for a series not kept
    series = np.empty((len(rec.kept), R, T))
    rows = np.array([rec.kept.index(k) if k in rec.kept else -1 for k in SERIES], np.int64)
    full = rec.full_kept
    shape = (R, T, N) if full else (0, 0, 0)
    fx, fh, fp = np.empty(shape), np.empty(shape), np.empty(shape)
    baseline = np.ascontiguousarray(np.broadcast_to(rec.baseline, (R, N)), np.float64)
    err = np.zeros((R, 3), np.int64)  # a failed check: act + 1, round, what is wrong
    step = block_rounds(R, N, ctx.network.n_edges, T)
    keys = np.ascontiguousarray(ctx.streams.keys)
    max_draw = np.ascontiguousarray(ctx.max_draw)
    from ._steps import NSUMS, blocks
    # the recorder's sums per block of organisations, and whether it pays the members
    part = np.zeros((R, blocks(N), NSUMS + 1))
    none = np.zeros((0, 0))  # the accumulators of a run that keeps none
    acc = (rec.cum_payoff, rec.pos_t, rec.pos_n, rec.active) if rec.accumulate else \
        (none, none, none, np.zeros(0))
    fused_args = (S, net, keys, max_draw, TP, *args, series, rows, fx, fh, fp, full,
                  baseline, *acc, part, err)
    on_error = lambda exc: _compile_error(model, plan, exc, S, net, keys, TP,  # noqa: E731
                                          st, ctx)
    E = ctx.network.n_edges
    nb = org_blocks(R, N, threads()) if plan.orgs is not None else 1
    if nb > 1:
        if not getattr(plan, "orgs_compiled", False):
            _compiling(plan.orgs, on_error, 0, 1, 0, 0, 0, 0, *fused_args, sync_array(1))
            plan.orgs_compiled = True
        run_orgs(plan.orgs, nb, R, N, E, T, *fused_args)
    else:
        if not getattr(plan, "compiled", False):
            _compiling(plan.fused, on_error, 0, 0, 0, 0, *fused_args)
            plan.compiled = True
        run_pieces(plan.fused, R, N, E, T, *fused_args)
    _raise_error(model, err, step)
    for k, name in enumerate(rec.kept):
        rec.series[name] = series[k]
    if full:
        rec.full = {"draws": fx, "granted": fh, "payoffs": fp}
    st.t = T - 1
    return st, rec


def run_mixed(model: Model, ctx: Any, record: Any, bind, recorder_cls, plan) -> tuple:
    """Round by round in Python: compiled acts as batch calls, the others in numpy."""
    from .engine import play_round, schedule
    st: State = bind(model, ctx)
    net = _net(model)
    TP = model.technology.compiled_values(ctx)
    keys = np.ascontiguousarray(ctx.streams.keys)
    params = {}
    S = cstate(st)
    for k, a in enumerate(model.acts):
        if k in plan.batch:
            params[k], M = plugin_args(a.plugin, st, ctx)
            act, View, fields = plan.batch[k]
            _compiling(act, lambda exc: _compile_error(model, plan, exc, S, net, keys, TP, st,
                                                       ctx),
                       0, 0, 0, View(*(getattr(st, f) for f in fields)), net, keys, params[k],
                       M, _stream(ctx, a.plugin), TP)
    index = {id(a): k for k, a in enumerate(model.acts)}

    def compiled_act(a: Any, st: State) -> bool:
        k = index[id(a)]
        if k not in plan.batch:
            return False
        from .layout import compiled_memory
        M = compiled_memory(a.plugin, st, ctx)
        act, View, fields = plan.batch[k]
        cstate(st)  # contiguous arrays of the declared types, rebound into the state
        in_threads(act, ctx.R, st.t, View(*(getattr(st, f) for f in fields)), net, keys,
                   params[k], M, _stream(ctx, a.plugin), TP,
                   work=ctx.R * (ctx.N + ctx.network.n_edges))
        return True

    rec = recorder_cls(ctx.R, ctx.N, ctx.rounds, record,
                       np.asarray(model.technology.baseline(ctx)))
    plan_rounds = schedule(model)
    for t in range(ctx.rounds):
        ctx.t = t
        st.begin_round(t)
        play_round(model, st, ctx, plan_rounds, compiled_act)
        rec(st, t)
    return st, rec
