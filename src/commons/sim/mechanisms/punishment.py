"""Peer punishment along trust edges (sanction phase)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .._jit import fill_items, jitable
from .._params import per_replicate
from ..plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["PeerPunishment", "fehr_gachter_cost"]


def fehr_gachter_cost(points: np.ndarray) -> np.ndarray:
    r"""Cost of assigning p punishment points, Fehr & Gächter (2000): floor((p + 1)**2 / 4).

    c(p) = 0, 1, 2, 4, 6, 9, 12, 16, 20, 25, 30 for p = 0, ..., 10.

    Parameters
    ----------
    points : array_like
        Punishment points p >= 0 assigned to one target, any shape.

    Returns
    -------
    ndarray
        The cost c(p) to the punisher, in units of the unit cost, same shape.
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

    Parameters
    ----------
    points : int
        Punishment points assigned per violation seen, >= 1.
    propensity : float or (R,)
        Probability in [0, 1] that a watcher punishes a violator it sees.
    cost : {"linear", "fehr-gachter"}
        The punishment technology.
    unit_cost : float or (R,)
        Cost to the punisher per point (linear) or per unit of c(p), money >= 0.
    ratio : float or (R,)
        Damage per unit of cost (linear technology), >= 0.
    antisocial : float or (R,)
        Probability in [0, 1] of punishing a compliant neighbour.
    revenge : float or (R,)
        Probability in [0, 1] of punishing a neighbour who punished last round.
    """

    role: ClassVar[str] = "sanction"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"sanction": ("compliant", "gross", "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("charges", "sanctioned", "memory")}
    # "draws": the round's block of four uniforms per edge, drawn in one loop in compiled
    # code (scratch)
    memory: ClassVar[dict[str, tuple]] = {"punished": ("edge", bool), "points": ("edge", float),
                                          "draws": ("edge", float, "_numbers")}
    _numbers: ClassVar[int] = 4
    cparams: ClassVar[tuple[str, ...]] = ("propensity", "unit_cost", "ratio", "antisocial",
                                          "revenge", "points", "fehr_gachter")
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
                "reverse": ctx.network.reverse, "points": float(self.points),
                "fehr_gachter": self.cost == "fehr-gachter"}

    def assign(self, st, ctx) -> np.ndarray:
        """Points on each edge i -> j this round, shape (R, E).

        i punishes j with probability ``propensity`` if j violated, ``antisocial`` if it did
        not, and ``revenge`` if j punished i last round (independent uniforms of this
        plug-in's stream, one per edge and reason).

        Parameters
        ----------
        st : State
            The state; reads ``compliant`` and this plug-in's memory.
        ctx : Context
            The run's context.

        Returns
        -------
        ndarray, shape (R, E)
            ``points`` on the edges where i punishes j, else 0.
        """
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
        """The sanction phase: points are assigned on the edges (:meth:`assign`); punishers pay
        their cost and targets lose the damage, both burned.

        Parameters
        ----------
        st : State
            The state; reads ``compliant``, ``gross``, ``memory``; writes ``charges``,
            ``sanctioned``, ``memory``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
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


# ---------------------------------------------------------------------- compiled form
@compiled(PeerPunishment, "sanction")
@jitable
def _peer_punishment(r, t, S, P, M, rng, net, TP):
    propensity, unit_cost, ratio, antisocial, revenge, points, fehr_gachter = P
    punished, pts, u = M
    N = S.compliant.shape[1]
    E = net.indices.shape[0]
    c = unit_cost[r]
    fill_items(u, r, 0, E, t, rng)  # every edge's block u4(e, t, rng), at once
    # the parameters read once: the loops store to the state, which the compiler cannot tell
    # apart from them, so it would read them for each edge
    pr, an, rv, q = propensity[r], antisocial[r], revenge[r], ratio[r]
    for e in range(E):  # points on each edge i -> j, from last round's record
        violated = not S.compliant[r, net.indices[e]]
        back = net.reverse[e]
        punished_me = punished[r, back] if back >= 0 else False
        # the same value as the test of each case in turn, without a jump on each number
        act = ((violated & (u[r, e, 0] < pr))
               | ((not violated) & (u[r, e, 1] < an))
               | (punished_me & (u[r, e, 2] < rv)))
        pts[r, e] = points if act else 0.0
    for i in range(N):  # what each punisher pays
        spent = 0.0
        for e in range(net.indptr[i], net.indptr[i + 1]):
            p = pts[r, e]
            spent += (np.floor((p + 1) ** 2 / 4.0) * c) if fehr_gachter else p * c
        S.charges[r, 4, i] += spent
    for j in range(N):  # what each target loses
        got = 0.0
        for k in range(net.in_ptr[j], net.in_ptr[j + 1]):
            p = pts[r, net.in_edges[k]]
            got += p if fehr_gachter else p * c * q
        if fehr_gachter:
            gross = S.gross[r, j] if S.gross[r, j] > 0.0 else 0.0
            damage = gross * min(1.0, 0.1 * got)
        else:
            damage = got
        S.charges[r, 1, j] += damage
        # without a jump: whether a target was punished is a coin toss to predict
        S.sanctioned[r, j] |= damage > 0.0
    for e in range(E):
        punished[r, e] = pts[r, e] > 0.0
