"""Transcendental functions whose result for an element does not depend on the array around it.

numpy's SIMD loops for ``power`` (and, on some builds, ``exp``, ``log`` and ``cos``) compute the
vector body and the scalar tail of an array with different code, which can differ in the last
bit. A replicate's numbers would then depend on where its row falls in a batch, i.e. on how the
replicates were split. These functions compute every element on its own with the C library's
scalar routine (a compiled numba loop when numba is installed, a Python loop otherwise), so an
element's result depends on its inputs only, on every machine.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable

import numpy as np

__all__ = ["cos", "exp", "log", "power"]

_CACHE: dict[str, Callable] = {}


def _compiled(name: str) -> Callable:
    fn = _CACHE.get(name)
    if fn is not None:
        return fn
    if importlib.util.find_spec("numba") is not None:
        from . import _elementwise_impl
        fn = getattr(_elementwise_impl, name)
    else:  # pragma: no cover - numba is installed in the test environment
        scalar = {"power": math.pow, "exp": math.exp, "log": math.log, "cos": math.cos}[name]
        nargs = 2 if name == "power" else 1
        ufunc = np.frompyfunc(scalar, nargs, 1)

        def fn(*args):
            return np.asarray(ufunc(*args), dtype=np.float64)
    _CACHE[name] = fn
    return fn


def power(x, y) -> np.ndarray:
    """x**y element by element (C ``pow``), broadcasting like numpy."""
    return _compiled("power")(np.asarray(x, np.float64), np.asarray(y, np.float64))


def exp(x) -> np.ndarray:
    """e**x element by element (C ``exp``)."""
    return _compiled("exp")(np.asarray(x, np.float64))


def log(x) -> np.ndarray:
    """Natural logarithm element by element (C ``log``)."""
    return _compiled("log")(np.asarray(x, np.float64))


def cos(x) -> np.ndarray:
    """Cosine element by element (C ``cos``)."""
    return _compiled("cos")(np.asarray(x, np.float64))
