"""Monitoring: who is seen drawing what, with what probability (monitor phase)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _bitsets as bits
from .. import _elementwise as ew
from .._exp import exp
from .._jit import fill, in_centre, inlined, jitable, normal_centre, normal_tail
from .._params import per_replicate
from ..plugin import Plugin, compiled
from ..streams import normal_quantile

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["CentralAudit", "PeerMonitoring", "observe"]


def observe(st, ctx, plugin, noise: np.ndarray, everyone: np.ndarray | None = None) -> None:
    r"""Inspect each organisation with probability ``st.detect_prob`` and record what is seen.

    An inspected organisation's draw is seen as h exp(sigma z), z ~ N(0, 1) (multiplicative
    lognormal noise; exact when sigma = 0), and it is ``detected`` when the seen draw exceeds
    the quota; with noise a compliant organisation near the quota can be wrongly detected.

    An inspection that cannot change anything is not made: with exact observation and no cost
    per inspection (``everyone`` False for the replicate), only organisations over their quota
    are inspected (a compliant one could not be detected), so no random number is spent on the
    others. What is "seen" of an organisation nobody inspected is its draw (``observed`` =
    granted): only inspected draws are misread.

    Parameters
    ----------
    st : State
        The state; reads ``detect_prob``, ``granted`` and ``quota``; writes ``inspected``,
        ``observed`` and ``detected``.
    ctx : Context
        The run's context.
    plugin : Plugin
        The monitoring plug-in, whose stream the inspections draw from.
    noise : ndarray, shape (R,)
        Observation noise sigma >= 0 per replicate.
    everyone : ndarray of bool, shape (R,), optional
        Replicates where every organisation is inspected with its probability (costly
        inspections), not only those over their quota.
    """
    # each organisation's inspection number, four organisations to a block; its misreading's
    # number from blocks of their own (block 1), drawn only where there is noise
    u = ctx.packed_uniforms(plugin, ctx.N)
    need = (noise[:, None] > 0) | (st.granted > st.quota)
    if everyone is not None:
        need |= everyone[:, None]
    st.inspected = need & (u < st.detect_prob)
    if np.any(noise > 0):
        z = normal_quantile(ctx.packed_uniforms(plugin, ctx.N, block=1))
        st.observed = np.where(st.inspected, st.granted * ew.exp(noise[:, None] * z),
                               st.granted)
    else:
        st.observed = st.granted.copy()
    st.detected = st.inspected & (st.observed > st.quota)


class CentralAudit(Plugin):
    r"""A central auditor inspects each organisation with probability p per round.

    Every organisation is inspected with probability p. Each inspection costs the regulator
    ``cost`` (recorded as regulator spending: the organisations do not pay for it). With
    ``noise`` sigma > 0 the auditor sees h exp(sigma z) instead of the draw h. With exact
    observation and free inspections only organisations over their quota are inspected (the
    others could not be detected; see :func:`observe`).

    Parameters
    ----------
    probability : float or (R,)
        Probability p in [0, 1] that each organisation is inspected each round.
    cost : float or (R,)
        What one inspection costs the regulator, money >= 0.
    noise : float or (R,)
        Observation noise sigma >= 0 (lognormal, multiplicative).
    """

    role: ClassVar[str] = "monitoring"
    phases: ClassVar[tuple[str, ...]] = ("monitor",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"monitor": ("granted", "quota")}
    cparams: ClassVar[tuple[str, ...]] = ("p", "cost", "noise")
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "monitor": ("detect_prob", "inspected", "observed", "detected", "regulator_spending",
                    "external", "memory")}
    # "inspect" and "misread": each organisation's numbers for its inspection and for the
    # error of what is seen, from streams of their own (the second drawn only with noise),
    # every organisation's at once in compiled code; "tails": with noise, the organisations
    # whose misreading's normal comes from the quantile's tails (scratch)
    memory: ClassVar[dict[str, tuple]] = {"inspect": ("org", float), "misread": ("org", float),
                                          "tails": ("org", np.int64)}
    stochastic: ClassVar[bool] = True
    payer: ClassVar[str] = "regulator"
    external: ClassVar[bool] = True

    def __init__(self, probability: Any, *, cost: Any = 0.0, noise: Any = 0.0) -> None:
        self.probability = probability
        self.cost = cost
        self.noise = noise

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        return {"p": per_replicate("probability", self.probability, R, low=0.0, high=1.0),
                "cost": per_replicate("cost", self.cost, R, low=0.0),
                "noise": per_replicate("noise", self.noise, R, low=0.0)}

    def monitor(self, st: State, ctx: Context) -> None:
        """The monitor phase: each organisation is inspected with probability p, seen with lognormal
        noise, and detected if seen over its quota; the regulator spends ``cost`` per inspection.

        Parameters
        ----------
        st : State
            The state; reads ``granted``, ``quota``; writes ``detect_prob``, ``inspected``,
            ``observed``, ``detected``, ``regulator_spending``, ``external``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        st.detect_prob = np.broadcast_to(P["p"][:, None], (ctx.R, ctx.N)).copy()
        observe(st, ctx, self, P["noise"], everyone=P["cost"] > 0)
        st.regulator_spending += P["cost"] * st.inspected.sum(axis=1)
        st.external |= P["p"] > 0


