"""Designs: the points of a sweep, one typed column per swept parameter.

A column keeps the type of its values: integers stay integers (a number of places, of
organisations), reals stay reals, strings stay strings (a governance regime, a network family)
and booleans stay booleans. The type decides how a point reaches the model factory: reals of
several points may share one engine batch as arrays over replicates; integers, booleans and
strings are structural, so points that differ in them never share a batch.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..._optional import require

__all__ = ["TYPES", "Design"]

#: Column types, and the numpy dtype each is held in.
TYPES = {"float": np.dtype(np.float64), "int": np.dtype(np.int64), "bool": np.dtype(bool),
         "str": np.dtype(object)}


def _kind_of(value: Any) -> str | None:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, str):
        return "str"
    return None


def _column(name: str, values: Any) -> tuple[str, np.ndarray]:
    """One typed column from the values of parameter ``name``."""
    if isinstance(values, np.ndarray | np.generic):
        arr = np.asarray(values)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        items = arr.tolist() if arr.dtype.kind not in "fiub" else None
    elif isinstance(values, str | numbers.Number):
        arr, items = None, [values]
    else:
        try:
            items = list(values)
        except TypeError:
            raise ValueError(f"design: the values of {name!r} must be a list of numbers or "
                             f"strings, got {values!r}") from None
        arr = None
        if any(isinstance(v, list | tuple | np.ndarray) for v in items):
            raise ValueError(f"design: the values of {name!r} must be a flat list, got "
                             f"{values!r}")
    if (arr is not None and arr.ndim != 1) or (arr.size if items is None else len(items)) == 0:
        raise ValueError(f"design: the values of {name!r} must be a non-empty list of numbers "
                         f"or strings, got {values!r}")
    if items is None:
        kinds = {"float" if arr.dtype.kind == "f" else
                 "bool" if arr.dtype.kind == "b" else "int"}
    else:
        kinds = set()
        for v in items:
            k = _kind_of(v)
            if k is None:
                raise ValueError(f"design: the values of {name!r} must be numbers, strings or "
                                 f"booleans; {v!r} is a {type(v).__name__}")
            kinds.add(k)
        arr = np.array(items, dtype=object)
    if kinds == {"int", "float"}:
        kinds = {"float"}
    if len(kinds) != 1:
        raise ValueError(f"design: the values of {name!r} mix {' and '.join(sorted(kinds))}; "
                         "a parameter's values must all be numbers, all strings or all "
                         "booleans")
    kind = kinds.pop()
    if kind == "str":
        col = np.array([str(v) for v in arr.tolist()], dtype=object)
    elif kind == "int":
        try:
            col = np.array([int(v) for v in arr.tolist()], dtype=np.int64)
        except OverflowError as exc:
            raise ValueError(f"design: the values of {name!r} must fit in 64-bit integers") \
                from exc
    else:
        col = arr.astype(TYPES[kind])
    if kind == "float" and not np.all(np.isfinite(col)):
        raise ValueError(f"design: the values of {name!r} must be finite numbers")
    return kind, col


def _scalar(kind: str, value: Any) -> Any:
    return {"float": float, "int": int, "bool": bool, "str": str}[kind](value)


class Design:
    """The points of a sweep: a table of parameter values, one row per point.

    Build one with :meth:`grid` (every combination), :meth:`from_points` (an explicit list),
    :meth:`sample` (a quasi-random sample from ``scipy.stats.qmc``) or :meth:`saltelli`.

    Parameters
    ----------
    names : sequence of str
        The swept parameters, in order.
    values : array of shape (P, k), or a sequence of k columns of length P
        The value of each parameter at each point. Each column keeps its type: ``int``,
        ``float``, ``bool`` or ``str`` (integers mixed with reals make reals).
    kind : str
        How the design was made ("grid", "points", "sample", "saltelli").
    info : dict, optional
        What :meth:`SweepResult.sobol` and the store need to know about how it was made.
    """

    __slots__ = ("columns", "info", "kind", "names", "types")

    def __init__(self, names: Sequence[str], values: Any, kind: str = "points",
                 info: Mapping[str, Any] | None = None) -> None:
        names = tuple(names)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"design: names must be a non-empty list of parameter names, "
                             f"got {names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"design: parameter names repeat: {names}")
        if isinstance(values, np.ndarray):
            if values.ndim != 2 or values.shape[1] != len(names):
                raise ValueError(f"design: values must have shape (points, {len(names)}), "
                                 f"got {values.shape}")
            raw = [values[:, k] for k in range(len(names))]
        else:
            raw = list(values)
            if len(raw) != len(names):
                raise ValueError(f"design: give one column of values per name ({len(names)}), "
                                 f"got {len(raw)}")
        typed = [_column(n, c) for n, c in zip(names, raw, strict=True)]
        sizes = {c.size for _, c in typed}
        if len(sizes) != 1:
            raise ValueError("design: every parameter needs one value per point")
        if sizes.pop() == 0:
            raise ValueError("design: a design needs at least one point")
        self.names: tuple[str, ...] = names
        self.types: tuple[str, ...] = tuple(k for k, _ in typed)
        self.columns: tuple[np.ndarray, ...] = tuple(c for _, c in typed)
        for c in self.columns:
            c.setflags(write=False)
        self.kind = str(kind)
        self.info: dict[str, Any] = dict(info or {})

    # ------------------------------------------------------------------ builders
    @classmethod
    def grid(cls, **axes: Sequence[Any]) -> Design:
        """Every combination of the given values (the last parameter varies fastest).

        ``Design.grid(places=[2, 3], governance=["self", "central"], fine=[0.0, 0.5])`` keeps
        ``places`` integer, ``governance`` a string and ``fine`` real.

        Parameters
        ----------
        **axes : sequence
            For each parameter, the values it takes (numbers, strings or booleans, all of one
            type; integers mixed with reals make reals).

        Returns
        -------
        Design
            A design of kind "grid" with the product of the lengths as its number of points.

        Raises
        ------
        ValueError
            With no parameter, or values that are empty, nested or of mixed types.
        """
        if not axes:
            raise ValueError("design: a grid needs at least one parameter, e.g. "
                             "Design.grid(fine=[0.0, 1.0])")
        names = tuple(axes)
        typed = [_column(n, v) for n, v in axes.items()]
        idx = [np.arange(c.size) for _, c in typed]
        combos = np.array(list(itertools.product(*idx)), dtype=np.int64).reshape(-1, len(idx))
        cols = [c[combos[:, k]] for k, (_, c) in enumerate(typed)]
        info = {"axes": {n: [_scalar(k, v) for v in c]
                         for n, (k, c) in zip(names, typed, strict=True)}}
        return cls(names, cols, "grid", info)

    @classmethod
    def from_points(cls, points: Sequence[Mapping[str, Any]]) -> Design:
        """An explicit list of points, each a mapping from parameter name to value.

        Parameters
        ----------
        points : sequence of mapping
            The points, ``[{"fine": 0.5, "places": 2}, ...]``; every point names the same
            parameters in the same order.

        Returns
        -------
        Design
            A design of kind "points", one row per point, in order.

        Raises
        ------
        ValueError
            With no point, a point that is not a mapping, or points naming different
            parameters.
        """
        points = list(points)
        if not points:
            raise ValueError("design: a design needs at least one point")
        if not all(isinstance(p, Mapping) for p in points):
            raise ValueError("design: every point must be a mapping {parameter: value}")
        names = tuple(points[0])
        for p in points:
            if tuple(p) != names:
                raise ValueError("design: every point must name the same parameters, in order")
        return cls(names, [[p[n] for p in points] for n in names], "points")

    @classmethod
    def sample(cls, bounds: Mapping[str, tuple[float, float]], n: int, *,
               method: str = "sobol", seed: int = 0) -> Design:
        r"""``n`` points from a scrambled Sobol', Halton or Latin-hypercube sample (scipy.qmc).

        The unit sample of ``scipy.stats.qmc`` (Sobol' 1967; Halton 1960; McKay, Beckman &
        Conover 1979) scaled linearly to the bounds: :math:`v = lo + u\, (hi - lo)`.

        Parameters
        ----------
        bounds : mapping of str to (float, float)
            The (low, high) range of each real parameter, low < high.
        n : int
            The number of points (a power of 2 keeps a Sobol' sample balanced).
        method : {"sobol", "halton", "lhs"}, default "sobol"
            The sampler.
        seed : int, default 0
            The seed of the sampler's scrambling.

        Returns
        -------
        Design
            A design of kind "sample" with ``n`` real-valued points.

        Raises
        ------
        ValueError
            With no bounds, a bound with low >= high, n < 1 or an unknown method.
        """
        from scipy.stats import qmc

        from ..._validation import check_integer
        names = tuple(bounds)
        if not names:
            raise ValueError("design: a sample needs bounds for at least one parameter")
        n = check_integer("n", n, low=1)
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

        Analyse the sweep with :meth:`SweepResult.sobol`. The sample is SALib's
        (Saltelli 2002; Saltelli et al. 2010): :math:`n (d + 2)` points for d parameters, or
        :math:`n (2d + 2)` with second-order indices.

        Parameters
        ----------
        bounds : mapping of str to (float, float)
            The (low, high) range of each parameter.
        n : int
            The base sample size (a power of 2).
        second_order : bool, default False
            Whether to add the points second-order indices need.
        seed : int, default 0
            The seed of SALib's sampler.

        Returns
        -------
        Design
            A design of kind "saltelli"; its ``info`` keeps the SALib problem for the analysis.

        References
        ----------
        Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
        indices. *Computer Physics Communications* 145, 280-297.

        Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. & Tarantola, S. (2010).
        Variance based sensitivity analysis of model output. *Computer Physics Communications*
        181, 259-270.
        """
        sample = require("SALib.sample.sobol", "sobol", "Design.saltelli")
        problem = {"num_vars": len(bounds), "names": list(bounds),
                   "bounds": [list(map(float, b)) for b in bounds.values()]}
        values = sample.sample(problem, n, calc_second_order=second_order, seed=seed)
        return cls(tuple(bounds), np.asarray(values, float), "saltelli",
                   {"problem": problem, "second_order": second_order, "n": n, "seed": seed})

    # ------------------------------------------------------------------ access
    @property
    def size(self) -> int:
        """Number of points P."""
        return int(self.columns[0].size)

    @property
    def values(self) -> np.ndarray:
        """The table (P, k): int64 when every column is integer, float64 when every column is
        numeric, else an object array."""
        if all(t == "int" for t in self.types):
            return np.column_stack(self.columns).astype(np.int64)
        if all(t in ("int", "float") for t in self.types):
            return np.column_stack(self.columns).astype(np.float64)
        return np.column_stack([c.astype(object) for c in self.columns])

    def column(self, name: str) -> np.ndarray:
        """The values of parameter ``name`` at every point (read-only).

        Parameters
        ----------
        name : str
            A swept parameter.

        Returns
        -------
        ndarray, shape (P,)
            Its values, in the column's dtype (float64, int64, bool or object for strings).

        Raises
        ------
        KeyError
            If ``name`` is not swept.
        """
        try:
            return self.columns[self.names.index(name)]
        except ValueError:
            raise KeyError(f"design: no parameter {name!r}; it has {list(self.names)}") \
                from None

    def point(self, i: int) -> dict[str, Any]:
        """Point i as a dict of Python scalars (int, float, bool or str).

        Parameters
        ----------
        i : int
            The point's index, in 0..P-1.

        Returns
        -------
        dict of str to scalar
            Each parameter's value at that point.
        """
        return {n: _scalar(t, c[i])
                for n, t, c in zip(self.names, self.types, self.columns, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (types kept).

        Returns
        -------
        dict
            ``names``, ``types``, ``columns`` (lists of Python scalars), ``kind`` and ``info``.
        """
        return {"names": list(self.names), "types": list(self.types),
                "columns": [[_scalar(t, v) for v in c]
                            for t, c in zip(self.types, self.columns, strict=True)],
                "kind": self.kind, "info": self.info}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Design:
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        d : mapping
            A description from :meth:`to_dict` (or an older one with a ``values`` table of
            reals instead of typed ``columns``).

        Returns
        -------
        Design
            The design described.
        """
        if "columns" in d:
            cols = [np.asarray(c, dtype=TYPES[t]) if t != "str" else list(c)
                    for t, c in zip(d["types"], d["columns"], strict=True)]
            return cls(tuple(d["names"]), cols, d.get("kind", "points"),
                       dict(d.get("info", {})))
        return cls(tuple(d["names"]), np.asarray(d["values"], float), d.get("kind", "points"),
                   dict(d.get("info", {})))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Design) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        cols = ", ".join(f"{n}: {t}" for n, t in zip(self.names, self.types, strict=True))
        return f"Design({self.kind}, {self.size} points; {cols})"
