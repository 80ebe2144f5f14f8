"""The common-pool resource stage game, vectorised over profiles.

Walker, Gardner & Ostrom (1990); Ostrom, Gardner & Walker (1994, ch. 5): n organisations,
organisation i holds an endowment e_i and draws x_i in [0, e_i] from the commons; what it does
not draw earns the outside return w per unit. The group's draw X = sum_j x_j produces F(X),
shared in proportion to draws:

    u_i(x) = w (e_i - x_i) + (x_i / X) F(X)  =  w e_i + x_i (AP(X) - w),

with AP(X) = F(X) / X the average product. Payoff evaluations take draws of shape (..., n) so
that many profiles evaluate in one call.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import elementwise

from .._validation import as_real, check_array, check_integer
from .production import Production, Quadratic

__all__ = ["CPRGame"]

_FEASIBILITY_RTOL = 1e-12


class CPRGame:
    r"""The n-organisation common-pool resource game.

    Parameters
    ----------
    n : int
        Number of organisations, n >= 1.
    production : Production
        Group production F(X) (e.g. :class:`commons.Quadratic`, :class:`commons.Power`).
    outside_return : float
        Return w >= 0 per unit not drawn (Market 1 in the laboratory game).
    endowment : float or array of shape (n,)
        Endowments e_i >= 0, the cap on each organisation's draw.

    Notes
    -----
    Payoff: u_i = w (e_i - x_i) + (x_i / X) F(X) (Walker, Gardner & Ostrom 1990). The
    marginal payoff of organisation i, given the others' total Y, is

        du_i/dx_i = (Y / X) AP(X) + (x_i / X) F'(X) - w,

    which is decreasing in x_i for concave F, so each best response is unique.

    Examples
    --------
    >>> import commons
    >>> game = commons.CPRGame(8, commons.Quadratic(23, 0.25), 5, 25)
    >>> float(game.payoffs([8.0] * 8)[0])   # everyone at the Nash draw: 5*25 + 16
    141.0
    """

    def __init__(self, n: int, production: Production, outside_return: float,
                 endowment: ArrayLike) -> None:
        self.n = check_integer("n", n, low=1)
        if not isinstance(production, Production):
            raise TypeError("production must be a commons.Production (e.g. commons.Quadratic), "
                            f"got {type(production).__name__}")
        self.production = production
        self.outside_return = as_real("outside_return", outside_return, low=0.0)
        self.endowment = check_array("endowment", endowment, shape=(self.n,), low=0.0)

    # ------------------------------------------------------------------ basics
    @property
    def w(self) -> float:
        """Alias of :attr:`outside_return`."""
        return self.outside_return

    @property
    def total_endowment(self) -> float:
        """Sum of endowments, the largest feasible group draw."""
        return float(self.endowment.sum())

    @property
    def is_symmetric(self) -> bool:
        """True when all endowments are equal."""
        return bool(np.all(self.endowment == self.endowment[0]))

    def params(self) -> dict[str, Any]:
        """Parameters for provenance records (endowments summarised when n is large).

        Returns
        -------
        dict
            ``n``, ``production`` (its own params), ``outside_return`` and ``endowment`` (a
            list, or its count, min, max and sum when n > 64).
        """
        e = self.endowment
        endowment: Any = e.tolist() if self.n <= 64 else {
            "n": self.n, "min": float(e.min()), "max": float(e.max()), "sum": float(e.sum())}
        return {"n": self.n, "production": self.production.params(),
                "outside_return": self.outside_return, "endowment": endowment}

    def __repr__(self) -> str:
        e = self.endowment
        end = f"{e[0]:g}" if self.is_symmetric else f"array(n={self.n})"
        return (f"CPRGame(n={self.n}, production={self.production!r}, "
                f"outside_return={self.outside_return:g}, endowment={end})")

    # ------------------------------------------------------------------ payoffs
    def check_draws(self, draws: ArrayLike) -> np.ndarray:
        """Return draws as a float array of shape (..., n), checked feasible: 0 <= x_i <= e_i.

        Parameters
        ----------
        draws : array_like, shape (..., n)
            Draws x_i, in resource units (tokens in the laboratory game).

        Returns
        -------
        ndarray, shape (..., n)
            The draws as float64.

        Raises
        ------
        ValueError
            Draws of the wrong shape, non-finite, negative, or above the endowments (beyond a
            relative rounding slack of 1e-12).
        """
        x = np.asarray(draws, dtype=np.float64)
        if x.ndim == 0 or x.shape[-1] != self.n:
            raise ValueError(f"draws must have shape (..., {self.n}), got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("draws must be finite")
        if np.any(x < 0):
            raise ValueError(f"draws must be >= 0, found {float(x.min())!r}")
        slack = self.endowment * (1 + _FEASIBILITY_RTOL) + _FEASIBILITY_RTOL
        if np.any(x > slack):
            raise ValueError("draws must not exceed the endowments (x_i <= e_i)")
        return x

    def group_production(self, total: ArrayLike) -> np.ndarray:
        """F(X) for group draws X.

        Parameters
        ----------
        total : array_like
            Group draws X >= 0, any shape.

        Returns
        -------
        ndarray
            The group's production F(X), same shape.
        """
        return self.production.value(total)

    def rent(self, total: ArrayLike) -> np.ndarray:
        """Group rent F(X) - w X: what the commons earns above the outside option.

        The rent is maximal where F'(X) = w (the social optimum) and zero where the average
        product equals w (open access, Gordon 1954).

        Parameters
        ----------
        total : array_like
            Group draws X >= 0, any shape.

        Returns
        -------
        ndarray
            F(X) - w X, same shape, in payoff units.
        """
        X = np.asarray(total, dtype=np.float64)
        return self.production.value(X) - self.outside_return * X

    def excess_payoffs(self, draws: ArrayLike, *, check: bool = True) -> np.ndarray:
        """Payoffs above the endowment's outside value: u_i - w e_i = x_i (AP(X) - w).

        Parameters
        ----------
        draws : array_like, shape (..., n)
            Draw profiles.
        check : bool
            Check the draws' shape and feasibility (:meth:`check_draws`).

        Returns
        -------
        ndarray, shape (..., n)
            x_i (F(X)/X - w), 0 for organisations that draw nothing.
        """
        x = self.check_draws(draws) if check else np.asarray(draws, dtype=np.float64)
        X = x.sum(axis=-1, keepdims=True)
        ap = self.production.average(np.where(X > 0, X, 1.0))
        return np.where(x > 0, x * (ap - self.outside_return), 0.0)

    def payoffs(self, draws: ArrayLike, *, check: bool = True) -> np.ndarray:
        r"""Payoffs u_i = w (e_i - x_i) + (x_i / X) F(X) for draws of shape (..., n).

        Walker, Gardner & Ostrom (1990): the outside option pays w per unit not drawn; the
        commons' output is shared in proportion to draws.

        Parameters
        ----------
        draws : array_like, shape (..., n)
            Draw profiles, in resource units; many profiles evaluate in one call.
        check : bool
            Check the draws' shape and feasibility (:meth:`check_draws`).

        Returns
        -------
        ndarray, shape (..., n)
            Each organisation's payoff in each profile.
        """
        return self.outside_return * self.endowment + self.excess_payoffs(draws, check=check)

    # ------------------------------------------------------------------ deviations
    def marginal_payoff(self, own: ArrayLike, others: ArrayLike) -> np.ndarray:
        r"""du_i/dx_i = (Y/X) AP(X) + (x_i/X) F'(X) - w at own draw x_i and others' total Y.

        At X = 0 the limit F'(0) - w is returned.

        Parameters
        ----------
        own : array_like
            Own draws x_i >= 0.
        others : array_like
            The others' total draw Y_i >= 0, broadcastable with ``own``.

        Returns
        -------
        ndarray
            The marginal payoff, in payoff units per resource unit.
        """
        x = np.asarray(own, dtype=np.float64)
        Y = np.asarray(others, dtype=np.float64)
        X = x + Y
        F = self.production
        safe = np.where(X > 0, X, 1.0)
        ap, fp = F.average_and_derivative(safe)
        with np.errstate(invalid="ignore"):
            m = (Y * ap + x * fp) / safe
        return np.where(X > 0, m, F.derivative(np.zeros_like(X))) - self.outside_return

    def best_response(self, draws: ArrayLike) -> np.ndarray:
        r"""Each organisation's best reply to the others' draws in ``draws`` (shape (..., n)).

        The reply solves the first-order condition du_i/dx_i = 0 on [0, e_i], independently
        for each organisation: in closed form x_i = clip((a - w - b Y_i) / (2 b), 0, e_i) for
        :class:`Quadratic`, otherwise by a vectorised bracketed root (Chandrupatla, via
        ``scipy.optimize.elementwise.find_root``) of the decreasing marginal payoff.

        Parameters
        ----------
        draws : array_like, shape (..., n)
            Draw profiles; organisation i's reply depends on the others' total Y_i only.

        Returns
        -------
        ndarray, shape (..., n)
            The best replies ``BR_i(x_-i)`` in [0, e_i], for every organisation and profile.
        """
        x = self.check_draws(draws)
        Y = np.maximum(x.sum(axis=-1, keepdims=True) - x, 0.0)
        e = np.broadcast_to(self.endowment, x.shape)
        F = self.production
        if isinstance(F, Quadratic):
            return np.clip((F.a - self.outside_return - F.b * Y) / (2 * F.b), 0.0, e)
        out = np.zeros_like(x)
        m0 = self.marginal_payoff(np.zeros_like(x), Y)
        me = self.marginal_payoff(e, Y)
        capped = me >= 0
        out[capped] = e[capped]
        inner = (m0 > 0) & ~capped
        if np.any(inner):
            out[inner] = self._interior_reply(Y[inner], e[inner])
        return out

    def _interior_reply(self, Y: np.ndarray, e: np.ndarray) -> np.ndarray:
        """Root of the marginal payoff in (0, e) given others' total Y (both 1-d).

        The root depends on Y alone (e only bounds the bracket), so organisations facing the
        same Y share one root search: in an equilibrium all uncapped organisations do.
        """
        uniq, inv = np.unique(Y, return_inverse=True)
        hi = np.zeros(uniq.size)
        np.maximum.at(hi, inv, e)
        res = elementwise.find_root(lambda z, y: self.marginal_payoff(z, y),
                                    (np.zeros_like(hi), hi), args=(uniq,))
        return res.x[inv]

    def deviation_gains(self, draws: ArrayLike) -> np.ndarray:
        r"""Gain each organisation gets from its best unilateral deviation, shape (..., n).

        :math:`g_i = u_i(BR_i(x_{-i}), x_{-i}) - u_i(x) \ge 0` up to rounding.

        Parameters
        ----------
        draws : array_like, shape (..., n)
            Draw profiles.

        Returns
        -------
        ndarray, shape (..., n)
            Each organisation's gain from its best unilateral deviation, in payoff units.
        """
        x = self.check_draws(draws)
        br = self.best_response(x)
        Y = np.maximum(x.sum(axis=-1, keepdims=True) - x, 0.0)
        return _own_excess(self, br, Y) - _own_excess(self, x, Y)

    def regret(self, draws: ArrayLike) -> np.ndarray | float:
        """The largest gain any organisation gets from a unilateral deviation (>= 0).

        A profile is an epsilon-Nash equilibrium iff its regret is at most epsilon (Radner
        1980); every equilibrium the exact layer returns reports it.

        Parameters
        ----------
        draws : array_like, shape (..., n)
            Draw profiles.

        Returns
        -------
        float or ndarray, shape (...)
            max_i of :meth:`deviation_gains`, clipped at 0; a float for one profile.
        """
        r = np.maximum(self.deviation_gains(draws).max(axis=-1), 0.0)
        return float(r) if r.ndim == 0 else r


def _own_excess(game: CPRGame, own: np.ndarray, others: np.ndarray) -> np.ndarray:
    """x (AP(x + Y) - w) elementwise, 0 where x = 0."""
    X = own + others
    ap = game.production.average(np.where(X > 0, X, 1.0))
    return np.where(own > 0, own * (ap - game.outside_return), 0.0)
