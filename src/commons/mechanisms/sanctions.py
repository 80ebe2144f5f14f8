"""Sanctions: fines and punishments (sanction phase)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._params import per_replicate
from ..plugin import Plugin
from ..state import RECIPIENTS

__all__ = ["QuotaFine"]


def check_recipient(recipient: str) -> str:
    """Validate where fines go."""
    if recipient not in RECIPIENTS:
        raise ValueError(f"recipient must be one of {RECIPIENTS}, got {recipient!r}")
    return recipient


class QuotaFine(Plugin):
    r"""A fine per unit seen over the quota, levied when monitoring detects the violation.

    fine_i = phi (o_i - q) if i was detected (inspected, and its observed draw o_i exceeded the
    quota q), else 0; o_i = h_i unless observation is noisy. The fine goes to ``recipient``:
    the regulator (default), burned, or the members in equal shares (then the plug-in is
    budget-balanced: it only moves money inside the group). It also posts the expected fine per
    unit over the quota, phi p_i, which best-response rules weigh (deterrence, Ostrom, Gardner &
    Walker 1994: phi p >= the marginal gain from overdrawing at the quota).
    """

    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    payer: ClassVar[str] = "violator"

    def __init__(self, rate: Any, *, recipient: str = "regulator") -> None:
        self.rate = rate
        self.recipient = check_recipient(recipient)

    @property
    def budget_balanced(self) -> bool:  # type: ignore[override]
        return self.recipient == "members"

    def bind(self, ctx) -> dict[str, Any]:
        return {"phi": per_replicate("rate", self.rate, ctx.R, low=0.0)}

    def sanction(self, st, ctx) -> None:
        phi = ctx.params[self]["phi"][:, None]
        over = np.maximum(st.observed - st.quota[:, None], 0.0)
        fine = np.where(st.detected, phi * over, 0.0)
        st.charge("fine", fine, self.recipient)
        st.sanctioned |= fine > 0
        st.penalty_rate += phi * st.detect_prob
