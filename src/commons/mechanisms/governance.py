"""Rules in use: the quota each organisation may draw (communicate phase)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._params import per_replicate
from ..plugin import Plugin

__all__ = ["FixedQuota", "StockShareQuota"]


class StockShareQuota(Plugin):
    r"""A quota that tracks the stock (congruence with local conditions, Ostrom's principle 2).

    At the start of each round q = share S / N: each organisation may draw a fixed share of the
    current stock divided equally. CPR-v1 uses share = 0.05.
    """

    phases: ClassVar[tuple[str, ...]] = ("communicate",)

    def __init__(self, share: Any) -> None:
        self.share = share

    def bind(self, ctx) -> dict[str, Any]:
        return {"share": per_replicate("share", self.share, ctx.R, low=0.0)}

    def communicate(self, st, ctx) -> None:
        q = ctx.params[self]["share"] * st.stock / ctx.N
        st.quota = np.broadcast_to(q[:, None], (ctx.R, ctx.N)).copy()


class FixedQuota(Plugin):
    """A fixed quota per organisation, set from outside (a central target)."""

    phases: ClassVar[tuple[str, ...]] = ("communicate",)

    def __init__(self, quota: Any) -> None:
        self.quota = quota

    def bind(self, ctx) -> dict[str, Any]:
        return {"q": per_replicate("quota", self.quota, ctx.R, low=0.0)}

    def communicate(self, st, ctx) -> None:
        st.quota = np.broadcast_to(ctx.params[self]["q"][:, None], (ctx.R, ctx.N)).copy()


def no_quota(R: int, N: int) -> np.ndarray:
    """The quota when no rule is in force: unlimited, shape (R, N)."""
    return np.full((R, N), np.inf)
