"""Monitoring: who is seen drawing what, with what probability (monitor phase)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._params import per_replicate
from ..plugin import Plugin

__all__ = ["CentralAudit", "PeerMonitoring"]


def _detect(st, ctx, plugin) -> None:
    """Draw detections: each organisation is detected with probability ``st.detect_prob``."""
    u = ctx.uniforms(plugin)[..., 0]
    st.detected = u < st.detect_prob


class CentralAudit(Plugin):
    r"""A central auditor inspects each organisation with probability p per round.

    Detection probability p_i = p for every organisation. The audit is run by the regulator,
    outside the group; it costs the organisations nothing.
    """

    phases: ClassVar[tuple[str, ...]] = ("monitor",)
    stochastic: ClassVar[bool] = True
    payer: ClassVar[str] = "regulator"

    def __init__(self, probability: Any) -> None:
        self.probability = probability

    def bind(self, ctx) -> dict[str, Any]:
        return {"p": per_replicate("probability", self.probability, ctx.R, low=0.0, high=1.0)}

    def monitor(self, st, ctx) -> None:
        P = ctx.params[self]
        st.detect_prob = np.broadcast_to(P["p"][:, None], (ctx.R, ctx.N)).copy()
        _detect(st, ctx, self)


class PeerMonitoring(Plugin):
    r"""Peers watch each other along trust edges (Ostrom's principle 4).

    Detection probability p_i = base + slope m_i, where m_i is the share of i's neighbours who
    complied with the quota this round (0 without neighbours): compliant neighbours watch.
    CPR-v1 uses base = 0.1, slope = 0.4. base + slope must not exceed 1.
    """

    phases: ClassVar[tuple[str, ...]] = ("monitor",)
    stochastic: ClassVar[bool] = True

    def __init__(self, base: Any = 0.1, slope: Any = 0.4) -> None:
        self.base = base
        self.slope = slope

    def bind(self, ctx) -> dict[str, Any]:
        p0 = per_replicate("base", self.base, ctx.R, low=0.0, high=1.0)
        p1 = per_replicate("slope", self.slope, ctx.R, low=0.0, high=1.0)
        if np.any(p0 + p1 > 1.0):
            raise ValueError("base + slope must be <= 1 (a detection probability), got "
                             f"{float(np.max(p0 + p1))!r}")
        return {"p0": p0, "p1": p1}

    def monitor(self, st, ctx) -> None:
        P = ctx.params[self]
        m = ctx.network.neighbour_mean(st.compliant.astype(np.float64), empty=0.0)
        st.detect_prob = P["p0"][:, None] + P["p1"][:, None] * m
        _detect(st, ctx, self)
