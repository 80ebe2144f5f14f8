"""The work of a sweep: a chunk of (point, replicate) runs, run as few engine batches.

A chunk is a set of runs, numbered ``point * replicates + replicate``. Its rows are grouped by
the values of the integer, boolean and string parameters (structural: they never vary inside
a batch); each group is one engine batch, with the real parameters passed to the factory as
arrays over replicates (scalars when the group holds one point). Run (p, r) is seeded by
``SeedSequence(entropy, spawn_key=(*prefix, p, r))`` whatever batch it falls in. A point whose
model raises is run alone, and recorded (as data) when it fails again; the others go on.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .design import _scalar

__all__ = ["SERIES_PREFIX", "run_chunk"]

#: Chunk columns holding a per-round series are named ``series.<name>``: fixed-size lists of
#: ``rounds`` values, one per run.
SERIES_PREFIX = "series."


@dataclass(frozen=True)
class _Task:
    factory: Any
    fixed: dict[str, Any]
    names: tuple[str, ...]
    types: tuple[str, ...]
    values: tuple[np.ndarray, ...]  # per run
    points: np.ndarray
    replicates: np.ndarray
    seed_points: np.ndarray  # the point part of each seed (0 with common random numbers)
    elements: np.ndarray  # flat run indices, sorted
    rounds: int
    entropy: int
    prefix: tuple[int, ...]
    engine: str
    series: tuple[str, ...] = ()
    series_dtype: str = "float64"

    @property
    def n_points(self) -> int:
        return int(np.unique(self.points).size)

    def subset(self, rows: np.ndarray) -> _Task:
        return replace(self, values=tuple(v[rows] for v in self.values),
                       points=self.points[rows], replicates=self.replicates[rows],
                       seed_points=self.seed_points[rows], elements=self.elements[rows])

    def by_point(self) -> list[_Task]:
        return [self.subset(np.flatnonzero(self.points == p)) for p in np.unique(self.points)]


def _resolve_factory(factory: Any) -> Callable[..., Any]:
    if isinstance(factory, str):
        from ..scenarios import REGISTRY
        return REGISTRY[factory]
    return factory


def _describe_factory(factory: Any) -> str:
    if isinstance(factory, str):
        return f"scenario:{factory}"
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"


def _groups(task: _Task) -> list[np.ndarray]:
    """Rows that may share an engine batch: same integer, boolean and string parameters."""
    struct = [k for k, t in enumerate(task.types) if t != "float"]
    if not struct:
        return [np.arange(task.points.size)]
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(*(task.values[k].tolist() for k in struct), strict=True)):
        groups.setdefault(key, []).append(i)
    return [np.array(g) for g in groups.values()]


def _run_batch(task: _Task, rows: np.ndarray) -> dict[str, np.ndarray]:
    make = _resolve_factory(task.factory)
    one = np.unique(task.points[rows]).size == 1
    params = {}
    for name, kind, col in zip(task.names, task.types, task.values, strict=True):
        if kind == "float" and not one:
            params[name] = col[rows]
        else:  # one point, or a structural parameter (the same at every row of the group)
            params[name] = _scalar(kind, col[rows[0]])
    model = make(**task.fixed, **params)
    res = model.run(task.rounds, rng=np.random.SeedSequence(task.entropy,
                                                            spawn_key=task.prefix),
                    point=task.seed_points[rows], replicate_ids=task.replicates[rows],
                    record="summary" if task.series else "final", engine=task.engine)
    out = {k: np.asarray(v, dtype=np.float64) for k, v in res.metrics.items()}
    out["final_stock"] = np.asarray(res.final["stock"], dtype=np.float64)
    for name in task.series:
        out[SERIES_PREFIX + name] = np.asarray(res.series[name], dtype=np.float64)
    return out


def _point_params(task: _Task, row: int) -> dict[str, Any]:
    return {n: _scalar(k, c[row])
            for n, k, c in zip(task.names, task.types, task.values, strict=True)}


def _error(task: _Task, rows: np.ndarray, error: str, trace: str) -> dict[str, Any]:
    return {"point": int(task.points[rows[0]]), "params": _point_params(task, int(rows[0])),
            "replicates": task.replicates[rows].tolist(), "error": error, "traceback": trace}


def _columns(task: _Task) -> dict[str, Any]:
    cols: dict[str, Any] = {"point": task.points.astype(np.int64),
                            "replicate": task.replicates.astype(np.int64)}
    for name, col in zip(task.names, task.values, strict=True):
        cols[name] = col
    return cols


def _series_columns(task: _Task, values: dict[str, np.ndarray]) -> dict[str, Any]:
    """The chunk's series as fixed-size list columns of ``task.series_dtype`` (NaN for the
    runs that failed)."""
    import pyarrow as pa
    n, T = task.points.size, task.rounds
    out = {}
    for name in task.series:
        key = SERIES_PREFIX + name
        arr = values.get(key)
        if arr is None:
            arr = np.full((n, T), np.nan)
        flat = pa.array(np.ascontiguousarray(arr, dtype=task.series_dtype).reshape(-1))
        out[key] = pa.FixedSizeListArray.from_arrays(flat, T)
    return out


def warm_model(task: _Task) -> None:
    """Build the model of the task's first run and run it for one round with one replicate:
    its compiled kernel is loaded (or compiled) before any point is timed."""
    make = _resolve_factory(task.factory)
    params = {name: _scalar(kind, col[0])
              for name, kind, col in zip(task.names, task.types, task.values, strict=True)}
    model = make(**task.fixed, **params)
    model.run(1, rng=0, engine=task.engine)


def run_chunk(task: _Task) -> dict[str, Any]:
    """Run one chunk; a point whose model raises is recorded (as data) and the rest go on."""
    n = task.points.size
    metrics: dict[str, np.ndarray] = {}
    failed = np.zeros(n, dtype=bool)
    errors: list[dict[str, Any]] = []

    def put(part: dict[str, np.ndarray], rows: np.ndarray) -> None:
        for k, v in part.items():
            shape = (n, task.rounds) if k.startswith(SERIES_PREFIX) else (n,)
            metrics.setdefault(k, np.full(shape, np.nan))[rows] = v

    for group in _groups(task):
        try:
            put(_run_batch(task, group), group)
            continue
        except Exception as exc:
            if np.unique(task.points[group]).size == 1:
                errors.append(_error(task, group, f"{type(exc).__name__}: {exc}",
                                     traceback.format_exc(limit=5)))
                failed[group] = True
                continue
        for p in np.unique(task.points[group]):  # isolate: each point alone
            rows = group[task.points[group] == p]
            try:
                put(_run_batch(task, rows), rows)
            except Exception as exc:
                errors.append(_error(task, rows, f"{type(exc).__name__}: {exc}",
                                     traceback.format_exc(limit=5)))
                failed[rows] = True
    cols = _columns(task)
    cols.update({k: v for k, v in metrics.items() if not k.startswith(SERIES_PREFIX)})
    cols["failed"] = failed
    cols.update(_series_columns(task, metrics))
    return {"elements": task.elements, "columns": cols, "failed": failed, "errors": errors}


def _lost(task: _Task, cause: str) -> dict[str, Any]:
    """The result of a point whose run was lost (worker died, timed out): all failed."""
    n = task.points.size
    cols = _columns(task)
    cols["failed"] = np.ones(n, dtype=bool)
    cols.update(_series_columns(task, {}))
    errors = [_error(t, np.arange(t.points.size), cause, "") for t in task.by_point()]
    return {"elements": task.elements, "columns": cols, "failed": np.ones(n, dtype=bool),
            "errors": errors}
