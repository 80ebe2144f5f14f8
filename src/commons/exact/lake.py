"""The shallow lake: its critical phosphorus level and the steady states of the lake game.

**The threshold** (Carpenter, Ludwig & Brock 1999). Without loading, phosphorus P follows
P_{t+1} = (1 - b) P_t + P_t**q / (1 + P_t**q): a loss b P and sediment recycling with Hill
exponent q > 1. Its steady states are P = 0 and the crossings of the recycling curve
x**q / (1 + x**q) with the loss line b x. Dividing by x, a crossing solves
h(x) = x**(q-1) / (1 + x**q) = b, and h rises from 0 to its single peak
b_c(q) = (q - 1)**((q-1)/q) / q at x_m = (q - 1)**(1/q), then falls back to 0. Hence:

* b < b_c: two crossings x_1 < x_m < x_2. Recycling beats loss between them, so P = 0 and x_2
  are stable and x_1 is unstable: x_1 is the upper edge of the clean (oligotrophic) basin, and
  a lake pushed past it turns eutrophic and stays so when loading stops (irreversible);
* b = b_c: the two meet at x_m (a tangency);
* b > b_c: no crossing; P = 0 is the only steady state of the unloaded lake, which therefore
  recovers once loading stops (reversible; Mäler, Xepapadeas & de Zeeuw 2003).

For q = 2: b_c = 1/2 and x_{1,2} = (1 -+ sqrt(1 - 4 b**2)) / (2b).

**The lake game** (Mäler, Xepapadeas & de Zeeuw 2003). n communities load phosphorus
a = sum_i a_i into a lake, dx/dt = a - b x + x**2 / (x**2 + 1); community i maximises the
discounted integral of ln a_i - c_i x**2. With g(x) = 2x / (1 + x**2)**2 the slope of the
recycling term and a_lake(x) = b x - x**2 / (1 + x**2) the loading that holds the lake at x, the
steady states solve a_lake(x) = a(x) with

* cooperative (the sum of utilities): a(x) = (sum_k n_k)(rho + b - g(x)) / (2 x sum_k n_k c_k);
* open-loop Nash: a(x) = (rho + b - g(x)) / (2x) sum_k n_k / c_k,

groups k of n_k identical communities with damage weight c_k. In the symmetric case the Nash
loading is n times the cooperative one: the tragedy of the commons in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .._validation import as_real, check_array

__all__ = ["LakeSteadyState", "critical_loss", "lake_crossings", "lake_steady_states",
           "lake_threshold"]


def _check_lake(loss, recycling) -> tuple[float, float]:
    b = as_real("loss", loss, low=0.0, low_open=True)
    q = as_real("recycling", recycling, low=1.0, low_open=True)
    return b, q


def critical_loss(recycling: float) -> float:
    r"""The largest loss rate at which the unloaded lake still has a threshold.

    .. math:: b_c(q) = \max_{x > 0} \frac{x^{q-1}}{1 + x^q} = \frac{(q-1)^{(q-1)/q}}{q},

    reached at x_m = (q - 1)^{1/q}. For loss b <= b_c the recycling curve crosses the loss line
    (the lake is irreversible, :func:`lake_threshold` is finite); for b > b_c it does not (the
    lake is reversible). b_c = 1/2 for q = 2 and b_c -> 1 as q -> infinity.

    Parameters
    ----------
    recycling : float
        Recycling (Hill) exponent q > 1.

    Returns
    -------
    float
        The critical loss rate b_c(q), per unit time.
    """
    q = as_real("recycling", recycling, low=1.0, low_open=True)
    return math.exp((q - 1.0) / q * math.log(q - 1.0)) / q


def lake_crossings(loss: float, recycling: float) -> tuple[float, ...]:
    r"""Every positive steady state of the unloaded lake, in increasing order.

    The crossings x > 0 of the recycling curve with the loss line (Carpenter et al. 1999),

    .. math:: \frac{x^q}{1 + x^q} = b x
              \iff \varphi(t) = (q - 1) t - \ln(1 + e^{q t}) - \ln b = 0, \quad t = \ln x.

    phi rises to its single peak at t_m = ln(q - 1) / q and falls on either side, so there are
    two crossings when phi(t_m) > 0, one (a tangency, x_m) when phi(t_m) = 0 and none when
    phi(t_m) < 0 (loss above :func:`critical_loss`). Each is found by Brent's method on a
    bracket that is exact: phi(t) <= (q - 1) t - ln b and phi(t) < -t - ln b, so
    t = ln(b) / (q - 1) - 1 lies below the lower root and t = 1 - ln b above the upper one.
    Working in t = ln x keeps full relative precision for tiny x_1 (q near 1); an x_1 below
    the smallest positive float is returned as 0.0.

    Parameters
    ----------
    loss : float
        Loss rate b > 0.
    recycling : float
        Recycling (Hill) exponent q > 1.

    Returns
    -------
    tuple of float
        ``()`` (reversible lake), ``(x_m,)`` (tangency) or ``(x_1, x_2)``.
    """
    b, q = _check_lake(loss, recycling)
    log_b = math.log(b)

    def phi(t: float) -> float:
        return (q - 1.0) * t - float(np.logaddexp(0.0, q * t)) - log_b

    t_peak = math.log(q - 1.0) / q
    peak = phi(t_peak)
    if peak < 0.0:
        return ()
    if peak == 0.0:
        return (math.exp(t_peak),)
    lo = brentq(phi, log_b / (q - 1.0) - 1.0, t_peak, xtol=1e-15, rtol=1e-15)
    hi = brentq(phi, t_peak, 1.0 - log_b, xtol=1e-15, rtol=1e-15)
    return (math.exp(lo), math.exp(hi))


def lake_threshold(loss: float, recycling: float) -> float:
    r"""Critical phosphorus level of the unloaded lake (Carpenter, Ludwig & Brock 1999).

    The lower positive crossing x_1 of the recycling curve with the loss line,
    x**q / (1 + x**q) = b x (see :func:`lake_crossings`): the unstable steady state of
    P_{t+1} = (1 - b) P_t + P_t**q / (1 + P_t**q), which is the upper edge of the basin of the
    clean state P = 0. Below x_1 the unloaded lake returns to 0; above it, it runs to the
    eutrophic state x_2 (for b <= 1 the map is increasing, so no step jumps across x_1). At a
    tangency (loss equal to :func:`critical_loss`) it is the double root x_m.

    For q = 2 this is the smaller root of b x**2 - x + b = 0: 0.5445 for b = 0.42 and
    0.714412 for b = 0.473 (whose other root, the eutrophic state, is 1.3998).

    Parameters
    ----------
    loss : float
        Loss rate b > 0.
    recycling : float
        Recycling (Hill) exponent q > 1.

    Returns
    -------
    float
        x_1, or ``math.inf`` when there is no crossing (loss above :func:`critical_loss`): the
        lake is reversible and has no critical level. Callers that need a finite threshold
        (such as :class:`commons.LakeStock`) must refuse that case.
    """
    crossings = lake_crossings(loss, recycling)
    return crossings[0] if crossings else math.inf


@dataclass(frozen=True)
class LakeSteadyState:
    """A feasible steady state of the lake game.

    Attributes
    ----------
    x : float
        Phosphorus level, > 0.
    loading : float
        Total loading a = a_lake(x) > 0.
    per_community : tuple of float
        Loading a_k > 0 of one community of each group k (sum_k n_k a_k = loading).
    """

    x: float
    loading: float
    per_community: tuple[float, ...] = ()


def _lake_loading(x, b):
    return b * x - x**2 / (1 + x**2)


def _recycling_slope(x):
    return 2 * x / (1 + x**2) ** 2


def _polish(poly: np.polynomial.Polynomial, z: complex) -> float:
    """A real root of ``poly`` near the eigenvalue estimate ``z`` (Brent's method when the sign
    changes across a small bracket, else the estimate itself: a double root)."""
    x = float(z.real)
    for rel in (1e-12, 1e-9, 1e-6):
        lo, hi = x * (1 - rel), x * (1 + rel)
        if poly(lo) * poly(hi) < 0:
            return float(brentq(poly, lo, hi, xtol=1e-15 * x, rtol=1e-15))
    return x


def lake_steady_states(b: float, rho: float, n: np.ndarray | list, c: np.ndarray | list, *,
                       concept: str = "nash") -> list[LakeSteadyState]:
    r"""Every feasible steady state of the lake game (Mäler, Xepapadeas & de Zeeuw 2003).

    With F = sum_k n_k / c_k (open-loop Nash) or F = (sum_k n_k) / (sum_k n_k c_k)
    (cooperative), a steady state is an x > 0 with a_lake(x) = (rho + b - g(x)) F / (2x). The
    maximum principle gives each community's loading from its costate, a_k = -1 / lambda_k with
    lambda_k = -2 c_k x / (rho + b - g(x)) (Nash; cooperative: one costate with
    c_k -> sum_k n_k c_k), so a steady state is **feasible** (ln a_k defined) only on the branch

    .. math:: \rho + b - g(x) > 0 \iff a_k > 0 \text{ for all } k
              \iff a_{\text{lake}}(x) > 0.

    Crossings with rho + b - g(x) < 0 carry negative loadings and are not steady states of the
    game; they are discarded. Multiplying by 2x (1 + x**2)**2, the crossings are the positive
    real roots of the sextic

    .. math:: 2x^2 (1 + x^2)(b x^2 - x + b) - F\,[(\rho + b)(1 + x^2)^2 - 2x] = 0,

    all found at once (companion-matrix eigenvalues, each refined by Brent's method), so no
    search interval can miss one. For b > 0 and rho >= 0 at least one feasible state exists:
    the gap a_lake - a runs from -infinity at x -> 0 to +infinity; if it is negative at the
    last x where rho + b - g(x) turns positive, it crosses zero beyond that x, on the feasible
    branch; otherwise that x lies below the unloaded threshold, where a_lake > 0, and the gap
    crosses zero before the first x where rho + b = g(x). An empty list would mean there is
    none.

    Parameters
    ----------
    b, rho : float
        Loss rate b > 0 and discount rate rho >= 0.
    n, c : sequences
        Group sizes n_k >= 1 and damage weights c_k > 0.
    concept : {"nash", "cooperative"}

    Returns
    -------
    list of LakeSteadyState
        In increasing x. Example: b = 0.6, rho = 0.03, n = (2, 2), c = (0.2, 2) has one
        cooperative state, x = 0.3472, and three Nash states, x = 0.4485, 0.7402, 3.1832.
    """
    b = as_real("b", b, low=0.0, low_open=True)
    rho = as_real("rho", rho, low=0.0)
    n = check_array("n", n, low=1.0)
    c = check_array("c", c, low=0.0, low_open=True)
    if n.shape != c.shape or n.ndim != 1:
        raise ValueError("n and c must be sequences of the same length (one entry per group)")
    if concept == "nash":
        factor = float((n / c).sum())
        weight = 1.0 / c
    elif concept == "cooperative":
        factor = float(n.sum() / (n * c).sum())
        weight = np.full(c.shape, 1.0 / float((n * c).sum()))
    else:
        raise ValueError(f"concept must be 'nash' or 'cooperative', got {concept!r}")

    s = rho + b
    # coefficients in increasing powers of x
    poly = np.polynomial.Polynomial([-factor * s, 2 * factor, 2 * b - 2 * factor * s, -2.0,
                                     4 * b - factor * s, -2.0, 2 * b])
    states: list[LakeSteadyState] = []
    for z in poly.roots():
        if z.real <= 0 or abs(z.imag) > 1e-7 * abs(z):
            continue
        x = _polish(poly, z)
        if any(abs(x - st.x) <= 1e-9 * x for st in states):
            continue
        margin = s - _recycling_slope(x)
        loading = float(_lake_loading(x, b))
        if margin <= 0 or loading <= 0:
            continue  # negative loadings: not a steady state of the game
        per = margin / (2 * x) * weight
        states.append(LakeSteadyState(x, loading, tuple(float(v) for v in per)))
    return sorted(states, key=lambda st: st.x)
