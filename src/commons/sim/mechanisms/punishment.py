"""Peer punishment along trust edges (sanction phase)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .._params import per_replicate
from ..plugin import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["PeerPunishment", "fehr_gachter_cost"]


def fehr_gachter_cost(points: np.ndarray) -> np.ndarray:
    r"""Cost of assigning p punishment points, Fehr & Gächter (2000): floor((p + 1)**2 / 4).

    c(p) = 0, 1, 2, 4, 6, 9, 12, 16, 20, 25, 30 for p = 0, ..., 10.
    """
    p = np.asarray(points)
    return np.floor((p + 1) ** 2 / 4.0)


class PeerPunishment(Plugin):
    r"""Organisations pay to reduce the payoffs of neighbours they see violating.

    On each trust edge i -> j, i assigns ``points`` punishment points to j if j drew over the
    quota (with probability ``propensity``: not everyone is willing to pay), to a compliant j
    with probability ``antisocial`` (antisocial punishment, Herrmann, Thöni & Gächter 2008), and
    to a j who punished i last round with probability ``revenge``. Two technologies:

    * ``cost="linear"`` (Fehr & Gächter 2002): each point costs the punisher ``unit_cost`` and
      removes ``ratio`` times that from the target (1:3 by default);
    * ``cost="fehr-gachter"`` (Fehr & Gächter 2000): assigning p points to one target costs
      ``unit_cost`` c(p), c(p) = floor((p + 1)**2 / 4), and each point received removes 10 % of
      the target's gross payoff this round (at most 100 %):

          pi_j = pi1_j max(0, 1 - 0.1 sum_i p_ij) - sum_k c(p_jk).

    Costs and damage are burned. Peers see true draws; punishment is flat per violation, so it
    deters through payoffs (imitation, learning) rather than through a per-unit expected fine.
    """

    role: ClassVar[str] = "sanction"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"sanction": ("compliant", "gross", "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("charges", "sanctioned", "memory")}
    memory: ClassVar[dict[str, tuple]] = {"punished": ("edge", bool)}
    stochastic: ClassVar[bool] = True
    budget_balanced: ClassVar[bool] = False
    payer: ClassVar[str] = "members"

    def __init__(self, points: int = 1, *, propensity: Any = 1.0, cost: str = "linear",
                 unit_cost: Any = 1.0, ratio: Any = 3.0, antisocial: Any = 0.0,
                 revenge: Any = 0.0) -> None:
        if cost not in ("linear", "fehr-gachter"):
            raise ValueError(f"cost must be 'linear' or 'fehr-gachter', got {cost!r}")
        self.points = check_integer("points", points, low=0)
        if cost == "fehr-gachter" and self.points > 10:
            raise ValueError(f"points must be <= 10 with the Fehr–Gächter schedule, got {points}")
        self.propensity = propensity
        self.cost = cost
        self.unit_cost = unit_cost
        self.ratio = ratio
        self.antisocial = antisocial
        self.revenge = revenge

    def requires(self) -> tuple[str, ...]:
        return ("edges",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        return {"propensity": per_replicate("propensity", self.propensity, R, low=0.0,
                                            high=1.0),
                "unit_cost": per_replicate("unit_cost", self.unit_cost, R, low=0.0),
                "ratio": per_replicate("ratio", self.ratio, R, low=0.0),
                "antisocial": per_replicate("antisocial", self.antisocial, R, low=0.0,
                                            high=1.0),
                "revenge": per_replicate("revenge", self.revenge, R, low=0.0, high=1.0),
                "reverse": ctx.network.reverse}

    def assign(self, st, ctx) -> np.ndarray:
        """Points on each edge i -> j this round, shape (R, E)."""
        P = ctx.params[self]
        net = ctx.network
        u = ctx.uniforms(self, n=net.n_edges)
        violated = ~st.compliant[:, net.indices]
        last = self.mem(st, ctx)["punished"]
        rev = P["reverse"]
        punished_me = np.where(rev >= 0, last[:, np.maximum(rev, 0)], False)
        act = ((violated & (u[..., 0] < P["propensity"][:, None]))
               | (~violated & (u[..., 1] < P["antisocial"][:, None]))
               | (punished_me & (u[..., 2] < P["revenge"][:, None])))
        return np.where(act, float(self.points), 0.0)

    def sanction(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        net = ctx.network
        pts = self.assign(st, ctx)
        c = P["unit_cost"][:, None]
        if self.cost == "linear":
            cost = net.edge_sums(pts * c)
            damage = net.in_edge_sums(pts * c * P["ratio"][:, None])
        else:
            cost = net.edge_sums(fehr_gachter_cost(pts) * c)
            received = net.in_edge_sums(pts)
            damage = np.maximum(st.gross, 0.0) * np.minimum(1.0, 0.1 * received)
        st.charge("cost", cost, "burned")
        st.charge("fine", damage, "burned")
        st.sanctioned |= damage > 0
        self.mem(st, ctx)["punished"] = pts > 0
