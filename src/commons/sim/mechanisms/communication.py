"""Communication and trust: meetings, covenants, gossip and mutual support.

The claims that self-organising works through frequent face-to-face contact, trust built in
repeated interaction, promises made to each other, peer pressure on those who break them, and
partners supporting each other (Ostrom 1990; Ostrom, Walker & Gardner 1992; Ham & Hall on
Integrated Care Systems): each a plug-in that can be switched on, off and tuned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._gather import take
from .._jit import fill, jitable
from .._params import as_rounds, per_replicate, rounds_array
from .._steps import in_rounds, since
from ..plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["Covenant", "Gossip", "Meetings", "MutualSupport"]


def _pair_uniforms(ctx, plugin) -> np.ndarray:
    """One uniform per unordered pair, shared by the edges i -> j and j -> i, shape (R, E).

    The pairs are numbered in the order of their first edge (the smaller of e and its
    reverse), and their uniforms packed four to a Philox block (``ctx.packed_uniforms``).
    """
    rank = ctx.network.pair_rank
    u = ctx.packed_uniforms(plugin, int(rank.max()) + 1 if rank.size else 0)
    return u[:, rank]


class Meetings(Plugin):
    r"""Face-to-face meetings along trust edges, more likely between close organisations.

    Each round every connected pair meets with probability

    * ``by="overlap"``: p_e = base + slope O_e, O_e the neighbourhood overlap of the tie
      (organisations in the same dense cluster meet more often; Onnela et al. 2007);
    * ``by="distance"``: p_e = min(1, base + slope / d_e), d_e the edge's distance
      (1 / weight): closer pairs meet more often.

    A meeting raises trust both ways toward 1, w <- w + boost (1 - w), and lets the pair
    exchange pledges and observations (the State's ``met``, (R, E) bool, read by
    :class:`Covenant` with ``audience="met"``).

    Parameters
    ----------
    base : float or (R,)
        Probability of a meeting on a tie with no overlap (or at infinite distance), in [0, 1].
    slope : float or (R,)
        Increase of the probability with overlap (or with 1 / distance), >= 0.
    by : {"overlap", "distance"}
        What makes a pair close.
    boost : float or (R,)
        Share of the gap to full trust a meeting closes, in [0, 1].
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("trust",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("trust", "met", "memory")}
    cparams: ClassVar[tuple[str, ...]] = ("p", "boost")
    # "draws": the round's uniforms, one per pair, drawn at once in compiled code; "of_edge":
    # each edge's pair's number, gathered eight at a time (scratch)
    memory: ClassVar[dict[str, tuple]] = {"draws": ("edge", float), "of_edge": ("edge", float)}
    stochastic: ClassVar[bool] = True

    def __init__(self, base: Any = 0.05, slope: Any = 0.5, *, by: str = "overlap",
                 boost: Any = 0.2) -> None:
        if by not in ("overlap", "distance"):
            raise ValueError(f"by must be 'overlap' or 'distance', got {by!r}")
        self.base = base
        self.slope = slope
        self.by = by
        self.boost = boost

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        base = per_replicate("base", self.base, R, low=0.0, high=1.0)
        slope = per_replicate("slope", self.slope, R, low=0.0, high=1.0)
        if self.by == "overlap" and np.any(base + slope > 1.0):
            raise ValueError("base + slope must be <= 1 (a meeting probability), got "
                             f"{float(np.max(base + slope))!r}")
        prox = ctx.network.overlap if self.by == "overlap" else 1.0 / ctx.network.distance
        p = np.clip(base[:, None] + slope[:, None] * prox[None, :], 0.0, 1.0)
        return {"p": p, "boost": per_replicate("boost", self.boost, R, low=0.0, high=1.0)}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: each connected pair meets with probability p_e and a meeting
        raises trust both ways, w <- w + boost (1 - w).

        Parameters
        ----------
        st : State
            The state; reads ``trust``; writes ``trust``, ``met``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        if ctx.network.n_edges == 0:
            return
        met = _pair_uniforms(ctx, self) < P["p"]
        st.trust = np.where(met, st.trust + P["boost"][:, None] * (1.0 - st.trust), st.trust)
        st.met = met


