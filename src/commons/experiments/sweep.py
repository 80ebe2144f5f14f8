"""Parameter sweeps: designs, chunked batches on any executor, and a resumable on-disk store.

A sweep runs a model factory at every point of a design, many replicates each. The (point,
replicate) pairs are cut into chunks; each chunk is one engine batch, with the swept parameters
passed to the factory as arrays of shape (R,) and each replicate seeded by
``SeedSequence(entropy, spawn_key=(point, replicate))``, so the numbers do not depend on the
chunk size, the executor, the order in which chunks finish, or on interrupting and resuming.

Chunks run on any :class:`concurrent.futures.Executor` (in-process for small sweeps, a process
pool of our own by default, ``dask.distributed.Client.get_executor(pure=False)``, or
:class:`RayExecutor`), and each finished chunk is written to the store as one Parquet file under
a temporary name and then renamed, so a chunk is either all there or absent: a sweep killed at
any moment resumes with nothing lost, nothing computed twice and nothing half-written.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import inspect
import itertools
import json
import math
import multiprocessing
import os
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require
from .._version import version as _version
from ..results import _mean_ci
from ..sim.streams import resolve_seed

__all__ = ["Design", "RayExecutor", "StoreError", "SweepResult", "open_store", "run_sweep"]

_FORMAT = 1


class StoreError(RuntimeError):
    """A results store that cannot be used as asked (different study, unwritable, corrupt)."""


# ---------------------------------------------------------------------- designs
@dataclass(frozen=True, eq=False)
class Design:
    """The points of a sweep: a table of parameter values, one row per point.

    Build one with :meth:`grid` (every combination), :meth:`from_points` (an explicit list) or
    :meth:`sample` (a quasi-random sample from ``scipy.stats.qmc``).
    """

    names: tuple[str, ...]
    values: np.ndarray  # (P, k)
    kind: str = "points"
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        vals = np.asarray(self.values, dtype=np.float64)
        if vals.ndim != 2 or vals.shape[1] != len(self.names):
            raise ValueError(f"design: values must have shape (points, {len(self.names)})")
        if vals.shape[0] == 0:
            raise ValueError("design: a design needs at least one point")
        if not np.all(np.isfinite(vals)):
            raise ValueError("design: parameter values must be finite numbers")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"design: parameter names repeat: {self.names}")
        object.__setattr__(self, "values", vals)

    @classmethod
    def grid(cls, **axes: Sequence[float]) -> Design:
        """Every combination of the given values (the last parameter varies fastest)."""
        if not axes:
            raise ValueError("design: a grid needs at least one parameter")
        names = tuple(axes)
        lists = []
        for name, vals in axes.items():
            arr = np.atleast_1d(np.asarray(vals, dtype=np.float64))
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"design: grid values of {name!r} must be a non-empty list")
            lists.append(arr)
        values = np.array(list(itertools.product(*lists)), dtype=np.float64)
        return cls(names, values, "grid", {"axes": {n: a.tolist() for n, a in
                                                      zip(names, lists, strict=True)}})

    @classmethod
    def from_points(cls, points: Sequence[Mapping[str, float]]) -> Design:
        """An explicit list of points, each a mapping from parameter name to value."""
        points = list(points)
        if not points:
            raise ValueError("design: a design needs at least one point")
        names = tuple(points[0])
        for p in points:
            if tuple(p) != names:
                raise ValueError("design: every point must name the same parameters, in order")
        return cls(names, np.array([[p[n] for n in names] for p in points], float), "points")

    @classmethod
    def sample(cls, bounds: Mapping[str, tuple[float, float]], n: int, *,
               method: str = "sobol", seed: int = 0) -> Design:
        """``n`` points from a scrambled Sobol', Halton or Latin-hypercube sample (scipy.qmc)."""
        from scipy.stats import qmc
        names = tuple(bounds)
        if not names:
            raise ValueError("design: a sample needs bounds for at least one parameter")
        lo = np.array([bounds[k][0] for k in names], float)
        hi = np.array([bounds[k][1] for k in names], float)
        if np.any(hi <= lo):
            raise ValueError("design: every bound must be (low, high) with low < high")
        engines = {"sobol": qmc.Sobol, "halton": qmc.Halton, "lhs": qmc.LatinHypercube}
        if method not in engines:
            raise ValueError(f"design: method must be one of {sorted(engines)}, got {method!r}")
        unit = engines[method](d=len(names), seed=seed).random(n)
        return cls(names, qmc.scale(unit, lo, hi), "sample",
                   {"method": method, "seed": seed, "bounds": {k: list(bounds[k])
                                                               for k in names}})

    @classmethod
    def saltelli(cls, bounds: Mapping[str, tuple[float, float]], n: int, *,
                 second_order: bool = False, seed: int = 0) -> Design:
        """Saltelli's sample for Sobol' sensitivity indices (SALib), n (d + 2) points.

        Analyse the sweep with :meth:`SweepResult.sobol`.
        """
        sample = require("SALib.sample.sobol", "sobol", "Design.saltelli")
        problem = {"num_vars": len(bounds), "names": list(bounds),
                   "bounds": [list(map(float, b)) for b in bounds.values()]}
        values = sample.sample(problem, n, calc_second_order=second_order, seed=seed)
        return cls(tuple(bounds), values, "saltelli",
                   {"problem": problem, "second_order": second_order, "n": n, "seed": seed})

    @property
    def size(self) -> int:
        """Number of points P."""
        return self.values.shape[0]

    def point(self, i: int) -> dict[str, float]:
        """Point i as a dict."""
        return dict(zip(self.names, self.values[i].tolist(), strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"names": list(self.names), "values": self.values.tolist(), "kind": self.kind,
                "info": self.info}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Design:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(d["names"]), np.asarray(d["values"], float), d.get("kind", "points"),
                   dict(d.get("info", {})))


