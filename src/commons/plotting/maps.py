"""The tragedy map: P(tragedy avoided) over two swept parameters, with efficiency beside it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .style import MAP_CMAPS, check_vector, pyplot, require_names, save, style
from .style import label as axis_label

__all__ = ["grid_position", "tragedy_map"]

_P_CMAP, _E_CMAP = MAP_CMAPS["probability"], MAP_CMAPS["value"]


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, (float, np.floating, int, np.integer)) else str(v)


def grid_position(v: Any, values: np.ndarray) -> np.ndarray:
    """Positions of data values ``v`` on a categorical axis whose cells hold ``values``.

    Piecewise linear between cell centres (cell k sits at k), continued past the ends with
    the end steps, so a value outside the grid lands outside the drawn cells.

    Parameters
    ----------
    v : float or array_like
        Data values (in the units of ``values``).
    values : ndarray, shape (K,)
        The increasing values of the K cells.

    Returns
    -------
    ndarray
        The positions, shaped like ``v``: k at ``values[k]``, linear in between. With a single
        cell, 0 at its value and -inf or +inf on either side; -inf or +inf also where a value
        lies more than about 1e308 end steps outside the cells.
    """
    v = np.asarray(v, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    if vals.size == 1:
        return np.where(v == vals[0], 0.0, np.sign(v - vals[0]) * np.inf)
    idx = np.interp(v, vals, np.arange(vals.size, dtype=np.float64))
    # both continuations are computed for every value; beyond an end step far smaller than
    # the value's distance (a step of 1e-300), the position overflows to -inf or +inf
    with np.errstate(over="ignore"):
        below = (v - vals[0]) / (vals[1] - vals[0])
        above = vals.size - 1 + (v - vals[-1]) / (vals[-1] - vals[-2])
    return np.where(v < vals[0], below, np.where(v > vals[-1], above, idx))


def _text_colour(cmap, norm, value: float) -> str:
    r, g, b, _ = cmap(norm(value))
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def _outlined(colour: str):
    from matplotlib import patheffects
    back = "white" if colour == "black" else "black"
    return [patheffects.withStroke(linewidth=2.8, foreground=back)]


def tragedy_map(summary, x: str, y: str, *, ax=None, path=None,
                predictions: Sequence[tuple[str, str, float]] = (),
                boundaries: Sequence[tuple[str, Any, Any]] = (), title: str | None = None,
                labels: Mapping[str, str] | None = None, efficiency: str | None = "efficiency",
                simulated: float | None = 0.5, note: str | None = None,
                vector: str | None = "pdf"):
    r"""Phase diagram of P(tragedy avoided) over two parameters, and of efficiency beside it.

    ``summary`` is a per-point table (``SweepResult.summary()``) with columns ``x``, ``y``,
    ``n``, ``p_avoid_mean``, ``p_avoid_low`` and ``p_avoid_high`` (a Wilson interval), and
    for the second panel ``efficiency_mean`` with ``efficiency_low`` / ``efficiency_high``.
    A grid design is drawn as equal cells whatever the spacing of its values (the axes are
    categories labelled with the real values), each cell giving its estimate, its interval
    and its number of runs n; any other design as filled contours of the scattered points.

    Parameters
    ----------
    summary : pandas.DataFrame
    x, y : str
        The parameters on the horizontal and vertical axes.
    ax : matplotlib Axes or a pair of them, optional
        Where to draw: one Axes takes the P(tragedy avoided) panel only; default a new figure
        with both panels.
    path : path, optional
        Save the figure there with :func:`commons.plotting.save`: a PNG at 300 dpi and a
        vector copy (``vector``) beside it.
    predictions : sequence of (label, "x" or "y", value)
        Straight lines at a value of one parameter.
    boundaries : sequence of (label, xs, ys)
        Curves in data coordinates (either may be a scalar), e.g. a derived boundary
        sanction*(communication); on a grid they are placed by linear interpolation between
        the cells' values, and a point beyond the grid is marked at the edge with an arrow.
    title : str, optional
    labels : mapping, optional
        Axis labels (with units) by parameter name; default the names.
    efficiency : str or None
        The metric of the second panel, a metric of ``summary`` (None: no second panel).
    simulated : float or None
        Draw the simulated boundary, the contour where P(tragedy avoided) crosses this level.
    note : str, optional
        A caption printed with the legend (e.g. how the simulated boundary compares with a
        derived one, and why).
    vector : {"pdf", "svg", None}
        The vector format saved beside a raster ``path``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_vector(vector)
    plt = pyplot()
    for col in (x, y, "p_avoid_mean"):
        if col not in summary.columns:
            raise ValueError(f"summary has no column {col!r}; it has {list(summary.columns)}")
    if efficiency is not None:
        require_names("efficiency", [efficiency], _metrics(summary))
    if not len(summary):
        raise ValueError("summary has no rows: there is nothing to draw")
    for k, entry in enumerate(predictions):
        if len(entry) != 3 or entry[1] not in ("x", "y"):
            raise ValueError(f"predictions[{k}] must be (label, 'x' or 'y', value), got "
                             f"{entry!r}")
    for k, entry in enumerate(boundaries):
        if len(entry) != 3:
            raise ValueError(f"boundaries[{k}] must be (label, xs, ys), got {entry!r}")
    labels = dict(labels or {})
    with style():
        return _tragedy_map(plt, summary, x, y, ax, path, predictions, boundaries, title,
                            labels, efficiency, simulated, note, vector)


