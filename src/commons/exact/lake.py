"""Steady states of the shallow-lake game (Mäler, Xepapadeas & de Zeeuw 2003).

n communities load phosphorus a = sum_i a_i into a lake, dx/dt = a - b x + x**2 / (x**2 + 1);
community i maximises the discounted integral of ln a_i - c_i x**2. With g(x) = 2x / (1 + x**2)**2
the slope of the recycling term and a_lake(x) = b x - x**2 / (1 + x**2) the loading that holds
the lake at x, the steady states solve a_lake(x) = a(x) with

* cooperative (the sum of utilities): a(x) = (sum_k n_k)(rho + b - g(x)) / (2 x sum_k n_k c_k);
* open-loop Nash: a(x) = (rho + b - g(x)) / (2x) sum_k n_k / c_k,

groups k of n_k identical communities with damage weight c_k. In the symmetric case the Nash
loading is n times the cooperative one: the tragedy of the commons in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .._validation import as_real, check_array

__all__ = ["LakeSteadyState", "lake_steady_states"]


@dataclass(frozen=True)
class LakeSteadyState:
    """A steady state: phosphorus level x and total loading a."""

    x: float
    loading: float


def _lake_loading(x, b):
    return b * x - x**2 / (1 + x**2)


def lake_steady_states(b: float, rho: float, n: np.ndarray | list, c: np.ndarray | list, *,
                       concept: str = "nash", upper: float = 10.0, points: int = 20001
                       ) -> list[LakeSteadyState]:
    """All steady states on (0, ``upper``), found by bracketing sign changes and Brent's method.

    Parameters
    ----------
    b, rho : float
        Loss rate b > 0 and discount rate rho >= 0.
    n, c : sequences
        Group sizes n_k >= 1 and damage weights c_k > 0.
    concept : {"nash", "cooperative"}
    """
    b = as_real("b", b, low=0.0, low_open=True)
    rho = as_real("rho", rho, low=0.0)
    n = check_array("n", n, low=1.0)
    c = check_array("c", c, low=0.0, low_open=True)
    if n.shape != c.shape or n.ndim != 1:
        raise ValueError("n and c must be sequences of the same length (one entry per group)")
    if concept == "nash":
        factor = float((n / c).sum())
    elif concept == "cooperative":
        factor = float(n.sum() / (n * c).sum())
    else:
        raise ValueError(f"concept must be 'nash' or 'cooperative', got {concept!r}")

    def gap(x):
        g = 2 * x / (1 + x**2) ** 2
        return _lake_loading(x, b) - (rho + b - g) / (2 * x) * factor

    x = np.linspace(upper / points, upper, points)
    f = gap(x)
    roots = []
    for i in np.flatnonzero(np.sign(f[:-1]) * np.sign(f[1:]) < 0):
        r = brentq(gap, x[i], x[i + 1], xtol=1e-14)
        roots.append(LakeSteadyState(float(r), float(_lake_loading(r, b))))
    return roots
