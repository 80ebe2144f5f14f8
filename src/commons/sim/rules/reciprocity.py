"""Reciprocity: conditional cooperation and trigger strategies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .._params import per_replicate
from .base import Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["ConditionalCooperation", "Trigger"]

_FOREVER = np.iinfo(np.int64).max // 4


def _targets(ctx, cooperate):
    """The cooperative draw (R, N): given, else the group optimum."""
    if cooperate is None:
        from ..targets import optimum_draws
        return optimum_draws(ctx.technology, ctx)
    return np.broadcast_to(np.asarray(cooperate, dtype=np.float64), (ctx.R, ctx.N)).copy()


class ConditionalCooperation(Rule):
    r"""Draw the agreed share while trusted neighbours comply; drift toward Nash when they do not.

    Fischbacher, Gächter & Fehr (2001) conditional cooperators, on a network: organisation i
    computes c_i, the trust-weighted share of its neighbours j whose granted draw did not exceed
    the agreed draw (the quota in force if finite, else ``cooperate``, else the optimum); with
    no neighbours, the share over the whole group. If c_i >= ``threshold`` it draws the agreed
    amount next round; otherwise x' = x + drift (x_Nash - x).
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "decide": ("next_draws",), "learn": ("draws", "granted", "quota", "trust")}

    def __init__(self, cooperate: Any = None, threshold: Any = 0.5, drift: Any = 0.25,
                 tolerance: float = 1e-9) -> None:
        self.cooperate = cooperate
        self.threshold = threshold
        self.drift = drift
        self.tolerance = tolerance

    def requires(self) -> tuple[str, ...]:
        return ("nash",) + (("optimum",) if self.cooperate is None else ())

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import nash_draws
        return {"coop": _targets(ctx, self.cooperate), "nash": nash_draws(ctx.technology, ctx),
                "threshold": per_replicate("threshold", self.threshold, ctx.R, low=0.0,
                                           high=1.0),
                "drift": per_replicate("drift", self.drift, ctx.R, low=0.0, high=1.0)}

    def agreed(self, st, ctx) -> np.ndarray:
        """The agreed draw: the quota when one is in force, else the cooperative target."""
        coop = ctx.params[self]["coop"]
        q = st.quota
        return np.where(np.isfinite(q), np.broadcast_to(q, coop.shape), coop)

    def learn(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        agreed = self.agreed(st, ctx)
        ok = (st.granted <= agreed * (1 + self.tolerance) + self.tolerance).astype(float)
        group = np.broadcast_to(ok.mean(axis=1, keepdims=True), ok.shape)
        share = ctx.network.neighbour_mean(ok, empty=np.nan, edge_weights=st.trust)
        share = np.where(np.isnan(share), group, share)
        drifted = st.draws + P["drift"][:, None] * (P["nash"] - st.draws)
        st.next_draws = np.where(share >= P["threshold"][:, None], agreed, drifted)


class Trigger(Rule):
    r"""Trigger strategies: cooperate until a neighbour defects, then punish.

    Organisation i draws ``cooperate`` (default: the optimum) until it sees a neighbour who was
    not itself punishing draw more than that; it then draws ``punish`` (default: the stage Nash)
    for ``punish_rounds`` rounds (``None``: forever, grim trigger; Friedman 1971) before
    returning to cooperation (a forgiving trigger). With ``scope="all"`` every organisation sees
    every other, as in the folk theorem.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("memory",),
                                                   "learn": ("granted", "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws",),
                                                    "learn": ("next_draws", "memory")}
    memory: ClassVar[dict[str, tuple]] = {"left": ("org", int)}

    def __init__(self, cooperate: Any = None, punish: Any = None,
                 punish_rounds: int | None = None, scope: str = "neighbours",
                 tolerance: float = 1e-9) -> None:
        if scope not in ("neighbours", "all"):
            raise ValueError(f"scope must be 'neighbours' or 'all', got {scope!r}")
        self.cooperate = cooperate
        self.punish = punish
        self.punish_rounds = (None if punish_rounds is None
                              else check_integer("punish_rounds", punish_rounds, low=1))
        self.scope = scope
        self.tolerance = tolerance

    def requires(self) -> tuple[str, ...]:
        return ((("nash",) if self.punish is None else ())
                + (("optimum",) if self.cooperate is None else ()))

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import nash_draws
        punish = (nash_draws(ctx.technology, ctx) if self.punish is None else
                  np.broadcast_to(np.asarray(self.punish, float), (ctx.R, ctx.N)).copy())
        return {"coop": _targets(ctx, self.cooperate), "punish": punish}

    def decide(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        left = self.mem(st, ctx)["left"]
        st.draws = np.where(left > 0, P["punish"], P["coop"])

    def learn(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        mem = self.mem(st, ctx)
        left = mem["left"]
        was_punishing = left > 0
        defect = ((st.granted > P["coop"] * (1 + self.tolerance) + self.tolerance)
                  & ~was_punishing).astype(float)
        if self.scope == "all":
            seen = defect.sum(axis=1, keepdims=True) - defect > 0
        else:
            seen = ctx.network.neighbour_mean(defect, empty=0.0) > 0
        length = _FOREVER if self.punish_rounds is None else self.punish_rounds
        left = np.where(seen, length, np.maximum(left - 1, 0))
        mem["left"] = left
        st.next_draws = np.where(left > 0, P["punish"], P["coop"])
