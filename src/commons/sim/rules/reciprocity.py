"""Reciprocity: conditional cooperation and trigger strategies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .._jit import inlined, jitable
from .._params import per_replicate
from ..plugin import compiled
from .base import Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["ConditionalCooperation", "Trigger"]

_FOREVER = np.iinfo(np.int64).max // 4


def _targets(ctx, cooperate):
    """The cooperative draw (R, N): given, else the group optimum."""
    if cooperate is None:
        from ..targets import optimum_draws
        return optimum_draws(ctx.technology, ctx)
    return np.broadcast_to(np.asarray(cooperate, dtype=np.float64), (ctx.R, ctx.N)).copy()


class ConditionalCooperation(Rule):
    r"""Draw the agreed share while trusted neighbours comply; drift toward Nash when they do not.

    Fischbacher, Gächter & Fehr (2001) conditional cooperators, on a network: organisation
    :math:`i` computes the trust-weighted share of its out-neighbours that complied,

    .. math:: c_i = \frac{\sum_{i \to j} w_{ij}\, \mathbb{1}[h_j \le a_j (1 + \epsilon)
        + \epsilon]}{\sum_{i \to j} w_{ij}},

    :math:`h_j` the granted draw, :math:`a_j` the agreed draw (:meth:`agreed`: the quota in
    force if finite, else ``cooperate``, else the group optimum) and :math:`\epsilon` the
    tolerance; with no neighbours (or zero total trust) :math:`c_i` is the compliant share of
    the whole group. Then

    .. math:: x_i' = \begin{cases} a_i & \text{if } c_i \ge \theta, \\
        x_i + \delta\, (x_i^{\mathrm{Nash}} - x_i) & \text{otherwise.} \end{cases}

    Parameters
    ----------
    cooperate : float, (N,) or (R, N) array, optional
        The cooperative draw used when no quota is in force (draw units); default: the group's
        best sustainable allocation (``optimum_draws``).
    threshold : float, (R,) array or Uniform, default 0.5
        :math:`\theta \in [0, 1]`, the compliant share at or above which an organisation
        cooperates, per replicate.
    drift : float, (R,) array or Uniform, default 0.25
        :math:`\delta \in [0, 1]`, the fraction of the way to the stage Nash draw moved in a
        round without enough compliance, per replicate.
    tolerance : float, default 1e-9
        :math:`\epsilon`, the relative and absolute slack in the compliance test.

    References
    ----------
    Fischbacher, U., Gächter, S. & Fehr, E. (2001). Are people conditionally cooperative?
    Evidence from a public goods experiment. *Economics Letters* 71, 397-404.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "decide": ("next_draws",), "learn": ("draws", "granted", "quota", "trust")}
    cparams: ClassVar[tuple[str, ...]] = ("coop", "nash", "threshold", "drift", "tol")

    def __init__(self, cooperate: Any = None, threshold: Any = 0.5, drift: Any = 0.25,
                 tolerance: float = 1e-9) -> None:
        self.cooperate = cooperate
        self.threshold = threshold
        self.drift = drift
        self.tolerance = tolerance

    def requires(self) -> tuple[str, ...]:
        return ("nash",) + (("optimum",) if self.cooperate is None else ())

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import nash_draws
        return {"coop": _targets(ctx, self.cooperate), "nash": nash_draws(ctx.technology, ctx),
                "threshold": per_replicate("threshold", self.threshold, ctx.R, low=0.0,
                                           high=1.0),
                "drift": per_replicate("drift", self.drift, ctx.R, low=0.0, high=1.0),
                "tol": float(self.tolerance)}

    def agreed(self, st, ctx) -> np.ndarray:
        """The agreed draw: the quota when one is in force, else the cooperative target.

        Parameters
        ----------
        st : State
            The state; reads ``quota`` (R, N), infinite where no quota is in force.
        ctx : Context
            The run's context (the cooperative target in ``ctx.params[self]``).

        Returns
        -------
        ndarray, shape (R, N)
            :math:`a_i`: the quota where finite, else the cooperative draw (draw units).
        """
        coop = ctx.params[self]["coop"]
        q = st.quota
        return np.where(np.isfinite(q), np.broadcast_to(q, coop.shape), coop)

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: cooperate if enough trusted neighbours complied, else drift to Nash.

        Parameters
        ----------
        st : State
            The state; reads ``draws``, ``granted``, ``quota`` (R, N) and ``trust`` (R, E);
            writes ``next_draws`` (R, N) by the rule in the class docstring.
        ctx : Context
            The run's context (the trust network; the targets in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        agreed = self.agreed(st, ctx)
        ok = (st.granted <= agreed * (1 + self.tolerance) + self.tolerance).astype(float)
        group = np.broadcast_to(ok.mean(axis=1, keepdims=True), ok.shape)
        share = ctx.network.neighbour_mean(ok, empty=np.nan, edge_weights=st.trust)
        share = np.where(np.isnan(share), group, share)
        drifted = st.draws + P["drift"][:, None] * (P["nash"] - st.draws)
        st.next_draws = np.where(share >= P["threshold"][:, None], agreed, drifted)


