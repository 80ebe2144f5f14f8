"""Technologies: how draws become claims on the pool and payoffs (the pay phase).

A technology turns intended draws x into claims d on the resource (``demand``), and granted
draws h into gross payoffs. It also knows each organisation's myopic best response to the
current state, given the quota in force and the expected fine per unit over it, which the
best-response decision rules use, and the group's best sustainable rent, which efficiency is
measured against.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..exact.equilibrium import nash_equilibrium, social_optimum
from ..exact.game import CPRGame
from . import _elementwise as ew
from ._params import per_org, per_replicate
from .plugin import Plugin

__all__ = ["Fishery", "LakeDamage", "PrivateConcave", "StageGame", "Technology"]


class Technology(Plugin):
    """Base class of payoff technologies."""

    phases: ClassVar[tuple[str, ...]] = ("pay",)

    def demand(self, st, ctx) -> np.ndarray:
        """Claims on the pool implied by the intended draws (default: the draws themselves)."""
        return st.draws

    def pay(self, st, ctx) -> None:
        """Set ``st.gross`` from granted draws."""
        raise NotImplementedError

    def best_response(self, st, ctx) -> np.ndarray:
        """Myopic best reply to the state, shape (R, N), before noise and the draw cap."""
        raise NotImplementedError(f"{type(self).__name__} has no best response")

    def evaluate(self, st, ctx, z: np.ndarray) -> np.ndarray:
        """Payoff of drawing z (R, N, G) against the others' current draws, minus the expected
        fine penalty_rate (z - q)+ (what a logit or grid learner compares)."""
        raise NotImplementedError(f"{type(self).__name__} cannot evaluate alternative draws")

    def nash_draws(self, ctx) -> np.ndarray:
        """Stage-game Nash draws, shape (R, N)."""
        raise NotImplementedError(f"{type(self).__name__} has no stage Nash equilibrium")

    def optimum_draws(self, ctx) -> np.ndarray:
        """Draws that give the group its best sustainable rent, shape (R, N)."""
        raise NotImplementedError(f"{type(self).__name__} has no social optimum")

    def max_rent(self, ctx) -> np.ndarray:
        """Best sustainable group rent per round, shape (R, T)."""
        raise NotImplementedError

    def baseline(self, ctx) -> np.ndarray:
        """Payoff an organisation gets without the commons (outside option), shape (R, N)."""
        return np.zeros((ctx.R, ctx.N))


def _piecewise_best(xs: np.ndarray, xss: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Best reply with an expected fine per unit above the quota q (CPR-v1, step 7).

    xs is the best draw without the fine and xss the best draw when every unit costs the fine
    too: if xs <= q the fine never bites (xs); else xss if it lies above q; else q.
    """
    return np.where(xs <= q, xs, np.where(xss >= q, xss, q))


def _concave_argmax(slope, lo, hi, args) -> np.ndarray:
    """Maximiser on [lo, hi] of a concave function with decreasing derivative ``slope``.

    lo if slope(lo) <= 0, hi if slope(hi) >= 0, else the root in between (Chandrupatla's
    bracketed root, ``scipy.optimize.elementwise.find_root``), elementwise.
    """
    from scipy.optimize import elementwise
    at_hi = slope(hi, *args)
    out = np.where(at_hi >= 0, hi, lo)
    inner = (slope(lo, *args) > 0) & (at_hi < 0) & (hi > lo)
    if np.any(inner):
        sub = tuple(a[inner] for a in args)
        out[inner] = elementwise.find_root(lambda z, *a: slope(z, *a), (lo[inner], hi[inner]),
                                           args=sub).x
    return out


def _expected_fine(st, z: np.ndarray) -> np.ndarray:
    """Expected charges for drawing z (R, N, G): fees on every unit, fines over the quota."""
    over = np.maximum(z - st.quota[..., None], 0.0)
    return st.unit_charge[..., None] * z + st.penalty_rate[..., None] * over


