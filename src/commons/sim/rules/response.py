"""Best-response rules: myopic, noisy, logit, and open-access entry."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .. import _elementwise as ew
from .._jit import jitable, normal, u4
from .._params import per_replicate
from ..plugin import compiled
from ..replies import (
    REPLY_READS,
    best_reply,
    best_response,
    draw_payoff,
    evaluate,
    prepare_replies,
)
from ..streams import box_muller
from .base import Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["BestResponse", "LogitResponse", "SmithEntry"]


class BestResponse(Rule):
    r"""Myopic (noisy) best response with inertia.

    Each round each organisation revises with probability ``revision_rate`` (mu) to
    x' = clip(BR_i + sigma z, 0, max_draw), z ~ N(0, 1), where BR_i is its best reply to the
    current state (others' draws, the quota, the expected fine per unit over it); otherwise it
    keeps its draw. With mu < 1 the updating is asynchronous, which makes best-response
    dynamics converge in Cournot-type games where simultaneous revision cycles.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("next_draws",),
                                                   "learn": REPLY_READS}
    cparams: ClassVar[tuple[str, ...]] = ("mu", "sigma", "xmax")
    stochastic: ClassVar[bool] = True

    def __init__(self, revision_rate: Any = 1.0, noise: Any = 0.0) -> None:
        self.revision_rate = revision_rate
        self.noise = noise

    def requires(self) -> tuple[str, ...]:
        return ("best_response",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"mu": per_replicate("revision_rate", self.revision_rate, ctx.R, low=0.0,
                                    high=1.0),
                "sigma": per_replicate("noise", self.noise, ctx.R, low=0.0),
                "xmax": ctx.max_draw}

    def learn(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        u = ctx.uniforms(self)
        br = best_response(ctx.technology, st, ctx)
        target = br + P["sigma"][:, None] * box_muller(u[..., 1], u[..., 2])
        revise = u[..., 0] < P["mu"][:, None]
        st.next_draws = np.where(revise, np.clip(target, 0.0, ctx.max_draw), st.draws)


class LogitResponse(Rule):
    r"""Logit (quantal) best response on a grid of draws (McKelvey & Palfrey 1995).

    A revising organisation picks draw g_k = max_draw k / (G - 1) with probability
    exp(U_k / tau) / sum_l exp(U_l / tau), U_k its payoff from drawing g_k against the others'
    current draws (expected fines included). tau -> 0 is the exact best reply on the grid.
    Its memory ``weights`` keeps each revising organisation's last weights
    exp(U_k / tau - max_l U_l / tau).
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("next_draws",),
                                                   "learn": (*REPLY_READS, "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws",),
                                                    "learn": ("next_draws", "memory")}
    memory: ClassVar[dict[str, tuple]] = {"weights": ("org", float, "grid")}
    cparams: ClassVar[tuple[str, ...]] = ("tau", "mu", "levels", "xmax")
    stochastic: ClassVar[bool] = True

    def __init__(self, temperature: Any = 1.0, grid: int = 21, revision_rate: Any = 1.0) -> None:
        self.temperature = temperature
        self.grid = check_integer("grid", grid, low=2)
        self.revision_rate = revision_rate

    def requires(self) -> tuple[str, ...]:
        return ("evaluate",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"tau": per_replicate("temperature", self.temperature, ctx.R, low=0.0,
                                     low_open=True),
                "mu": per_replicate("revision_rate", self.revision_rate, ctx.R, low=0.0,
                                    high=1.0),
                "levels": np.linspace(0.0, 1.0, self.grid), "xmax": ctx.max_draw}

    def learn(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        u = ctx.uniforms(self)
        z = ctx.max_draw[..., None] * P["levels"]  # (R, N, G)
        U = evaluate(ctx.technology, st, ctx, z)
        logits = U / P["tau"][:, None, None]
        logits -= logits.max(axis=-1, keepdims=True)
        w = ew.exp(logits)
        cdf = np.cumsum(w, axis=-1)
        k = (cdf < u[..., 1:2] * cdf[..., -1:]).sum(axis=-1)
        choice = np.take_along_axis(z, np.minimum(k, self.grid - 1)[..., None], -1)[..., 0]
        revise = u[..., 0] < P["mu"][:, None]
        self.mem(st, ctx)["weights"][revise] = w[revise]
        st.next_draws = np.where(revise, choice, st.draws)


class SmithEntry(Rule):
    r"""Open-access entry and exit (Smith 1968): draws grow with profit, x' = x + eta gross.

    Effort flows into the commons while it pays and out while it loses, so the rent is driven
    to zero: with a logistic stock and fishing technology the stock settles at the open-access
    (bionomic) level c / (p q) of Gordon (1954).
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("next_draws",),
                                                   "learn": ("draws", "gross")}
    cparams: ClassVar[tuple[str, ...]] = ("eta", "xmax")

    def __init__(self, rate: Any = 0.1) -> None:
        self.rate = rate

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"eta": per_replicate("rate", self.rate, ctx.R, low=0.0, low_open=True),
                "xmax": ctx.max_draw}

    def learn(self, st: State, ctx: Context) -> None:
        eta = ctx.params[self]["eta"][:, None]
        st.next_draws = np.clip(st.draws + eta * st.gross, 0.0, ctx.max_draw)


# ---------------------------------------------------------------------- compiled forms
@compiled(BestResponse, "learn")
@jitable
def _best_response(r, t, S, P, M, rng, net, TP):
    mu, sigma, xmax = P
    prepare_replies(TP, r, t, S)
    for i in range(S.draws.shape[1]):
        v0, v1, v2, _ = u4(i, t, rng)
        if v0 < mu[r]:
            v = best_reply(TP, r, i, t, S) + sigma[r] * normal(v1, v2)
            S.next_draws[r, i] = min(max(v, 0.0), xmax[r, i])
        else:
            S.next_draws[r, i] = S.draws[r, i]


@jitable
def _logit(TP, r, i, t, S, z, tau):
    return draw_payoff(TP, r, i, t, S, z) / tau


@compiled(LogitResponse, "learn")
@jitable
def _logit_response(r, t, S, P, M, rng, net, TP):
    # U_k / tau and its largest value, the weights exp(U_k / tau - top) and their sum, then
    # the first level whose running sum reaches u times that sum
    tau, mu, levels, xmax = P
    (weights,) = M
    prepare_replies(TP, r, t, S)
    G = levels.shape[0]
    for i in range(S.draws.shape[1]):
        v0, v1, _, _ = u4(i, t, rng)
        if not v0 < mu[r]:
            S.next_draws[r, i] = S.draws[r, i]
            continue
        top = -np.inf
        for k in range(G):
            weights[r, i, k] = _logit(TP, r, i, t, S, xmax[r, i] * levels[k], tau[r])
            top = max(top, weights[r, i, k])
        total = 0.0
        for k in range(G):
            weights[r, i, k] = math.exp(weights[r, i, k] - top)
            total += weights[r, i, k]
        threshold = v1 * total
        cdf = 0.0
        choice = G - 1
        for k in range(G):
            cdf += weights[r, i, k]
            if not cdf < threshold:
                choice = k
                break
        S.next_draws[r, i] = xmax[r, i] * levels[choice]


@compiled(SmithEntry, "learn")
@jitable
def _smith_entry(r, t, S, P, M, rng, net, TP):
    eta, xmax = P
    for i in range(S.draws.shape[1]):
        v = S.draws[r, i] + eta[r] * S.gross[r, i]
        S.next_draws[r, i] = min(max(v, 0.0), xmax[r, i])