def _metrics(summary) -> list[str]:
    """The metrics of a summary: the names with a ``<name>_mean`` column."""
    return [c[:-5] for c in summary.columns if c.endswith("_mean")]


def _tragedy_map(plt, summary, x, y, ax, path, predictions, boundaries, title, labels,
                 efficiency, simulated, note, vector):
    second = efficiency is not None
    own = ax is None
    if own:
        ncol = 2 if second else 1
        fig, axes = plt.subplots(1, ncol, figsize=(6.6 * ncol, 6.2), layout="constrained",
                                 squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        fig = axes[0].figure
        second = second and len(axes) > 1
    xs, ys = np.unique(summary[x]), np.unique(summary[y])
    pairs = summary[[x, y]].drop_duplicates()
    grid = len(pairs) == len(summary) and xs.size * ys.size <= 4000
    panels = [("p_avoid", axis_label("p_avoid"), _P_CMAP)]
    if second:
        panels.append((efficiency, axis_label(efficiency), _E_CMAP))
    handles: dict[str, Any] = {}
    for axis, (metric, cbar_label, cmap_name) in zip(axes, panels, strict=False):
        cmap = plt.get_cmap(cmap_name)
        values = summary[f"{metric}_mean"].to_numpy(float)
        if metric == "p_avoid":
            from matplotlib.colors import Normalize
            norm = Normalize(0.0, 1.0)
            extend = "neither"
        else:
            from matplotlib.colors import Normalize
            finite = values[np.isfinite(values)]
            low = float(finite.min()) if finite.size else 0.0
            vmin = max(min(low, 0.0), -1.0)
            norm = Normalize(vmin, max(1.0, float(finite.max()) if finite.size else 1.0))
            extend = "min" if low < vmin else "neither"
        if grid:
            mesh = _grid_panel(axis, summary, x, y, xs, ys, metric, cmap, norm)
        else:
            mesh = axis.tricontourf(summary[x], summary[y], values, levels=12, cmap=cmap,
                                    norm=norm)
            axis.grid(False)
            axis.plot(summary[x], summary[y], "k.", ms=3)
        fig.colorbar(mesh, ax=axis, label=cbar_label, extend=extend)
        _overlays(axis, summary, x, y, xs, ys, grid, predictions, boundaries,
                  simulated, handles)
        axis.set_xlabel(axis_label(x, labels))
        axis.set_ylabel(axis_label(y, labels))
        axis.set_title("P(tragedy avoided): estimate, 95 % Wilson interval, runs n"
                       if metric == "p_avoid" else f"{efficiency}: mean ± 95 % t interval",
                       fontsize=9)
    if title:
        (fig.suptitle if own else axes[0].set_title)(title)
    if handles or note:
        leg_kw = {"fontsize": 8, "title": note, "title_fontsize": 8}
        if own:
            fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                       ncols=min(2, max(1, len(handles))), **leg_kw)
        else:
            axes[0].legend(list(handles.values()), list(handles), loc="upper center",
                           bbox_to_anchor=(0.5, -0.14), **leg_kw)
    if path is not None:
        save(fig, path, vector=vector)
    return fig


