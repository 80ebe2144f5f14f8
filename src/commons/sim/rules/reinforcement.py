"""Reinforcement learning on a grid of draws (Roth & Erev 1995; Erev & Roth 1998)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .._jit import jitable, u1
from .._params import per_replicate
from ..plugin import compiled
from .base import Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["RothErev"]


class RothErev(Rule):
    r"""Roth–Erev reinforcement learning over G draw levels.

    Each organisation keeps propensities q_k over the levels g_k = max_draw k / (G - 1) and
    picks level k with probability q_k / sum_l q_l. After the round, with reinforcement
    r = pi - pi_min (pi_min the lowest payoff it has seen, so r >= 0), the propensities update
    (Erev & Roth 1998, with recency phi and experimentation eps):

        q_k <- (1 - phi) q_k + r (1 - eps)          if k was played,
        q_k <- (1 - phi) q_k + r eps / (G - 1)      otherwise.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("memory",),
                                                   "learn": ("payoffs", "draws", "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws", "memory"),
                                                    "learn": ("next_draws", "memory")}
    memory: ClassVar[dict[str, tuple]] = {"q": ("org", float, "grid"), "k": ("org", int),
                                          "floor": ("org", float)}
    cparams: ClassVar[tuple[str, ...]] = ("phi", "eps", "xmax")
    stochastic: ClassVar[bool] = True

    def __init__(self, grid: int = 11, recency: Any = 0.1, experimentation: Any = 0.2,
                 initial: float = 1.0) -> None:
        self.grid = check_integer("grid", grid, low=2)
        self.recency = recency
        self.experimentation = experimentation
        self.initial = initial

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"phi": per_replicate("recency", self.recency, ctx.R, low=0.0, high=1.0),
                "eps": per_replicate("experimentation", self.experimentation, ctx.R, low=0.0,
                                     high=1.0),
                "xmax": ctx.max_draw}

    def setup(self, st: State, ctx: Context) -> None:
        mem = self.mem(st, ctx)
        mem["q"].fill(float(self.initial))
        mem["floor"].fill(np.inf)

    def decide(self, st: State, ctx: Context) -> None:
        mem = self.mem(st, ctx)
        u = ctx.uniforms(self)[..., 0]
        cdf = np.cumsum(mem["q"], axis=-1)
        k = (cdf < u[..., None] * cdf[..., -1:]).sum(axis=-1)
        mem["k"] = np.minimum(k, self.grid - 1)
        st.draws = ctx.max_draw * mem["k"] / (self.grid - 1)

    def learn(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        mem = self.mem(st, ctx)
        mem["floor"] = np.minimum(mem["floor"], st.payoffs)
        r = (st.payoffs - mem["floor"])[..., None]
        eps = P["eps"][:, None, None]
        played = np.arange(self.grid) == mem["k"][..., None]
        gain = np.where(played, r * (1 - eps), r * eps / (self.grid - 1))
        mem["q"] = (1 - P["phi"][:, None, None]) * mem["q"] + gain
        mem["q"] = np.maximum(mem["q"], 1e-300)
        st.next_draws = st.draws.copy()


# ---------------------------------------------------------------------- compiled forms
@compiled(RothErev, "decide")
@jitable
def _roth_erev_decide(r, t, S, P, M, rng, net, TP):
    xmax = P[2]
    q, k = M[0], M[1]
    G = q.shape[2]
    for i in range(S.draws.shape[1]):
        u = u1(i, t, rng)
        total = 0.0
        for g in range(G):
            total += q[r, i, g]
        threshold = u * total
        cdf = 0.0
        pick = G - 1
        for g in range(G):  # the first level whose running sum reaches u times the total
            cdf += q[r, i, g]
            if not cdf < threshold:
                pick = g
                break
        k[r, i] = pick
        S.draws[r, i] = xmax[r, i] * pick / (G - 1)


@compiled(RothErev, "learn")
@jitable
def _roth_erev_learn(r, t, S, P, M, rng, net, TP):
    phi, eps = P[0], P[1]
    q, k, floor = M
    G = q.shape[2]
    for i in range(S.draws.shape[1]):
        floor[r, i] = min(floor[r, i], S.payoffs[r, i])
        gain = S.payoffs[r, i] - floor[r, i]
        for g in range(G):
            add = gain * (1 - eps[r]) if g == k[r, i] else gain * eps[r] / (G - 1)
            q[r, i, g] = max((1 - phi[r]) * q[r, i, g] + add, 1e-300)
        S.next_draws[r, i] = S.draws[r, i]
