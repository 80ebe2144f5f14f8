r"""A bracketed scalar root, written once for compiled code and Python alike.

:func:`bracketed_root` turns a scalar function ``f(x, args)`` (``@jitable``) into a solver
``root(lo, hi, args, xatol, xrtol, maxiter)`` that is itself ``@jitable``: the compiled best
replies call it inside a model's kernel, and the numpy path calls the same compiled code, so
both find the same root, bit for bit.

The method is Chandrupatla's hybrid of inverse quadratic interpolation and bisection
(Chandrupatla 1997), in the formulation of SciPy's ``scipy.optimize.elementwise.find_root``:
each step evaluates f at x_t = x_1 + t (x_2 - x_1), where x_1 is the newest point, x_2 the
other end of the bracket and x_3 the point dropped last; t is the inverse quadratic
interpolation through the three points when

    1 - sqrt(1 - xi) < phi < sqrt(xi),  xi = (x_1 - x_2) / (x_3 - x_2),
    phi = (f_1 - f_2) / (f_3 - f_2),

and 1/2 (bisection) otherwise, kept at least tol / (2 |x_2 - x_1|) from the ends (a step
that rounds onto an end bisects instead). It stops
when |f| at the better end is at most the smallest normal number, or when the bracket is
narrower than tol = xrtol |x_best| + xatol.

References
----------
Chandrupatla, T. R. (1997). A new hybrid quadratic/bisection algorithm for finding the zero of
a nonlinear function without using derivatives. *Advances in Engineering Software* 28(3),
145–149. doi:10.1016/S0965-9978(96)00051-8
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

from ._jit import jitable

__all__ = ["XATOL", "XRTOL", "bracketed_root"]

#: Default tolerances: SciPy's for ``find_root`` (4 x the smallest normal, 4 x machine epsilon).
XATOL = 4.0 * sys.float_info.min
XRTOL = 4.0 * sys.float_info.epsilon
_FATOL = sys.float_info.min


def bracketed_root(f: Callable) -> Callable:
    """A jitable solver for a root of ``f(x, args)`` between ``lo`` and ``hi``.

    Parameters
    ----------
    f : callable
        A scalar function ``f(x, args)`` marked ``@jitable`` (``args`` a tuple).

    Returns
    -------
    callable
        ``root(lo, hi, args, xatol, xrtol, maxiter) -> float``: a root of f in [lo, hi]
        (either order), to within ``xrtol |x| + xatol``, after at most ``maxiter``
        evaluations beyond the two ends. It raises ``ValueError`` when f(lo) and f(hi) do
        not have opposite signs (or are NaN) and when f gives NaN inside the bracket.
    """

    @jitable
    def root(lo, hi, args, xatol, xrtol, maxiter):
        x1 = float(lo)
        x2 = float(hi)
        f1 = f(x1, args)
        f2 = f(x2, args)
        if f1 == 0.0:
            return x1
        if f2 == 0.0:
            return x2
        if not ((f1 < 0.0 < f2) or (f2 < 0.0 < f1)):
            raise ValueError("bracketed_root: f(lo) and f(hi) must have opposite signs "
                             "(and not be NaN)")
        x3 = x2
        f3 = f2
        t = 0.5
        for it in range(maxiter + 1):
            if abs(f1) < abs(f2):
                xm = x1
                fm = f1
            else:
                xm = x2
                fm = f2
            if abs(fm) <= _FATOL:
                return xm
            dx = abs(x2 - x1)
            tol = abs(xm) * xrtol + xatol
            if dx < tol or it == maxiter:
                return xm
            if it > 0:
                xi = (x1 - x2) / (x3 - x2)
                phi = (f1 - f2) / (f3 - f2)
                t = 0.5
                if 0.0 < xi < 1.0 and (1.0 - math.sqrt(1.0 - xi)) < phi < math.sqrt(xi):
                    alpha = (x3 - x1) / (x2 - x1)
                    t = (f1 / (f1 - f2) * f3 / (f3 - f2)
                         - alpha * f1 / (f3 - f1) * f2 / (f2 - f3))
                    if t != t:
                        t = 0.5
                tl = 0.5 * tol / dx
                t = min(max(t, tl), 1.0 - tl)
            x = x1 + t * (x2 - x1)
            if not (min(x1, x2) < x < max(x1, x2)):  # rounded onto an end: bisect instead
                x = x1 + 0.5 * (x2 - x1)
            fx = f(x, args)
            if fx != fx:
                raise ValueError("bracketed_root: f gave NaN inside the bracket")
            if (fx < 0.0) == (f1 < 0.0) and fx != 0.0:
                x3 = x1
                f3 = f1
            else:
                x3 = x2
                f3 = f2
                x2 = x1
                f2 = f1
            x1 = x
            f1 = fx
        return x1

    return root
