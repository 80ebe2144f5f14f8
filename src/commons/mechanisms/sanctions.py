"""Sanctions: fines and punishments (sanction phase)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._params import per_replicate
from ..plugin import Plugin

__all__ = ["QuotaFine"]


class QuotaFine(Plugin):
    r"""A fine per unit drawn over the quota, levied when the violation is detected.

    fine_i = phi (h_i - q)  if h_i > q and i was detected (probability p_i from monitoring),
    else 0. Fines leave the group (paid to the regulator or burned), so the plug-in is not
    budget-balanced. It also posts the expected fine per unit over the quota, phi p_i, which
    best-response rules weigh (the deterrence condition of Ostrom, Gardner & Walker 1994:
    phi p >= the marginal gain from overdrawing at the quota).
    """

    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    budget_balanced: ClassVar[bool] = False
    payer: ClassVar[str] = "violator"

    def __init__(self, rate: Any) -> None:
        self.rate = rate

    def bind(self, ctx) -> dict[str, Any]:
        return {"phi": per_replicate("rate", self.rate, ctx.R, low=0.0)}

    def sanction(self, st, ctx) -> None:
        phi = ctx.params[self]["phi"][:, None]
        over = np.maximum(st.granted - st.quota[:, None], 0.0)
        fine = np.where(st.detected, phi * over, 0.0)
        st.fines += fine
        st.penalty_rate += phi * st.detect_prob
