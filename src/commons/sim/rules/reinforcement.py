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
    r"""Roth–Erev reinforcement learning over G draw levels (Roth & Erev 1995; Erev & Roth 1998).

    Each organisation keeps propensities :math:`q_k` over the levels
    :math:`g_k = \bar x\, k / (G - 1)`, :math:`k = 0, \dots, G - 1` (:math:`\bar x` the
    largest draw allowed), and picks level :math:`k` with probability
    :math:`q_k / \sum_l q_l`. After the round, with reinforcement
    :math:`r = \pi - \pi_{\min}` (:math:`\pi_{\min}` the lowest payoff it has seen so far,
    the current one included, so :math:`r \ge 0`), the propensities update with recency
    :math:`\phi` and experimentation :math:`\varepsilon` (Erev & Roth 1998):

    .. math::

        q_k \leftarrow (1 - \phi)\, q_k + \begin{cases}
            r\, (1 - \varepsilon) & \text{if } k \text{ was played,} \\
            r\, \varepsilon / (G - 1) & \text{otherwise,}
        \end{cases}

    floored at 1e-300 so that the choice probabilities stay defined.

    Parameters
    ----------
    grid : int, default 11
        G, the number of draw levels (at least 2), evenly spaced from 0 to the largest draw.
    recency : float, (R,) array or Uniform, default 0.1
        :math:`\phi \in [0, 1]`, the forgetting rate of the propensities, per replicate.
    experimentation : float, (R,) array or Uniform, default 0.2
        :math:`\varepsilon \in [0, 1]`, the share of the reinforcement spread over the levels
        not played, per replicate.
    initial : float, default 1.0
        The initial propensity of every level (all levels equally likely at first).

    References
    ----------
    Roth, A. E. & Erev, I. (1995). Learning in extensive-form games: experimental data and
    simple dynamic models in the intermediate term. *Games and Economic Behavior* 8, 164-212.

    Erev, I. & Roth, A. E. (1998). Predicting how people play games: reinforcement learning in
    experimental games with unique, mixed strategy equilibria. *American Economic Review* 88,
    848-881.
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
        r"""The decide phase: draw a level k with probability :math:`q_k / \sum_l q_l`.

        Parameters
        ----------
        st : State
            The state; reads the propensities ``q`` in the rule's memory; writes ``draws``
            (:math:`x_i = \bar x\, k_i / (G - 1)`, shape (R, N)) and the level played ``k``
            in memory.
        ctx : Context
            The run's context (one uniform per organisation and round from the rule's stream).
        """
        mem = self.mem(st, ctx)
        u = ctx.uniforms(self)[..., 0]
        cdf = np.cumsum(mem["q"], axis=-1)
        k = (cdf < u[..., None] * cdf[..., -1:]).sum(axis=-1)
        mem["k"] = np.minimum(k, self.grid - 1)
        st.draws = ctx.max_draw * mem["k"] / (self.grid - 1)

    def learn(self, st: State, ctx: Context) -> None:
        r"""The learn phase: reinforce the level played by the payoff above the lowest seen.

        Updates :math:`\pi_{\min} \leftarrow \min(\pi_{\min}, \pi)` and the propensities
        by the rule in the class docstring.

        Parameters
        ----------
        st : State
            The state; reads ``payoffs`` and the memory ``q``, ``k``, ``floor``; writes the
            memory ``q`` and ``floor`` and ``next_draws`` (the draws kept; the next decide
            phase draws a new level anyway).
        ctx : Context
            The run's context (recency and experimentation in ``ctx.params[self]``).
        """
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
