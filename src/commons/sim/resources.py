"""Resources: what organisations draw on, how draws are granted and how the pool regenerates.

Each resource fills two phases. In **appropriate** it grants the organisations' claims, with
proportional rationing when they exceed the stock: ratio = S / D if D > S else 1, h_i = ratio d_i.
In **regenerate** the pool grows (logistic), recycles (lake) or is refilled (care budget), random
shocks strike, and collapse (an absorbing empty stock) is recorded.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._validation import as_real
from ..exact.lake import critical_loss, lake_threshold
from . import _elementwise as ew
from ._exp import exp
from ._jit import cpow, ipow, jitable, normal, u1, u4
from ._params import per_replicate
from .plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Context
    from .state import State

__all__ = ["CareBudget", "LakeStock", "LogisticStock", "NoStock", "Resource"]


def total(claims: np.ndarray) -> np.ndarray:
    """Sum of claims per replicate, added in organisation order (as the compiled kernel does).

    The order is fixed so that the test D > S, which decides whether the pool is drained, comes
    out the same on every path (numpy's pairwise sum can differ in the last bit).
    """
    return np.cumsum(claims, axis=1)[:, -1]


class Resource(Plugin):
    """Base class of the pools: proportional rationing in the appropriate phase.

    A resource holds the State's ``stock`` (R,): it grants the claims in the appropriate phase
    and regrows (or refills, or pollutes) in the regenerate phase, recording a collapse.
    Subclasses give :meth:`initial_stock`, ``regenerate``, :meth:`sustainable_yield` (which the
    efficiency metric's best sustainable rent uses) and :meth:`reference_stock`.
    """

    role: ClassVar[str] = "resource"
    registered: ClassVar[bool] = False  # a base class, not in commons.plugins()
    phases: ClassVar[tuple[str, ...]] = ("appropriate", "regenerate")
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"appropriate": ("demand", "stock"),
                                                   "regenerate": ("stock",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "appropriate": ("granted", "stock", "ration"),
        "regenerate": ("stock", "collapsed", "collapse_round")}
    kind: ClassVar[str] = "stock"

    def initial_stock(self, ctx: Context) -> np.ndarray:
        """Stock at the start of round 0, shape (R,).

        Parameters
        ----------
        ctx : Context
            The run's context (bound parameters in ``ctx.params[self]``).

        Returns
        -------
        ndarray, shape (R,)
            The initial stock, in resource units.
        """
        raise NotImplementedError

    def setup(self, state, ctx) -> None:
        state.stock = self.initial_stock(ctx).copy()

    def appropriate(self, st: State, ctx: Context) -> None:
        """Grant claims, rationing proportionally: h = min(1, S / D) d.

        The stock left is S - D, or exactly 0 when the claims exceed it (computing
        S - (S / D) D would leave a rounding residue that keeps a drained stock alive).

        Parameters
        ----------
        st : State
            The state; reads ``demand`` and ``stock``; writes ``granted``, ``stock`` and
            ``ration``.
        ctx : Context
            The run's context.
        """
        D = total(st.demand)
        drained = D > st.stock
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(drained, st.stock / D, 1.0)
        st.granted = st.demand * ratio[:, None]
        st.stock = np.where(drained, 0.0, st.stock - D)
        st.ration = ratio

    def sustainable_yield(self, ctx: Context) -> np.ndarray:
        """The largest draw per round that can be kept up forever, shape (R,) (or (R, T)).

        Parameters
        ----------
        ctx : Context
            The run's context (bound parameters in ``ctx.params[self]``).

        Returns
        -------
        ndarray, shape (R,) or (R, T)
            The sustainable yield, in resource units per round (per round t when it changes).
        """
        raise NotImplementedError

    def reference_stock(self, ctx: Context) -> np.ndarray:
        """The stock the final stock is compared with (MSY stock for a renewable), shape (R,).

        Parameters
        ----------
        ctx : Context
            The run's context (bound parameters in ``ctx.params[self]``).

        Returns
        -------
        ndarray, shape (R,)
            The reference stock, in resource units (``final_stock_ratio`` divides by it).
        """
        raise NotImplementedError

    def _shock(self, st, ctx, P) -> None:
        if not np.any(P["shock_prob"] > 0):
            return
        u = ctx.uniforms(self, 1)[:, 0, 0]
        hit = u < P["shock_prob"]
        st.stock = np.where(hit, st.stock * (1.0 - P["shock_size"]), st.stock)


class LogisticStock(Resource):
    r"""A renewable stock with discrete logistic regrowth (Schaefer 1957).

    After appropriation leaves S', the stock becomes S = min(K, S' + g S' (1 - S'/K)); then with
    probability ``shock_prob`` a shock destroys a fraction ``shock_size`` of it. A stock at or
    below ``collapse_below * K`` collapses to 0, which is absorbing (0 regrows to 0).

    Parameters
    ----------
    capacity : float or (R,) array
        Carrying capacity K > 0.
    growth : float or (R,) array
        Intrinsic growth rate g in [0, 3) (above 3 the discrete map is chaotic without harvest).
    initial : float or (R,) array, optional
        Initial stock as a fraction of K (default 1).
    shock_prob, shock_size : float or (R,) array
        Probability per round of a shock and the fraction of the stock it destroys.
    collapse_below : float
        Collapse threshold as a fraction of K (default 0: only an emptied stock collapses).

    Notes
    -----
    Maximum sustainable yield g K / 4 at stock K / 2.
    """

    cparams: ClassVar[tuple[str, ...]] = ("K", "g", "shock_prob", "shock_size", "collapse_below")

    def __init__(self, capacity: Any, growth: Any, *, initial: Any = 1.0, shock_prob: Any = 0.0,
                 shock_size: Any = 0.0, collapse_below: float = 0.0) -> None:
        self.capacity = capacity
        self.growth = growth
        self.initial = initial
        self.shock_prob = shock_prob
        self.shock_size = shock_size
        self.collapse_below = as_real("collapse_below", collapse_below, low=0.0, high=1.0,
                                      high_open=True)

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return bool(np.any(np.asarray(self.shock_prob) > 0))

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        return {
            "K": per_replicate("capacity", self.capacity, R, low=0.0, low_open=True),
            "g": per_replicate("growth", self.growth, R, low=0.0, high=3.0, high_open=True),
            "initial": per_replicate("initial", self.initial, R, low=0.0, high=1.0),
            "shock_prob": per_replicate("shock_prob", self.shock_prob, R, low=0.0, high=1.0),
            "shock_size": per_replicate("shock_size", self.shock_size, R, low=0.0, high=1.0),
            "collapse_below": self.collapse_below,
        }

    def initial_stock(self, ctx: Context) -> np.ndarray:
        P = ctx.params[self]
        return P["K"] * P["initial"]

    def carrying_capacity(self, ctx: Context) -> np.ndarray:
        """K per replicate, shape (R,).

        Parameters
        ----------
        ctx : Context
            The run's context (bound parameters in ``ctx.params[self]``).

        Returns
        -------
        ndarray, shape (R,)
            The carrying capacity K, in resource units.
        """
        return ctx.params[self]["K"].copy()

    def regrowth(self, S: np.ndarray, ctx) -> np.ndarray:
        """Surplus growth G(S) = g S (1 - S/K) of a stock S (R,), shape (R,) (Schaefer 1957).

        Parameters
        ----------
        S : ndarray, shape (R,)
            Stock, in resource units.
        ctx : Context
            The run's context (K and g bound per replicate).

        Returns
        -------
        ndarray, shape (R,)
            The surplus growth per round.
        """
        P = ctx.params[self]
        return P["g"] * S * (1.0 - S / P["K"])

    def regenerate(self, st: State, ctx: Context) -> None:
        """The regenerate phase: S <- min(K, S + g S (1 - S/K)), then a shock with probability
        ``shock_prob``; a stock at or below ``collapse_below`` K collapses to 0 (absorbing).

        Parameters
        ----------
        st : State
            The state; reads ``stock``; writes ``stock``, ``collapsed``, ``collapse_round``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        K, g = P["K"], P["g"]
        S = st.stock
        st.stock = np.minimum(K, S + g * S * (1.0 - S / K))
        self._shock(st, ctx, P)
        newly = ~st.collapsed & (st.stock <= self.collapse_below * K)
        st.collapse_round = np.where(newly, st.t, st.collapse_round)
        st.collapsed |= newly
        st.stock = np.where(st.collapsed, 0.0, st.stock)

    def sustainable_yield(self, ctx: Context) -> np.ndarray:
        P = ctx.params[self]
        return P["g"] * P["K"] / 4.0

    def reference_stock(self, ctx: Context) -> np.ndarray:
        return ctx.params[self]["K"] / 2.0


