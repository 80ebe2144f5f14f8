r"""Technologies: how draws become claims on the pool and payoffs.

A technology has one job in the round: in the **appropriate** phase it turns intended draws x
into claims d on the resource (``demand``), and in the **pay** phase it turns granted draws h
into gross payoffs. Its bound parameters are published as a typed, read-only view
(``values(ctx)``), which best replies (:mod:`commons.sim.replies`) and the rent benchmark
(:mod:`commons.sim.targets`) read; no other component reads its private parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from ..exact.game import CPRGame
from . import _curves
from . import _elementwise as ew
from ._jit import TypeDispatch, cpow, ipow, jitable
from ._params import per_org, per_replicate
from .plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Context
    from .state import State

__all__ = ["Fishery", "LakeDamage", "PrivateConcave", "StageGame", "Technology"]


class Technology(Plugin):
    """Base class of payoff technologies: claims in ``appropriate``, payoffs in ``pay``.

    A technology says what a draw means: the claim it makes on the pool (:meth:`demand`) and
    the gross payoff it earns once granted (``pay``). Best-response rules and the efficiency
    metric ask it for best replies, Nash and optimum draws (:mod:`commons.sim.targets`).
    """

    role: ClassVar[str] = "technology"
    registered: ClassVar[bool] = False  # a base class, not in commons.plugins()
    phases: ClassVar[tuple[str, ...]] = ("appropriate", "pay")
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"appropriate": ("draws",),
                                                   "pay": ("granted", "draws")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"appropriate": ("demand",),
                                                    "pay": ("gross",)}

    def demand(self, st: State, ctx: Context) -> np.ndarray:
        """Claims on the pool implied by the intended draws (default: the draws themselves).

        Parameters
        ----------
        st : State
            The state; reads ``draws``; writes ``nothing``.
        ctx : Context
            The run's context (bound values in ``ctx.params[self]``).

        Returns
        -------
        ndarray, shape (R, N)
            The claims, in resource units.
        """
        return st.draws

    def appropriate(self, st: State, ctx: Context) -> None:
        """The appropriate phase: set ``st.demand`` from the intended draws (:meth:`demand`).

        Parameters
        ----------
        st : State
            The state; reads ``draws``; writes ``demand``.
        ctx : Context
            The run's context (bound values in ``ctx.params[self]``).
        """
        st.demand = self.demand(st, ctx)

    def pay(self, st: State, ctx: Context) -> None:
        """The pay phase: set ``st.gross`` from the granted draws.

        Parameters
        ----------
        st : State
            The state; reads ``granted``; writes ``gross``.
        ctx : Context
            The run's context (bound values in ``ctx.params[self]``).
        """
        raise NotImplementedError

    #: The class of the technology's bound values as compiled code takes them (a module-level
    #: named tuple), or None when it has no compiled form; compiled best replies are
    #: registered per class (:data:`commons.sim.replies.best_reply`).
    values_class: ClassVar[type | None] = None

    def values(self, ctx: Context) -> Any:
        """The bound parameters, as a read-only named tuple (the public view).

        Parameters
        ----------
        ctx : Context
            The run's context.

        Returns
        -------
        NamedTuple
            ``ctx.params[self]``.
        """
        return ctx.params[self]

    def compiled_form(self, phase: str) -> Any:
        # the compiled claims are the draws themselves: not for a technology with its own demand
        if phase == "appropriate" and type(self).demand is not Technology.demand \
                and "appropriate" not in type(self).__dict__.get("_compiled_forms", {}):
            return None
        return super().compiled_form(phase)

    def compiled_values(self, ctx: Context) -> Any:
        """The values compiled forms receive as TP (an empty tuple if none).

        Parameters
        ----------
        ctx : Context
            The run's context.

        Returns
        -------
        tuple
            An instance of ``values_class``, or ``()``.
        """
        return self.values(ctx) if self.values_class is not None else ()

    def baseline(self, ctx: Context) -> np.ndarray:
        """Payoff an organisation gets without the commons (outside option), shape (R, N).

        The rent recorded each round is the payoff above this baseline.

        Parameters
        ----------
        ctx : Context
            The run's context.

        Returns
        -------
        ndarray, shape (R, N)
            The baseline payoff per round (0 by default; w e_i for a stage game).
        """
        return np.zeros((ctx.R, ctx.N))


class ConcaveValues(NamedTuple):
    """Bound parameters of :class:`PrivateConcave`: a (R, N); beta, c, gamma (R,); and n (R,),
    compiled code's need of the round, (1 + gamma)**t, set by ``prepare_replies`` before a
    rule's best replies (once a round, not once a reviser)."""

    a: np.ndarray
    beta: np.ndarray
    c: np.ndarray
    gamma: np.ndarray
    n: np.ndarray

    def need(self, t) -> np.ndarray:
        """Need n_t = (1 + gamma)**t, shape (R,) by repeated squaring (the compiled path's
        products, in the same order), or (R, T) for an array of rounds."""
        t = np.asarray(t)
        if t.ndim:  # the rent benchmark over all rounds (not a round's payoffs)
            return ew.power(1.0 + self.gamma[:, None], t[None, :])
        return ew.ipow(1.0 + self.gamma, int(t))


