"""Per-round series: confidence bands over replicates, and quantile trajectories."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .style import OKABE_ITO, check_vector, label, pyplot, require_names, save, style

__all__ = ["bands", "trajectories"]

_DASHES = ("-", "--", "-.", ":")


def _run_series(result, series: str) -> np.ndarray:
    have = list(result.series)
    if not have:
        raise ValueError(f"series: no series {series!r}; the run recorded none (it was run "
                         "with record='final'; use record='summary')")
    require_names("series", [series], have)
    return np.asarray(result.series[series], dtype=np.float64)


def _sweep_groups(result, series: str, by: str | None) -> list[tuple[str, np.ndarray]]:
    """(label, runs x rounds) for each point, or for each value of the parameter ``by``."""
    have = list(result.study.get("series", []))
    if not have:
        raise ValueError(f"series: no series {series!r}; the sweep stored none (run it with "
                         "run_sweep(..., series=True))")
    require_names("series", [series], have)
    names = list(result.design.names)
    if by is not None:
        if not isinstance(by, str):
            raise TypeError(f"by must be a swept parameter's name, got {type(by).__name__}")
        require_names("by", [by], names)
    ds = result.to_xarray()
    data = ds[series].values.astype(np.float64)  # (point, replicate, round)
    if ds.sizes["point"] == 0:
        raise ValueError("the sweep has no stored runs: there is nothing to draw")
    if by is None:
        out = []
        for k in range(ds.sizes["point"]):
            text = ", ".join(f"{n}={_fmt(ds[n].values[k])}" for n in names)
            out.append((text, data[k]))
        return out
    values = ds[by].values
    return [(f"{by}={_fmt(v)}", data[values == v].reshape(-1, data.shape[-1]))
            for v in np.unique(values)]


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float | np.floating | int | np.integer) else str(v)


def bands(result, series: str, *, level: float = 0.95, by: str | None = None, ax=None,
          path: str | os.PathLike | None = None, vector: str | None = "pdf"):
    r"""A per-round series: its mean over replicates with a t confidence band, round by round.

    At every round t the band is :math:`\bar x_t \pm t_{n_t-1,(1+\text{level})/2}\, s_t /
    \sqrt{n_t}` over the :math:`n_t` finite replicate values (Student 1908), computed by
    :func:`commons.results.mean_interval`; a pointwise interval, not a simultaneous one.

    Parameters
    ----------
    result : RunResult or SweepResult
        A run recorded with ``record="summary"`` or ``"full"`` (one band over its
        replicates), or a sweep run with ``series=True`` or a list holding ``series`` (one
        band per point, or per value of ``by``, pooling the replicates of its points).
    series : str
        The series, e.g. ``"efficiency"`` or ``"stock"``.
    level : float
        Confidence level in (0, 1).
    by : str, optional
        For a sweep: a swept parameter; one band per value of it.
    ax : matplotlib Axes, optional
    path : path, optional
        Save with :func:`commons.plotting.save` (PNG at 300 dpi and a ``vector`` copy).
    vector : {"pdf", "svg", None}

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For a series the result does not hold (the message lists those it does), a ``by``
        that is not swept, or a level outside (0, 1).

    .. versionadded:: 0.2
    """
    from ..experiments.sweeps.result import SweepResult
    from ..results import RunResult, _check_level, mean_interval
    check_vector(vector)
    if not isinstance(series, str):
        raise TypeError(f"series must be a series name, got {type(series).__name__}")
    level = _check_level(level)
    if isinstance(result, RunResult):
        if by is not None:
            raise ValueError("by: a RunResult has no swept parameters; by is for a "
                             "SweepResult")
        data = _run_series(result, series)
        groups = [(None, data)]
    elif isinstance(result, SweepResult):
        groups = _sweep_groups(result, series, by)
    else:
        raise TypeError(f"result must be a RunResult or a SweepResult, got "
                        f"{type(result).__name__}")
    plt = pyplot()
    with style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 3.8))
        else:
            fig = ax.figure
        for k, (name, x) in enumerate(groups):
            mean, lo, hi, n = mean_interval(x, level, axis=0)
            t = np.arange(x.shape[1])
            colour = OKABE_ITO[k % len(OKABE_ITO)]
            ls = _DASHES[(k // len(OKABE_ITO)) % len(_DASHES)]
            runs = int(n.max()) if n.size else 0
            text = (f"mean, {level:.0%} t interval (n = {runs})" if name is None
                    else f"{name} (n = {runs})")
            ax.fill_between(t, lo, hi, color=colour, alpha=0.25, lw=0)
            ax.plot(t, mean, color=colour, ls=ls, lw=1.5, label=text)
        ax.set_xlabel(label("round"))
        ax.set_ylabel(label(series))
        if len(groups) > 1:
            ax.set_title(f"mean and {level:.0%} t interval per round", fontsize=9)
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))  # beside the axes
        else:
            ax.legend()
        if path is not None:
            save(fig, path, vector=vector)
    return fig


def trajectories(result, series: str = "stock", *, ax=None, quantiles=(0.1, 0.5, 0.9),
                 path=None, vector: str | None = "pdf"):
    """Median and quantile band of one per-round series of a :class:`RunResult`.

    At every round the line is the middle quantile of the replicates' values and the band
    spans the low and high quantiles (empirical quantiles, ``numpy.quantile``).

    Parameters
    ----------
    result : RunResult
        A run recorded with ``record="summary"`` or ``"full"``.
    series : str, default "stock"
        The series, shape (R, T), e.g. ``"stock"`` or ``"efficiency"``.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.
    quantiles : tuple of three floats, default (0.1, 0.5, 0.9)
        The low, middle and high quantile levels, each in [0, 1].
    path : path, optional
        Save with :func:`commons.plotting.save` (PNG at 300 dpi and a ``vector`` copy).
    vector : {"pdf", "svg", None}, default "pdf"
        The vector format saved beside the PNG (None: PNG only).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ValueError
        For a series the result does not hold, or quantiles that are not three levels in
        [0, 1].
    """
    check_vector(vector)
    data = _run_series(result, series)
    if len(quantiles) != 3 or not all(0 <= q <= 1 for q in quantiles):
        raise ValueError(f"quantiles must be three levels in [0, 1] (low, middle, high), got "
                         f"{quantiles!r}")
    plt = pyplot()
    with style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 3.6))
        else:
            fig = ax.figure
        lo, mid, hi = np.quantile(data, quantiles, axis=0)
        t = np.arange(data.shape[1])
        ax.fill_between(t, lo, hi, alpha=0.3, color=OKABE_ITO[0], lw=0,
                        label=f"{quantiles[0]:.0%}–{quantiles[-1]:.0%} of replicates")
        ax.plot(t, mid, lw=1.5, color=OKABE_ITO[0], label=f"{quantiles[1]:.0%} (median)"
                if quantiles[1] == 0.5 else f"{quantiles[1]:.0%}")
        ax.set_xlabel(label("round"))
        ax.set_ylabel(label(series))
        ax.legend()
        if path is not None:
            save(fig, path, vector=vector)
    return fig