class PeerMonitoring(Plugin):
    r"""Peers watch each other along trust edges (Ostrom's principle 4).

    Detection probability p_i = base + slope m_i. With ``by="compliance"`` (the CPR-v1 rule),
    m_i is the share of i's neighbours who complied this round (compliant neighbours watch);
    with ``by="trust"`` it is the mean trust of i's watchers in i (those who trust i least
    watch hardest: m_i = 1 - mean trust on edges j -> i); with ``by="count"`` it is
    1 - (1 - 1/2)**k_i for k_i watchers. 0 without neighbours. base + slope must not exceed 1.
    Each watcher pays ``cost`` per neighbour watched per round (burned: it is effort), so peer
    monitoring is not free; with ``noise`` sigma > 0 peers see h exp(sigma z).

    Parameters
    ----------
    base : float or (R,)
        Detection probability at m_i = 0, in [0, 1].
    slope : float or (R,)
        Increase of the detection probability with m_i, base + slope <= 1.
    by : {"compliance", "trust", "count"}
        What m_i measures (see above).
    cost : float or (R,)
        Effort each watcher pays per neighbour watched per round, money >= 0 (burned).
    noise : float or (R,)
        Observation noise sigma >= 0 (lognormal, multiplicative).
    """

    role: ClassVar[str] = "monitoring"
    phases: ClassVar[tuple[str, ...]] = ("monitor",)
    cparams: ClassVar[tuple[str, ...]] = ("p0", "p1", "cost", "noise", "by")
    stochastic: ClassVar[bool] = True
    payer: ClassVar[str] = "monitor"
    # "inspect", "misread" and "tails" as for CentralAudit; "bits": the compliant flags packed
    # 64 to a word, where the neighbours are counted by popcount (commons.sim._bitsets; scratch)
    memory: ClassVar[dict[str, tuple]] = {**CentralAudit.memory, "bits": ("org", np.uint64)}

    def __init__(self, base: Any = 0.1, slope: Any = 0.4, *, by: str = "compliance",
                 cost: Any = 0.0, noise: Any = 0.0) -> None:
        if by not in ("compliance", "trust", "count"):
            raise ValueError(f"by must be 'compliance', 'trust' or 'count', got {by!r}")
        self.base = base
        self.slope = slope
        self.by = by
        self.cost = cost
        self.noise = noise

    @property
    def budget_balanced(self) -> bool:  # type: ignore[override]
        return bool(np.all(np.asarray(self.cost) == 0))

    def view(self, phase: str) -> tuple[str, ...]:
        return ("compliant", "trust", "granted", "quota", "detect_prob", "inspected",
                "observed", "detected", "charges")

    def access(self, phase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        watch = {"compliance": ("compliant",), "trust": ("trust",), "count": ()}[self.by]
        writes = ("detect_prob", "inspected", "observed", "detected", "memory")
        if not self.budget_balanced:
            writes += ("charges",)
        return (*watch, "granted", "quota"), writes

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        p0 = per_replicate("base", self.base, R, low=0.0, high=1.0)
        p1 = per_replicate("slope", self.slope, R, low=0.0, high=1.0)
        if np.any(p0 + p1 > 1.0):
            raise ValueError("base + slope must be <= 1 (a detection probability), got "
                             f"{float(np.max(p0 + p1))!r}")
        return {"p0": p0, "p1": p1, "cost": per_replicate("cost", self.cost, R, low=0.0),
                "noise": per_replicate("noise", self.noise, R, low=0.0),
                "by": ("compliance", "trust", "count").index(self.by)}

    def monitor(self, st: State, ctx: Context) -> None:
        """The monitor phase: detection probability p_i = base + slope m_i; inspected organisations
        seen over their quota are detected; watchers pay ``cost`` per neighbour watched.

        Parameters
        ----------
        st : State
            The state (the fields read and written depend on the options: :meth:`access`).
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        net = ctx.network
        if self.by == "compliance":
            m = net.neighbour_mean(st.compliant.astype(np.float64), empty=0.0)
        elif self.by == "count":
            watchers = np.bincount(net.indices, minlength=ctx.N)
            m = np.broadcast_to(1.0 - 0.5**watchers, (ctx.R, ctx.N))
        else:
            into = net.in_edge_sums(st.trust)
            watchers = np.bincount(net.indices, minlength=ctx.N)
            m = np.where(watchers > 0, 1.0 - into / np.maximum(watchers, 1), 0.0)
        st.detect_prob = P["p0"][:, None] + P["p1"][:, None] * m
        observe(st, ctx, self, P["noise"])
        if np.any(P["cost"] > 0):
            st.charge("cost", P["cost"][:, None] * net.degree[None, :], "burned")


# ---------------------------------------------------------------------- compiled forms
@inlined
def _observe_exact(r, i0, i1, S, everyone, u):
    """What is seen of organisations i0..i1-1 of a replicate without noise (see observe),
    from their inspection numbers ``u[r, i]``: an organisation within its quota has nothing
    wrong to see, so unless inspections are paid for (``everyone``) only those over it are
    inspected, each with its probability; what is seen is the draw. Without a jump: whether
    an organisation is over its quota is as good as a coin toss to predict, and a mispredicted
    jump costs more than the compare it skips (its number is drawn either way). Returns the
    number inspected."""
    n = 0
    for i in range(i0, i1):
        h = S.granted[r, i]
        over = h > S.quota[r, i]
        hit = (everyone | over) & (u[r, i] < S.detect_prob[r, i])
        n += np.int64(hit)
        _inspection(r, i, S, hit, h)
    return n


@inlined
def _inspection(r, i, S, hit, seen):
    """Organisation i inspected (``hit``) and seen to draw ``seen``: detected when inspected
    and seen over its quota."""
    S.inspected[r, i] = hit
    S.observed[r, i] = seen
    S.detected[r, i] = hit & (seen > S.quota[r, i])


@inlined
def _draw_numbers(u, w, r, i0, i1, t, rng, sigma):
    """Organisations i0..i1-1's inspection numbers into ``u[r]`` (number i of the stream,
    four organisations to a Philox block) and, with noise, their misreading's into ``w[r]``
    (the same of block 1): see :func:`observe`."""
    fill(u[r], i0, i1, t, rng)
    if sigma > 0.0:
        fill(w[r], i0, i1, t, rng, 1)


@jitable
def _observe_noisy(r, i0, i1, S, sigma, u, w, tails):
    """What is seen of organisations i0..i1-1 of a replicate with noise sigma > 0 (see
    observe: each is inspected with its probability, and an inspected draw h is seen as
    h exp(sigma z), z the normal quantile of its misreading's number ``w[r, i]``; ``u[r, i]``
    its inspection number). In loops that each store one field, most in SIMD lanes without a
    jump: the normal quantile's central ratio for every organisation (parked in
    ``observed``); the inspected organisations whose numbers lie in the quantile's tails (15 %
    of numbers) listed in ``tails[r]`` without a jump, and their normals mended (a jump per
    organisation would mispredict for many); what is seen of each
    (:func:`commons.sim._exp.exp`, computed for all: cheaper in SIMD lanes than a jump that
    mispredicts for every fourth or so); who is inspected; who is detected. Returns the
    number inspected."""
    for i in range(i0, i1):
        S.observed[r, i] = normal_centre(w[r, i])
    k0 = np.int64(i0)  # the range may come as unsigned integers (threads sharing a replicate)
    k = k0
    for i in range(i0, i1):
        tails[r, k] = i
        k += np.int64((not in_centre(w[r, i])) & (u[r, i] < S.detect_prob[r, i]))
    for j in range(k0, k):
        i = tails[r, j]
        S.observed[r, i] = normal_tail(w[r, i])
    for i in range(i0, i1):
        h = S.granted[r, i]
        seen = h * exp(sigma * S.observed[r, i])
        S.observed[r, i] = seen if u[r, i] < S.detect_prob[r, i] else h
    n = 0
    for i in range(i0, i1):
        hit = u[r, i] < S.detect_prob[r, i]
        S.inspected[r, i] = hit
        n += np.int64(hit)
    for i in range(i0, i1):
        S.detected[r, i] = S.inspected[r, i] & (S.observed[r, i] > S.quota[r, i])
    return n


@compiled(CentralAudit, "monitor")
@jitable
def _central_audit(r, t, S, P, M, rng, net, TP):
    p, cost, noise = P
    u, w, tails = M
    n = 0.0
    N = S.granted.shape[1]
    # every organisation's numbers, at once: one vectorised loop costs less than drawing one
    # block at a time only for those an inspection needs
    sigma = noise[r]
    _draw_numbers(u, w, r, 0, N, t, rng, sigma)
    prob = p[r]  # the parameters read once (see _peer_monitoring)
    paid = cost[r] > 0.0
    for i in range(N):
        S.detect_prob[r, i] = prob
    if sigma > 0.0:
        n = float(_observe_noisy(r, 0, N, S, sigma, u, w, tails))
    else:
        n = float(_observe_exact(r, 0, N, S, paid, u))
    S.regulator_spending[r] += cost[r] * n
    if p[r] > 0.0:
        S.external[r] = True


@inlined
def _watched_by_compliant(r, S, net, words, dense, base, slope, i0, i1):
    """Detection probabilities base + slope m_i of organisations i0..i1-1, m_i the share of
    i's neighbours that comply (0 without neighbours), in two loops: each count of compliant
    neighbours (by popcount where the network has rows of bits, else a byte an edge, in
    integers: the value of adding 1.0s, without the adds' chain or a jump), parked in
    ``detect_prob`` as a float; then the shares and probabilities in SIMD lanes, where a
    division an organisation in the counting loop waited for the one before. Exact counts,
    the same division: the same bits as one loop."""
    if dense:
        bits.pack(words[r], S.compliant[r])
        for i in range(i0, i1):
            S.detect_prob[r, i] = float(bits.count(net.rows[i], words[r]))
    else:
        for i in range(i0, i1):
            seen = 0
            for e in range(net.indptr[i], net.indptr[i + 1]):
                seen += np.int64(S.compliant[r, net.indices[e]])
            S.detect_prob[r, i] = float(seen)
    for i in range(i0, i1):
        S.detect_prob[r, i] = base + slope * _share(S.detect_prob[r, i],
                                                    net.indptr[i + 1] - net.indptr[i])


@jitable(error_model="numpy")  # a division without a test for 0 (d > 0 chosen): SIMD lanes
def _share(seen, d):
    """seen / d, 0 where d = 0."""
    return seen / d if d > 0 else 0.0


@compiled(PeerMonitoring, "monitor", orgs=True)
@jitable
def _peer_monitoring(r, t, S, P, M, rng, net, TP, i0, i1):
    p0, p1, cost, noise, by = P
    u, w, tails, words = M
    sigma = noise[r]
    _draw_numbers(u, w, r, i0, i1, t, rng, sigma)  # every organisation's numbers, at once
    base = p0[r]  # the parameters read once (the loops store to the state, which the
    slope = p1[r]  # compiler cannot tell apart from them, so it would read them each time)
    c = cost[r]
    # the detection probabilities, then the inspections; the compliant neighbours counted by
    # popcount where the network has rows of bits and this call covers the whole replicate
    # (the flags are packed once for all)
    if by == 0:
        dense = net.rows.shape[0] > 0 and i0 == 0 and i1 == S.granted.shape[1]
        _watched_by_compliant(r, S, net, words, dense, base, slope, i0, i1)
    else:
        for i in range(i0, i1):  # the watchers counted (by == 2), or their trust
            a0 = net.in_ptr[i]
            a1 = net.in_ptr[i + 1]
            if by == 2:
                m = 1.0 - 0.5 ** (a1 - a0)
            elif a1 > a0:
                into = 0.0
                for k in range(a0, a1):
                    into += S.trust[r, net.in_edges[k]]
                m = 1.0 - into / (a1 - a0)
            else:
                m = 0.0
            S.detect_prob[r, i] = base + slope * m
    if sigma > 0.0:
        _observe_noisy(r, i0, i1, S, sigma, u, w, tails)
    else:
        _observe_exact(r, i0, i1, S, False, u)
    if c > 0.0:
        for i in range(i0, i1):
            S.charges[r, 4, i] += c * (net.indptr[i + 1] - net.indptr[i])
