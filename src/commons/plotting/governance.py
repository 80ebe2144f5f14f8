"""The governance study's figure: the outcome against budget pressure, one panel per horizon."""

from __future__ import annotations

import numpy as np

from .style import OKABE_ITO, check_vector, label, pyplot, save, style

__all__ = ["governance_plot"]


def governance_plot(frame, *, axes=None, path=None, title: str | None = None,
                    vector: str | None = "pdf"):
    """The governance study: the outcome against budget pressure, one panel per horizon.

    ``frame`` is :func:`commons.studies.governance_under_pressure`'s table (columns
    ``governance``, ``pressure``, ``horizon``, ``mean``, ``low``, ``high``, ``n``); each
    governance is a line with its interval as a band.

    Parameters
    ----------
    frame : pandas.DataFrame
        The study's table, one row per (governance, pressure, horizon): the outcome's ``mean``
        and interval ``low``, ``high`` over ``n`` replicates; pressure in points a year,
        horizon in years. ``frame.attrs["metric"]`` names the outcome (default ``p_avoid``).
    axes : sequence of matplotlib Axes, optional
        One per horizon; default: a new figure with one panel per horizon.
    path : path, optional
        Save with :func:`commons.plotting.save` (PNG at 300 dpi and a ``vector`` copy).
    title : str, optional
        The figure's title.
    vector : {"pdf", "svg", None}, default "pdf"
        The vector format saved beside the PNG (None: PNG only).

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on.

    Raises
    ------
    ValueError
        If ``frame`` lacks a column, ``axes`` does not hold one axis per horizon, or
        ``vector`` is not a known format.
    """
    check_vector(vector)
    plt = pyplot()
    need = {"governance", "pressure", "horizon", "mean", "low", "high", "n"}
    missing = need - set(frame.columns)
    if missing:
        raise ValueError(f"frame lacks the columns {sorted(missing)} (expected the table of "
                         "commons.studies.governance_under_pressure)")
    with style():
        return _governance_plot(plt, frame, axes, path, title, vector)


def _governance_plot(plt, frame, axes, path, title, vector):
    horizons = sorted(frame["horizon"].unique())
    own = axes is None
    if own:
        fig, axes = plt.subplots(1, len(horizons), figsize=(4.2 * len(horizons), 3.8),
                                 layout="constrained", sharey=True, squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.atleast_1d(axes))
        if len(axes) != len(horizons):
            raise ValueError(f"axes: need one per horizon ({len(horizons)}), got {len(axes)}")
    fig = axes[0].figure
    metric = frame.attrs.get("metric", "p_avoid")
    ylabel = label(metric)
    markers = ("o", "s", "^", "D")
    for axis, h in zip(axes, horizons, strict=True):
        part = frame[frame["horizon"] == h]
        for k, (gov, rows) in enumerate(part.groupby("governance", sort=False)):
            rows = rows.sort_values("pressure")
            colour = OKABE_ITO[k % len(OKABE_ITO)]
            n = int(rows["n"].min())
            axis.fill_between(rows["pressure"], rows["low"], rows["high"], color=colour,
                              alpha=0.25, lw=0)
            axis.plot(rows["pressure"], rows["mean"], color=colour, marker=markers[k % 4],
                      ms=4, label=f"{gov} (n = {n} a point)")
        axis.set_title(f"horizon {h:g} years", fontsize=10)
        axis.set_xlabel("pressure (points a year)")
    axes[0].set_ylabel(f"{ylabel}, 95 % interval")
    axes[0].legend(fontsize=8)
    if own:
        fig.supxlabel("budget pressure: demand growth − budget growth (points a year)",
                      fontsize=10)
    if title:
        fig.suptitle(title)
    if path is not None:
        save(fig, path, vector=vector)
    return fig
