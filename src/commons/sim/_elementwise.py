"""Transcendental functions whose result for an element does not depend on the array around it.

numpy's SIMD loops for ``power`` (and, on some builds, ``exp``, ``log`` and ``cos``) compute the
vector body and the scalar tail of an array with different code, which can differ in the last
bit. A replicate's numbers would then depend on where its row falls in a batch, i.e. on how the
replicates were split. These functions compute every element on its own with the C library's
scalar routine (a compiled numba loop when numba is installed, a Python loop otherwise), so an
element's result depends on its inputs only. ``exp`` is the project's own
(:mod:`commons.sim._exp`: a table and IEEE operations, the same bits on every machine,
whatever its C library, and in SIMD lanes in compiled loops).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable

import numpy as np

__all__ = ["cos", "exp", "ipow", "log", "power"]

_CACHE: dict[str, Callable] = {}


def _compiled(name: str) -> Callable:
    fn = _CACHE.get(name)
    if fn is not None:
        return fn
    if importlib.util.find_spec("numba") is not None:
        from . import _elementwise_impl
        fn = getattr(_elementwise_impl, name)
    else:  # pragma: no cover - numba is installed in the test environment
        scalar = {"power": math.pow, "log": math.log, "cos": math.cos}[name]
        nargs = 2 if name == "power" else 1
        ufunc = np.frompyfunc(scalar, nargs, 1)

        def fn(*args):
            return np.asarray(ufunc(*args), dtype=np.float64)
    _CACHE[name] = fn
    return fn


def power(x, y) -> np.ndarray:
    """x**y element by element, broadcasting like numpy: a square root where y = 1/2, a product
    where y = 2, x where y = 1 (all exactly rounded), the C library's ``pow`` elsewhere; the
    compiled path takes the same shortcuts (``commons.sim._jit.cpow``)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if y.ndim and y.size and x.size and bool((y == y.flat[0]).all()):
        # one exponent for all (beta as a per-replicate column, most often): the scalar path,
        # which gives the same values and skips pow where a shortcut exists
        return np.ascontiguousarray(power(np.broadcast_to(x, np.broadcast_shapes(x.shape,
                                                                                  y.shape)),
                                          y.flat[0]))
    if y.ndim == 0:
        v = float(y)
        if v == 0.5:
            return np.sqrt(x)
        if v == 2.0:
            return x * x
        if v == 1.0:
            return np.array(x, copy=True)
        return _compiled("power")(x, y)
    out = _compiled("power")(x, y)
    for v, exact in ((0.5, np.sqrt), (2.0, lambda z: z * z), (1.0, lambda z: z)):
        hit = np.broadcast_to(y == v, out.shape)
        if hit.any():
            out = np.where(hit, exact(np.broadcast_to(x, out.shape)), out)
    # C order: a reduction along rows of an array in another order sums in another order
    return np.ascontiguousarray(out)


def exp(x) -> np.ndarray:
    """e**x element by element: :func:`commons.sim._exp.exp_array`, the numpy form of the
    compiled forms' :func:`commons.sim._exp.exp` (the same bits), within about half a unit in
    the last place. (Not a cached numba ufunc: numba's cache would not see a change to the
    function it calls, in another file.)"""
    from ._exp import exp_array
    return exp_array(x)


def log(x) -> np.ndarray:
    """Natural logarithm element by element (C ``log``)."""
    return _compiled("log")(np.asarray(x, np.float64))


def cos(x) -> np.ndarray:
    """Cosine element by element (C ``cos``)."""
    return _compiled("cos")(np.asarray(x, np.float64))


def ipow(x, n: int) -> np.ndarray:
    """x**n for an integer n >= 0 by repeated squaring, element by element: the products of
    :func:`commons.sim._jit.ipow`, in the same order."""
    result = np.ones_like(np.asarray(x, np.float64))
    base = np.array(x, dtype=np.float64)
    n = int(n)
    while n > 0:
        if n & 1:
            result = result * base
        base = base * base
        n >>= 1
    return result
