"""Rules in use: the quota each organisation may draw (communicate phase)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .._jit import jitable
from .._params import as_rounds, org_mask, per_org, per_replicate, rounds_array
from .._steps import in_rounds
from ..plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["FixedQuota", "QuotaVote", "Regulator", "StockShareQuota", "place_labels"]


class StockShareQuota(Plugin):
    r"""A quota that tracks the stock (congruence with local conditions, Ostrom's principle 2).

    At the start of each round q = share S / N: each organisation may draw a fixed share of the
    current stock divided equally. CPR-v1 uses share = 0.05.

    Parameters
    ----------
    share : float or (R,)
        The share of the stock the group may draw per round, >= 0.
    """

    role: ClassVar[str] = "quota"
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("stock",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("quota",)}
    cparams: ClassVar[tuple[str, ...]] = ("share",)

    def __init__(self, share: Any) -> None:
        self.share = share

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"share": per_replicate("share", self.share, ctx.R, low=0.0)}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: q = share S / N for every organisation.

        Parameters
        ----------
        st : State
            The state; reads ``stock``; writes ``quota``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        q = ctx.params[self]["share"] * st.stock / ctx.N
        st.quota = np.broadcast_to(q[:, None], (ctx.R, ctx.N)).copy()


class FixedQuota(Plugin):
    """A fixed quota per organisation, set from outside (a central target: external).

    Parameters
    ----------
    quota : float, (N,) or (R, N) array
        Each organisation's quota, resource units per round >= 0.
    """

    role: ClassVar[str] = "quota"
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("quota", "external")}
    cparams: ClassVar[tuple[str, ...]] = ("q",)
    external: ClassVar[bool] = True

    def __init__(self, quota: Any) -> None:
        self.quota = quota

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"q": per_replicate("quota", self.quota, ctx.R, low=0.0)}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: the quota is set to the fixed value (an external control).

        Parameters
        ----------
        st : State
            The state; writes ``quota``, ``external``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        st.quota = np.broadcast_to(ctx.params[self]["q"][:, None], (ctx.R, ctx.N)).copy()
        st.external[:] = True


def no_quota(R: int, N: int) -> np.ndarray:
    """The quota when no rule is in force: unlimited, shape (R, N)."""
    return np.full((R, N), np.inf)


_VOTE_RULES = ("median", "majority", "mean", "unanimity")


def place_labels(places: Any, ctx) -> np.ndarray:
    """Place of each organisation, ints 0..P-1, from labels or ``"communities"``.

    ``"communities"`` finds them with networkx's greedy modularity maximisation (Clauset,
    Newman & Moore 2004) on the trust network.

    Parameters
    ----------
    places : array_like of length N, or "communities"
        A label per organisation (any hashable values), or communities to be found.
    ctx : Context
        The run's context (N and the trust network).

    Returns
    -------
    ndarray of int, shape (N,)
        The place of each organisation, 0..P-1.
    """
    N = ctx.N
    if isinstance(places, str):
        if places != "communities":
            raise ValueError(f"places must be labels of length n or 'communities', got {places!r}")
        import networkx as nx
        from networkx.algorithms.community import greedy_modularity_communities
        g = nx.Graph()
        g.add_nodes_from(range(N))
        g.add_edges_from(zip(ctx.network.src.tolist(), ctx.network.indices.tolist(),
                             strict=True))
        labels = np.zeros(N, np.int64)
        for k, group in enumerate(greedy_modularity_communities(g)):
            labels[list(group)] = k
        return labels
    arr = np.asarray(places)
    if arr.shape != (N,):
        raise ValueError(f"places must have one label per organisation (length n = {N}), "
                         f"got shape {arr.shape}")
    return np.unique(arr, return_inverse=True)[1].astype(np.int64)


class QuotaVote(Plugin):
    r"""Members choose the quota themselves (collective choice, Ostrom's principles 2, 3, 8).

    Every ``every`` rounds each voting member proposes a quota, ``greed_i`` times its share of
    the group's best sustainable allocation (the technology's optimum), and a voting rule sets
    the quota: "median" (and "majority", which picks the median with single-peaked
    preferences, Black 1948), "mean", or "unanimity" (only the smallest proposal meets no
    objection). Excluded organisations do not vote.

    Congruence (principle 2): with ``congruent=True`` the voted quota tracks local conditions:
    q_t = q_vote min(1, S_t / S_ref) for a stock, shrinking when it falls below its reference
    (the MSY stock of a logistic resource), and q_t = q_vote B_t / B_0 for a budget, following
    it up and down; otherwise it stays fixed until the next vote.

    Nesting (principle 8): with ``places`` (labels of length N, or "communities") each place
    votes its own quota among its members and the system votes across all members; each
    organisation's quota is autonomy q_place + (1 - autonomy) q_system, ``autonomy`` in [0, 1].

    Parameters
    ----------
    rule : {"median", "majority", "mean", "unanimity"}
        The voting rule.
    greed : float, (N,) or (R, N) array, or Uniform
        Each member's proposal as a multiple of its share of the optimum, >= 0.
    every : int
        Rounds between votes, >= 1.
    congruent : bool
        Let the voted quota track the stock or budget between votes.
    places : array_like of length N, "communities" or None
        Place labels for nested votes (None: one system-wide vote).
    autonomy : float or (R,)
        Weight in [0, 1] of the place's quota against the system's.
    voters : array_like of bool, shape (N,), or of int, optional
        Who votes: a mask or indices (default: every organisation); the excluded never vote.
    """

    role: ClassVar[str] = "quota"
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "communicate": ("excluded", "stock", "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("quota", "memory")}
    # "tallied" and "fresh": who was excluded at the last vote, and whether there was one; a
    # vote among the same voters gives the same quota, so compiled code does not count again
    memory: ClassVar[dict[str, tuple]] = {"voted": ("org", float), "scratch": ("org", float),
                                          "local": ("org", float), "tallied": ("org", bool),
                                          "fresh": ("replicate", bool)}
    cparams: ClassVar[tuple[str, ...]] = ("proposal", "voters", "labels", "places", "autonomy",
                                          "ref", "rule", "every", "congruence")

    def __init__(self, rule: str = "median", *, greed: Any = 1.0, every: int = 1,
                 congruent: bool = True, places: Any = None, autonomy: Any = 1.0,
                 voters: Any = None) -> None:
        if rule not in _VOTE_RULES:
            raise ValueError(f"rule must be one of {_VOTE_RULES}, got {rule!r}")
        self.rule = rule
        self.greed = greed
        self.every = check_integer("every", every, low=1)
        self.congruent = congruent
        self.places = places
        self.autonomy = autonomy
        self.voters = voters

    def requires(self) -> tuple[str, ...]:
        return ("optimum",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import optimum_draws
        R, N = ctx.R, ctx.N
        voters = org_mask("voters", self.voters, N, default=True)
        if not voters.any():
            raise ValueError("voters: a quota vote needs at least one voter")
        greed = per_org("greed", self.greed, R, N, uniforms=ctx.setup_uniforms(self)[..., 0],
                        low=0.0)
        labels = (np.zeros(N, np.int64) if self.places is None
                  else place_labels(self.places, ctx))
        ref = np.asarray(ctx.resource.reference_stock(ctx), dtype=np.float64)
        kind = ctx.resource.kind
        return {"voters": voters, "proposal": greed * optimum_draws(ctx.technology, ctx),
                "labels": labels, "places": bool(labels.max() > 0 or self.places is not None),
                "autonomy": per_replicate("autonomy", self.autonomy, R, low=0.0, high=1.0),
                "ref": np.where(ref > 0, ref, 1.0),
                "rule": {"median": 0, "majority": 0, "mean": 1, "unanimity": 2}[self.rule],
                "every": self.every,
                "congruence": (0 if not self.congruent else
                               {"stock": 1, "budget": 2}.get(kind, 0))}

    def _tally(self, proposal: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """Outcome per replicate over the organisations where ``ok``; nan where none voted.

        The median of n proposals is the middle one, or the mean of the two middle ones,
        (a + b) / 2; the mean adds the proposals in organisation order (as compiled code does).
        """
        n = ok.sum(axis=1)
        rows = np.arange(ok.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.rule in ("median", "majority"):
                v = np.sort(np.where(ok, proposal, np.inf), axis=1)
                hi = v[rows, np.minimum(n // 2, ok.shape[1] - 1)]
                lo = v[rows, np.maximum(n // 2 - 1, 0)]
                out = np.where(n % 2 == 1, hi, (lo + hi) / 2)
            elif self.rule == "mean":
                out = np.cumsum(np.where(ok, proposal, 0.0), axis=1)[:, -1] / n
            else:
                out = np.where(ok, proposal, np.inf).min(axis=1)
        return np.where(n > 0, out, np.nan)

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: on voting rounds the members' proposals are aggregated by the
        voting rule (per place, then blended with the system's); between votes a congruent quota
        tracks the stock or budget.

        Parameters
        ----------
        st : State
            The state; reads ``excluded``, ``stock``, ``memory``; writes ``quota``, ``memory``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        mem = self.mem(st, ctx)
        if st.t % self.every == 0:
            ok = P["voters"][None, :] & ~st.excluded
            system = self._tally(P["proposal"], ok)
            quota = np.broadcast_to(system[:, None], (ctx.R, ctx.N)).copy()
            labels = P["labels"]
            if labels.max() > 0 or self.places is not None:
                place = np.empty_like(quota)
                for k in range(labels.max() + 1):
                    members = labels == k
                    local = self._tally(P["proposal"], ok & members[None, :])
                    place[:, members] = np.where(np.isnan(local), system, local)[:, None]
                a = P["autonomy"][:, None]
                quota = a * place + (1 - a) * quota
            # a replicate where nobody could vote keeps its previous quota
            if st.t > 0:
                quota = np.where(np.isnan(quota), mem["voted"], quota)
            mem["voted"] = np.where(np.isnan(quota), np.inf, quota)
            mem["tallied"][...] = st.excluded
            mem["fresh"][...] = True
        voted = mem["voted"]
        if self.congruent and ctx.resource.kind == "stock":
            voted = voted * np.minimum(st.stock / P["ref"], 1.0)[:, None]
        elif self.congruent and ctx.resource.kind == "budget":
            voted = voted * (st.stock / P["ref"])[:, None]
        st.quota = voted.copy()


class Regulator(Plugin):
    r"""The regulator's stance toward local rules (Ostrom's principle 7).

    ``stance="supportive"``: the group's right to organise is recognised; local rules stand,
    and the regulator's ``target`` applies only where the group has set none.
    ``stance="overriding"``: the regulator replaces local rules with its central target (an
    external control, which crowding-out reads). ``rounds`` limits its action to a collection
    of rounds (None: always), so a control can be imposed and lifted. Place it after the
    mechanisms that set local rules.

    Parameters
    ----------
    target : float, (N,) or (R, N) array
        The central quota per organisation, resource units per round >= 0.
    stance : {"supportive", "overriding"}
        Whether local rules stand or are replaced by the target.
    rounds : None or collection of int
        The rounds in which the regulator acts (None: every round).
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("quota",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("quota", "external")}
    cparams: ClassVar[tuple[str, ...]] = ("q", "overriding", "rounds")

    def __init__(self, target: Any, *, stance: str = "supportive", rounds: Any = None) -> None:
        if stance not in ("supportive", "overriding"):
            raise ValueError(f"stance must be 'supportive' or 'overriding', got {stance!r}")
        self.target = target
        self.stance = stance
        self.rounds = as_rounds("rounds", rounds)

    @property
    def external(self) -> bool:  # type: ignore[override]
        return self.stance == "overriding"

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"q": per_org("target", self.target, ctx.R, ctx.N, low=0.0),
                "overriding": self.stance == "overriding",
                "rounds": rounds_array(self.rounds)}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: a supportive regulator sets its target where no local quota is in
        force; an overriding one replaces the quota with it (an external control).

        Parameters
        ----------
        st : State
            The state; reads ``quota``; writes ``quota``, ``external``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        if self.rounds is not None and st.t not in self.rounds:
            return
        q = ctx.params[self]["q"]
        if self.stance == "overriding":
            st.quota = q.copy()
            st.external[:] = True
        else:
            st.quota = np.where(np.isfinite(st.quota), st.quota, q)


