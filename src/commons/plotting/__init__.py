"""Figures (matplotlib, imported lazily): the tragedy map, the governance study, per-round
series with confidence bands, and quantile trajectories.

Every figure is drawn in one style (:mod:`.style`): constrained layout, axes labelled with
units, colour-blind-safe colours (the Okabe–Ito palette for lines, cividis and viridis for
maps); :func:`save` writes a PNG at 300 dpi and a PDF (or SVG) beside it.

Modules: :mod:`.style` (the style, labels, saving), :mod:`.maps` (the tragedy map),
:mod:`.governance` (the governance study), :mod:`.series` (bands and trajectories).
"""

from .governance import governance_plot
from .maps import grid_position, tragedy_map
from .series import bands, trajectories
from .style import DPI, LABELS, MAP_CMAPS, OKABE_ITO, RC, label, save, style

__all__ = ["DPI", "LABELS", "MAP_CMAPS", "OKABE_ITO", "RC", "bands", "governance_plot",
           "grid_position", "label", "save", "style", "tragedy_map", "trajectories"]