# ---------------------------------------------------------------------- the work
@dataclass(frozen=True)
class _Task:
    chunk: int
    factory: Any
    fixed: dict[str, Any]
    names: tuple[str, ...]
    values: np.ndarray      # (n, k) parameter values per element
    points: np.ndarray      # (n,)
    replicates: np.ndarray  # (n,)
    seed_points: np.ndarray  # (n,): the point part of each seed (0 with common numbers)
    rounds: int
    entropy: int
    prefix: tuple[int, ...]
    engine: str


def _resolve_factory(factory: Any) -> Callable[..., Any]:
    if isinstance(factory, str):
        from .scenarios import REGISTRY
        return REGISTRY[factory]
    return factory


def _run_batch(task: _Task, rows: np.ndarray) -> dict[str, np.ndarray]:
    make = _resolve_factory(task.factory)
    params = {n: task.values[rows, k] for k, n in enumerate(task.names)}
    if np.unique(task.points[rows]).size == 1:  # one point: scalars suit every factory
        params = {n: float(v[0]) for n, v in params.items()}
    model = make(**task.fixed, **params)
    res = model.run(task.rounds, rng=np.random.SeedSequence(task.entropy,
                                                            spawn_key=task.prefix),
                    point=task.seed_points[rows], replicate_ids=task.replicates[rows],
                    record="final", engine=task.engine)
    out = {k: np.asarray(v, dtype=np.float64) for k, v in res.metrics.items()}
    out["final_stock"] = res.final["stock"]
    return out


def run_chunk(task: _Task) -> dict[str, Any]:
    """Run one chunk; failures are isolated point by point and returned as data."""
    n = task.points.size
    cols: dict[str, Any] = {"point": task.points, "replicate": task.replicates}
    for k, name in enumerate(task.names):
        cols[name] = task.values[:, k]
    errors: list[dict[str, Any]] = []
    try:
        metrics = _run_batch(task, np.arange(n))
    except Exception:  # isolate: run each point alone, record the ones that fail
        metrics = {}
        for p in np.unique(task.points):
            rows = np.flatnonzero(task.points == p)
            try:
                part = _run_batch(task, rows)
            except Exception as exc:
                errors.append({"point": int(p), "replicates": task.replicates[rows].tolist(),
                               "error": f"{type(exc).__name__}: {exc}",
                               "traceback": traceback.format_exc(limit=5)})
                continue
            for k, v in part.items():
                metrics.setdefault(k, np.full(n, np.nan))[rows] = v
    for k, v in metrics.items():
        cols[k] = v
    failed = np.zeros(n, bool)
    for e in errors:
        failed |= task.points == e["point"]
    cols["failed"] = failed
    return {"chunk": task.chunk, "columns": cols, "errors": errors}