class Trigger(Rule):
    r"""Trigger strategies: cooperate until a neighbour defects, then punish.

    Organisation i draws ``cooperate`` (default: the optimum) until it sees a neighbour who was
    not itself punishing draw more than that; it then draws ``punish`` (default: the stage Nash)
    for ``punish_rounds`` rounds (``None``: forever, grim trigger; Friedman 1971) before
    returning to cooperation (a forgiving trigger). With ``scope="all"`` every organisation sees
    every other, as in the folk theorem.

    In memory each organisation keeps :math:`L_i`, the punishment rounds left. Organisation
    :math:`j` defects when :math:`h_j > x^c_j (1 + \epsilon) + \epsilon` (:math:`h_j` its
    granted draw, :math:`x^c_j` its cooperative draw) while :math:`L_j = 0`. After each round

    .. math:: L_i \leftarrow \begin{cases} T & \text{if } i \text{ saw a defection,} \\
        \max(L_i - 1, 0) & \text{otherwise,} \end{cases}

    (:math:`T` = ``punish_rounds``, or forever) and the next draw is the punishment draw while
    :math:`L_i > 0`, the cooperative draw otherwise. An organisation sees its out-neighbours on
    the trust network (``scope="neighbours"``) or every other organisation (``scope="all"``).

    Parameters
    ----------
    cooperate : float, (N,) or (R, N) array, optional
        The cooperative draw :math:`x^c` (draw units); default: the group's best sustainable
        allocation (``optimum_draws``).
    punish : float, (N,) or (R, N) array, optional
        The punishment draw (draw units); default: the stage game's Nash draws.
    punish_rounds : int, optional
        :math:`T \ge 1`, the length of a punishment phase; ``None`` (default) punishes forever
        (grim trigger).
    scope : {"neighbours", "all"}, default "neighbours"
        Whom an organisation watches: its out-neighbours on the trust network, or everyone.
    tolerance : float, default 1e-9
        :math:`\epsilon`, the relative and absolute slack in the defection test.

    References
    ----------
    Friedman, J. W. (1971). A non-cooperative equilibrium for supergames. *Review of Economic
    Studies* 38, 1-12.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("memory",),
                                                   "learn": ("granted", "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws",),
                                                    "learn": ("next_draws", "memory")}
    memory: ClassVar[dict[str, tuple]] = {"left": ("org", int)}
    cparams: ClassVar[tuple[str, ...]] = ("coop", "punish", "length", "everyone", "tol")

    def __init__(self, cooperate: Any = None, punish: Any = None,
                 punish_rounds: int | None = None, scope: str = "neighbours",
                 tolerance: float = 1e-9) -> None:
        if scope not in ("neighbours", "all"):
            raise ValueError(f"scope must be 'neighbours' or 'all', got {scope!r}")
        self.cooperate = cooperate
        self.punish = punish
        self.punish_rounds = (None if punish_rounds is None
                              else check_integer("punish_rounds", punish_rounds, low=1))
        self.scope = scope
        self.tolerance = tolerance

    def requires(self) -> tuple[str, ...]:
        return ((("nash",) if self.punish is None else ())
                + (("optimum",) if self.cooperate is None else ()))

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import nash_draws
        punish = (nash_draws(ctx.technology, ctx) if self.punish is None else
                  np.broadcast_to(np.asarray(self.punish, float), (ctx.R, ctx.N)).copy())
        length = _FOREVER if self.punish_rounds is None else self.punish_rounds
        return {"coop": _targets(ctx, self.cooperate), "punish": punish, "length": int(length),
                "everyone": self.scope == "all", "tol": float(self.tolerance)}

    def decide(self, st: State, ctx: Context) -> None:
        """The decide phase: the punishment draw while rounds of punishment are left, else the
        cooperative draw.

        Parameters
        ----------
        st : State
            The state; reads the memory ``left`` (R, N); writes ``draws`` (R, N).
        ctx : Context
            The run's context (the two draws in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        left = self.mem(st, ctx)["left"]
        st.draws = np.where(left > 0, P["punish"], P["coop"])

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: restart the punishment on a defection seen, else count it down.

        Parameters
        ----------
        st : State
            The state; reads ``granted`` (R, N) and the memory ``left``; writes the memory
            ``left`` and ``next_draws`` (R, N) by the rule in the class docstring.
        ctx : Context
            The run's context (the trust network when ``scope="neighbours"``).
        """
        P = ctx.params[self]
        mem = self.mem(st, ctx)
        left = mem["left"]
        was_punishing = left > 0
        defect = ((st.granted > P["coop"] * (1 + self.tolerance) + self.tolerance)
                  & ~was_punishing).astype(float)
        if self.scope == "all":
            seen = defect.sum(axis=1, keepdims=True) - defect > 0
        else:
            seen = ctx.network.neighbour_mean(defect, empty=0.0) > 0
        length = _FOREVER if self.punish_rounds is None else self.punish_rounds
        left = np.where(seen, length, np.maximum(left - 1, 0))
        mem["left"] = left
        st.next_draws = np.where(left > 0, P["punish"], P["coop"])


# ---------------------------------------------------------------------- compiled forms
@inlined
def _complies(S, r, j, agreed, tol):
    """Whether organisation j's granted draw stayed within ``agreed`` (to the tolerance)."""
    return S.granted[r, j] <= agreed * (1 + tol) + tol


