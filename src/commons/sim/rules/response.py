"""Best-response rules: myopic, noisy, logit, and open-access entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .. import _elementwise as ew
from .._exp import exp
from .._jit import fill_items, jitable, normal, u4
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
from ..streams import normal_quantile
from .base import Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["BestResponse", "LogitResponse", "SmithEntry"]


class BestResponse(Rule):
    r"""Myopic (noisy) best response with inertia (Cournot adjustment; Fudenberg & Levine 1998).

    Each round each organisation revises with probability :math:`\mu` (``revision_rate``) to

    .. math:: x_i' = \operatorname{clip}(BR_i + \sigma z_i,\ 0,\ \bar x_i),
        \qquad z_i \sim N(0, 1),

    where :math:`BR_i` is its best reply to the current state (the others' draws, the quota,
    the expected fine and charge per unit) and :math:`\bar x_i` its largest draw; otherwise it
    keeps its draw. With :math:`\mu < 1` the updating is asynchronous, which makes
    best-response dynamics converge in Cournot-type games where simultaneous revision cycles.

    Parameters
    ----------
    revision_rate : float, (R,) array or Uniform, default 1.0
        :math:`\mu \in [0, 1]`, the probability that an organisation revises in a round, per
        replicate.
    noise : float, (R,) array or Uniform, default 0.0
        :math:`\sigma \ge 0`, the standard deviation of the error added to the best reply
        (draw units), per replicate.

    References
    ----------
    Fudenberg, D. & Levine, D. K. (1998). *The Theory of Learning in Games*. MIT Press, ch. 1-2.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("next_draws",),
                                                   "learn": REPLY_READS}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws",),
                                                    "learn": ("next_draws", "memory")}
    # "draws": the round's two uniforms per organisation (revise?, the error), drawn at once
    # in compiled code (scratch)
    memory: ClassVar[dict[str, tuple]] = {"draws": ("org", float, "_numbers"),
                                          "revising": ("org", int)}
    cparams: ClassVar[tuple[str, ...]] = ("mu", "sigma", "xmax")
    stochastic: ClassVar[bool] = True
    _numbers: ClassVar[int] = 2

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
        r"""The learn phase: revise to the noisy best reply with probability :math:`\mu`.

        Parameters
        ----------
        st : State
            The state; reads ``draws``, ``quota``, ``penalty_rate``, ``unit_charge``,
            ``motivation``, ``stock_start`` (what a best reply depends on); writes
            ``next_draws`` (R, N): the clipped noisy best reply for revising organisations, the
            current draw for the others.
        ctx : Context
            The run's context (two uniforms per organisation and round from the rule's
            stream, two organisations to a block: the revision draw, and the noise as a
            normal quantile).
        """
        P = ctx.params[self]
        u = ctx.packed_uniforms(self, ctx.N, width=2)
        br = best_response(ctx.technology, st, ctx)
        sigma = P["sigma"][:, None]
        # without noise the reply is taken as it is (no quantile, as compiled code skips it)
        target = np.where(sigma > 0.0, br + sigma * normal_quantile(u[..., 1]), br)
        revise = u[..., 0] < P["mu"][:, None]
        st.next_draws = np.where(revise, np.clip(target, 0.0, ctx.max_draw), st.draws)