# ---------------------------------------------------------------------- executors
class RayExecutor(cf.Executor):
    """A :class:`concurrent.futures.Executor` over Ray tasks (``ray.remote(fn).remote(...)``).

    Uses the Ray cluster the caller initialised (``ray.init(...)``); :meth:`shutdown` leaves it
    running. Each submission becomes a Ray task whose ObjectRef is turned into a standard
    future with ``ObjectRef.future()``.
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


def _quiet_worker() -> None:  # pragma: no cover - runs in worker processes
    try:
        import numba
        numba.set_num_threads(1)  # one process per core: no oversubscription
    except ImportError:
        pass


class _InProcess(cf.Executor):
    """Runs each submission at once, in this process."""

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # delivered through the future; Ctrl-C interrupts at once
            fut.set_exception(exc)
        return fut


# ---------------------------------------------------------------------- the store
def _fingerprint(study: Mapping[str, Any]) -> str:
    keys = ("factory", "fixed", "design", "replicates", "rounds", "entropy", "prefix",
            "chunk_size", "engine", "common_random_numbers")
    blob = json.dumps({k: study[k] for k in keys}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _describe_factory(factory: Any) -> str:
    if isinstance(factory, str):
        return f"scenario:{factory}"
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class _Store:
    """A directory: ``study.json``, ``chunks/*.parquet``, ``errors/*.json``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    @property
    def manifest(self) -> Path:
        return self.root / "study.json"

    def chunk_path(self, k: int) -> Path:
        return self.root / "chunks" / f"chunk-{k:06d}.parquet"

    def prepare(self, study: dict[str, Any], resume: bool) -> set[int]:
        try:
            (self.root / "chunks").mkdir(parents=True, exist_ok=True)
            (self.root / "errors").mkdir(exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise StoreError(f"store {str(self.root)!r} is not writable: {exc}") from exc
        for stale in self.root.rglob(".tmp-*"):  # left by a writer killed mid-write
            stale.unlink(missing_ok=True)
        if self.manifest.exists():
            try:
                old = json.loads(self.manifest.read_text())
            except (OSError, ValueError) as exc:
                raise StoreError(f"store {str(self.root)!r} has an unreadable study.json; "
                                 "use another path") from exc
            if old.get("fingerprint") != study["fingerprint"]:
                raise StoreError(
                    f"store {str(self.root)!r} holds a different study "
                    f"({old.get('name')!r}, fingerprint {old.get('fingerprint')}); "
                    "use another path (the store was left as it is)")
            done = self.done()
            if done and not resume:
                raise StoreError(f"store {str(self.root)!r} already holds {len(done)} chunks "
                                 "of this study; pass resume=True to continue it, or use "
                                 "another path")
            return done
        _write_atomic(self.manifest, lambda p: p.write_text(json.dumps(study, indent=1)))
        return set()

    def done(self) -> set[int]:
        return {int(p.stem.split("-")[1]) for p in (self.root / "chunks").glob("chunk-*.parquet")}

    def write(self, result: dict[str, Any]) -> None:
        pd = require("pandas", "sweep", "the sweep store")
        k = result["chunk"]
        if result["errors"]:
            _write_atomic(self.root / "errors" / f"chunk-{k:06d}.json",
                          lambda p: p.write_text(json.dumps(result["errors"], indent=1)))
        frame = pd.DataFrame(result["columns"])
        _write_atomic(self.chunk_path(k), lambda p: frame.to_parquet(p, index=False))


# ---------------------------------------------------------------------- results
class SweepResult:
    """A finished or partial sweep: per-replicate rows, per-point summaries, the tragedy map.

    Rows live in the store (or in memory for a sweep run without one) and are read on demand.
    """

    def __init__(self, study: dict[str, Any], store: _Store | None = None,
                 chunks: list[dict[str, Any]] | None = None) -> None:
        self.study = study
        self.design = Design.from_dict(study["design"])
        self._store = store
        self._chunks = chunks

    @property
    def n_chunks(self) -> int:
        """Chunks in the study."""
        return int(self.study["n_chunks"])

    @property
    def done(self) -> int:
        """Chunks finished so far."""
        if self._store is not None:
            return len(self._store.done())
        return len(self._chunks or [])

    @property
    def complete(self) -> bool:
        """Whether every chunk has finished."""
        return self.done == self.n_chunks

    def frame(self):
        """All finished rows as a pandas DataFrame sorted by (point, replicate)."""
        pd = require("pandas", "sweep", "SweepResult.frame")
        if self._store is not None:
            files = sorted((self._store.root / "chunks").glob("chunk-*.parquet"))
            parts = [pd.read_parquet(f) for f in files]
        else:
            parts = [pd.DataFrame(c["columns"]) for c in (self._chunks or [])]
        if not parts:
            return pd.DataFrame(columns=["point", "replicate", *self.design.names])
        df = pd.concat(parts, ignore_index=True)
        return df.sort_values(["point", "replicate"]).reset_index(drop=True)

    def errors(self) -> list[dict[str, Any]]:
        """Recorded failures (point, replicates, error)."""
        if self._store is not None:
            out: list[dict[str, Any]] = []
            for f in sorted((self._store.root / "errors").glob("chunk-*.json")):
                out.extend(json.loads(f.read_text()))
            return out
        return [e for c in (self._chunks or []) for e in c["errors"]]

    def summary(self, metrics: Sequence[str] = ("efficiency", "tail_efficiency",
                                                "final_stock_ratio"), level: float = 0.95):
        """Per point: replicates done, P(tragedy avoided) with a Wilson interval, and the mean
        of each metric with a t interval, as a pandas DataFrame."""
        pd = require("pandas", "sweep", "SweepResult.summary")
        from scipy import stats
        df = self.frame()
        rows = []
        ok = ~df["failed"].astype(bool) if "failed" in df else np.ones(len(df), bool)
        for p, g in df[ok].groupby("point"):
            row: dict[str, Any] = {"point": int(p), **self.design.point(int(p)), "n": len(g)}
            avoided = int((g["tragedy"] < 0.5).sum())
            ci = stats.binomtest(avoided, len(g)).proportion_ci(level, method="wilson")
            row.update({"p_avoid": avoided / len(g), "p_avoid_lo": ci.low,
                        "p_avoid_hi": ci.high})
            for m in metrics:
                mean, lo, hi = _mean_ci(g[m].to_numpy(float), level)
                row.update({m: mean, f"{m}_lo": lo, f"{m}_hi": hi})
            rows.append(row)
        return pd.DataFrame(rows)

    def sobol(self, metric: str = "efficiency") -> dict[str, dict[str, float]]:
        r"""Sobol' indices of the per-point mean of ``metric`` (SALib; needs a complete sweep of
        a :meth:`Design.saltelli` design).

        Returns {parameter: {"S1", "S1_conf", "ST", "ST_conf"}}: first-order and total
        effects (Saltelli 2002; Jansen 1999 estimators as in SALib). Run the sweep with
        ``common_random_numbers=True``, or replicate noise is attributed to the parameters.
        """
        if self.design.kind != "saltelli":
            raise ValueError("sobol: the sweep's design must come from Design.saltelli")
        if not self.complete:
            raise ValueError("sobol: the sweep is not complete")
        analyze = require("SALib.analyze.sobol", "sobol", "SweepResult.sobol")
        means = self.frame().groupby("point")[metric].mean().reindex(range(self.design.size))
        if means.isna().any():
            raise ValueError(f"sobol: {int(means.isna().sum())} points have no {metric}")
        info = self.design.info
        si = analyze.analyze(info["problem"], means.to_numpy(float),
                             calc_second_order=info["second_order"], seed=info["seed"])
        return {name: {"S1": float(si["S1"][k]), "S1_conf": float(si["S1_conf"][k]),
                       "ST": float(si["ST"][k]), "ST_conf": float(si["ST_conf"][k])}
                for k, name in enumerate(self.design.names)}

    def tragedy_map(self, x: str, y: str, *, ax=None, path: str | os.PathLike | None = None,
                    predictions: Sequence[tuple[str, str, float]] = (), title: str | None = None):
        """Phase diagram of P(tragedy avoided) over two swept parameters (matplotlib).

        ``predictions``: lines (label, "x" or "y", value) drawn on the map, e.g. the deterrence
        threshold where theory gives one. Saves to ``path`` when given; returns the figure.
        """
        from ..plotting import tragedy_map
        return tragedy_map(self.summary(), x, y, ax=ax, path=path, predictions=predictions,
                           title=title or self.study.get("name"))

    def __repr__(self) -> str:
        return (f"SweepResult({self.study.get('name')!r}, points={self.design.size}, "
                f"replicates={self.study['replicates']}, chunks {self.done}/{self.n_chunks})")


def open_store(path: str | os.PathLike) -> SweepResult:
    """Open a sweep store (finished or partial) for reading."""
    store = _Store(path)
    if not store.manifest.exists():
        raise StoreError(f"{str(path)!r} is not a commons sweep store (no study.json)")
    try:
        study = json.loads(store.manifest.read_text())
    except (OSError, ValueError) as exc:
        raise StoreError(f"{str(path)!r}: unreadable study.json") from exc
    return SweepResult(study, store)


# ---------------------------------------------------------------------- the sweep
def _check_params(factory: Any, names: Sequence[str], fixed: Mapping[str, Any]) -> None:
    make = _resolve_factory(factory)
    try:
        sig = inspect.signature(make)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    known = {n for n, p in sig.parameters.items()
             if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    unknown = [n for n in (*names, *fixed) if n not in known]
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {_describe_factory(factory)}; "
                         f"it accepts {sorted(known)}")


def _uses_kernel(model: Any, fixed: Mapping[str, Any], design: Design, engine: str) -> bool:
    """Whether the model at the first design point runs on the compiled (parallel) kernel."""
    if engine == "numpy":
        return False
    from ..sim import _kernel
    try:
        return _kernel.supports(_resolve_factory(model)(**fixed, **design.point(0)))
    except Exception:  # a factory failing here fails again, recorded, in its chunk
        return False


def run_sweep(model: Any, design: Design, *, replicates: int, rounds: int, rng: Any = None,
              executor: cf.Executor | None = None, store: str | os.PathLike | None = None,
              resume: bool = True, progress: bool = True, chunk_size: int | None = None,
              batch_points: bool = True, fixed: Mapping[str, Any] | None = None,
              engine: str = "auto", name: str | None = None,
              common_random_numbers: bool = False) -> SweepResult:
    r"""Run ``model`` at every point of ``design``, ``replicates`` times each.

    Parameters
    ----------
    model : str or callable
        A scenario name of :data:`commons.scenarios.REGISTRY` (e.g. ``"ics"``) or a factory
        ``f(**params) -> Model`` that accepts the swept parameters as arrays of shape (R,)
        (every scalar model parameter may be one); it must be picklable for process pools
        (a module-level function).
    design : Design
    replicates, rounds : int
    rng : None, int, SeedSequence or Generator
        Entropy of the study; element (p, r) is seeded by SeedSequence(entropy,
        spawn_key=(p, r)).
    executor : concurrent.futures.Executor, optional
        Where chunks run; never shut down here. Default: in-process when the sweep is small or
        the model runs on the compiled kernel (which already uses every core), else a process
        pool of our own (one worker per core, spawn context).
    store : path, optional
        Directory of the results store. Without one, results stay in memory.
    resume : bool
        Continue a store of the same study, skipping finished chunks.
    progress : bool
        Show a progress bar (tqdm).
    chunk_size : int, optional
        (point, replicate) pairs per task (default: about four tasks per worker, at most 2000).
    batch_points : bool
        Whether a chunk may mix points (the factory must then accept array parameters).
    fixed : mapping, optional
        Further keyword arguments for the factory, the same at every point.
    engine : {"auto", "numba", "numpy"}
        Passed to :func:`commons.simulate`.
    common_random_numbers : bool
        Seed element (p, r) with spawn key (0, r), so every point sees the same random
        numbers (a variance reduction for comparisons and sensitivity indices); default: each
        point its own, spawn key (p, r).
    """
    from .._validation import check_integer
    if not isinstance(design, Design):
        raise TypeError(f"design must be a commons.sweep.Design, got {type(design).__name__}")
    if isinstance(model, str):
        from .scenarios import REGISTRY
        if model not in REGISTRY:
            raise ValueError(f"unknown scenario {model!r}; known: {sorted(REGISTRY)}")
    elif not callable(model):
        raise TypeError("model must be a scenario name or a factory returning a commons.Model")
    R = check_integer("replicates", replicates, low=1)
    T = check_integer("rounds", rounds, low=1)
    fixed = dict(fixed or {})
    _check_params(model, design.names, fixed)
    entropy, prefix = resolve_seed(rng)
    P = design.size
    total = P * R
    workers = os.cpu_count() or 1
    if chunk_size is None:
        chunk_size = max(1, min(2000, math.ceil(total / (4 * workers))))
    chunk_size = check_integer("chunk_size", chunk_size, low=1)

    points = np.repeat(np.arange(P), R)
    reps = np.tile(np.arange(R), P)
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < total:
        stop = min(start + chunk_size, total)
        if not batch_points:
            stop = min(stop, (points[start] + 1) * R)
        bounds.append((start, stop))
        start = stop

    study = {"format": _FORMAT, "name": name or _describe_factory(model),
             "factory": _describe_factory(model), "fixed": fixed, "design": design.to_dict(),
             "replicates": R, "rounds": T, "entropy": str(entropy), "prefix": list(prefix),
             "chunk_size": chunk_size, "batch_points": batch_points, "engine": engine,
             "common_random_numbers": bool(common_random_numbers),
             "n_chunks": len(bounds), "version": _version}
    study["fingerprint"] = _fingerprint(study)
    st = _Store(store) if store is not None else None
    done = st.prepare(study, resume) if st is not None else set()
    chunks_mem: list[dict[str, Any]] = []

    seed_points = np.zeros_like(points) if common_random_numbers else points
    tasks = [_Task(k, model, fixed, design.names, design.values[points[a:b]], points[a:b],
                   reps[a:b], seed_points[a:b], T, entropy, prefix, engine)
             for k, (a, b) in enumerate(bounds) if k not in done]
    own = None
    if executor is None:
        work = total * T
        if len(tasks) <= 1 or work < 2_000_000 or workers == 1 \
                or _uses_kernel(model, fixed, design, engine):
            executor = _InProcess()
        else:
            own = cf.ProcessPoolExecutor(max_workers=workers, initializer=_quiet_worker,
                                         mp_context=multiprocessing.get_context("spawn"))
            executor = own
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, initial=sum(b - a for k, (a, b) in enumerate(bounds)
                                            if k in done),
                   unit="run", desc=study["name"], leave=False)
    futures: list[cf.Future] = []
    try:
        futures = [executor.submit(run_chunk, t) for t in tasks]
        for fut in cf.as_completed(futures):
            result = fut.result()
            if st is not None:
                st.write(result)
            else:
                chunks_mem.append(result)
            if bar is not None:
                bar.update(len(result["columns"]["point"]))
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)
    return SweepResult(study, st, None if st is not None else chunks_mem)