class PrivateConcave(Technology):
    r"""Private concave returns from the granted draw, a cost per unit claimed.

    gross_i = a_i n_t**(1 - beta) h_i**beta - c x_i, with need n_t = (1 + gamma)**t growing at
    rate ``need_growth`` so that the unconstrained best draw (a_i beta / c)**(1/(1 - beta)) n_t
    grows with it. This is the payoff of the CPR-v1 benchmark model.

    Parameters
    ----------
    productivity : float, (N,), (R, N) array or Uniform
        a_i > 0.
    elasticity : float or (R,)
        beta in (0, 1).
    cost : float or (R,)
        c > 0 per unit claimed.
    need_growth : float or (R,)
        gamma >= 0.

    Notes
    -----
    Best response with an expected fine f per unit over the quota q:
    xs = (a beta / c)**(1/(1-beta)) n_t; if xs <= q, xs; else
    xss = (a beta / (c + f))**(1/(1-beta)) n_t if xss >= q, else q.

    Best sustainable rent with total harvest H <= Y (the sustainable yield): split h_i
    proportional to a_i**(1/(1-beta)), so rent(H) = A H**beta - c H with
    A = (sum_i a_i**(1/(1-beta)))**(1-beta) n_t**(1-beta), maximised at
    H* = min(Y, (beta A / c)**(1/(1-beta))).
    """

    def __init__(self, productivity: Any, elasticity: Any, cost: Any, *,
                 need_growth: Any = 0.0) -> None:
        self.productivity = productivity
        self.elasticity = elasticity
        self.cost = cost
        self.need_growth = need_growth

    def bind(self, ctx) -> dict[str, Any]:
        R, N = ctx.R, ctx.N
        return {"a": per_org("productivity", self.productivity, R, N,
                             uniforms=ctx.setup_uniforms(self)[:, :, 0], low=0.0, low_open=True),
                "beta": per_replicate("elasticity", self.elasticity, R, low=0.0, high=1.0,
                                      low_open=True, high_open=True),
                "c": per_replicate("cost", self.cost, R, low=0.0, low_open=True),
                "gamma": per_replicate("need_growth", self.need_growth, R, low=0.0)}

    def _need(self, ctx, t) -> np.ndarray:
        return ew.power(1.0 + ctx.params[self]["gamma"], t)

    def pay(self, st, ctx) -> None:
        P = ctx.params[self]
        beta = P["beta"][:, None]
        scale = ew.power(self._need(ctx, st.t), 1.0 - P["beta"])[:, None]
        st.gross = P["a"] * scale * ew.power(st.granted, beta) - P["c"][:, None] * st.draws

    def _unconstrained(self, ctx, t, extra_cost=0.0) -> np.ndarray:
        P = ctx.params[self]
        beta = P["beta"][:, None]
        base = ew.power(P["a"] * beta / (P["c"][:, None] + extra_cost), 1.0 / (1.0 - beta))
        return base * self._need(ctx, t)[:, None]

    def best_response(self, st, ctx) -> np.ndarray:
        xs = self._unconstrained(ctx, st.t, st.unit_charge)
        if not np.any(st.penalty_rate > 0):
            return xs
        xss = self._unconstrained(ctx, st.t, st.unit_charge + st.penalty_rate)
        return _piecewise_best(xs, xss, st.quota)

    def evaluate(self, st, ctx, z: np.ndarray) -> np.ndarray:
        P = ctx.params[self]
        beta = P["beta"][:, None, None]
        scale = ew.power(self._need(ctx, st.t), 1.0 - P["beta"])[:, None, None]
        gross = P["a"][..., None] * scale * ew.power(z, beta) - P["c"][:, None, None] * z
        return gross - _expected_fine(st, z)

    def nash_draws(self, ctx) -> np.ndarray:
        return self._unconstrained(ctx, 0)

    def _rent_curve(self, ctx, t) -> tuple[np.ndarray, np.ndarray]:
        P = ctx.params[self]
        beta = P["beta"][:, None]
        w = P["a"] ** (1.0 / (1.0 - beta))
        A = w.sum(axis=1) ** (1.0 - P["beta"]) * self._need(ctx, t) ** (1.0 - P["beta"])
        return A, w / w.sum(axis=1, keepdims=True)

    def _best_total(self, ctx, A, yield_) -> np.ndarray:
        P = ctx.params[self]
        free = (P["beta"] * A / P["c"]) ** (1.0 / (1.0 - P["beta"]))
        return np.minimum(yield_, free)

    def optimum_draws(self, ctx) -> np.ndarray:
        A, split = self._rent_curve(ctx, 0)
        Y = np.asarray(ctx.resource.sustainable_yield(ctx), dtype=np.float64)
        Y = Y[:, 0] if Y.ndim == 2 else Y
        return self._best_total(ctx, A, Y)[:, None] * split

    def max_rent(self, ctx) -> np.ndarray:
        P = ctx.params[self]
        T = ctx.rounds
        t = np.arange(T)
        A = self._rent_curve(ctx, 0)[0][:, None] * (
            (1.0 + P["gamma"][:, None]) ** t[None, :]) ** (1.0 - P["beta"][:, None])
        Y = np.asarray(ctx.resource.sustainable_yield(ctx), dtype=np.float64)
        Y = np.broadcast_to(Y[:, None] if Y.ndim == 1 else Y, (ctx.R, T))
        beta = P["beta"][:, None]
        H = np.minimum(Y, (beta * A / P["c"][:, None]) ** (1.0 / (1.0 - beta)))
        return A * H**beta - P["c"][:, None] * H


