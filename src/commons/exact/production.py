"""Production functions F(X) of the group draw X, with their derivatives.

In the common-pool resource game of Walker, Gardner & Ostrom (1990) the group's output from a
total draw X is F(X), shared in proportion to draws: organisation i receives (x_i / X) F(X).
Everything the equilibrium solvers need about F lives here: the value, the first and second
derivatives, the average product AP(X) = F(X) / X (with its limit F'(0) at X = 0), and the
two levels where the marginal and the average product equal a given return w.

All methods are vectorised: X may be a scalar or any numpy array.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from .._validation import as_real

__all__ = ["Exponential", "Power", "Production", "Quadratic"]


class Production(ABC):
    r"""A production function F of the group draw, with F(0) = 0.

    Subclasses implement :meth:`value`, :meth:`derivative` and :meth:`second_derivative`.
    The solvers need F concave with a non-increasing equilibrium share function
    s(X) = (AP(X) - w) / (AP(X) - F'(X)); they check both numerically on the relevant
    interval before solving and raise ``ValueError`` when a custom production breaks them.
    """

    @abstractmethod
    def value(self, X: ArrayLike) -> np.ndarray:
        """F(X), the group's production.

        Parameters
        ----------
        X : array_like
            Group draws X >= 0, any shape.

        Returns
        -------
        ndarray
            F(X), same shape, in payoff units.
        """

    @abstractmethod
    def derivative(self, X: ArrayLike) -> np.ndarray:
        """F'(X), the marginal product.

        Parameters
        ----------
        X : array_like
            Group draws X >= 0, any shape.

        Returns
        -------
        ndarray
            F'(X), same shape, in payoff units per resource unit.
        """

    @abstractmethod
    def second_derivative(self, X: ArrayLike) -> np.ndarray:
        """F''(X), the curvature of production (<= 0 for the concave F the solvers need).

        Parameters
        ----------
        X : array_like
            Group draws X >= 0, any shape.

        Returns
        -------
        ndarray
            F''(X), same shape.
        """

    def average(self, X: ArrayLike) -> np.ndarray:
        """Average product AP(X) = F(X) / X, with AP(0) = F'(0) (its limit).

        Each organisation's return per unit drawn; open access drives it down to the outside
        return w (Gordon 1954).

        Parameters
        ----------
        X : array_like
            Group draws X >= 0, any shape.

        Returns
        -------
        ndarray
            AP(X), same shape, in payoff units per resource unit.
        """
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ap = self.value(X) / X
        return np.where(X > 0, ap, self.derivative(np.zeros_like(X)))

    def average_and_derivative(self, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(AP(X), F'(X)) together, for X > 0 (families override it to share work).

        Parameters
        ----------
        X : array_like
            Group draws X > 0, any shape.

        Returns
        -------
        average : ndarray
            AP(X) = F(X) / X.
        derivative : ndarray
            F'(X).
        """
        return self.average(X), self.derivative(X)

    def average_derivative(self, X: ArrayLike) -> np.ndarray:
        """AP'(X) = (F'(X) X - F(X)) / X**2 = (F'(X) - AP(X)) / X, for X > 0.

        Parameters
        ----------
        X : array_like
            Group draws X > 0, any shape.

        Returns
        -------
        ndarray
            AP'(X), same shape (<= 0 for concave F with F(0) = 0).
        """
        X = np.asarray(X, dtype=np.float64)
        return (self.derivative(X) - self.average(X)) / X

    def marginal_level(self, w: float) -> float:
        """The draw X* >= 0 where F'(X*) = w (0 if F'(0) <= w; ``inf`` if F' never falls to w).

        This is the social optimum of the unconstrained game (Gordon 1954; Walker, Gardner &
        Ostrom 1990, X* = (a - w) / (2b) for the quadratic).

        Parameters
        ----------
        w : float
            Outside return per unit, w >= 0.

        Returns
        -------
        float
            X*, in resource units.
        """
        return _decreasing_level(lambda x: float(self.derivative(x)) - w,
                                 float(self.derivative(0.0)) - w)

    def average_level(self, w: float) -> float:
        """The draw X0 >= 0 where AP(X0) = w: open access, rent fully dissipated (Gordon 1954).

        0 if AP(0) <= w; ``inf`` if the average product never falls to w.

        Parameters
        ----------
        w : float
            Outside return per unit, w >= 0.

        Returns
        -------
        float
            X0, in resource units ((a - w) / b for the quadratic).
        """
        return _decreasing_level(lambda x: float(self.average(x)) - w,
                                 float(self.average(0.0)) - w)

    def params(self) -> dict[str, Any]:
        """The parameters, for provenance records.

        Returns
        -------
        dict
            ``kind`` (the family's name) and the family's parameters.
        """
        return {"kind": type(self).__name__}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "kind")
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.params() == other.params()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.params().items())))


def _decreasing_level(g, g0: float) -> float:
    """Root of a decreasing scalar function g on [0, inf), given g(0) = g0."""
    if not g0 > 0:
        return 0.0
    hi = 1.0
    with np.errstate(over="ignore"):
        while g(hi) > 0:
            hi *= 2.0
            if hi > 1e300:
                return math.inf
    return brentq(g, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)