# ---------------------------------------------------------------------- compiled forms
@compiled(StockShareQuota, "communicate", orgs=True)
@jitable
def _stock_share_quota(r, t, S, P, M, rng, net, TP, i0, i1):
    (share,) = P
    q = share[r] * S.stock[r] / S.quota.shape[1]
    for i in range(i0, i1):
        S.quota[r, i] = q


@compiled(FixedQuota, "communicate", orgs=True)
@jitable
def _fixed_quota(r, t, S, P, M, rng, net, TP, i0, i1):
    (q,) = P
    for i in range(i0, i1):
        S.quota[r, i] = q[r]
    if i0 == 0:
        S.external[r] = True


@compiled(Regulator, "communicate")
@jitable
def _regulator(r, t, S, P, M, rng, net, TP):
    q, overriding, rounds = P
    if not in_rounds(t, rounds):
        return
    for i in range(S.quota.shape[1]):
        if overriding or not np.isfinite(S.quota[r, i]):
            S.quota[r, i] = q[r, i]
    if overriding:
        S.external[r] = True


@jitable
def _select(buf, n, k):
    """The k-th smallest of buf[:n] (0-based), reordering buf in place (quickselect, Hoare's
    partition): on return no element of buf[:k] exceeds buf[k], none of buf[k + 1:n] is below."""
    lo = 0
    hi = n - 1
    while lo < hi:
        pivot = buf[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return buf[k]
    return buf[k]


@jitable
def _tally(r, proposal, voters, S, labels, place, rule, buf):
    """The vote among the voting organisations not excluded (of ``place``, or all for -1);
    nan if none voted. ``buf`` is scratch space of length N."""
    n = 0
    for i in range(proposal.shape[1]):
        if voters[i] and not S.excluded[r, i] and (place < 0 or labels[i] == place):
            buf[n] = proposal[r, i]
            n += 1
    if n == 0:
        return np.nan
    if rule == 1:
        total = 0.0
        for k in range(n):
            total += buf[k]
        return total / n
    if rule == 2:
        low = buf[0]
        for k in range(1, n):
            if buf[k] < low:
                low = buf[k]
        return low
    hi = _select(buf, n, n // 2)
    if n % 2 == 1:
        return hi
    lo = buf[0]  # the selection left buf[:n // 2] at or below hi: the lower middle is their
    for k in range(1, n // 2):  # largest
        if buf[k] > lo:
            lo = buf[k]
    return (lo + hi) / 2


@jitable
def _same_voters(r, S, tallied, fresh):
    """Whether replicate r has voted before with the same organisations excluded."""
    if not fresh[r]:
        return False
    for i in range(S.excluded.shape[1]):  # noqa: SIM110 - no generators in numba
        if tallied[r, i] != S.excluded[r, i]:
            return False
    return True


@compiled(QuotaVote, "communicate")
@jitable
def _quota_vote(r, t, S, P, M, rng, net, TP):
    proposal, voters, labels, places, autonomy, ref, rule, every, congruence = P
    voted, scratch, local, tallied, fresh = M
    N = S.quota.shape[1]
    if t % every == 0 and not _same_voters(r, S, tallied, fresh):
        # the proposals are fixed: the same voters as at the last vote give the same quota
        # (where nobody could vote, the last one is kept either way)
        buf = scratch[r]
        system = _tally(r, proposal, voters, S, labels, -1, rule, buf)
        top = 0
        if places:
            for i in range(N):
                top = max(top, labels[i])
            for k in range(top + 1):
                local[r, k] = _tally(r, proposal, voters, S, labels, k, rule, buf)
        a = autonomy[r]
        for i in range(N):
            q = system
            if places:
                here = local[r, labels[i]]
                q = a * (system if np.isnan(here) else here) + (1 - a) * system
            if t > 0 and np.isnan(q):
                q = voted[r, i]
            voted[r, i] = np.inf if np.isnan(q) else q
        for i in range(N):
            tallied[r, i] = S.excluded[r, i]
        fresh[r] = True
    factor = min(S.stock[r] / ref[r], 1.0) if congruence == 1 else S.stock[r] / ref[r]
    for i in range(N):
        S.quota[r, i] = voted[r, i] * factor if congruence > 0 else voted[r, i]