class StageGame(Technology):
    r"""The CPR stage game of :class:`commons.CPRGame`, repeated: F(X) shared by draws.

    gross_i = w (e_i - h_i) + (h_i / H) F(H), H the group's granted draw. Draws are capped by
    the game's endowments. With a prosocial weight theta_i (the model's ``prosociality``) an
    organisation's best reply maximises (1 - theta_i) u_i + theta_i (1/N) sum_j u_j minus the
    expected fine on its draw over the quota, found as a bracketed root of the derivative.
    """

    def __init__(self, game: CPRGame) -> None:
        if not isinstance(game, CPRGame):
            raise TypeError(f"game must be a commons.CPRGame, got {type(game).__name__}")
        self.game = game

    def params(self) -> dict[str, Any]:
        return {"game": self.game.params()}

    def bind(self, ctx) -> dict[str, Any]:
        if self.game.n != ctx.N:
            raise ValueError(f"the game has n = {self.game.n} organisations but the model has "
                             f"{ctx.N}")
        return {"e": np.broadcast_to(self.game.endowment, (ctx.R, ctx.N))}

    def baseline(self, ctx) -> np.ndarray:
        return np.broadcast_to(self.game.outside_return * self.game.endowment, (ctx.R, ctx.N))

    def pay(self, st, ctx) -> None:
        st.gross = self.game.payoffs(np.minimum(st.granted, ctx.params[self]["e"]), check=False)

    def best_response(self, st, ctx) -> np.ndarray:
        g = self.game
        F, w = g.production, g.outside_return
        e = ctx.params[self]["e"]
        x = np.minimum(st.draws, e)
        Y = np.maximum(x.sum(axis=1, keepdims=True) - x, 0.0)
        theta = st.motivation
        N = ctx.N

        def slope(z, Y, theta, f):
            """d/dz [(1 - theta) u_i + theta mean_j u_j] - f: decreasing in z."""
            X = z + Y
            safe = np.where(X > 0, X, 1.0)
            group = np.where(X > 0, F.derivative(safe), F.derivative(0.0)) - w
            return (1 - theta) * g.marginal_payoff(z, Y) + theta / N * group - f

        q = np.minimum(st.quota, e)
        zero = np.zeros_like(x)
        # every unit pays the fee; above the quota each unit also costs the expected fine
        fee = st.unit_charge
        low = _concave_argmax(slope, zero, q, (Y, theta, fee))
        high = _concave_argmax(slope, q, e, (Y, theta, fee + st.penalty_rate))
        return np.where(low < q, low, high)

    def evaluate(self, st, ctx, z: np.ndarray) -> np.ndarray:
        g = self.game
        F, w = g.production, g.outside_return
        e = ctx.params[self]["e"][..., None]
        x = np.minimum(st.draws, ctx.params[self]["e"])
        Y = np.maximum(x.sum(axis=1, keepdims=True) - x, 0.0)[..., None]
        z = np.minimum(z, e)
        X = z + Y
        safe = np.where(X > 0, X, 1.0)
        own = w * (e - z) + np.where(z > 0, z * F.average(safe), 0.0)
        group = (w * (g.total_endowment - X) + np.where(X > 0, F.value(safe), 0.0)) / ctx.N
        theta = st.motivation[..., None]
        return (1 - theta) * own + theta * group - _expected_fine(st, z)

    def nash_draws(self, ctx) -> np.ndarray:
        return np.broadcast_to(nash_equilibrium(self.game).draws, (ctx.R, ctx.N)).copy()

    def optimum_draws(self, ctx) -> np.ndarray:
        return np.broadcast_to(social_optimum(self.game).draws, (ctx.R, ctx.N)).copy()

    def max_rent(self, ctx) -> np.ndarray:
        return np.full((ctx.R, ctx.rounds), social_optimum(self.game).rent)