class Quadratic(Production):
    r"""Quadratic production F(X) = a X - b X**2 (Walker, Gardner & Ostrom 1990).

    Parameters
    ----------
    a : float
        Marginal product at X = 0, a > 0.
    b : float
        Curvature, b > 0 (strictly concave).

    Notes
    -----
    F'(X) = a - 2 b X, AP(X) = a - b X, so with outside return w the social optimum is
    X* = (a - w) / (2 b) and open access X0 = (a - w) / b. The laboratory game of Ostrom,
    Gardner & Walker (1994) uses a = 23, b = 0.25 with w = 5.
    """

    def __init__(self, a: float, b: float) -> None:
        self.a = as_real("a", a, low=0.0, low_open=True)
        self.b = as_real("b", b, low=0.0, low_open=True)

    def value(self, X: ArrayLike) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X * (self.a - self.b * X)

    def derivative(self, X: ArrayLike) -> np.ndarray:
        return self.a - 2.0 * self.b * np.asarray(X, dtype=np.float64)

    def second_derivative(self, X: ArrayLike) -> np.ndarray:
        return np.full(np.shape(X), -2.0 * self.b)

    def average(self, X: ArrayLike) -> np.ndarray:
        return self.a - self.b * np.asarray(X, dtype=np.float64)

    def average_derivative(self, X: ArrayLike) -> np.ndarray:
        return np.full(np.shape(X), -self.b)

    def marginal_level(self, w: float) -> float:
        return max(0.0, (self.a - w) / (2.0 * self.b))

    def average_level(self, w: float) -> float:
        return max(0.0, (self.a - w) / self.b)

    def params(self) -> dict[str, Any]:
        return {"kind": "Quadratic", "a": self.a, "b": self.b}


class Power(Production):
    r"""Power production F(X) = A X**alpha, 0 < alpha < 1 (a Cobb–Douglas commons).

    Parameters
    ----------
    A : float
        Scale, A > 0.
    alpha : float
        Elasticity of output with respect to the group draw, 0 < alpha < 1.

    Notes
    -----
    F'(X) = alpha A X**(alpha - 1), AP(X) = A X**(alpha - 1); with outside return w > 0,
    X* = (alpha A / w)**(1 / (1 - alpha)) and X0 = (A / w)**(1 / (1 - alpha)). The equilibrium
    share (AP - w) / (AP - F') = (1 - w X**(1-alpha) / A) / (1 - alpha) is decreasing in X.
    """

    def __init__(self, A: float, alpha: float) -> None:
        self.A = as_real("A", A, low=0.0, low_open=True)
        self.alpha = as_real("alpha", alpha, low=0.0, high=1.0, low_open=True, high_open=True)

    def value(self, X: ArrayLike) -> np.ndarray:
        return self.A * np.power(np.asarray(X, dtype=np.float64), self.alpha)

    def derivative(self, X: ArrayLike) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return self.alpha * self.A * np.power(X, self.alpha - 1.0)

    def second_derivative(self, X: ArrayLike) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return self.alpha * (self.alpha - 1.0) * self.A * np.power(X, self.alpha - 2.0)

    def average(self, X: ArrayLike) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return self.A * np.power(X, self.alpha - 1.0)

    def average_and_derivative(self, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        ap = self.average(X)
        return ap, self.alpha * ap

    def marginal_level(self, w: float) -> float:
        if w <= 0:
            return math.inf
        return (self.alpha * self.A / w) ** (1.0 / (1.0 - self.alpha))

    def average_level(self, w: float) -> float:
        if w <= 0:
            return math.inf
        return (self.A / w) ** (1.0 / (1.0 - self.alpha))

    def params(self) -> dict[str, Any]:
        return {"kind": "Power", "A": self.A, "alpha": self.alpha}


class Exponential(Production):
    r"""Saturating production F(X) = A (1 - exp(-k X)).

    Parameters
    ----------
    A : float
        The most the commons can ever yield, A > 0.
    k : float
        Rate of saturation, k > 0.

    Notes
    -----
    F'(X) = A k exp(-k X), so F'(0) = A k and X* = ln(A k / w) / k for w < A k. The open-access
    level AP(X0) = w has no closed form and is found by a bracketed scalar root.
    """

    def __init__(self, A: float, k: float) -> None:
        self.A = as_real("A", A, low=0.0, low_open=True)
        self.k = as_real("k", k, low=0.0, low_open=True)

    def value(self, X: ArrayLike) -> np.ndarray:
        return -self.A * np.expm1(-self.k * np.asarray(X, dtype=np.float64))

    def average(self, X: ArrayLike) -> np.ndarray:
        """AP(X) = -A expm1(-k X) / X, and A k (1 - k X / 2) for k X < 1e-8 (the series, exact
        to an ulp there, where k X may underflow for a subnormal X); AP(0) = A k.

        Parameters
        ----------
        X : array_like
            Group draws X >= 0, any shape.

        Returns
        -------
        ndarray
            AP(X), same shape, in payoff units per resource unit.
        """
        X = np.asarray(X, dtype=np.float64)
        u = self.k * X
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(u < 1e-8, self.A * self.k * (1.0 - 0.5 * u), self.value(X) / X)

    def derivative(self, X: ArrayLike) -> np.ndarray:
        return self.A * self.k * np.exp(-self.k * np.asarray(X, dtype=np.float64))

    def second_derivative(self, X: ArrayLike) -> np.ndarray:
        return -self.A * self.k**2 * np.exp(-self.k * np.asarray(X, dtype=np.float64))

    def marginal_level(self, w: float) -> float:
        if w >= self.A * self.k:
            return 0.0
        if w <= 0:
            return math.inf
        return math.log(self.A * self.k / w) / self.k

    def params(self) -> dict[str, Any]:
        return {"kind": "Exponential", "A": self.A, "k": self.k}