class PrivateConcave(Technology):
    r"""Private concave returns from the granted draw, a cost per unit claimed.

    gross_i = a_i n_t**(1 - beta) h_i**beta - c x_i, with need n_t = (1 + gamma)**t growing at
    rate ``need_growth`` so that the unconstrained best draw (a_i beta / c)**(1/(1 - beta)) n_t
    grows with it. This is the payoff of the CPR-v1 benchmark model.

    Parameters
    ----------
    productivity : float, (N,), (R, N) array or Uniform
        a_i > 0, money per unit**beta.
    elasticity : float or (R,)
        beta in (0, 1).
    cost : float or (R,)
        c > 0, money per unit claimed.
    need_growth : float or (R,)
        gamma >= 0 per round.
    """

    values_class: ClassVar[type | None] = ConcaveValues

    def __init__(self, productivity: Any, elasticity: Any, cost: Any, *,
                 need_growth: Any = 0.0) -> None:
        self.productivity = productivity
        self.elasticity = elasticity
        self.cost = cost
        self.need_growth = need_growth

    def bind(self, ctx: Context) -> ConcaveValues:
        R, N = ctx.R, ctx.N
        return ConcaveValues(
            a=per_org("productivity", self.productivity, R, N,
                      uniforms=ctx.setup_uniforms(self)[:, :, 0], low=0.0, low_open=True),
            beta=per_replicate("elasticity", self.elasticity, R, low=0.0, high=1.0,
                               low_open=True, high_open=True),
            c=per_replicate("cost", self.cost, R, low=0.0, low_open=True),
            gamma=per_replicate("need_growth", self.need_growth, R, low=0.0),
            n=np.ones(R))

    def pay(self, st: State, ctx: Context) -> None:
        """The pay phase: gross_i = a_i n_t**(1 - beta) h_i**beta - c x_i.

        Parameters
        ----------
        st : State
            The state; reads ``granted``, ``draws``; writes ``gross``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        beta = P.beta[:, None]
        scale = ew.power(P.need(st.t), 1.0 - P.beta)[:, None]
        st.gross = P.a * scale * ew.power(st.granted, beta) - P.c[:, None] * st.draws


class GameValues(NamedTuple):
    """Bound parameters of :class:`StageGame`: the game and endowments e (R, N)."""

    game: CPRGame
    e: np.ndarray


class QuadraticGameValues(NamedTuple):
    """A stage game with F(X) = a X - b X**2, as compiled code takes it: endowments e (R, N),
    a, b, the outside return w, N and the total endowment."""

    e: np.ndarray
    a: float
    b: float
    w: float
    n: int
    total: np.ndarray  # (R,) scratch: the group's capped draw, set once a round for replies
    supply: float = 0.0  # the sum of endowments


class CurveGameValues(NamedTuple):
    """A stage game with a power or exponential production, as compiled code takes it:
    endowments e (R, N), the production's ``kind`` (:data:`commons.sim._curves.POWER` or
    ``EXPONENTIAL``), scale A and shape s (alpha or k), the outside return w, N and the total
    endowment."""

    e: np.ndarray
    kind: int
    A: float
    s: float
    w: float
    n: int
    total: np.ndarray  # (R,) scratch: the group's capped draw, set once a round for replies
    supply: float


def _curve(production: Any) -> tuple[int, float, float] | None:
    """(kind, A, shape) of a power or exponential production, else None."""
    from ..exact.production import Exponential, Power
    if type(production) is Power:
        return _curves.POWER, float(production.A), float(production.alpha)
    if type(production) is Exponential:
        return _curves.EXPONENTIAL, float(production.A), float(production.k)
    return None


#: AP(X) of the stage game's production at X > 0, by the class of its compiled values.
game_average = TypeDispatch("game_average", "Average product of the stage game's production.")


@game_average.register(QuadraticGameValues)
@jitable
def _quadratic_average(TP, X):
    return TP.a - TP.b * X


@game_average.register(CurveGameValues)
@jitable
def _curve_average(TP, X):
    return _curves.average(TP.kind, TP.A, TP.s, X)


class StageGame(Technology):
    r"""The CPR stage game of :class:`commons.CPRGame`, repeated: F(X) shared by draws.

    gross_i = w (e_i - h_i) + (h_i / H) F(H), H the group's granted draw. Draws are capped by
    the game's endowments (Walker, Gardner & Ostrom 1990).

    Parameters
    ----------
    game : CPRGame
        The stage game; its n must equal the model's.
    """

    def __init__(self, game: CPRGame) -> None:
        if not isinstance(game, CPRGame):
            raise TypeError(f"game must be a commons.CPRGame, got {type(game).__name__}")
        self.game = game

    def params(self) -> dict[str, Any]:
        return {"game": self.game.params()}

    @property
    def values_class(self) -> type | None:  # type: ignore[override]
        """Compiled values exist for a quadratic production (the closed-form best reply) and
        for the power and exponential productions (a compiled bracketed root)."""
        from ..exact.production import Quadratic
        if isinstance(self.game.production, Quadratic):
            return QuadraticGameValues
        return CurveGameValues if _curve(self.game.production) is not None else None

    def compiled_values(self, ctx: Context) -> Any:
        kind = self.values_class
        if kind is None:
            return ()
        F, g = self.game.production, self.game
        e = np.ascontiguousarray(ctx.params[self].e, np.float64)
        if kind is QuadraticGameValues:
            return QuadraticGameValues(e, float(F.a), float(F.b), float(g.outside_return),
                                       int(g.n), np.zeros(ctx.R), float(g.total_endowment))
        return CurveGameValues(e, *_curve(F), float(g.outside_return), int(g.n),
                               np.zeros(ctx.R), float(g.total_endowment))

    def compiled_form(self, phase: str) -> Any:
        return super().compiled_form(phase) if self.values_class is not None else None

    def bind(self, ctx: Context) -> GameValues:
        if self.game.n != ctx.N:
            raise ValueError(f"the game has n = {self.game.n} organisations but the model has "
                             f"{ctx.N}")
        return GameValues(self.game, np.broadcast_to(self.game.endowment, (ctx.R, ctx.N)))

    def baseline(self, ctx: Context) -> np.ndarray:
        return np.broadcast_to(self.game.outside_return * self.game.endowment, (ctx.R, ctx.N))

    def pay(self, st: State, ctx: Context) -> None:
        r"""u_i = w e_i + x_i (AP(X) - w) for x_i > 0 (else w e_i), x = min(granted, e), with the
        group draw X added in organisation order.

        Parameters
        ----------
        st : State
            The state; reads ``granted``; writes ``gross``.
        ctx : Context
            The run's context (bound values in ``ctx.params[self]``).
        """
        g = self.game
        e = ctx.params[self].e
        x = np.minimum(st.granted, e)
        X = np.cumsum(x, axis=1)[:, -1:]
        curve = _curve(g.production)
        if curve is None:
            ap = g.production.average(np.where(X > 0, X, 1.0))
        else:  # the compiled path's scalar function, element by element
            ap = _curves.on_arrays("average", *curve, np.where(X > 0, X, 1.0))
        w = g.outside_return
        st.gross = w * e + np.where(x > 0, x * (ap - w), 0.0)


class FisheryValues(NamedTuple):
    """Bound parameters of :class:`Fishery`: price p, catchability q, cost c, each (R,)."""

    p: np.ndarray
    q: np.ndarray
    c: np.ndarray


class Fishery(Technology):
    r"""Fishing effort on a stock (Gordon 1954; Schaefer 1957).

    Draws are efforts E_i; claims on the stock are the catches q E_i S; gross_i = p h_i - c E_i.
    With a logistic stock the open-access stock is c / (p q) and the best sustainable rent is
    the Gordon–Schaefer MEY rent.

    Parameters
    ----------
    price : float or (R,)
        Price p > 0 per unit caught.
    catchability : float or (R,)
        q > 0: catch per unit of effort and of stock.
    cost : float or (R,)
        c >= 0 per unit of effort.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"appropriate": ("draws", "stock"),
                                                   "pay": ("granted", "draws")}
    values_class: ClassVar[type | None] = FisheryValues

    def __init__(self, price: Any, catchability: Any, cost: Any) -> None:
        self.price = price
        self.catchability = catchability
        self.cost = cost

    def bind(self, ctx: Context) -> FisheryValues:
        R = ctx.R
        return FisheryValues(
            p=per_replicate("price", self.price, R, low=0.0, low_open=True),
            q=per_replicate("catchability", self.catchability, R, low=0.0, low_open=True),
            c=per_replicate("cost", self.cost, R, low=0.0))

    def demand(self, st: State, ctx: Context) -> np.ndarray:
        """Catches q E_i S claimed on the stock by efforts E_i (Schaefer 1957).

        Parameters
        ----------
        st : State
            The state; reads ``draws`` (efforts) and ``stock``.
        ctx : Context
            The run's context.

        Returns
        -------
        ndarray, shape (R, N)
            The catches claimed, in stock units.
        """
        P = ctx.params[self]
        return P.q[:, None] * st.draws * st.stock[:, None]

    def pay(self, st: State, ctx: Context) -> None:
        """The pay phase: gross_i = p h_i - c E_i (Gordon 1954).

        Parameters
        ----------
        st : State
            The state; reads ``granted``, ``draws``; writes ``gross``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        st.gross = P.p[:, None] * st.granted - P.c[:, None] * st.draws


class LakeValues(NamedTuple):
    """Bound parameters of :class:`LakeDamage`: benefit alpha and damage d, each (R,)."""

    alpha: np.ndarray
    d: np.ndarray


class LakeDamage(Technology):
    r"""Releases into a shallow lake: benefit per unit released, damage from the phosphorus.

    gross_i = alpha h_i - d P**2, with P the lake's phosphorus at the start of the round (a
    discrete, linear-benefit version of the lake game of Mäler, Xepapadeas & de Zeeuw 2003).
    The myopic best reply is the largest release allowed: the pollution tragedy.

    Parameters
    ----------
    benefit : float or (R,)
        alpha >= 0, benefit per unit of phosphorus released.
    damage : float or (R,)
        d >= 0, damage per unit of P**2 each organisation suffers per round.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"appropriate": ("draws",),
                                                   "pay": ("granted", "stock")}
    values_class: ClassVar[type | None] = LakeValues

    def __init__(self, benefit: Any = 0.4, damage: Any = 1.0) -> None:
        self.benefit = benefit
        self.damage = damage

    def bind(self, ctx: Context) -> LakeValues:
        R = ctx.R
        return LakeValues(alpha=per_replicate("benefit", self.benefit, R, low=0.0),
                          d=per_replicate("damage", self.damage, R, low=0.0))

    def pay(self, st: State, ctx: Context) -> None:
        """The pay phase: gross_i = alpha h_i - d P**2, P the phosphorus at the start of the round.

        Parameters
        ----------
        st : State
            The state; reads ``granted``, ``stock``; writes ``gross``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        st.gross = P.alpha[:, None] * st.granted - P.d[:, None] * (st.stock**2)[:, None]


# ---------------------------------------------------------------------- compiled forms
@compiled(Technology, "appropriate", orgs=True)
@jitable
def _claims_are_draws(r, t, S, P, M, rng, net, TP, i0, i1):
    for i in range(i0, i1):
        S.demand[r, i] = S.draws[r, i]


@compiled(PrivateConcave, "pay", orgs=True)
@jitable
def _private_concave_pay(r, t, S, P, M, rng, net, TP, i0, i1):
    beta = TP.beta[r]
    scale = cpow(ipow(1.0 + TP.gamma[r], t), 1.0 - beta)
    c = TP.c[r]
    for i in range(i0, i1):
        S.gross[r, i] = TP.a[r, i] * scale * cpow(S.granted[r, i], beta) - c * S.draws[r, i]


@compiled(StageGame, "pay")
@jitable
def _stage_game_pay(r, t, S, P, M, rng, net, TP):
    N = S.granted.shape[1]
    X = 0.0
    for i in range(N):
        X += min(S.granted[r, i], TP.e[r, i])
    ap = game_average(TP, X if X > 0 else 1.0)
    for i in range(N):
        x = min(S.granted[r, i], TP.e[r, i])
        S.gross[r, i] = TP.w * TP.e[r, i] + (x * (ap - TP.w) if x > 0 else 0.0)


@compiled(Fishery, "appropriate", orgs=True)
@jitable
def _catches(r, t, S, P, M, rng, net, TP, i0, i1):
    for i in range(i0, i1):
        S.demand[r, i] = TP.q[r] * S.draws[r, i] * S.stock[r]


@compiled(Fishery, "pay", orgs=True)
@jitable
def _fishery_pay(r, t, S, P, M, rng, net, TP, i0, i1):
    for i in range(i0, i1):
        S.gross[r, i] = TP.p[r] * S.granted[r, i] - TP.c[r] * S.draws[r, i]


@compiled(LakeDamage, "pay", orgs=True)
@jitable
def _lake_damage_pay(r, t, S, P, M, rng, net, TP, i0, i1):
    damage = TP.d[r] * (S.stock[r] * S.stock[r])
    for i in range(i0, i1):
        S.gross[r, i] = TP.alpha[r] * S.granted[r, i] - damage