def _grid_panel(axis, summary, x, y, xs, ys, metric, cmap, norm):
    """Equal cells over the categories xs, ys, each with its estimate, interval and n."""
    ix = np.searchsorted(xs, summary[x].to_numpy())
    iy = np.searchsorted(ys, summary[y].to_numpy())

    def cells(column):
        out = np.full((ys.size, xs.size), np.nan)
        if column in summary.columns:
            out[iy, ix] = summary[column].to_numpy(float)
        return out

    vals, lo, hi, n = (cells(f"{metric}_mean"), cells(f"{metric}_low"), cells(f"{metric}_high"),
                       cells("n"))
    mesh = axis.pcolormesh(np.arange(xs.size + 1) - 0.5, np.arange(ys.size + 1) - 0.5,
                           np.ma.masked_invalid(vals), cmap=cmap, norm=norm, shading="flat")
    axis.set_facecolor("0.85")
    axis.grid(False)
    # the widest line of a cell, "0.00–0.28", is 9 characters of about 0.6 em
    fig_w, fig_h = axis.figure.get_size_inches()
    box = axis.get_position()
    cell = 72 * min(0.8 * box.width * fig_w / xs.size, 3.2 * box.height * fig_h / ys.size)
    size = max(4.0, min(8.0, cell / (9 * 0.6)))
    for i in range(ys.size):
        for j in range(xs.size):
            v = vals[i, j]
            if not np.isfinite(v):
                text = "no runs"
            elif metric == "p_avoid" and np.isfinite(lo[i, j]) and np.isfinite(hi[i, j]):
                text = f"{v:.2f}\n{lo[i, j]:.2f}–{hi[i, j]:.2f}"
            elif np.isfinite(hi[i, j]):
                text = f"{v:.2f}\n±{hi[i, j] - v:.2f}"
            else:
                text = f"{v:.2f}"
            if np.isfinite(v) and np.isfinite(n[i, j]):
                text += f"\nn={int(n[i, j])}"
            axis.text(j, i, text, ha="center", va="center", fontsize=size,
                      color=_text_colour(cmap, norm, v) if np.isfinite(v) else "black",
                      linespacing=1.1)
    axis.set_xticks(np.arange(xs.size), [_fmt(v) for v in xs])
    axis.set_yticks(np.arange(ys.size), [_fmt(v) for v in ys])
    axis.set_xlim(-0.5, xs.size - 0.5)
    axis.set_ylim(-0.5, ys.size - 0.5)
    return mesh


def _overlays(axis, summary, x, y, xs, ys, grid, predictions, boundaries, simulated,
              handles) -> None:
    """Simulated boundary, derived curves and prediction lines, on either kind of panel."""
    def place(v, values):
        return grid_position(v, values) if grid else np.asarray(v, dtype=np.float64)

    if simulated is not None and grid and xs.size > 1 and ys.size > 1:
        ix = np.searchsorted(xs, summary[x].to_numpy())
        iy = np.searchsorted(ys, summary[y].to_numpy())
        p = np.full((ys.size, xs.size), np.nan)
        p[iy, ix] = summary["p_avoid_mean"].to_numpy(float)
        finite = p[np.isfinite(p)]
        if finite.size and finite.min() < simulated < finite.max():
            cs = axis.contour(np.arange(xs.size), np.arange(ys.size), np.ma.masked_invalid(p),
                              levels=[simulated], colors="white", linewidths=1.5,
                              linestyles="--")
            cs.set_path_effects(_outlined("white"))
            from matplotlib.lines import Line2D
            handles[f"simulated boundary: P(tragedy avoided) = {simulated:g}"] = Line2D(
                [], [], color="white", lw=1.5, ls="--", path_effects=_outlined("white"))
    styles = [("black", "-", "o"), ("black", ":", "s"), ("white", "-.", "D"),
              ("black", "--", "^")]
    for k, (label, bx, by) in enumerate(boundaries):
        colour, ls, marker = styles[k % len(styles)]
        bx, by = np.broadcast_arrays(np.asarray(bx, dtype=np.float64),
                                     np.asarray(by, dtype=np.float64))
        px, py = place(bx, xs), place(by, ys)
        (line,) = axis.plot(px, py, color=colour, ls=ls, marker=marker, ms=3.5, lw=1.5,
                            path_effects=_outlined(colour), label=label)
        if grid:  # points beyond the grid: an arrow at the edge, pointing where they lie
            for val, other, lim, horizontal in ((px, py, xs.size, True),
                                                (py, px, ys.size, False)):
                for side, edge, mark in ((val < -0.5, -0.5, "<v"), (val > lim - 0.5,
                                                                   lim - 0.5, ">^")):
                    if np.any(side):
                        where = np.full(int(side.sum()), edge)
                        m = mark[0] if horizontal else mark[1]
                        xy = (where, other[side]) if horizontal else (other[side], where)
                        axis.plot(*xy, ls="none", marker=m, ms=9, color=colour,
                                  path_effects=_outlined(colour), clip_on=False)
        handles[label] = line
    for label, which, value in predictions:
        pos = float(place(value, xs if which == "x" else ys))
        draw = axis.axvline if which == "x" else axis.axhline
        handles[label] = draw(pos, color="black", ls="--", lw=1.2,
                              path_effects=_outlined("black"))
