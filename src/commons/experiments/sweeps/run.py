"""Running a sweep: the checks made before computing, the study's fingerprint, and
:func:`run_sweep`, which cuts what is left to do into chunks (:mod:`.chunks`), feeds them to an
executor (:mod:`.schedule`) and stores each as it finishes (:mod:`.store`).

The runs of a study are numbered ``point * replicates + replicate``. Run (p, r) is seeded by
``SeedSequence(entropy, spawn_key=(*prefix, p, r))`` whatever chunk it falls in, so the numbers
do not depend on the chunk size, the executor, the order in which chunks finish, or on
interrupting and resuming.

Failures are data. A point whose model raises is recorded with its cause and the other points
of its chunk go on. A chunk whose worker dies (a crash, ``os._exit``, the out-of-memory killer) or
that runs past ``timeout`` is run again point by point; a point that still fails is recorded,
and every other point completes. Failed points are run again when the study is resumed.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import inspect
import json
import math
import numbers
import os
import pickle
import signal
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..._version import version as _version
from ...sim.streams import resolve_seed
from . import executors as ex
from .chunks import _describe_factory, _resolve_factory, _Task, run_chunk
from .design import Design
from .result import SweepResult
from .schedule import _Runner
from .store import FORMAT, MemoryStore, Store

__all__ = ["SweepInterrupted", "estimate_run_memory", "run_chunk", "run_sweep",
           "sweep_series_names"]

ENGINES = ("auto", "numba", "numpy")
EXECUTORS = ("auto", "in-process", "processes")


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by Ctrl-C (SIGINT) or SIGTERM after storing every finished chunk.

    Attributes
    ----------
    store : str or None
        The store (None for a sweep kept in memory, whose results are lost).
    chunks, runs_done, runs : int
        Chunks stored, (point, replicate) runs stored, and runs in the study.
    signum : int
        The signal (``signal.SIGINT`` or ``signal.SIGTERM``).
    """

    def __init__(self, store: str | None, chunks: int, runs_done: int, runs: int,
                 signum: int = signal.SIGINT) -> None:
        self.store, self.chunks, self.runs_done, self.runs = store, chunks, runs_done, runs
        self.signum = int(signum)
        if store is None:
            msg = "interrupted; the sweep had no store, so nothing was kept"
        else:
            msg = (f"interrupted; {chunks} chunk{'s' if chunks != 1 else ''} "
                   f"({runs_done} of {runs} runs) are stored in {store}: run the same study "
                   "again to resume")
        super().__init__(msg)


class _Terminated(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# ---------------------------------------------------------------------- checks
def _check_params(factory: Any, names: Sequence[str], fixed: Mapping[str, Any],
                  design: Design | None = None) -> None:
    """Every swept and fixed name is a parameter of the factory, of a fitting type."""
    make = _resolve_factory(factory)
    try:
        sig = inspect.signature(make)
    except (TypeError, ValueError):
        return
    params = sig.parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        known = {n for n, p in params.items()
                 if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        unknown = [n for n in (*names, *fixed) if n not in known]
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for {_describe_factory(factory)}; "
                             f"it accepts {sorted(known)}")
    if design is None:
        return
    for name, kind in zip(design.names, design.types, strict=True):
        p = params.get(name)
        if p is None or p.default is p.empty or p.default is None:
            continue
        d = p.default
        if isinstance(d, str) and kind != "str":
            raise ValueError(f"design: {name!r} of {_describe_factory(factory)} takes a string "
                             f"(default {d!r}); the design gives {kind} values")
        if isinstance(d, numbers.Real) and not isinstance(d, bool) and kind == "str":
            raise ValueError(f"design: {name!r} of {_describe_factory(factory)} takes a number "
                             f"(default {d!r}); the design gives strings")


def numeric_defaults(factory: Any, design: Design) -> Design:
    """``design`` with integer columns made real where the factory's default is a real (a
    study file's ``fine = [0, 1, 2]`` for a real-valued fine)."""
    try:
        params = inspect.signature(_resolve_factory(factory)).parameters
    except (TypeError, ValueError):
        return design
    cols = []
    for name, kind, col in zip(design.names, design.types, design.columns, strict=True):
        p = params.get(name)
        real = p is not None and isinstance(p.default, float)
        cols.append(col.astype(np.float64) if kind == "int" and real else col)
    return Design(design.names, cols, design.kind, design.info)


def estimate_run_memory(model: Any, rounds: int, record: str = "final", *,
                        series: int = 0, series_itemsize: int = 8) -> int:
    r"""Bytes one replicate of ``model`` needs for ``rounds`` rounds, recorded as ``record``.

    The state of one replicate (every (N,) and per-edge array of :class:`commons.State`), four
    times over for the temporaries of a round and the kernel's copies; the memory the
    plug-ins declare for one replicate (:func:`commons.sim.memory.plugin_bytes`: a
    punishment's numbers per edge, a rule's per organisation); the recorder: 13 series of
    ``rounds`` values ("final" and "summary" alike), and three (``rounds``, N) arrays more for
    "full"; plus, for a sweep that stores ``series`` per-round series, the derived efficiency
    series and each stored series twice (in float64 and as stored, ``series_itemsize`` bytes
    a value).

    In bytes, with S the bytes of one replicate's State, P its plug-ins' memory, T rounds,
    N organisations, 13 recorded series, k stored series of b bytes a value:

    .. math::

        4 S + P + 8 \cdot 13\, T + 32 N + 24\, T N\, [\text{full}]
        + (8 T + k T (8 + b))\, [k > 0] + 512.

    Parameters
    ----------
    model : Model
        The model (its number of organisations ``n`` and trust network size the State).
    rounds : int
        T, the number of rounds.
    record : {"final", "summary", "full"}, default "final"
        What the run records.
    series : int, default 0
        k, the number of per-round series a sweep stores per run.
    series_itemsize : int, default 8
        b, the bytes of a stored series value (8 for float64, 4 for float32).

    Returns
    -------
    int
        The estimate, in bytes.
    """
    from ...sim.engine import SERIES
    from ...sim.memory import plugin_bytes
    from ...sim.state import State
    N = int(model.n)
    E = int(model.network.n_edges)
    st = State.empty(1, N, E)
    state = sum(v.nbytes for v in vars(st).values() if isinstance(v, np.ndarray))
    state += sum(v.nbytes for v in st.ledger.values())
    rec = 8 * rounds * len(SERIES) + 8 * 4 * N
    if record == "full":
        rec += 8 * 3 * rounds * N
    if series:
        rec += 8 * rounds + series * rounds * (8 + series_itemsize)
    return 4 * state + plugin_bytes(model, 1) + rec + 8 * 64


def _fmt_bytes(b: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if b < 1024 or unit == "TiB":
            return f"{b:.0f} {unit}" if unit == "bytes" else f"{b:.1f} {unit}"
        b /= 1024
    return f"{b:.1f} TiB"  # pragma: no cover


def _available_memory() -> int:
    import psutil
    return int(psutil.virtual_memory().available)


def _probe_models(model: Any, fixed: Mapping[str, Any], design: Design) -> list[Any]:
    """Models at the first point and where each integer parameter is largest."""
    rows = {0}
    for kind, col in zip(design.types, design.columns, strict=True):
        if kind == "int":
            rows.add(int(np.argmax(col)))
    out = []
    for i in sorted(rows):
        try:
            out.append(_resolve_factory(model)(**fixed, **design.point(i)))
        except Exception:  # such a point fails again, recorded, in its chunk
            continue
    return out


def _fingerprint(study: Mapping[str, Any], keys: Sequence[str]) -> str:
    blob = json.dumps({k: study[k] for k in keys}, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# what changes the numbers; not the chunk size, the executor, the name or the machine
_RESULT_KEYS = ("factory", "fixed", "design", "replicates", "rounds", "engine",
                "common_random_numbers")
SERIES_DTYPES = ("float64", "float32")


def sweep_series_names() -> tuple[str, ...]:
    """The per-round series a sweep can store: the recorder's and the derived efficiency."""
    from ...sim.engine import SERIES
    return (*SERIES, "efficiency")


def _series_arg(series: Any) -> tuple[str, ...]:
    known = sweep_series_names()
    if isinstance(series, bool | np.bool_):
        return known if series else ()
    if isinstance(series, str):
        series = [series]
    if not isinstance(series, Sequence):
        raise TypeError(f"series must be True, False or a list of series names, got "
                        f"{type(series).__name__}")
    names = list(series)
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"series: no series {bad}; the engine records {list(known)}")
    if len(set(names)) != len(names):
        raise ValueError(f"series: a name is given twice in {names}")
    return tuple(names)


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# ---------------------------------------------------------------------- the sweep
def run_sweep(model: Any, design: Design, *, replicates: int, rounds: int, rng: Any = None,
              executor: cf.Executor | str | None = None,
              store: str | os.PathLike | None = None, resume: bool = True,
              progress: bool = True, chunk_size: int | None = None, batch_points: bool = True,
              fixed: Mapping[str, Any] | None = None, engine: str = "auto",
              name: str | None = None, common_random_numbers: bool = False,
              timeout: float | None = None, series: bool | Sequence[str] = False,
              series_dtype: str = "float64") -> SweepResult:
    r"""Run ``model`` at every point of ``design``, ``replicates`` times each.

    Parameters
    ----------
    model : str or callable
        A scenario name of :data:`commons.scenarios.REGISTRY` (e.g. ``"ics"``) or a factory
        ``f(**params) -> Model`` that accepts the swept real parameters as arrays of shape
        (R,) (integer, boolean and string parameters always arrive as scalars); it must be
        picklable for process pools (a module-level function).
    design : Design
    replicates, rounds : int
    rng : None, int, SeedSequence or Generator
        Entropy of the study; run (p, r) is seeded by SeedSequence(entropy,
        spawn_key=(p, r)). None draws fresh entropy and records it in the store, and a rerun
        with None into the same store reuses it (and so resumes).
    executor : concurrent.futures.Executor or {"auto", "in-process", "processes"}, optional
        Where chunks run; an executor passed here is never shut down. "in-process" runs one
        chunk at a time in this process; "processes" uses a process pool of our own (one
        worker per core). None or "auto": in-process when the sweep is small or the model
        runs on the compiled kernel (which already uses every core), else our own pool.
    store : path, optional
        Directory of the results store (see :mod:`commons.experiments.sweeps.store`). Each
        chunk is on disk before the next one starts. Without a store, results stay in memory.
    resume : bool
        Continue a store of the same study, running only what it lacks (and the points that
        failed).
    progress : bool
        Show a progress bar (tqdm), advanced as each chunk is stored.
    chunk_size : int, optional
        (point, replicate) runs per task (default: about four tasks per worker, at most 2000,
        and no more than fits in memory). It does not change the results, so a store resumes
        with any chunk size.
    batch_points : bool
        Whether a chunk may mix points (the factory must then accept array parameters).
    fixed : mapping, optional
        Further keyword arguments for the factory, the same at every point.
    engine : {"auto", "numba", "numpy"}
        Passed to :func:`commons.simulate`.
    name : str, optional
        A name for the study (shown by ``commons show``).
    common_random_numbers : bool
        Seed run (p, r) with spawn key (0, r), so every point sees the same random numbers (a
        variance reduction for comparisons and sensitivity indices); default: each point its
        own, spawn key (p, r).
    timeout : float, optional
        Seconds a point may take (a chunk of k points gets k times as long). A chunk past its
        time is run again point by point, and a point past its time is recorded as failed.
        With the default executor the sweep then runs on a process pool of its own, whose
        worker is ended to stop a hung point.
    series : bool or list of str
        Store the per-round series of every (point, replicate) run: True for all of them
        (:func:`sweep_series_names`: the recorder's series and the per-round efficiency), a
        list for some, False (default) for none. Read them with
        :meth:`SweepResult.to_xarray`. They are part of the study, so a store resumes only
        with the same choice.
    series_dtype : {"float64", "float32"}
        How the series are stored; "float32" halves the disk and memory they take (each value
        rounded to the nearest float32; metrics are always float64).

    .. versionadded:: 0.2
       ``series`` and ``series_dtype``.

    Returns
    -------
    SweepResult
        ``complete`` when every run has rows or a recorded failure; ``n_failed`` points failed.

    Raises
    ------
    SweepInterrupted
        On Ctrl-C or SIGTERM, after storing every finished chunk (a KeyboardInterrupt).
    StoreError
        When the store holds another study, is in use by another run, or cannot be written.
    """
    from ..._validation import check_integer
    from ..scenarios import REGISTRY

    # ------------------------------------------------------------ arguments
    if not isinstance(design, Design):
        raise TypeError(f"design must be a commons.sweep.Design, got {type(design).__name__}")
    if isinstance(model, str):
        if model not in REGISTRY:
            raise ValueError(f"model: unknown scenario {model!r}; known: {sorted(REGISTRY)}")
    elif not callable(model):
        raise TypeError(f"model must be a scenario name ({', '.join(sorted(REGISTRY))}) or a "
                        f"factory returning a commons.Model, got {type(model).__name__}")
    R = check_integer("replicates", replicates, low=1)
    T = check_integer("rounds", rounds, low=1)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got "
                         f"{engine!r}")
    if fixed is not None and not isinstance(fixed, Mapping):
        raise TypeError(f"fixed must be a mapping of factory arguments, got "
                        f"{type(fixed).__name__}")
    fixed = dict(fixed or {})
    if not all(isinstance(k, str) for k in fixed):
        raise TypeError("fixed: argument names must be strings")
    clash = sorted(set(fixed) & set(design.names))
    if clash:
        raise ValueError(f"fixed: {clash} are swept by the design too; give each parameter "
                         "in one place")
    resume = _bool("resume", resume)
    progress = _bool("progress", progress)
    batch_points = _bool("batch_points", batch_points)
    common_random_numbers = _bool("common_random_numbers", common_random_numbers)
    if chunk_size is not None:
        chunk_size = check_integer("chunk_size", chunk_size, low=1)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) \
                or not (0 < timeout < math.inf):
            raise ValueError(f"timeout must be a positive number of seconds per point, or "
                             f"None, got {timeout!r}")
        timeout = float(timeout)
    if isinstance(executor, str):
        if executor not in EXECUTORS:
            raise ValueError(f"executor must be a concurrent.futures.Executor or one of "
                             f"{', '.join(map(repr, EXECUTORS))}, got {executor!r}")
    elif executor is not None and not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor or one of "
                        f"{', '.join(map(repr, EXECUTORS))}, got {type(executor).__name__}")
    if timeout is not None and (executor == "in-process" or isinstance(executor, ex.InProcess)):
        raise ValueError("timeout needs a process to end when a point hangs: leave executor "
                         "unset, or pass executor='processes' (or a pool of your own)")
    if store is not None and not isinstance(store, str | os.PathLike):
        raise TypeError(f"store must be a directory path, got {type(store).__name__}")
    series_names = _series_arg(series)
    if series_dtype not in SERIES_DTYPES:
        raise ValueError(f"series_dtype must be one of {', '.join(map(repr, SERIES_DTYPES))}, "
                         f"got {series_dtype!r}")
    itemsize = np.dtype(series_dtype).itemsize
    _check_params(model, design.names, fixed, design)

    # ------------------------------------------------------------ the study
    P = design.size
    runs = P * R
    study: dict[str, Any] = {
        "format": FORMAT, "name": name or _describe_factory(model),
        "factory": _describe_factory(model), "fixed": fixed, "design": design.to_dict(),
        "replicates": R, "rounds": T, "engine": engine,
        "common_random_numbers": common_random_numbers}
    keys: tuple[str, ...] = _RESULT_KEYS
    if series_names:  # a study without series keeps the fingerprint it always had
        study.update({"series": list(series_names), "series_dtype": series_dtype})
        keys = (*keys, "series", "series_dtype")
    study["base"] = _fingerprint(study, keys)
    st = Store(store) if store is not None else None
    adopted = st.peek_entropy(study["base"]) if (st is not None and rng is None) else None
    if adopted is not None:
        entropy, prefix = adopted[0], tuple(adopted[1])
    else:
        entropy, prefix = resolve_seed(rng)
    study.update({"entropy": str(entropy), "prefix": list(prefix), "seeded": rng is not None})
    study["fingerprint"] = _fingerprint(study, (*keys, "entropy", "prefix"))

    # ------------------------------------------------------------ the model, where, how much
    probes = _probe_models(model, fixed, design)
    from ...sim import _kernel
    if engine == "numba" and not _kernel.have_numba():
        raise ValueError("engine='numba' needs numba: pip install 'commons-engine[fast]'")
    workers = os.cpu_count() or 1
    # a fused kernel uses every core in this process
    kernel = engine != "numpy" and bool(probes) and _kernel.supports(probes[0])
    if executor is None or executor == "auto":
        small = runs * T < 2_000_000 or workers == 1 or kernel
        kind = "processes" if timeout is not None or not small else "in-process"
    elif isinstance(executor, str):
        kind = executor
    else:
        kind = "caller"
    if kind in ("processes", "caller") and (kind == "processes" or ex.uses_processes(executor)):
        try:
            pickle.dumps((model, fixed))
        except Exception as exc:
            raise TypeError(f"model: {_describe_factory(model)} (with its fixed arguments) "
                            f"cannot be sent to worker processes ({exc}); define the factory "
                            "at module level, or pass executor='in-process'") from exc
    concurrent = {"in-process": 1, "processes": workers, "caller": 1}[kind]
    default_chunk = max(1, min(2000, math.ceil(runs / (4 * workers))))
    per_run = max((estimate_run_memory(m, T, series=len(series_names),
                                       series_itemsize=itemsize) for m in probes), default=0)
    if per_run:
        avail = _available_memory()
        fits = int(avail * 0.8 // (per_run * concurrent))
        N = max(int(m.n) for m in probes)
        where = f" in each of {concurrent} workers" if concurrent > 1 else ""
        kept = (f"{len(series_names)} series kept as {series_dtype}" if series_names
                else "record='final'")
        if fits < 1:
            raise ValueError(
                f"rounds: one run of {T} rounds (N = {N}, {kept}) needs about "
                f"{_fmt_bytes(per_run)} of memory{where}, more than the {_fmt_bytes(avail)} "
                "available; use fewer rounds")
        if chunk_size is not None and chunk_size > fits:
            raise ValueError(
                f"chunk_size: a chunk of {chunk_size} runs of {T} rounds (N = {N}, "
                f"{kept}) needs about {_fmt_bytes(per_run * chunk_size)} of memory"
                f"{where}, more than the {_fmt_bytes(avail)} available; pass chunk_size <= "
                f"{fits}")
        default_chunk = min(default_chunk, fits)
    chunk = chunk_size if chunk_size is not None else default_chunk
    study.update({"chunk_size": chunk, "batch_points": batch_points,
                  "n_chunks": math.ceil(runs / chunk), "runs": runs, "version": _version})

    # ------------------------------------------------------------ what is left to do
    sink_store: Store | MemoryStore
    if st is not None:
        row_bytes = 8 * (len(design.names) + 32) + itemsize * T * len(series_names)
        index = st.open(study, resume=resume, runs=runs,
                        expected_bytes=int(1.5 * row_bytes * runs))
        sink_store = st
        pending = np.flatnonzero(index.pending())
    else:
        sink_store = MemoryStore()
        pending = np.arange(runs)
    points_all = pending // R
    tasks = []
    seed_points = np.zeros_like(points_all) if common_random_numbers else points_all
    start = 0
    while start < pending.size:
        stop = min(start + chunk, pending.size)
        if not batch_points:
            stop = start + int(np.searchsorted(points_all[start:stop], points_all[start],
                                               side="right"))
        sl = slice(start, stop)
        pts = points_all[sl]
        tasks.append(_Task(model, fixed, design.names, design.types,
                           tuple(c[pts] for c in design.columns), pts, pending[sl] % R,
                           seed_points[sl], pending[sl], T, entropy, prefix, engine,
                           series_names, series_dtype))
        start = stop

    bar = None
    old_term = None
    runner: _Runner | None = None
    try:
        if progress and tasks:
            from tqdm.auto import tqdm
            bar = tqdm(total=runs, initial=runs - pending.size, unit="run",
                       desc=study["name"], leave=False)

        def sink(result: dict[str, Any]) -> None:
            sink_store.write(result["columns"], result["elements"], result["failed"],
                             result["errors"])
            if bar is not None:
                bar.update(int(result["elements"].size))

        if tasks:
            if threading.current_thread() is threading.main_thread() \
                    and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                def on_term(signum: int, frame: Any) -> None:
                    raise _Terminated(signum)
                old_term = signal.signal(signal.SIGTERM, on_term)
            if kind == "in-process":
                exe: cf.Executor = ex.InProcess()
                own = False
            elif kind == "processes":
                exe, own = ex.own_pool(workers), True
            else:
                exe, own = executor, False  # type: ignore[assignment]
            runner = _Runner(exe, own=own, workers=workers, engine=engine, timeout=timeout,
                             sink=sink)
            try:
                runner.run(tasks)
            except KeyboardInterrupt as exc:
                runner.interrupt()
                signum = getattr(exc, "signum", signal.SIGINT)
                if st is None:
                    raise SweepInterrupted(None, 0, 0, runs, signum) from None
                idx = st.index(runs, verify=False)
                raise SweepInterrupted(str(st.root), len(idx.live), idx.runs_done, runs,
                                       signum) from None
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        if bar is not None:
            bar.close()
        if runner is not None:
            runner.close()
        if st is not None:
            st.close()
    return SweepResult(study, sink_store)