class LogitResponse(Rule):
    r"""Logit (quantal) best response on a grid of draws (Fudenberg & Levine 1998; McKelvey &
    Palfrey 1995).

    Each round an organisation revises with probability :math:`\mu` (``revision_rate``) and
    then picks the draw :math:`g_k = \bar x_i\, k / (G - 1)` with probability

    .. math:: P(k) = \frac{\exp(U_k / \tau)}{\sum_l \exp(U_l / \tau)},

    :math:`U_k` its payoff from drawing :math:`g_k` against the others' current draws
    (expected fines and charges included). :math:`\tau \to 0` is the exact best reply on the
    grid, large :math:`\tau` a uniform choice. Its memory ``weights`` keeps each revising
    organisation's last weights :math:`\exp(U_k / \tau - \max_l U_l / \tau)`.

    Parameters
    ----------
    temperature : float, (R,) array or Uniform, default 1.0
        :math:`\tau > 0`, in payoff units, per replicate.
    grid : int, default 21
        G, the number of draw levels (at least 2), evenly spaced from 0 to the largest draw.
    revision_rate : float, (R,) array or Uniform, default 1.0
        :math:`\mu \in [0, 1]`, the probability that an organisation revises in a round, per
        replicate.

    References
    ----------
    Fudenberg, D. & Levine, D. K. (1998). *The Theory of Learning in Games*. MIT Press, ch. 4.

    McKelvey, R. D. & Palfrey, T. R. (1995). Quantal response equilibria for normal form
    games. *Games and Economic Behavior* 10, 6-38.
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
        r"""The learn phase: revising organisations draw a grid level from the logit choice.

        Parameters
        ----------
        st : State
            The state; reads ``draws``, ``quota``, ``penalty_rate``, ``unit_charge``,
            ``motivation``, ``stock_start`` (what the payoffs :math:`U_k` depend on); writes
            ``next_draws`` (R, N), the chosen level for revising organisations and the
            current draw for the others, and the memory ``weights`` (R, N, G) of the revising
            organisations.
        ctx : Context
            The run's context (uniforms from the rule's stream: the revision draw and the
            choice draw).
        """
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
    r"""Open-access entry and exit (Smith 1968): draws grow with profit.

    .. math:: x_i' = \operatorname{clip}(x_i + \eta\, g_i,\ 0,\ \bar x_i),

    :math:`g_i` the organisation's gross profit of the round (``gross``, before charges and
    transfers) and :math:`\bar x_i` its largest draw. Effort flows into the commons while it
    pays and out while it loses, so the rent is driven to zero: with a logistic stock and
    fishing technology the stock settles at the open-access (bionomic) level
    :math:`c / (p q)` of Gordon (1954).

    Parameters
    ----------
    rate : float, (R,) array or Uniform, default 0.1
        :math:`\eta > 0`, draw units per unit of gross profit, per replicate.

    References
    ----------
    Smith, V. L. (1968). Economics of production from natural resources. *American Economic
    Review* 58, 409-431.

    Gordon, H. S. (1954). The economic theory of a common-property resource: the fishery.
    *Journal of Political Economy* 62, 124-142.
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
        r"""The learn phase: :math:`x_i' = \operatorname{clip}(x_i + \eta\, g_i, 0, \bar x_i)`.

        Parameters
        ----------
        st : State
            The state; reads ``draws`` and ``gross``; writes ``next_draws`` (R, N).
        ctx : Context
            The run's context (:math:`\eta` in ``ctx.params[self]``).
        """
        eta = ctx.params[self]["eta"][:, None]
        st.next_draws = np.clip(st.draws + eta * st.gross, 0.0, ctx.max_draw)


# ---------------------------------------------------------------------- compiled forms
@compiled(BestResponse, "learn")
@jitable
def _best_response(r, t, S, P, M, rng, net, TP):
    mu, sigma, xmax = P
    u, who = M
    prepare_replies(TP, r, t, S)
    N = S.draws.shape[1]
    fill_items(u, r, 0, N, t, rng)  # every organisation's two numbers, at once
    m = mu[r]
    n = 0
    for i in range(N):  # everyone keeps its draw, and the revisers are listed, without a
        S.next_draws[r, i] = S.draws[r, i]  # jump: who revises is a coin toss to predict
        who[r, n] = i
        n += np.int64(u[r, i, 0] < m)
    s = sigma[r]
    for k in range(n):  # then each reviser's best reply (which reads no next draw)
        i = who[r, k]
        x = best_reply(TP, r, i, t, S)
        if s > 0.0:  # without noise, no normal quantile to compute
            x += s * normal(u[r, i, 1])
        S.next_draws[r, i] = min(max(x, 0.0), xmax[r, i])


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
            weights[r, i, k] = exp(weights[r, i, k] - top)
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