@inlined
def _agreed(S, r, j, coop):
    q = S.quota[r, j]
    return q if np.isfinite(q) else coop[r, j]


@compiled(ConditionalCooperation, "learn")
@jitable
def _conditional_cooperation(r, t, S, P, M, rng, net, TP):
    coop, nash, threshold, drift, tol = P
    N = S.draws.shape[1]
    ok_all = 0.0
    for j in range(N):
        if _complies(S, r, j, _agreed(S, r, j, coop), tol):
            ok_all += 1.0
    group = ok_all / N
    for i in range(N):
        # the trust-weighted share of complying neighbours, summed in edge order
        share = 0.0
        weight = 0.0
        for e in range(net.indptr[i], net.indptr[i + 1]):
            j = net.indices[e]
            ok = 1.0 if _complies(S, r, j, _agreed(S, r, j, coop), tol) else 0.0
            share += S.trust[r, e] * ok
            weight += S.trust[r, e]
        has = net.indptr[i + 1] > net.indptr[i] and weight > 0
        share = share / weight if has else group
        if share >= threshold[r]:
            S.next_draws[r, i] = _agreed(S, r, i, coop)
        else:
            x = S.draws[r, i]
            S.next_draws[r, i] = x + drift[r] * (nash[r, i] - x)


@compiled(Trigger, "decide")
@jitable
def _trigger_decide(r, t, S, P, M, rng, net, TP):
    coop, punish = P[0], P[1]
    (left,) = M
    for i in range(S.draws.shape[1]):
        S.draws[r, i] = punish[r, i] if left[r, i] > 0 else coop[r, i]


@compiled(Trigger, "learn")
@jitable
def _trigger_learn(r, t, S, P, M, rng, net, TP):
    coop, punish, length, everyone, tol = P
    (left,) = M
    N = S.granted.shape[1]
    # next_draws first holds who defected (1.0) while not punishing, then the draws
    defectors = 0.0
    for j in range(N):
        defect = S.granted[r, j] > coop[r, j] * (1 + tol) + tol and not left[r, j] > 0
        S.next_draws[r, j] = 1.0 if defect else 0.0
        defectors += S.next_draws[r, j]
    for i in range(N):
        if everyone:
            seen = defectors - S.next_draws[r, i] > 0
        else:
            seen = False
            for e in range(net.indptr[i], net.indptr[i + 1]):
                if S.next_draws[r, net.indices[e]] > 0:
                    seen = True
                    break
        left[r, i] = length if seen else max(left[r, i] - 1, 0)
    for i in range(N):
        S.next_draws[r, i] = punish[r, i] if left[r, i] > 0 else coop[r, i]
