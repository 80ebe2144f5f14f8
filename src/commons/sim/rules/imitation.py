"""Imitation along trust edges (pairwise comparison, the Fermi rule)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _elementwise as ew
from .._exp import exp
from .._gather import take
from .._jit import fill_items, inlined, jitable, normal
from .._params import per_replicate
from ..plugin import compiled
from ..replies import REPLY_READS, best_reply, best_response, prepare_replies
from ..streams import normal_quantile
from .base import Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["Imitation", "ReviseOrImitate"]


def imitate(st, ctx, u_pick: np.ndarray, u_copy: np.ndarray, selection: np.ndarray
            ) -> np.ndarray:
    r"""Trust-weighted Fermi imitation (Szabó & Tőke 1998; Traulsen et al. 2006).

    Organisation i picks a neighbour j uniformly (edge e = i -> j) and copies x_j with
    probability w_e / (1 + exp(-s (pi_j - pi_i))), the exponent clipped to [-50, 50].
    Organisations without neighbours keep their draws.
    """
    net = ctx.network
    deg = net.degree
    out = st.draws.copy()
    if net.n_edges == 0:
        return out
    has = deg > 0
    k = np.minimum((u_pick * deg).astype(np.int64), np.maximum(deg - 1, 0))
    e = np.minimum(net.indptr[:-1] + k, net.n_edges - 1)  # (R, N) edge index
    j = net.indices[e]
    rows = np.arange(st.R)[:, None]
    diff = st.payoffs[rows, j] - st.payoffs
    expo = np.clip(-selection[:, None] * diff, -50.0, 50.0)
    prob = st.trust[rows, e] / (1.0 + ew.exp(expo))
    copy = has & (u_copy < prob)
    out[copy] = st.draws[rows, j][copy]
    return out


#: Scratch of the compiled imitation (:func:`_imitate_batch`), per organisation: the picked
#: edge, the neighbour at its end, the edge's trust, the neighbour's payoff (then the copy
#: probability) and the neighbour's draw.
_PICKS: dict[str, tuple] = {"edge": ("org", np.uint64), "neighbour": ("org", np.uint64),
                            "edge_trust": ("org", float), "their_payoff": ("org", float),
                            "their_draw": ("org", float)}


class Imitation(Rule):
    r"""Every organisation imitates a random neighbour by the trust-weighted Fermi rule.

    Each round organisation :math:`i` picks one of its out-neighbours :math:`j` on the trust
    network uniformly at random (edge :math:`e = i \to j`) and copies its draw with probability

    .. math:: P(x_i' = x_j) = \frac{w_e}{1 + \exp(-s\, (\pi_j - \pi_i))},

    :math:`w_e \in [0, 1]` the trust on the edge and :math:`\pi` the round's payoffs (the
    exponent clipped to [-50, 50]); otherwise, and when it has no neighbour, it keeps its draw.
    This is the pairwise-comparison (Fermi) rule of Szabó & Tőke (1998) and Traulsen, Nowak &
    Pacheco (2006), weighted by trust.

    Parameters
    ----------
    selection : float, (R,) array or Uniform, default 10.0
        :math:`s \ge 0`, the intensity of selection (per payoff unit), per replicate:
        0 copies at random with probability :math:`w_e / 2`, large :math:`s` copies only
        better-paid neighbours.

    References
    ----------
    Szabó, G. & Tőke, C. (1998). Evolutionary prisoner's dilemma game on a square lattice.
    *Physical Review E* 58, 69-73.

    Traulsen, A., Nowak, M. A. & Pacheco, J. M. (2006). Stochastic dynamics of invasion and
    fixation. *Physical Review E* 74, 011909.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("next_draws",),
                                                   "learn": ("draws", "payoffs", "trust")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws",),
                                                    "learn": ("next_draws", "memory")}
    # "draws": the round's block of four uniforms per organisation (numbers 1 and 2 pick the
    # neighbour and decide the copy), drawn a batch at a time in one loop in compiled code;
    # the rest: what the compiled form gathers for each organisation's pick (see
    # _imitate_batch). All scratch, of which compiled code uses a batch's slots.
    memory: ClassVar[dict[str, tuple]] = {"draws": ("org", float, "_numbers"), **_PICKS}
    cparams: ClassVar[tuple[str, ...]] = ("s",)
    stochastic: ClassVar[bool] = True
    _numbers: ClassVar[int] = 4

    def __init__(self, selection: Any = 10.0) -> None:
        self.selection = selection

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"s": per_replicate("selection", self.selection, ctx.R, low=0.0)}

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: copy a random neighbour's draw by the trust-weighted Fermi rule.

        Parameters
        ----------
        st : State
            The state; reads ``draws``, ``payoffs`` (R, N) and ``trust`` (R, E); writes
            ``next_draws`` (R, N).
        ctx : Context
            The run's context (the trust network ``ctx.network``; uniforms from the rule's
            stream to pick the neighbour and to decide the copy).
        """
        u = ctx.uniforms(self)
        st.next_draws = imitate(st, ctx, u[..., 1], u[..., 2], ctx.params[self]["s"])


class ReviseOrImitate(Rule):
    r"""Noisy best response with probability mu, else trust-weighted Fermi imitation (CPR-v1).

    With probability :math:`\mu` (``revision_rate``) organisation :math:`i` revises to

    .. math:: x_i' = \operatorname{clip}(BR_i + \sigma z_i,\ 0,\ \bar x_i),
        \qquad z_i \sim N(0, 1),

    its noisy best reply (as in :class:`BestResponse`, Fudenberg & Levine 1998); otherwise it
    picks a neighbour :math:`j` at random and copies :math:`x_j` with probability
    :math:`w_{ij} / (1 + \exp(-s\, (\pi_j - \pi_i)))` (as in :class:`Imitation`, Szabó &
    Tőke 1998; Traulsen et al. 2006). The rule of the CPR-v1 benchmark model.

    Parameters
    ----------
    revision_rate : float, (R,) array or Uniform, default 0.1
        :math:`\mu \in [0, 1]`, the probability of a best-response revision, per replicate.
    noise : float, (R,) array or Uniform, default 0.1
        :math:`\sigma \ge 0`, the standard deviation of the error on the best reply (draw
        units), per replicate.
    selection : float, (R,) array or Uniform, default 10.0
        :math:`s \ge 0`, the intensity of selection of the imitation step, per replicate.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "decide": ("next_draws",), "learn": (*REPLY_READS, "payoffs", "trust")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws",),
                                                    "learn": ("next_draws", "memory")}
    # "draws": the round's block of four uniforms per organisation (revise?, the error or the
    # neighbour, the copy), a batch's blocks drawn in one loop in compiled code; then what the
    # compiled form gathers for each pick (see _imitate_batch) and the list of the revisers.
    # All scratch, of which compiled code uses a batch's slots.
    memory: ClassVar[dict[str, tuple]] = {"draws": ("org", float, "_numbers"), **_PICKS,
                                          "revisers": ("org", np.uint64)}
    cparams: ClassVar[tuple[str, ...]] = ("mu", "sigma", "s", "xmax")
    stochastic: ClassVar[bool] = True
    _numbers: ClassVar[int] = 4

    def __init__(self, revision_rate: Any = 0.1, noise: Any = 0.1,
                 selection: Any = 10.0) -> None:
        self.revision_rate = revision_rate
        self.noise = noise
        self.selection = selection

    def requires(self) -> tuple[str, ...]:
        return ("best_response",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        return {"mu": per_replicate("revision_rate", self.revision_rate, R, low=0.0, high=1.0),
                "sigma": per_replicate("noise", self.noise, R, low=0.0),
                "s": per_replicate("selection", self.selection, R, low=0.0),
                "xmax": ctx.max_draw}

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: noisy best reply with probability mu, else Fermi imitation.

        Parameters
        ----------
        st : State
            The state; reads ``draws``, ``quota``, ``penalty_rate``, ``unit_charge``,
            ``motivation``, ``stock_start`` (for the best reply), ``payoffs`` and ``trust``
            (for the imitation); writes ``next_draws`` (R, N).
        ctx : Context
            The run's context (the trust network; uniforms from the rule's stream).
        """
        P = ctx.params[self]
        u = ctx.uniforms(self)
        br = best_response(ctx.technology, st, ctx)
        sigma = P["sigma"][:, None]
        # without noise the reply is taken as it is (no quantile, as compiled code skips it)
        noisy = np.clip(np.where(sigma > 0.0, br + sigma * normal_quantile(u[..., 1]), br),
                        0.0, ctx.max_draw)
        copied = imitate(st, ctx, u[..., 1], u[..., 2], P["s"])
        st.next_draws = np.where(u[..., 0] < P["mu"][:, None], noisy, copied)


# ---------------------------------------------------------------------- compiled forms
@jitable(error_model="numpy")  # a division without a test for 0 (1 + e**x >= 1): SIMD lanes
def _copy_probabilities(w, their, own, k0, k1, i0, s):
    """their[k] <- w[k] / (1 + exp(-s (their[k] - own[i]))), i = i0 + k - k0, for k in
    k0..k1-1, the exponent clipped to [-50, 50].

    A function of its own, called once a batch: its loop runs in SIMD lanes whether or not
    the compiler copies it into the caller. Written as a function called per organisation,
    it stayed a call in the kernel that splits a replicate among threads (the compiler
    declined to copy it into so large a function), and the loop ran one organisation at a
    time: 2.8 times slower."""
    for k in range(k0, k1):
        ex = -s * (their[k] - own[i0 + (k - k0)])
        their[k] = w[k] / (1.0 + exp(min(max(ex, -50.0), 50.0)))


#: Organisations imitated at a time: their numbers (four uniforms, then five gathered) stay
#: in the core's first cache. Each range's numbers go to the slots of the range's first
#: organisations, so a range of N = 10^5 shared by threads writes no more memory than that.
_BATCH = 256


@inlined
def _imitate_batch(r, t, rng, S, net, s, u, picks, i0, b0, b1):
    """Organisations b0..b1-1's blocks of uniforms, then their next draws by trust-weighted
    Fermi imitation (see :func:`imitate`), in loops without a jump, each of which the
    compiler runs in SIMD lanes or gathers eight numbers at a time
    (:func:`commons.sim._gather.take`):

    1. the blocks u4(i, t, rng), drawn in one loop (:func:`commons.sim._jit.fill_items`);
    2. each organisation's edge e = indptr[i] + min(floor(u_1 deg), deg - 1) (any edge for
       one without neighbours, whose draw is kept below), and the neighbour j at its end;
    3. the edge's trust w_e, and j's payoff and draw, gathered;
    4. the copy probability w_e / (1 + exp(-s (pi_j - pi_i))), exponent clipped to
       [-50, 50], for everyone (:func:`commons.sim._exp.exp` in SIMD lanes);
    5. j's draw where u_2 is below it and i has neighbours, else i's own.

    Where u_2 >= w_e the probability, at most w_e, is not needed: computing it anyway gives
    the same draws as a test that skips it, and a loop without the jump runs in SIMD lanes
    (the jump is a coin toss to predict where trust is middling). The batch's numbers sit in
    the slots from i0 on, organisation i in slot i0 + i - b0, of ``u`` (its block) and of
    the scratch ``picks``; the caller reads the block there too. Organisations are worked
    :data:`_BATCH` at a time (i0 <= b0 <= b1 <= b0 + _BATCH)."""
    edge, nbr, trust, their_pay, their_draw = picks
    fill_items(u, r, b0, b1, t, rng, 0, b0 - i0)
    E = net.indices.shape[0]
    if E == 0:
        for i in range(b0, b1):
            S.next_draws[r, i] = S.draws[r, i]
        return
    last = np.uint64(E - 1)
    one = np.uint64(1)
    k1 = i0 + (b1 - b0)  # the batch in slots i0..k1-1
    for i in range(b0, b1):
        d0 = net.indptr[i]
        deg = net.indptr[i + 1] - d0
        k = np.uint64(u[r, i0 + (i - b0), 1] * deg)  # floor: u_1 deg >= 0
        top = deg - one if deg > 0 else deg
        e = d0 + (k if k < top else top)
        edge[r, i0 + (i - b0)] = e if e < last else last
    for k in range(i0, k1):
        nbr[r, k] = net.indices[edge[r, k]]
    take(trust[r], S.trust[r], edge[r], i0, k1)
    take(their_pay[r], S.payoffs[r], nbr[r], i0, k1)
    take(their_draw[r], S.draws[r], nbr[r], i0, k1)
    _copy_probabilities(trust[r], their_pay[r], S.payoffs[r], i0, k1, b0, s)
    for i in range(b0, b1):
        k = i0 + (i - b0)
        copy = (net.indptr[i + 1] > net.indptr[i]) & (u[r, k, 2] < their_pay[r, k])
        S.next_draws[r, i] = their_draw[r, k] if copy else S.draws[r, i]


@compiled(Imitation, "learn", orgs=True)
@jitable
def _imitation(r, t, S, P, M, rng, net, TP, i0, i1):
    (s,) = P
    u, edge, nbr, trust, their_pay, their_draw = M
    b0 = i0
    while b0 < i1:
        b1 = min(i1, b0 + np.uint64(_BATCH))
        _imitate_batch(r, t, rng, S, net, s[r], u, (edge, nbr, trust, their_pay, their_draw),
                       i0, b0, b1)
        b0 = b1


@compiled(ReviseOrImitate, "learn", orgs=True)
@jitable
def _revise_or_imitate(r, t, S, P, M, rng, net, TP, i0, i1):
    mu, sigma, s, xmax = P
    u, edge, nbr, trust, their_pay, their_draw, who = M
    prepare_replies(TP, r, t, S)  # each thread: the same values
    rate = mu[r]  # read once: the loops store to the state, which the compiler cannot tell
    noise = sigma[r]  # apart from the parameters, so it would read them each time
    # batch by batch, everyone imitates, then the revisers' best replies replace theirs (the
    # best reply reads no next draw): the imitation in loops without a jump, the revisers
    # listed without one
    b0 = i0
    while b0 < i1:
        b1 = min(i1, b0 + np.uint64(_BATCH))
        _imitate_batch(r, t, rng, S, net, s[r], u, (edge, nbr, trust, their_pay, their_draw),
                       i0, b0, b1)
        n = i0
        for i in range(b0, b1):
            who[r, n] = i
            n += np.uint64(u[r, i0 + (i - b0), 0] < rate)
        for k in range(i0, n):
            i = who[r, k]
            v = best_reply(TP, r, i, t, S)
            if noise > 0.0:  # without noise, no normal quantile to compute
                v += noise * normal(u[r, i0 + (i - b0), 1])
            S.next_draws[r, i] = min(max(v, 0.0), xmax[r, i])
        b0 = b1
