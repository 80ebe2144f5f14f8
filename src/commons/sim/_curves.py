r"""Power and exponential productions, one scalar at a time, for both simulation paths.

The stage game's payoffs and best replies on :class:`~commons.Power` (F(X) = A X**alpha) and
:class:`~commons.Exponential` (F(X) = A (1 - exp(-k X))) productions are computed with these
``@jitable`` functions on the compiled path and, through :func:`on_arrays`, the same compiled
functions element by element on the numpy path, so both give the same bits. ``kind`` is
:data:`POWER` or :data:`EXPONENTIAL` and ``s`` the shape (alpha or k).

For X > 0:

* Power: F(X) = A X**alpha, AP(X) = A X**(alpha - 1), F'(X) = alpha AP(X);
* Exponential: F(X) = -A expm1(-k X), AP(X) = F(X) / X (A k (1 - k X / 2) for k X < 1e-8,
  exact to an ulp, where k X may underflow), F'(X) = A k exp(-k X);

with the limits AP(0) = F'(0) = inf (Power) and A k (Exponential).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._jit import HAVE_NUMBA, cpow, jitable

__all__ = ["EXPONENTIAL", "POWER", "at_zero", "average", "derivative", "on_arrays", "value"]

POWER = 0
EXPONENTIAL = 1


@jitable
def value(kind, A, s, X):
    """F(X) for X >= 0."""
    if kind == POWER:
        return A * cpow(X, s)
    return -A * math.expm1(-s * X)


@jitable
def at_zero(kind, A, s):
    """F'(0) = AP(0): inf for a power production, A k for an exponential one."""
    if kind == POWER:
        return math.inf
    return A * s


@jitable
def average(kind, A, s, X):
    """AP(X) = F(X) / X for X > 0 (its limit :func:`at_zero` at X = 0)."""
    if X <= 0.0:
        return at_zero(kind, A, s)
    if kind == POWER:
        return A * cpow(X, s - 1.0)
    u = s * X
    if u < 1e-8:  # -expm1(-u) / u = 1 - u/2 + u^2/6 - ...: the series to within an ulp, where
        return A * s * (1.0 - 0.5 * u)  # k X could underflow (X subnormal) and F(X) / X be 0
    return value(kind, A, s, X) / X


@jitable
def derivative(kind, A, s, X):
    """F'(X) for X > 0 (its limit :func:`at_zero` at X = 0)."""
    if X <= 0.0:
        return at_zero(kind, A, s)
    if kind == POWER:
        return s * average(kind, A, s, X)
    return A * s * math.exp(-s * X)


def _value_loop(kind, A, s, X, out):
    for k in range(X.size):
        out[k] = value(kind, A, s, X[k])


def _average_loop(kind, A, s, X, out):
    for k in range(X.size):
        out[k] = average(kind, A, s, X[k])


def _derivative_loop(kind, A, s, X, out):
    for k in range(X.size):
        out[k] = derivative(kind, A, s, X[k])


_LOOPS = {"value": _value_loop, "average": _average_loop, "derivative": _derivative_loop}
_COMPILED: dict[str, Callable] = {}


def on_arrays(name: str, kind: int, A: float, s: float, X) -> np.ndarray:
    """``value``, ``average`` or ``derivative`` (by ``name``) element by element on an array:
    the compiled scalar function in a compiled loop (numba), or in Python without numba."""
    fn = _COMPILED.get(name)
    if fn is None:
        fn = _LOOPS[name]
        if HAVE_NUMBA:
            import numba as nb
            fn = nb.njit(cache=True, nogil=True)(fn)
        _COMPILED[name] = fn
    X = np.ascontiguousarray(X, dtype=np.float64)
    out = np.empty(X.size)
    fn(int(kind), float(A), float(s), X.reshape(-1), out)
    return out.reshape(X.shape)
