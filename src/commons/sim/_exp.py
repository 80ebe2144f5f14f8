"""e**x from additions, multiplications and one division: the same bits on every machine, in SIMD
lanes.

The C library's ``exp`` is a call the compiler cannot run in SIMD lanes, and libraries differ
in the last bit of some results. This module computes e**x with fdlibm's algorithm (Sun's
``e_exp.c``, the one Java's ``StrictMath.exp`` specifies), written without a branch:

1. k = x / ln 2 rounded to the nearest integer, so that x = k ln 2 + r with |r| <= ln(2) / 2,
   r taken as hi - lo with hi = x - k ln2_hi (exact: ln2_hi has 32 trailing zero bits and
   |k| < 2**11) and lo = k ln2_lo;
2. e**r = 1 - ((lo - r c / (2 - c)) - hi), c = r - r**2 (P1 + r**2 (P2 + ... + r**2 P5)), a
   Remez fit of r (e**r + 1) / (e**r - 1) with error below 2**-59;
3. e**x = e**r 2**k1 2**k2, k1 = k / 2 rounded, k2 = k - k1: the first product is exact, the
   second rounds once, also where the result is subnormal; 2**k is made from its bits (the
   integer k + 1023 shifted into the exponent field).

The error is below one unit in the last place (fdlibm's bound), results overflow to inf above
709.78 and are 0 below -745.13, and NaN stays NaN. Every operation is an IEEE 754 one, rounded
to nearest, so the result depends on x alone, on every machine and in either form: the compiled
:func:`exp` (a loop of it runs in SIMD lanes) and the numpy :func:`exp_array`, which computes the
same operations in the same order.
"""

from __future__ import annotations

import numpy as np

from ._jit import HAVE_NUMBA, jitable

__all__ = ["exp", "exp_array"]

_INV_LN2 = 1.44269504088896338700e+00
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_OVER = 7.09782712893383973096e+02  # e**x overflows above this
_UNDER = -7.45133219101941108420e+02  # and is below half the least subnormal under this
_HIGH = 710.0  # x clamped to [_LOW, _HIGH]: k stays in [-1076, 1024], each half of it in
_LOW = -746.0  # the exponent field's range
# 2**52 + 1023: adding an integral k in [-1023, 1024] leaves k + 1023 in the low bits
_BIAS = 4503599627371519.0
# 1.5 * 2**52: (v + _ROUND) - _ROUND is v rounded to the nearest integer (ties to even) for
# |v| < 2**51, in two additions that run in SIMD lanes where a call to floor may not
_ROUND = 6755399441055744.0

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
def _pow2(k):
    """2**k for an integral float k in [-1022, 1023], made from its bits."""
    return _float(_bits(k + _BIAS) << 52)


@jitable(error_model="numpy")
def exp(x):
    """e**x (float64) by fdlibm's algorithm without a branch: see the module's docstring.

    Parameters
    ----------
    x : float
        The exponent.

    Returns
    -------
    float
        e**x within one unit in the last place; inf above 709.78, 0 below -745.13, NaN for NaN.
    """
    xc = _HIGH if x > _HIGH else x  # NaN passes both and stays NaN
    xc = _LOW if xc < _LOW else xc
    k = (xc * _INV_LN2 + _ROUND) - _ROUND
    hi = xc - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    k1 = (k * 0.5 + _ROUND) - _ROUND
    v = (y * _pow2(k1)) * _pow2(k - k1)
    v = np.inf if x > _OVER else v
    return 0.0 if x < _UNDER else v


def _pow2_array(k: np.ndarray) -> np.ndarray:
    return ((k + _BIAS).view(np.int64) << 52).view(np.float64)


def exp_array(x) -> np.ndarray:
    """e**x element by element: :func:`exp`'s operations on arrays, in the same order (the same
    bits).

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
        k = (xc * _INV_LN2 + _ROUND) - _ROUND
        hi = xc - k * _LN2_HI
        lo = k * _LN2_LO
        r = hi - lo
        t = r * r
        c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
        y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
        k1 = (k * 0.5 + _ROUND) - _ROUND
        v = (y * _pow2_array(k1)) * _pow2_array(k - k1)
    v = np.where(x > _OVER, np.inf, v)
    return np.where(x < _UNDER, 0.0, v)