class CareBudget(Resource):
    r"""A budget refilled every round, as a care system's annual allocation.

    At the start of round t the pool holds B (1 + growth)**t plus ``carry_over`` times what was
    left unspent; claims beyond it are rationed proportionally. A budget cannot collapse; its
    tragedy is rationing (see the ``shortfall`` record).

    Parameters
    ----------
    amount : float or (R,) array
        Budget B > 0 in round 0.
    growth : float or (R,) array
        Growth rate of the budget per round (> -1).
    carry_over : float or (R,) array
        Share of the unspent budget carried into the next round, in [0, 1].
    """

    kind: ClassVar[str] = "budget"

    cparams: ClassVar[tuple[str, ...]] = ("B", "growth", "carry")

    def __init__(self, amount: Any, *, growth: Any = 0.0, carry_over: Any = 0.0) -> None:
        self.amount = amount
        self.growth = growth
        self.carry_over = carry_over

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        return {"B": per_replicate("amount", self.amount, R, low=0.0, low_open=True),
                "growth": per_replicate("growth", self.growth, R, low=-1.0, low_open=True),
                "carry": per_replicate("carry_over", self.carry_over, R, low=0.0, high=1.0)}

    def initial_stock(self, ctx: Context) -> np.ndarray:
        return ctx.params[self]["B"].copy()

    def regenerate(self, st: State, ctx: Context) -> None:
        """The regenerate phase: the pool is refilled to B (1 + growth)**(t + 1) plus ``carry_over``
        times what was left unspent.

        Parameters
        ----------
        st : State
            The state; reads ``stock``; writes ``stock``, ``collapsed``, ``collapse_round``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        st.stock = P["B"] * ew.ipow(1.0 + P["growth"], st.t + 1) + P["carry"] * st.stock

    def sustainable_yield(self, ctx: Context) -> np.ndarray:
        P = ctx.params[self]
        t = np.arange(ctx.rounds)
        return P["B"][:, None] * (1.0 + P["growth"][:, None]) ** t[None, :]

    def reference_stock(self, ctx: Context) -> np.ndarray:
        return ctx.params[self]["B"]


class NoStock(Resource):
    """No pool constraint: every claim is granted (the one-shot laboratory game, repeated)."""

    kind: ClassVar[str] = "none"
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"appropriate": ("granted",)}

    def initial_stock(self, ctx: Context) -> np.ndarray:
        return np.zeros(ctx.R)

    def appropriate(self, st: State, ctx: Context) -> None:
        """The appropriate phase: every claim is granted in full.

        Parameters
        ----------
        st : State
            The state; reads ``demand``, ``stock``; writes ``granted``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        st.granted = st.demand.copy()

    def regenerate(self, st: State, ctx: Context) -> None:
        """The regenerate phase: nothing (there is no pool).

        Parameters
        ----------
        st : State
            The state; reads ``stock``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        return None

    def sustainable_yield(self, ctx: Context) -> np.ndarray:
        return np.full(ctx.R, np.inf)

    def reference_stock(self, ctx: Context) -> np.ndarray:
        return np.ones(ctx.R)


class LakeStock(Resource):
    r"""A shallow lake: the stock is phosphorus, and draws are releases into it (a public bad).

    Carpenter, Ludwig & Brock (1999); Mäler, Xepapadeas & de Zeeuw (2003):

        P_{t+1} = (1 - b) P_t + P_t**q / (1 + P_t**q) + A_t + eps_t,

    with A_t the total release and eps_t ~ LogNormal with mean ``inflow_mean`` and standard
    deviation ``inflow_sd`` (mu = ln(m**2 / sqrt(s**2 + m**2)), sigma = sqrt(ln(1 + s**2/m**2))).
    The lake "collapses" (turns eutrophic) the first time P exceeds the critical level p_crit,
    the lower positive root of x**q/(1 + x**q) = b x, which bounds the basin of the clean state
    (:func:`commons.exact.lake.lake_threshold`); with b = 0.42, q = 2 it is 0.5445 and
    irreversible. Releases are never rationed.

    A lake whose loss exceeds :func:`commons.exact.lake.critical_loss` (1/2 for q = 2) has no
    such level (it is reversible) and is refused with a ValueError naming ``loss`` and
    ``recycling``.

    Parameters
    ----------
    loss : float
        Loss rate b in (0, 1] per round (sedimentation, outflow).
    recycling : float
        Recycling (Hill) exponent q > 1.
    initial : float
        Initial phosphorus level P_0 >= 0.
    inflow_mean, inflow_sd : float
        Mean m >= 0 and standard deviation s >= 0 of the natural inflow eps_t per round.
    """

    kind: ClassVar[str] = "pollution"

    def __init__(self, *, loss: float = 0.42, recycling: float = 2.0, initial: float = 0.0,
                 inflow_mean: float = 0.02, inflow_sd: float = 0.001) -> None:
        self.loss = as_real("loss", loss, low=0.0, high=1.0, low_open=True)
        self.recycling = as_real("recycling", recycling, low=1.0, low_open=True)
        self.initial = as_real("initial", initial, low=0.0)
        self.inflow_mean = as_real("inflow_mean", inflow_mean, low=0.0)
        self.inflow_sd = as_real("inflow_sd", inflow_sd, low=0.0)
        self.critical = lake_threshold(self.loss, self.recycling)
        if not math.isfinite(self.critical):
            raise ValueError(
                f"loss must be <= {critical_loss(self.recycling):.6g} for recycling="
                f"{self.recycling!r}, got {self.loss!r}: above it the recycling curve "
                "x**q/(1 + x**q) never reaches the loss line b x, so the lake is reversible "
                "and has no critical level to collapse at")

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.inflow_sd > 0

    def initial_stock(self, ctx: Context) -> np.ndarray:
        return np.full(ctx.R, self.initial)

    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "appropriate": ("granted", "memory"),
        "regenerate": ("stock", "collapsed", "collapse_round", "memory")}
    memory: ClassVar[dict[str, tuple]] = {"released": ("replicate", float)}
    cparams: ClassVar[tuple[str, ...]] = ("loss", "q", "mu", "sigma", "mean", "critical")

    def bind(self, ctx: Context) -> dict[str, Any]:
        m, s = self.inflow_mean, self.inflow_sd
        noisy = s > 0 and m > 0
        return {"loss": self.loss, "q": self.recycling, "mean": m if not noisy else -1.0,
                "mu": math.log(m * m / math.sqrt(s * s + m * m)) if noisy else 0.0,
                "sigma": math.sqrt(math.log(1 + s * s / (m * m))) if noisy else 0.0,
                "critical": self.critical}

    def appropriate(self, st: State, ctx: Context) -> None:
        """The appropriate phase: every release is granted (a public bad is never rationed) and
        their total kept for regeneration.

        Parameters
        ----------
        st : State
            The state; reads ``demand``, ``stock``; writes ``granted``, ``memory``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        st.granted = st.demand.copy()
        self.mem(st, ctx)["released"] = np.cumsum(st.granted, axis=1)[:, -1]  # in org order

    def regenerate(self, st: State, ctx: Context) -> None:
        """The regenerate phase: P <- (1 - b) P + P**q / (1 + P**q) + A + eps (Carpenter, Ludwig &
        Brock 1999), with lognormal inflow eps; the lake collapses the first time P exceeds
        p_crit.

        Parameters
        ----------
        st : State
            The state; reads ``stock``; writes ``stock``, ``collapsed``, ``collapse_round``,
            ``memory``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = st.stock
        m, s = self.inflow_mean, self.inflow_sd
        if s > 0 and m > 0:
            mu = math.log(m * m / math.sqrt(s * s + m * m))
            sigma = math.sqrt(math.log(1 + s * s / (m * m)))
            u = ctx.uniforms(self, 1)[:, 0, :]
            from .streams import normal_quantile
            eps = ew.exp(mu + sigma * normal_quantile(u[:, 0]))
        else:
            eps = m
        q = self.recycling
        Pq = ew.power(P, q)
        st.stock = (1 - self.loss) * P + Pq / (1 + Pq) + self.mem(st, ctx)["released"] + eps
        newly = ~st.collapsed & (st.stock > self.critical)
        st.collapse_round = np.where(newly, st.t, st.collapse_round)
        st.collapsed |= newly

    def steady_loading(self, points: int = 2001) -> tuple[np.ndarray, np.ndarray]:
        """Steady phosphorus levels P below p_crit and the total release that holds each.

        In steady state b P - P**q / (1 + P**q) - m = A (mean inflow m); returns (A, P) with A
        floored at 0.

        Parameters
        ----------
        points : int
            Number of levels P on [0, p_crit].

        Returns
        -------
        loading : ndarray, shape (points,)
            Total release A per round that holds each level.
        level : ndarray, shape (points,)
            The phosphorus levels P.
        """
        q, b = self.recycling, self.loss
        x = np.linspace(0.0, self.critical, points)
        load = np.maximum(b * x - x**q / (1 + x**q) - self.inflow_mean, 0.0)
        return load, x

    def sustainable_yield(self, ctx: Context) -> np.ndarray:
        """Largest constant total release that keeps the lake below p_crit in steady state.

        Parameters
        ----------
        ctx : Context
            The run's context (bound parameters in ``ctx.params[self]``).

        Returns
        -------
        ndarray, shape (R,)
            max over P < p_crit of b P - P**q / (1 + P**q) - m, per round.
        """
        return np.full(ctx.R, float(self.steady_loading()[0].max()))

    def reference_stock(self, ctx: Context) -> np.ndarray:
        return np.full(ctx.R, self.critical)


# ---------------------------------------------------------------------- compiled forms
@compiled(Resource, "appropriate")
@jitable
def _ration(r, t, S, P, M, rng, net, TP):
    N = S.demand.shape[1]
    D = 0.0
    for i in range(N):
        D += S.demand[r, i]
    stock = S.stock[r]
    drained = D > stock
    ratio = stock / D if drained else 1.0
    for i in range(N):
        S.granted[r, i] = S.demand[r, i] * ratio
    S.stock[r] = 0.0 if drained else stock - D
    S.ration[r] = ratio


@compiled(LogisticStock, "regenerate")
@jitable
def _logistic_regenerate(r, t, S, P, M, rng, net, TP):
    K, g, shock_prob, shock_size, collapse_below = P
    Kr = K[r]
    s = S.stock[r]
    s = min(Kr, s + g[r] * s * (1.0 - s / Kr))
    if shock_prob[r] > 0.0 and u1(0, t, rng) < shock_prob[r]:
        s = s * (1.0 - shock_size[r])
    if not S.collapsed[r] and s <= collapse_below * Kr:
        S.collapsed[r] = True
        S.collapse_round[r] = t
    S.stock[r] = 0.0 if S.collapsed[r] else s


@compiled(CareBudget, "regenerate")
@jitable
def _budget_refill(r, t, S, P, M, rng, net, TP):
    B, growth, carry = P
    S.stock[r] = B[r] * ipow(1.0 + growth[r], t + 1) + carry[r] * S.stock[r]


@compiled(NoStock, "appropriate")
@jitable
def _grant_all(r, t, S, P, M, rng, net, TP):
    for i in range(S.demand.shape[1]):
        S.granted[r, i] = S.demand[r, i]


@compiled(NoStock, "regenerate")
@jitable
def _nothing(r, t, S, P, M, rng, net, TP):
    return


@compiled(LakeStock, "appropriate")
@jitable
def _lake_releases(r, t, S, P, M, rng, net, TP):
    (released,) = M
    total = 0.0
    for i in range(S.demand.shape[1]):
        S.granted[r, i] = S.demand[r, i]
        total += S.demand[r, i]
    released[r] = total


@compiled(LakeStock, "regenerate")
@jitable
def _lake_regenerate(r, t, S, P, M, rng, net, TP):
    loss, q, mu, sigma, mean, critical = P
    (released,) = M
    if mean < 0.0:  # a lognormal inflow
        v = u4(0, t, rng)
        eps = exp(mu + sigma * normal(v[0]))
    else:
        eps = mean
    p = S.stock[r]
    pq = cpow(p, q)
    S.stock[r] = (1 - loss) * p + pq / (1 + pq) + released[r] + eps
    if not S.collapsed[r] and S.stock[r] > critical:
        S.collapsed[r] = True
        S.collapse_round[r] = t