class Fishery(Technology):
    r"""Fishing effort on a stock (Gordon 1954; Schaefer 1957).

    Draws are efforts E_i; claims on the stock are the catches q E_i S; gross_i = p h_i - c E_i.
    With a logistic stock the open-access stock is c / (p q) and the best sustainable rent is
    the Gordon–Schaefer MEY rent.
    """

    def __init__(self, price: Any, catchability: Any, cost: Any) -> None:
        self.price = price
        self.catchability = catchability
        self.cost = cost

    def bind(self, ctx) -> dict[str, Any]:
        R = ctx.R
        return {"p": per_replicate("price", self.price, R, low=0.0, low_open=True),
                "q": per_replicate("catchability", self.catchability, R, low=0.0,
                                   low_open=True),
                "c": per_replicate("cost", self.cost, R, low=0.0)}

    def demand(self, st, ctx) -> np.ndarray:
        P = ctx.params[self]
        return P["q"][:, None] * st.draws * st.stock[:, None]

    def pay(self, st, ctx) -> None:
        P = ctx.params[self]
        st.gross = P["p"][:, None] * st.granted - P["c"][:, None] * st.draws

    def evaluate(self, st, ctx, z: np.ndarray) -> np.ndarray:
        P = ctx.params[self]
        S = st.stock_start
        catch = P["q"][:, None, None] * z * S[:, None, None]
        return P["p"][:, None, None] * catch - P["c"][:, None, None] * z - _expected_fine(st, z)

    def best_response(self, st, ctx) -> np.ndarray:
        P = ctx.params[self]
        margin = (P["p"] * P["q"] * st.stock_start - P["c"])[:, None] - st.unit_charge
        return np.where(margin > 0, np.inf, 0.0)

    def max_rent(self, ctx) -> np.ndarray:
        from .resources import LogisticStock
        res = ctx.resource
        if not isinstance(res, LogisticStock):
            raise ValueError("Fishery needs a LogisticStock resource")
        R = ctx.params[res]
        P = ctx.params[self]
        s = P["c"] / (P["p"] * P["q"] * R["K"])
        X = R["K"] * (1 + s) / 2
        H = R["g"] * X * (1 - X / R["K"])
        E = H / (P["q"] * X)
        rent = P["p"] * H - P["c"] * E
        return np.broadcast_to(rent[:, None], (ctx.R, ctx.rounds))


class LakeDamage(Technology):
    r"""Releases into a shallow lake: benefit per unit released, damage from the phosphorus.

    gross_i = alpha h_i - d P**2, with P the lake's phosphorus at the start of the round (a
    discrete, linear-benefit version of the lake game of Mäler, Xepapadeas & de Zeeuw 2003).
    The myopic best reply is the largest release allowed: the pollution tragedy.
    """

    def __init__(self, benefit: Any = 0.4, damage: Any = 1.0) -> None:
        self.benefit = benefit
        self.damage = damage

    def bind(self, ctx) -> dict[str, Any]:
        R = ctx.R
        return {"alpha": per_replicate("benefit", self.benefit, R, low=0.0),
                "d": per_replicate("damage", self.damage, R, low=0.0)}

    def pay(self, st, ctx) -> None:
        P = ctx.params[self]
        st.gross = (P["alpha"][:, None] * st.granted
                    - P["d"][:, None] * (st.stock**2)[:, None])

    def evaluate(self, st, ctx, z: np.ndarray) -> np.ndarray:
        P = ctx.params[self]
        return P["alpha"][:, None, None] * z - _expected_fine(st, z)

    def best_response(self, st, ctx) -> np.ndarray:
        P = ctx.params[self]
        f = st.penalty_rate
        q = st.quota
        free = np.full((ctx.R, ctx.N), np.inf)
        gain = P["alpha"][:, None] - st.unit_charge
        return np.where(gain > f, free, np.where(gain > 0, np.minimum(free, q), 0.0))

    def max_rent(self, ctx) -> np.ndarray:
        P = ctx.params[self]
        load, level = ctx.resource.steady_loading()
        rent = (P["alpha"][:, None] * load[None, :]
                - ctx.N * P["d"][:, None] * level[None, :] ** 2)
        best = np.maximum(rent.max(axis=1), 0.0)
        return np.broadcast_to(best[:, None], (ctx.R, ctx.rounds))