class Covenant(Plugin):
    r"""Cheap talk and covenants: organisations pledge a draw and feel bound by the pledge.

    On talking rounds (``rounds``: None for every round, or a collection of round numbers, e.g.
    ``[0]`` for one-shot communication) every organisation pledges the agreed draw (``target``;
    default: the quota in force, else the group optimum), and its commitment is renewed to 1;
    between talks it decays, c <- (1 - decay) c (Ostrom, Walker & Gardner 1992: one-shot
    communication helps less than repeated communication). With ``binding=True`` the agreement
    becomes the quota wherever none is in force, so sanctions can enforce it.

    Breaking a pledge weighs on the pledger: each unit drawn over it costs ``strength`` times its
    commitment, scaled by the trust it has in its partners (``reciprocity``: a promise is kept
    when others are trusted to keep theirs) and added to what best replies weigh, as a cost of
    conscience, not money (promise-keeping, Ellingsen & Johannesson 2004). Those who heard a
    pledge (``audience``: "neighbours", or "met" for partners met this round) see whether it was
    kept: trust on the edge i -> j moves toward [h_j <= pledge_j] at rate ``rate``.

    Parameters
    ----------
    rounds : None or collection of int
        Rounds in which the members talk and pledge (None: every round).
    target : float, array or None
        The agreed draw per organisation (None: the quota in force, else the group optimum).
    strength : float or (R,)
        Cost of conscience per unit over the pledge at full commitment, money per unit >= 0.
    decay : float or (R,)
        Decay of commitment per round between talks, in [0, 1].
    reciprocity : bool
        Scale the commitment by the pledger's trust in its partners.
    binding : bool
        Make the agreement the quota wherever none is in force.
    audience : {"neighbours", "met"}
        Who hears a pledge and watches whether it is kept.
    rate : float or (R,)
        Rate in [0, 1] at which trust moves toward a kept (1) or broken (0) pledge.
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("communicate", "learn")
    memory: ClassVar[dict[str, tuple]] = {"commitment": ("org", float)}
    cparams: ClassVar[tuple[str, ...]] = ("target", "strength", "decay", "rate", "rounds",
                                          "binding", "reciprocity", "met_only")

    def __init__(self, *, rounds: Any = None, target: Any = None, strength: Any = 10.0,
                 decay: Any = 0.1, reciprocity: bool = True, binding: bool = True,
                 audience: str = "neighbours", rate: Any = 0.2) -> None:
        if audience not in ("neighbours", "met"):
            raise ValueError(f"audience must be 'neighbours' or 'met', got {audience!r}")
        self.rounds = as_rounds("rounds", rounds)
        self.target = target
        self.strength = strength
        self.decay = decay
        self.reciprocity = reciprocity
        self.binding = binding
        self.audience = audience
        self.rate = rate

    def view(self, phase: str) -> tuple[str, ...]:
        if phase == "communicate":
            return ("quota", "trust", "pledge", "penalty_rate")
        return ("granted", "pledge", "trust", "met")

    def access(self, phase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if phase == "communicate":
            writes = ("pledge", "penalty_rate", "memory") + (("quota",) if self.binding else ())
            return ("quota", "trust", "pledge", "memory"), writes
        heard = ("met",) if self.audience == "met" else ()
        return ("granted", "pledge", "trust", *heard), ("trust",)

    def requires(self) -> tuple[str, ...]:
        return ("optimum",) if self.target is None else ()

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import optimum_draws
        R, N = ctx.R, ctx.N
        if self.target is None:
            target = optimum_draws(ctx.technology, ctx)
        else:
            target = np.broadcast_to(np.asarray(self.target, dtype=np.float64), (R, N)).copy()
            if np.any(target < 0) or not np.all(np.isfinite(target)):
                raise ValueError("target must be finite and >= 0")
        if np.any(target > ctx.max_draw * (1 + 1e-12)):
            raise ValueError("target: a pledge above the endowment (max_draw) cannot be kept")
        return {"target": target,
                "strength": per_replicate("strength", self.strength, R, low=0.0),
                "decay": per_replicate("decay", self.decay, R, low=0.0, high=1.0),
                "rate": per_replicate("rate", self.rate, R, low=0.0, high=1.0),
                "rounds": rounds_array(self.rounds), "binding": bool(self.binding),
                "reciprocity": bool(self.reciprocity), "met_only": self.audience == "met"}

    def talks(self, t: int) -> bool:
        """Whether round t is a talking round.

        Parameters
        ----------
        t : int
            The round (0-based).

        Returns
        -------
        bool
            True when ``rounds`` is None or holds t.
        """
        return self.rounds is None or t in self.rounds

    def pledged(self, t: int) -> bool:
        """Whether a pledge has been made by round t (a talking round at or before it).

        Parameters
        ----------
        t : int
            The round (0-based).

        Returns
        -------
        bool
            True from the first talking round on.
        """
        return self.rounds is None or (bool(self.rounds) and self.rounds[0] <= t)

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: on a talking round every organisation pledges min(quota, target)
        and its commitment is renewed to 1, else it decays, c <- (1 - decay) c; each unit over
        the pledge costs strength c (times trust, with reciprocity) in what best replies weigh; a
        binding agreement becomes the quota where none is in force.

        Parameters
        ----------
        st : State
            The state (the fields read and written depend on the options: :meth:`access`).
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        mem = self.mem(st, ctx)
        commit = mem["commitment"]
        if self.talks(st.t):
            commit = np.ones_like(commit)
            st.pledge = np.where(np.isfinite(st.quota), np.minimum(st.quota, P["target"]),
                                 P["target"])
        else:
            commit = commit * (1.0 - P["decay"][:, None])
        mem["commitment"] = commit
        if not self.pledged(st.t):
            return
        pledge = st.pledge
        if self.binding:
            st.quota = np.where(np.isfinite(st.quota), st.quota, pledge)
        weight = commit
        if self.reciprocity and ctx.network.n_edges:
            weight = commit * ctx.network.out_mean(st.trust, empty=1.0)
        st.penalty_rate += P["strength"][:, None] * weight

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: those who heard a pledge move their trust in the pledger toward whether
        it was kept, w <- w + rate ([h_j <= pledge_j] - w).

        Parameters
        ----------
        st : State
            The state (the fields read and written depend on the options: :meth:`access`).
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        net = ctx.network
        if not self.pledged(st.t) or net.n_edges == 0:
            return
        lam = ctx.params[self]["rate"][:, None]
        kept = (st.granted <= st.pledge * (1 + 1e-9) + 1e-12)[:, net.indices]
        heard = st.met if self.audience == "met" else True
        st.trust = np.where(heard, (1.0 - lam) * st.trust + lam * kept, st.trust)


class Gossip(Plugin):
    r"""Observed violations travel along trust edges; called-out violators pay in reputation.

    Each organisation watching a violator (an edge k -> j with j over its quota) sees the
    violation with probability ``see``; each who saw it tells those who trust it: k hears about
    j from i (edges k -> i and i -> j) with probability ``tell`` times k's trust in i. Everyone
    who saw or heard lowers its trust in the violator, w <- (1 - drop) w, which also makes the
    violator less likely to be imitated; the violator bears ``cost`` per organisation that knows
    (peer pressure, burned). Clustered networks, rich in triangles, spread word faster.

    Parameters
    ----------
    see : float or (R,)
        Probability in [0, 1] that a watcher sees a neighbour's violation.
    tell : float or (R,)
        Probability in [0, 1], times the listener's trust in the teller, that word passes on.
    drop : float or (R,)
        Fall of trust in a violator one knows of, w <- (1 - drop) w, in [0, 1].
    cost : float or (R,)
        Reputational cost to the violator per organisation that knows, money >= 0 (burned).
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    cparams: ClassVar[tuple[str, ...]] = ("see", "tell", "drop", "cost")
    # "draws": the round's first-hand numbers, one per edge (four to a block), drawn in one
    # loop in compiled code (scratch)
    memory: ClassVar[dict[str, tuple]] = {"heard": ("edge", bool), "seen": ("edge", bool),
                                          "draws": ("edge", float)}
    stochastic: ClassVar[bool] = True
    payer: ClassVar[str] = "violator"

    def __init__(self, *, see: Any = 0.5, tell: Any = 0.5, drop: Any = 0.3,
                 cost: Any = 0.0) -> None:
        self.see = see
        self.tell = tell
        self.drop = drop
        self.cost = cost

    @property
    def budget_balanced(self) -> bool:  # type: ignore[override]
        return bool(np.all(np.asarray(self.cost) == 0))

    def view(self, phase: str) -> tuple[str, ...]:
        return ("compliant", "trust", "called_out", "charges")

    def access(self, phase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        writes = ("trust", "called_out") + (() if self.budget_balanced else ("charges",))
        return ("compliant", "trust"), writes

    def requires(self) -> tuple[str, ...]:
        return ("edges",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        return {"see": per_replicate("see", self.see, R, low=0.0, high=1.0),
                "tell": per_replicate("tell", self.tell, R, low=0.0, high=1.0),
                "drop": per_replicate("drop", self.drop, R, low=0.0, high=1.0),
                "cost": per_replicate("cost", self.cost, R, low=0.0)}

    def sanction(self, st: State, ctx: Context) -> None:
        """The sanction phase: violations seen or heard along trust edges lower trust in the
        violator, w <- (1 - drop) w, and cost it ``cost`` per organisation that knows.

        Parameters
        ----------
        st : State
            The state (the fields read and written depend on the options: :meth:`access`).
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        net = ctx.network
        u = ctx.packed_uniforms(self, net.n_edges)
        violated = ~st.compliant[:, net.indices]
        seen = violated & (u < P["see"][:, None])
        e_kj, e_ki, e_ij = net.triads
        heard = seen.copy()
        if e_kj.size:
            v = ctx.packed_uniforms(self, e_kj.size, block=1)
            told = seen[:, e_ij] & (v < P["tell"][:, None] * st.trust[:, e_ki])
            hits = np.zeros_like(heard, dtype=np.int64)
            np.add.at(hits, (slice(None), e_kj), told.astype(np.int64))
            heard |= hits > 0
        st.trust = np.where(heard, (1.0 - P["drop"][:, None]) * st.trust, st.trust)
        known = net.in_edge_sums(heard.astype(np.float64))
        if np.any(P["cost"] > 0):
            st.charge("cost", P["cost"][:, None] * known, "burned")
        st.called_out = known


class MutualSupport(Plugin):
    r"""Partners in surplus support partners in deficit along trust edges (conserved exactly).

    After the round's fines and costs, organisation i's net payoff above the ``reference``
    (its outside option, or the group mean) is its surplus, the shortfall below it a deficit.
    Each organisation gives ``share`` of its surplus to its neighbours in deficit, split in
    proportion to trust times deficit: an aligned-incentive arrangement that shares a partner's
    bad round. Money only moves between members, so it is budget-balanced.

    Parameters
    ----------
    share : float or (R,)
        Share of its surplus each organisation gives to partners in deficit, in [0, 1].
    reference : {"baseline", "mean"}
        What surplus and deficit are measured against: the outside option or the group mean.
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("gross", "charges", "transfers", "trust")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"sanction": ("transfers",)}
    #: support is judged on the round's net payoffs, so after every charge of the round
    after: ClassVar[dict[str, tuple[str, ...]]] = {"sanction": ("charges",)}
    cparams: ClassVar[tuple[str, ...]] = ("share", "baseline", "mean")
    # scratch of the compiled form: per organisation, and per edge its weight (trust times
    # the partner's deficit)
    memory: ClassVar[dict[str, tuple]] = {"net": ("org", float), "deficit": ("org", float),
                                          "given": ("org", float), "received": ("org", float),
                                          "weight": ("edge", float)}

    def __init__(self, share: Any = 0.2, *, reference: str = "baseline") -> None:
        if reference not in ("baseline", "mean"):
            raise ValueError(f"reference must be 'baseline' or 'mean', got {reference!r}")
        self.share = share
        self.reference = reference

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"share": per_replicate("share", self.share, ctx.R, low=0.0, high=1.0),
                "baseline": np.ascontiguousarray(np.broadcast_to(ctx.technology.baseline(ctx),
                                                                 (ctx.R, ctx.N)), np.float64),
                "mean": self.reference == "mean"}

    def sanction(self, st: State, ctx: Context) -> None:
        """The sanction phase: each organisation gives ``share`` of its surplus to neighbours in
        deficit, split in proportion to trust times deficit (a transfer summing to zero).

        Parameters
        ----------
        st : State
            The state; reads ``gross``, ``charges``, ``transfers``, ``trust``; writes
            ``transfers``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        net = ctx.network
        if net.n_edges == 0:
            return
        net_pay = st.gross - st.charged() + st.transfers
        # the group mean adds payoffs in organisation order (as compiled code does)
        ref = (P["baseline"] if self.reference == "baseline"
               else np.broadcast_to((np.cumsum(net_pay, axis=1)[:, -1] / ctx.N)[:, None],
                                    net_pay.shape))
        surplus = np.maximum(net_pay - ref, 0.0)
        deficit = np.maximum(ref - net_pay, 0.0)
        weight = st.trust * deficit[:, net.indices]          # on edge i -> j
        total = net.edge_sums(weight)                       # per giver i
        give = P["share"][:, None] * surplus
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(total[:, net.src] > 0, weight / total[:, net.src], 0.0)
        flow = give[:, net.src] * frac                       # on edge i -> j
        given = net.edge_sums(flow)
        received = net.in_edge_sums(flow)
        st.transfer(received - given)


# ---------------------------------------------------------------------- compiled forms
@compiled(Meetings, "communicate")
@jitable
def _meetings(r, t, S, P, M, rng, net, TP):
    p, boost = P
    u, of_edge = M
    b = boost[r]
    fill(u[r], 0, net.pairs.shape[0], t, rng)  # every pair needs its number: drawn in one loop
    # then every edge in order, reading its pair's number (shared by both edges of a pair),
    # gathered eight at a time: flat loops that vectorise, where a loop over pairs jumps to
    # each reverse edge (and a loop that gathers as it stores runs one edge at a time)
    E = net.indices.shape[0]
    take(of_edge[r], u[r], net.pair_rank, 0, E)
    for e in range(E):
        S.met[r, e] = of_edge[r, e] < p[r, e]
    for e in range(E):
        w = S.trust[r, e]
        S.trust[r, e] = w + b * (1.0 - w) if S.met[r, e] else w  # a choice of values


@compiled(Covenant, "communicate")
@jitable
def _covenant_talk(r, t, S, P, M, rng, net, TP):
    target, strength, decay, _rate, rounds, binding, reciprocity, _met_only = P
    (commit,) = M
    N = S.quota.shape[1]
    # a loop per field written, and the parameters read once before the loops (read in a
    # loop that stores to the state, they would be read again at each step): loops that
    # store to one field run in SIMD lanes
    if in_rounds(t, rounds):
        for i in range(N):
            commit[r, i] = 1.0
        for i in range(N):
            q = S.quota[r, i]
            S.pledge[r, i] = min(q, target[r, i]) if np.isfinite(q) else target[r, i]
    else:
        keep = 1.0 - decay[r]
        for i in range(N):
            commit[r, i] = commit[r, i] * keep
    if not since(t, rounds):
        return
    E = net.indices.shape[0]
    c = strength[r]
    if binding:
        for i in range(N):
            q = S.quota[r, i]
            S.quota[r, i] = q if np.isfinite(q) else S.pledge[r, i]
    if not (reciprocity and E > 0):
        for i in range(N):
            S.penalty_rate[r, i] += c * commit[r, i]
        return
    for i in range(N):  # the commitment times the mean trust in the partners (1 without)
        d0 = net.indptr[i]
        d1 = net.indptr[i + 1]
        mean = 1.0
        if d1 > d0:
            total = 0.0
            for e in range(d0, d1):
                total += S.trust[r, e]
            mean = total / (d1 - d0)
        S.penalty_rate[r, i] += c * (commit[r, i] * mean)


@compiled(Covenant, "learn")
@jitable
def _covenant_listen(r, t, S, P, M, rng, net, TP):
    _target, _strength, _decay, rate, rounds, _binding, _reciprocity, met_only = P
    E = net.indices.shape[0]
    if not since(t, rounds) or E == 0:
        return
    lam = rate[r]
    if lam == 0.0:  # (1 - 0) w + 0 kept is w: nothing to learn
        return
    for e in range(E):
        if met_only and not S.met[r, e]:
            continue
        j = net.indices[e]
        kept = 1.0 if S.granted[r, j] <= S.pledge[r, j] * (1 + 1e-9) + 1e-12 else 0.0
        S.trust[r, e] = (1.0 - lam) * S.trust[r, e] + lam * kept


@compiled(Gossip, "sanction")
@jitable
def _gossip(r, t, S, P, M, rng, net, TP):
    see, tell, drop, cost = P
    heard, seen, u = M
    E = net.indices.shape[0]
    fill(u[r], 0, E, t, rng)  # every edge's first-hand number, at once
    for e in range(E):  # who sees a violation first hand
        s = (not S.compliant[r, net.indices[e]]) & (u[r, e] < see[r])
        seen[r, e] = s
        heard[r, e] = s
    # word passed along k -> i -> j, from the first-hand sightings: the path passes it when
    # i -> j saw and the path's number is below tell times k's trust in i. Every path's
    # number is drawn, window by window into the first-hand numbers' row (used up), in the
    # loop that vectorises, and the paths are taken in one flat loop, each ORed into its
    # edge k -> j, without a jump (whether a path passes word is a coin toss to predict,
    # and so is how many paths an edge has). Drawing a block only for a path whose teller
    # saw, in a loop per edge that stopped at the first path to pass word, took 94 cycles
    # an organisation on the CPR-v1 network. The numbers and comparisons are each path's,
    # so an edge hears exactly when one of its paths passes word, as before.
    paths = net.tri_ptr[E]
    room = np.uint64(E) & ~np.uint64(3)  # whole blocks of the window (E >= 6 with a path)
    told = tell[r]
    for lo in range(np.uint64(0), paths, max(room, np.uint64(4))):
        hi = min(paths, lo + room)
        fill(u[r], lo, hi, t, rng, 1, lo)
        for k in range(lo, hi):
            word = u[r, k - lo] < told * S.trust[r, net.tri_ki[k]]
            heard[r, net.tri_kj[k]] |= seen[r, net.tri_ij[k]] & word
    d = drop[r]
    for e in range(E):
        if heard[r, e]:
            S.trust[r, e] = (1.0 - d) * S.trust[r, e]
    for j in range(S.compliant.shape[1]):
        n = 0  # counted in integers, without a jump: the value of adding 1.0s
        for k in range(net.in_ptr[j], net.in_ptr[j + 1]):
            n += np.int64(heard[r, net.in_edges[k]])
        known = float(n)
        S.called_out[r, j] = known
        if cost[r] > 0.0:
            S.charges[r, 4, j] += cost[r] * known


@compiled(MutualSupport, "sanction")
@jitable
def _mutual_support(r, t, S, P, M, rng, net, TP):
    share, baseline, mean = P
    net_pay, deficit, given, received, weight = M
    N = S.gross.shape[1]
    E = net.indices.shape[0]
    if E == 0:
        return
    # each organisation's charges added kind by kind (the same order as a sum per
    # organisation, so the same bits), in loops over the organisations that vectorise
    for i in range(N):
        net_pay[r, i] = 0.0
    for k in range(S.charges.shape[1]):
        for i in range(N):
            net_pay[r, i] += S.charges[r, k, i]
    for i in range(N):
        net_pay[r, i] = S.gross[r, i] - net_pay[r, i] + S.transfers[r, i]
    group = 0.0
    if mean:  # the group mean, added in organisation order (a chain of adds: only if used)
        total = 0.0
        for i in range(N):
            total += net_pay[r, i]
        group = total / N
    for i in range(N):
        d = (group if mean else baseline[r, i]) - net_pay[r, i]
        deficit[r, i] = d if d > 0.0 else 0.0
        received[r, i] = 0.0
    # every edge's weight, trust times the partner's deficit: the deficits gathered eight at
    # a time, the products in SIMD lanes (a load an edge in the givers' loops, not a gather)
    take(weight[r], deficit[r], net.indices, 0, E)
    for e in range(E):
        weight[r, e] = S.trust[r, e] * weight[r, e]
    for i in range(N):  # each giver splits its gift by the weights
        surplus = net_pay[r, i] - (group if mean else baseline[r, i])
        give = share[r] * (surplus if surplus > 0.0 else 0.0)
        if not give > 0.0:  # nothing to give: every gift is 0 (and adds nothing)
            given[r, i] = 0.0
            continue
        weights = 0.0
        for e in range(net.indptr[i], net.indptr[i + 1]):
            weights += weight[r, e]
        out = 0.0
        if weights > 0.0:
            for e in range(net.indptr[i], net.indptr[i + 1]):
                f = give * (weight[r, e] / weights)
                out += f
                received[r, net.indices[e]] += f  # edges in order: each partner's gifts add
                # in edge order
        given[r, i] = out
    for i in range(N):
        S.transfers[r, i] += received[r, i] - given[r, i]
