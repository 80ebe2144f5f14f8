"""Plots (matplotlib, imported lazily): the tragedy map and trajectories."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ._optional import require

__all__ = ["tragedy_map", "trajectories"]


def _pyplot():
    mpl = require("matplotlib", "plot", "plotting")
    if os.environ.get("MPLBACKEND") is None and not os.environ.get("DISPLAY"):
        mpl.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def tragedy_map(summary, x: str, y: str, *, ax=None, path=None,
                predictions: Sequence[tuple[str, str, float]] = (), title: str | None = None):
    """Phase diagram of the probability of avoiding the tragedy over two parameters.

    ``summary`` is a per-point table (``SweepResult.summary()``) with columns ``x``, ``y`` and
    ``p_avoid``. A grid design is drawn as coloured cells, any other design as filled contours
    of the scattered points. ``predictions`` are (label, "x" or "y", value) lines.
    """
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.8))
    else:
        fig = ax.figure
    xs, ys = np.unique(summary[x]), np.unique(summary[y])
    p = summary["p_avoid"].to_numpy(float)
    if xs.size * ys.size == len(summary):
        grid = np.full((ys.size, xs.size), np.nan)
        ix = np.searchsorted(xs, summary[x])
        iy = np.searchsorted(ys, summary[y])
        grid[iy, ix] = p
        mesh = ax.pcolormesh(_edges(xs), _edges(ys), grid, vmin=0, vmax=1, cmap="RdYlGn",
                             shading="flat")
        for i, yy in enumerate(ys):
            for j, xx in enumerate(xs):
                if np.isfinite(grid[i, j]):
                    ax.text(xx, yy, f"{grid[i, j]:.2f}", ha="center", va="center",
                            fontsize=7, color="black")
    else:
        mesh = ax.tricontourf(summary[x], summary[y], p, levels=np.linspace(0, 1, 11),
                              cmap="RdYlGn", vmin=0, vmax=1)
        ax.plot(summary[x], summary[y], "k.", ms=3)
    fig.colorbar(mesh, ax=ax, label="P(tragedy avoided)")
    for label, axis, value in predictions:
        line = ax.axvline if axis == "x" else ax.axhline
        line(value, color="k", ls="--", lw=1.2, label=label)
    if predictions:
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if title:
        ax.set_title(title)
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def _edges(c: np.ndarray) -> np.ndarray:
    if c.size == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[c[0] - (mid[0] - c[0])], mid, [c[-1] + (c[-1] - mid[-1])]])


def trajectories(result, series: str = "stock", *, ax=None, quantiles=(0.1, 0.5, 0.9),
                 path=None):
    """Median and quantile band of one per-round series of a :class:`RunResult`."""
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
    else:
        fig = ax.figure
    data = result.series[series]
    lo, mid, hi = np.quantile(data, quantiles, axis=0)
    t = np.arange(data.shape[1])
    ax.fill_between(t, lo, hi, alpha=0.3, label=f"{quantiles[0]:.0%}-{quantiles[-1]:.0%}")
    ax.plot(t, mid, lw=1.5, label="median")
    ax.set_xlabel("round")
    ax.set_ylabel(series)
    ax.legend(fontsize=8)
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig
