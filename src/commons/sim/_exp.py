"""e**x from a table and IEEE additions and multiplications: the same bits on every machine, in
SIMD lanes.

The C library's ``exp`` is a call the compiler cannot run in SIMD lanes, and libraries differ
in the last bit of some results. This module computes e**x by the table method of Tang (ACM
TOMS 15, 1989), in the form of Arm's optimized-routines and glibc's ``exp`` (N = 128), written
without a branch:

1. k = x N / ln 2 rounded to the nearest integer, so that x = k ln(2) / N + r with
   |r| <= ln(2) / 2N, r taken as (x - k c_hi) - k c_lo, c_hi + c_lo = ln(2) / N (c_hi has 34
   significant bits, so k c_hi is exact for |k| < 2**18, and x - k c_hi is exact);
2. with k = 128 m + j, 0 <= j < 128: e**x = 2**m 2**(j/N) e**r, and
   y = T_j + T_j (t_j + p(r)), T_j the double nearest 2**(j/N), t_j its relative error
   (2**(j/N) = T_j (1 + t_j), both from 40-digit values made when the module is imported),
   p(r) = r + r**2 / 2 + r**3 / 6 + r**4 / 24 + r**5 / 120 (Taylor: the next term is below
   2**-60 of the result);
3. e**x = y 2**m1 2**m2, m1 = floor(m / 2), m2 = m - m1: the first product is exact, the
   second rounds once, also where the result is subnormal; 2**m1 is made from its bits.

The result is y rounded once, so within about half a unit in the last place of the true value
where it is normal (a test bounds it at 0.52 against 50-digit values); a subnormal result is
rounded twice (y, then y 2**m to the subnormal grid), within 0.77 units. Results overflow to
inf above 709.78 and are 0 below -745.13, and NaN stays NaN. Every operation is an IEEE 754
one, rounded to nearest, so the result depends on x alone, on every machine and in either
form: the compiled :func:`exp` (a loop of it runs in SIMD lanes) and the numpy
:func:`exp_array`, which computes the same operations in the same order.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np

from ._jit import HAVE_NUMBA, jitable

__all__ = ["exp", "exp_array"]

_N = 128  # table entries: 2**(j / N) for j < N
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: (v + _SHIFT) - _SHIFT rounds v to an integer,
# which the sum holds in its low bits, for |v| < 2**51 (two additions, in SIMD lanes)
_OVER = 7.09782712893383973096e+02  # e**x overflows above this
_UNDER = -7.45133219101941108420e+02  # and is below half the least subnormal under this
_HIGH = 710.0  # x clamped to [_LOW, _HIGH]: |k| < 2**18 and each half of m in the
_LOW = -746.0  # exponent field's range


def _constants() -> tuple[float, float, float, np.ndarray, np.ndarray]:
    """N / ln 2; ln(2) / N as c_hi + c_lo, c_hi on a grid of 2**-41 (34 significant bits);
    the table T_j and t_j (see the module's docstring), from 40-digit values."""
    with localcontext() as c:
        c.prec = 40
        ln2 = Decimal(2).ln()
        step = ln2 / _N
        hi = float(round(step * 2**41) / Decimal(2**41))
        lo = float(step - Decimal(hi))
        heads = np.empty(_N)
        tails = np.empty(_N)
        for j in range(_N):
            v = (step * j).exp()
            heads[j] = float(v)
            tails[j] = float((v - Decimal(heads[j])) / Decimal(heads[j]))
        return float(_N / ln2), hi, lo, heads, tails


_INV, _C_HI, _C_LO, _HEAD, _TAIL = _constants()
_P3 = 1.0 / 6.0
_P4 = 1.0 / 24.0
_P5 = 1.0 / 120.0
_SHIFT_BITS = int(np.array(_SHIFT).view(np.int64))

if HAVE_NUMBA:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _bits(typingctx, x):
        """A float64's bits as an int64 (LLVM's ``bitcast``: no instruction of its own)."""
        if x != types.float64:
            return None

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], ir.IntType(64))

        return types.int64(types.float64), codegen

    @intrinsic
    def _float(typingctx, x):
        """The float64 whose bits an int64 holds."""
        if x != types.int64:
            return None

        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], ir.DoubleType())

        return types.float64(types.int64), codegen
else:  # pragma: no cover - numba is installed in the test environment
    def _bits(x):
        return np.array(x, np.float64).view(np.int64)[()]

    def _float(x):
        return np.array(x, np.int64).view(np.float64)[()]


@jitable
def _pow2(m):
    """2**m for an integer m in [-1022, 1023], made from its bits."""
    return _float((m + 1023) << 52)


@jitable
def _reduce(xc):
    """Step 1: t = xc N / ln 2 + 1.5 * 2**52 (k in its low bits) and r, for a float or an
    array (the same operations in either form)."""
    t = xc * _INV + _SHIFT
    kd = t - _SHIFT
    return t, (xc - kd * _C_HI) - kd * _C_LO


@jitable
def _table(k, r):
    """Step 2 and the split of step 3, for integers k (scalars or arrays): y and m1, m2."""
    j = k & (_N - 1)
    m = k >> 7
    r2 = r * r
    p = (r + r2 * (0.5 + r * _P3)) + (r2 * r2) * (_P4 + r * _P5)
    h = _HEAD[j]
    m1 = m >> 1
    return h + h * (_TAIL[j] + p), m1, m - m1


@jitable(error_model="numpy")
def exp(x):
    """e**x (float64) by the table method without a branch: see the module's docstring.

    Parameters
    ----------
    x : float
        The exponent.

    Returns
    -------
    float
        e**x within about half a unit in the last place; inf above 709.78, 0 below -745.13,
        NaN for NaN.
    """
    xc = _HIGH if x > _HIGH else x  # NaN passes both and stays NaN
    xc = _LOW if xc < _LOW else xc
    t, r = _reduce(xc)
    y, m1, m2 = _table(_bits(t) - _SHIFT_BITS, r)
    v = (y * _pow2(m1)) * _pow2(m2)
    v = np.inf if x > _OVER else v
    return 0.0 if x < _UNDER else v


def _pow2_array(m: np.ndarray) -> np.ndarray:
    return ((m + 1023) << 52).view(np.float64)


def exp_array(x) -> np.ndarray:
    """e**x element by element: :func:`exp`'s operations on arrays (the same helpers, so the
    same bits); only the selects and the bit casts are written for arrays.

    Parameters
    ----------
    x : array_like
        Exponents.

    Returns
    -------
    ndarray of float64
        e**x, of x's shape.
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        xc = np.where(x > _HIGH, _HIGH, x)
        xc = np.where(xc < _LOW, _LOW, xc)
        t, r = _reduce(xc)
        y, m1, m2 = _table(t.view(np.int64) - _SHIFT_BITS, r)
        v = (y * _pow2_array(m1)) * _pow2_array(m2)
    v = np.where(x > _OVER, np.inf, v)
    return np.where(x < _UNDER, 0.0, v)
