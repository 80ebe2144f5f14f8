"""A finished or partial sweep, read from its store (or from memory)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..._optional import require
from .design import Design
from .store import FORMAT, Index, MemoryStore, Store, StoreError

__all__ = ["SweepResult", "open_store"]


class SweepResult:
    """A finished or partial sweep: per-replicate rows, per-point summaries, the tragedy map.

    Rows live in the store (or in memory for a sweep run without one) and are read on demand,
    so a result opened while its sweep runs sees every chunk stored so far. Get one from
    ``run_sweep`` or :func:`open_store` rather than building it.

    Parameters
    ----------
    study : dict
        The study's description (``study.json``).
    source : Store or MemoryStore
        Where its rows are read from.

    Attributes
    ----------
    study : dict
        What the study is (model, fixed arguments, design, replicates, rounds, seed entropy,
        fingerprint), as recorded in ``study.json``.
    design : Design
        The points of the sweep, rebuilt from ``study["design"]``.
    """

    def __init__(self, study: dict[str, Any], source: Store | MemoryStore) -> None:
        self.study = study
        self.design = Design.from_dict(study["design"])
        self._source = source
        self._cached: tuple[Any, Index] | None = None

    # ------------------------------------------------------------------ progress
    @property
    def replicates(self) -> int:
        """Replicates per point R."""
        return int(self.study["replicates"])

    @property
    def runs(self) -> int:
        """(point, replicate) runs in the study, P R."""
        return self.design.size * self.replicates

    def _index(self, verify: bool = False) -> Index:
        """Which chunk holds each run; remade when the manifest changes (or to verify)."""
        key = self._source.version()
        if verify or self._cached is None or self._cached[0] != key:
            self._cached = (key, self._source.index(self.runs, verify=verify))
        return self._cached[1]

    @property
    def n_chunks(self) -> int:
        """Chunks the study was cut into when it was first run."""
        return int(self.study["n_chunks"])

    @property
    def done(self) -> int:
        """Chunks stored that still hold runs of the study."""
        return len(self._index().live)

    @property
    def runs_done(self) -> int:
        """Runs stored (with their rows or a recorded failure)."""
        return self._index().runs_done

    @property
    def complete(self) -> bool:
        """Whether every run has its rows or a recorded failure."""
        return self.runs_done == self.runs

    @property
    def failed_points(self) -> list[int]:
        """Points with at least one failed run (run the study again to retry them)."""
        idx = self._index()
        return np.unique(np.flatnonzero(idx.failed) // self.replicates).tolist()

    @property
    def n_failed(self) -> int:
        """How many points failed."""
        return len(self.failed_points)

    # ------------------------------------------------------------------ rows
    def frame(self):
        """All stored rows as a pandas DataFrame sorted by (point, replicate).

        Columns: ``point``, ``replicate``, the swept parameters (with their types), the
        metrics, and ``failed`` (the metrics of a failed run are NaN). A chunk whose file is
        missing or damaged is left out, with a warning.

        Returns
        -------
        pandas.DataFrame
            One row per stored run, shape (runs stored, 2 + k + metrics + 1).
        """
        pd = require("pandas", "sweep", "SweepResult.frame")
        import pyarrow as pa
        idx, tables = self._tables(series=False)
        return self._assemble(idx, tables, pd, pa, self.replicates)

    def _tables(self, series: bool) -> tuple[Index, list[Any]]:
        """The live chunks' tables, each with a ``_k`` column (its entry), and the index they
        were read with (verified again when a file turns out altered)."""
        import pyarrow as pa
        idx = self._index()
        for attempt in range(2):
            tables = []
            for k in idx.live:
                table = self._source.table(idx.entries[k], series=series)
                if table is None:
                    if attempt == 0:  # altered though its size is right: index, verified
                        break
                    continue
                tables.append(table.append_column("_k", pa.array(np.full(table.num_rows, k))))
            else:
                break
            idx = self._index(verify=True)
        self._warn(idx, stacklevel=4)
        return idx, tables

    def _warn(self, idx: Index, stacklevel: int = 3) -> None:
        if idx.damaged:
            warnings.warn(f"store {str(getattr(self._source, 'root', ''))!r}: "
                          f"{len(idx.damaged)} chunk file(s) are missing or damaged "
                          f"({', '.join(idx.damaged[:3])}); their runs are left out: run the "
                          "study again to compute them", RuntimeWarning, stacklevel=stacklevel)

    def _assemble(self, idx: Index, tables: list[Any], pd: Any, pa: Any, R: int):
        names = list(self.design.names)
        if not tables:
            return pd.DataFrame({"point": pd.Series(dtype="int64"),
                                 "replicate": pd.Series(dtype="int64"),
                                 **{n: pd.Series(dtype=object) for n in names},
                                 "failed": pd.Series(dtype=bool)})
        df = pa.concat_tables(tables, promote_options="default").to_pandas()
        el = df["point"].to_numpy(np.int64) * R + df["replicate"].to_numpy(np.int64)
        df = df[idx.owner[el] == df["_k"].to_numpy()]
        front = ["point", "replicate", *names]
        rest = [c for c in df.columns if c not in (*front, "failed", "_k")]
        df = df[[*front, *rest, "failed"]]
        df = df.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
        df["failed"] = df["failed"].astype(bool)
        return df

    def errors(self) -> list[dict[str, Any]]:
        """Recorded failures of runs not since computed again.

        Returns
        -------
        list of dict
            One per recorded failure, sorted by point (failures not tied to a point last):
            ``point``, ``params``, ``replicates``, ``error`` (the cause) and ``traceback``.
        """
        R = self.replicates
        idx = self._index()
        out = []
        for k in idx.live:
            entry = idx.entries[k]
            if not entry.failed:
                continue
            for rec in self._source.read_errors(entry):
                if rec.get("point") is None:
                    out.append(rec)
                    continue
                el = int(rec["point"]) * R + np.asarray(rec["replicates"], dtype=np.int64)
                if el.size and np.all(idx.owner[el] == k) and np.all(idx.failed[el]):
                    out.append(rec)
        return sorted(out, key=lambda r: (r.get("point") is None, r.get("point") or 0))

    def summary(self, metrics: Sequence[str] = ("efficiency", "tail_efficiency",
                                                "final_stock_ratio"), level: float = 0.95):
        r"""Per point: runs done (``n``), P(tragedy avoided) with a Wilson interval, and
        the mean of each metric with a t interval, as a pandas DataFrame.

        One row per point with stored runs; columns ``point``, the swept parameters, ``n``,
        then ``<name>_mean``, ``<name>_low``, ``<name>_high`` for ``p_avoid`` (the share of
        runs that avoided tragedy) and for each of ``metrics``, and ``<metric>_n``, the finite
        values the metric's interval is made from (an infinite ``time_to_collapse`` is left
        out). ``summary().filter(like="efficiency_")`` picks one metric's columns.

        Wilson (1927), as ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``: with
        :math:`z = \Phi^{-1}((1 + \text{level}) / 2)`, :math:`\hat p = k / n`, the interval is
        :math:`\frac{2 n \hat p + z^2 \pm z \sqrt{4 n \hat p (1 - \hat p) + z^2}}{2 (n + z^2)}`
        (0 at k = 0, 1 at k = n). The metric interval is :math:`\bar x \pm t_{n-1} s /
        \sqrt{n}` over the finite values. Computed for every point at once (a store of
        100,000 points summarises in about a second). Failed runs are left out.

        .. versionchanged:: 0.2
           Columns ``<name>_mean``, ``<name>_low``, ``<name>_high`` (were ``<name>``,
           ``<name>_lo``, ``<name>_hi``) and ``<metric>_n``.

        Parameters
        ----------
        metrics : sequence of str, default ("efficiency", "tail_efficiency", "final_stock_ratio")
            The metrics to summarise (columns of :meth:`frame`).
        level : float, default 0.95
            The confidence level of both intervals, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            One row per point with stored runs, the columns above (empty, with those columns,
            when no run succeeded).

        Raises
        ------
        ValueError
            For a level outside (0, 1) or a metric the rows do not hold.

        References
        ----------
        Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
        inference. *Journal of the American Statistical Association* 22, 209-212.
        """
        pd = require("pandas", "sweep", "SweepResult.summary")
        from scipy import special
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        metrics = list(metrics)
        df = self.frame()
        df = df[~df["failed"].to_numpy(bool)]
        names = list(self.design.names)
        cols = ["point", *names, "n", "p_avoid_mean", "p_avoid_low", "p_avoid_high",
                *[f"{m}_{s}" for m in metrics for s in ("mean", "low", "high", "n")]]
        if df.empty:
            return pd.DataFrame({c: [] for c in cols})
        missing = [m for m in (*metrics, "tragedy") if m not in df.columns]
        if missing:
            have = sorted(set(df.columns) - {"point", "replicate", "failed", *names})
            raise ValueError(f"metrics: no {missing} in the rows; they hold {have}")
        uniq, inv, n = np.unique(df["point"].to_numpy(np.int64), return_inverse=True,
                                 return_counts=True)
        out: dict[str, Any] = {"point": uniq}
        for name in names:
            out[name] = self.design.column(name)[uniq]
        k = np.bincount(inv, weights=(df["tragedy"].to_numpy(float) < 0.5)).round()
        z = special.ndtri(0.5 + level / 2)
        p = k / n
        denom = 2 * (n + z * z)
        center = (2 * n * p + z * z) / denom
        delta = z / denom * np.sqrt(4 * n * p * (1 - p) + z * z)
        out.update({"n": n, "p_avoid_mean": p,
                    "p_avoid_low": np.where(k == 0, 0.0, center - delta),
                    "p_avoid_high": np.where(k == n, 1.0, center + delta)})
        groups = len(uniq)
        for m in metrics:
            x = df[m].to_numpy(float)
            fin = np.isfinite(x)
            c = np.bincount(inv, weights=fin, minlength=groups)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.bincount(inv, weights=np.where(fin, x, 0.0), minlength=groups) / c
                dev = np.where(fin, x - mean[inv], 0.0)
                sd = np.sqrt(np.bincount(inv, weights=dev * dev, minlength=groups) / (c - 1))
                t = special.stdtrit(np.maximum(c - 1, 1), 0.5 + level / 2)  # t quantile
                half = t * sd / np.sqrt(c)
            lo_x = pd.Series(np.where(fin, x, np.nan)).groupby(inv).agg(["min", "max"])
            same = (c < 2) | (lo_x["min"].to_numpy() == lo_x["max"].to_numpy())
            half = np.where(same, 0.0, half)
            out.update({f"{m}_mean": mean, f"{m}_low": mean - half, f"{m}_high": mean + half,
                        f"{m}_n": c.astype(np.int64)})
        frame = pd.DataFrame(out)
        for name, kind in zip(names, self.design.types, strict=True):
            if kind == "str":
                frame[name] = frame[name].astype(str)
        return frame[cols]

    def to_xarray(self):
        """Every stored metric and per-round series as an xarray Dataset.

        Dimensions ``point`` (the points with at least one stored run; the swept parameters
        are coordinates along it), ``replicate`` and ``round``. Metrics are (point,
        replicate) variables (float64; a metric named like a series, ``efficiency``, is
        ``efficiency_run``), the series stored with ``run_sweep(..., series=...)`` are
        (point, replicate, round) variables of the stored dtype, ``failed`` and ``stored``
        (point, replicate) flags. Runs not stored, and failed ones, are NaN. ``attrs`` hold
        the provenance: ``study`` (study.json as JSON), ``name``, ``fingerprint``,
        ``entropy``, ``version``, ``points``, ``runs_done``, ``series_dtype`` and ``partial``.

        On a partial store (a sweep still running or interrupted) it returns what is stored,
        with ``attrs["partial"] = True`` and a warning saying how many points are missing.

        .. versionadded:: 0.2

        Returns
        -------
        xarray.Dataset
            Dimensions (point, replicate, round) as above.
        """
        xr = require("xarray", "sweep", "SweepResult.to_xarray")
        import json

        import pyarrow as pa
        import pyarrow.compute as pc

        from ...results import metric_variable
        from .chunks import SERIES_PREFIX
        R, T, P = self.replicates, int(self.study["rounds"]), self.design.size
        idx, tables = self._tables(series=True)
        series_names = list(self.study.get("series", []))
        dtype = np.dtype(self.study.get("series_dtype", "float64"))
        if tables:
            table = pa.concat_tables(tables, promote_options="default")
            pt = table["point"].to_numpy().astype(np.int64)
            rp = table["replicate"].to_numpy().astype(np.int64)
            keep = idx.owner[pt * R + rp] == table["_k"].to_numpy()
            table = table.filter(pa.array(keep))
            pt, rp = pt[keep], rp[keep]
        else:
            table = None
            pt = rp = np.zeros(0, dtype=np.int64)
        points = np.unique(pt)
        pos = np.searchsorted(points, pt)
        shape = (points.size, R)
        stored = np.zeros(shape, dtype=bool)
        stored[pos, rp] = True
        failed = np.zeros(shape, dtype=bool)
        data: dict[str, Any] = {}
        for name in series_names:
            arr = np.full((*shape, T), np.nan, dtype=dtype)
            if table is not None and SERIES_PREFIX + name in table.column_names:
                col = table[SERIES_PREFIX + name].combine_chunks()
                ok = col.is_valid().to_numpy(zero_copy_only=False)
                vals = pc.list_flatten(col.filter(pa.array(ok))).to_numpy(zero_copy_only=False)
                arr[pos[ok], rp[ok]] = vals.reshape(-1, T).astype(dtype, copy=False)
            data[name] = (("point", "replicate", "round"), arr)
        if table is not None:
            failed[pos, rp] = table["failed"].to_numpy(zero_copy_only=False).astype(bool)
            skip = {"point", "replicate", "failed", "_k", *self.design.names}
            for name in table.column_names:
                if name in skip or name.startswith(SERIES_PREFIX):
                    continue
                arr = np.full(shape, np.nan)
                arr[pos, rp] = table[name].to_numpy(zero_copy_only=False).astype(np.float64)
                data[metric_variable(name, series_names)] = (("point", "replicate"), arr)
        data["failed"] = (("point", "replicate"), failed)
        data["stored"] = (("point", "replicate"), stored)
        coords: dict[str, Any] = {"point": points, "replicate": np.arange(R),
                                  "round": np.arange(T)}
        for name, kind in zip(self.design.names, self.design.types, strict=True):
            col = self.design.column(name)[points]
            coords[name] = ("point", col.astype(str) if kind == "str" else col)
        complete = int((stored.sum(axis=1) == R).sum())
        partial = idx.runs_done < self.runs
        attrs = {"study": json.dumps(self.study, default=str),
                 "name": str(self.study.get("name")),
                 "fingerprint": str(self.study.get("fingerprint")),
                 "entropy": str(self.study.get("entropy")),
                 "version": str(self.study.get("version")), "points": P,
                 "runs_done": idx.runs_done, "series_dtype": str(dtype),
                 "partial": bool(partial)}
        if partial:
            warnings.warn(f"store {str(getattr(self._source, 'root', ''))!r} is partial: "
                          f"{P - complete} of {P} points are missing or incomplete "
                          f"({P - points.size} with no run stored, {idx.runs_done} of "
                          f"{self.runs} runs done); the Dataset holds what is stored "
                          "(attrs['partial'] is True)", RuntimeWarning, stacklevel=2)
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def sobol(self, metric: str = "efficiency") -> dict[str, dict[str, float]]:
        r"""Sobol' indices of the per-point mean of ``metric`` (SALib; needs a complete sweep of
        a :meth:`Design.saltelli` design).

        Returns {parameter: {"S1", "S1_conf", "ST", "ST_conf"}}: first-order and total
        effects (Saltelli 2002; Jansen 1999 estimators as in SALib). Run the sweep with
        ``common_random_numbers=True``, or replicate noise is attributed to the parameters.

        Parameters
        ----------
        metric : str, default "efficiency"
            The metric whose per-point mean over replicates is analysed.

        Returns
        -------
        dict of str to dict of str to float
            For each swept parameter, ``S1`` and ``ST`` and the half-widths of their bootstrap
            confidence intervals ``S1_conf`` and ``ST_conf``.

        Raises
        ------
        ValueError
            If the design is not a Saltelli design, the sweep is not complete, or a point has
            no value of ``metric``.
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
                    predictions: Sequence[tuple[str, str, float]] = (), title: str | None = None,
                    **options: Any):
        """Phase diagram of P(tragedy avoided) over two swept parameters (matplotlib).

        ``predictions``: lines (label, "x" or "y", value) drawn on the map, e.g. the deterrence
        threshold where theory gives one. Saves to ``path`` when given; returns the figure.
        Draws :meth:`summary` with :func:`commons.plotting.tragedy_map`.

        Parameters
        ----------
        x, y : str
            The swept parameters on the horizontal and vertical axes.
        ax : matplotlib Axes, optional
            Where to draw; default: a new figure.
        path : path, optional
            Save with :func:`commons.plotting.save` (PNG at 300 dpi and a PDF copy).
        predictions : sequence of (str, str, float), optional
            Lines (label, "x" or "y", value) drawn on the map.
        title : str, optional
            The title; default: the study's name.
        **options
            The other options of :func:`commons.plotting.tragedy_map`: ``boundaries``,
            ``labels``, ``efficiency`` (None for the map alone), ``simulated``, ``note``,
            ``vector``.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.
        """
        from ...plotting import tragedy_map
        return tragedy_map(self.summary(), x, y, ax=ax, path=path, predictions=predictions,
                           title=title or self.study.get("name"), **options)

    def __repr__(self) -> str:
        idx = self._index()
        failed = self.n_failed
        return (f"SweepResult({self.study.get('name')!r}, points={self.design.size}, "
                f"replicates={self.replicates}, runs {idx.runs_done}/{self.runs} in "
                f"{len(idx.live)} chunks" + (f", {failed} points failed" if failed else "")
                + ")")


def open_store(path: str | os.PathLike) -> SweepResult:
    """Open a sweep store (finished or partial) for reading.

    Parameters
    ----------
    path : str or os.PathLike
        The store's directory (it holds ``study.json``).

    Returns
    -------
    SweepResult
        The sweep, reading its rows from the store on demand; a warning names chunks whose
        files are missing or damaged.

    Raises
    ------
    StoreError
        When ``path`` is not a store (no ``study.json``), or one of another store format.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a directory path, got {type(path).__name__}")
    store = Store(path)
    try:
        study = store.read_study()
    except StoreError as exc:
        raise StoreError(f"{str(path)!r}: unreadable study.json ({exc})") from exc
    if study is None:
        raise StoreError(f"{str(path)!r} is not a commons sweep store (no study.json)")
    if study.get("format") != FORMAT:
        raise StoreError(f"{str(path)!r} is in store format {study.get('format')!r}; this "
                         f"version reads format {FORMAT}")
    result = SweepResult(study, store)
    result._warn(result._index(), stacklevel=3)
    return result
