"""The one style of every figure the library draws, and saving figures for papers.

Every figure is drawn inside :func:`style`: constrained layout, the Okabe–Ito palette for
lines (Okabe & Ito 2008, distinguishable under the common colour-vision deficiencies),
cividis and viridis for maps (Nuñez, Anderton & Renslow 2018; van der Walt & Smith 2015),
axes labelled with units (:data:`LABELS`), and Type 42 fonts so a PDF's text stays text.
:func:`save` writes a PNG at 300 dpi and a vector copy (PDF or SVG) beside it.

matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .._optional import require

__all__ = ["DPI", "LABELS", "MAP_CMAPS", "OKABE_ITO", "RC", "label", "save", "style"]

#: Okabe & Ito (2008), a palette distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")

#: Colour maps of the maps: probabilities (cividis) and other quantities (viridis), both
#: perceptually uniform and readable with a colour-vision deficiency and in grey.
MAP_CMAPS = {"probability": "cividis", "value": "viridis"}

#: Resolution of saved raster figures.
DPI = 300

#: matplotlib settings every figure is drawn with (see :func:`style`).
RC: dict[str, Any] = {
    "figure.constrained_layout.use": True,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "savefig.bbox": "standard",
    "image.cmap": MAP_CMAPS["value"],
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
}

#: Axis labels, with units, of the per-round series and the metrics.
LABELS: dict[str, str] = {
    "round": "round t",
    "mean_draw": "mean draw (resource units per organisation)",
    "total_granted": "total granted (resource units)",
    "stock": "stock after regeneration (resource units)",
    "rent": "group rent (payoff units a round)",
    "compliance": "compliance (share of organisations)",
    "fines": "fines (payoff units a round)",
    "costs": "costs (payoff units a round)",
    "mean_trust": "mean trust (0–1)",
    "regulator_income": "regulator income (payoff units a round)",
    "regulator_spending": "regulator spending (payoff units a round)",
    "burned": "money burned (payoff units a round)",
    "wrongful": "wrongful sanctions (count a round)",
    "excluded": "organisations excluded (count)",
    "efficiency": "efficiency (share of the best sustainable rent)",
    "tail_efficiency": "tail efficiency (share of the best sustainable rent)",
    "final_stock_ratio": "final stock / reference stock (ratio)",
    "equality": "equality, 1 − Gini (0–1)",
    "sustainability": "sustainability (mean round of positive rent)",
    "peace": "peace (organisations not excluded, count)",
    "p_avoid": "P(tragedy avoided)",
    "time_to_collapse": "time to collapse (rounds)",
}


def label(name: str, labels: dict[str, str] | None = None) -> str:
    """The axis label of ``name``: from ``labels``, else :data:`LABELS`, else the name.

    Parameters
    ----------
    name : str
        A series, metric or parameter name.
    labels : dict of str to str, optional
        Labels that take precedence over :data:`LABELS`.

    Returns
    -------
    str
        The label.
    """
    if labels and name in labels:
        return labels[name]
    return LABELS.get(name, name)


def pyplot():
    """matplotlib.pyplot, on the Agg backend when there is no display."""
    mpl = require("matplotlib", "plot", "plotting")
    if os.environ.get("MPLBACKEND") is None and not os.environ.get("DISPLAY"):
        mpl.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Draw inside the library's style: ``with commons.plotting.style(): ...``.

    Sets :data:`RC` (constrained layout, 300 dpi when saving, Type 42 fonts) and the Okabe–Ito
    colour cycle for the duration of the block.
    """
    mpl = require("matplotlib", "plot", "plotting.style")
    from cycler import cycler
    with mpl.rc_context({**RC, "axes.prop_cycle": cycler(color=list(OKABE_ITO))}):
        yield


def check_vector(vector: str | None) -> None:
    """Refuse a vector format other than "pdf", "svg" or None."""
    if vector not in (None, "pdf", "svg"):
        raise ValueError(f"vector must be 'pdf', 'svg' or None, got {vector!r}")


_VECTOR = (".pdf", ".svg")


def save(fig, path: str | os.PathLike, *, vector: str | None = "pdf",
         dpi: int = DPI) -> list[Path]:
    """Save ``fig`` for a paper: a PNG at ``dpi`` (300) and a vector copy beside it.

    ``path`` names either file: ``map.png`` writes ``map.png`` and ``map.pdf`` (``vector``),
    ``map.svg`` or ``map.pdf`` writes that and ``map.png``, and a path without a suffix gets
    both suffixes. ``vector=None`` writes the PNG only (for a raster path).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save.
    path : str or os.PathLike
        The file to write (``.png``, ``.pdf``, ``.svg``, another raster suffix, or none).
    vector : {"pdf", "svg", None}, default "pdf"
        The vector format written beside the PNG.
    dpi : int, default 300
        The resolution of the raster file, in dots per inch.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    check_vector(vector)
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 1:
        raise ValueError(f"dpi must be a positive integer, got {dpi!r}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _VECTOR:
        targets = [path.with_suffix(".png"), path]
    elif suffix:
        targets = [path] + ([path.with_suffix(f".{vector}")] if vector else [])
    else:
        base = path.parent / path.name
        targets = [base.with_name(base.name + ".png")] + (
            [base.with_name(f"{base.name}.{vector}")] if vector else [])
    with style():
        for target in targets:
            kind = target.suffix.lower()
            fig.savefig(target, dpi=dpi if kind not in _VECTOR else "figure",
                        metadata=_metadata(kind))
    return targets


def _metadata(kind: str) -> dict[str, str] | None:
    from .._version import version
    creator = f"commons {version}"
    if kind == ".png":
        return {"Software": creator}
    if kind in (".pdf", ".svg"):
        return {"Creator": creator}
    return None


def require_names(what: str, names: Iterable[str], available: Iterable[str]) -> None:
    """Refuse names that are not ``available``, naming them and listing those that are."""
    have = list(available)
    missing = [n for n in names if n not in have]
    if missing:
        word = "no series" if what == "series" else f"no {what}"
        raise ValueError(f"{what}: {word} {', '.join(map(repr, missing))}; there are "
                         f"{', '.join(map(repr, sorted(have))) or 'none'}")
