"""The project's e**x: within about half a unit in the last place of the true value, the same
bits in its compiled and numpy forms, whatever an element's place in an array."""

import math
from decimal import Decimal, localcontext

import numba as nb
import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from commons.sim import _elementwise as ew
from commons.sim._exp import exp, exp_array


@nb.njit
def _compiled_loop(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = exp(x[i])
    return out


def _compiled(v: float) -> float:
    return float(_compiled_loop(np.array([v]))[0])


def _ulps_from_truth(x: float, got: float) -> float:
    """|got - e**x| in units of got's last place, e**x to 50 digits (Decimal's exp is correctly
    rounded to its precision)."""
    with localcontext() as c:
        c.prec = 50
        true = Decimal(x).exp()
        return float(abs(Decimal(got) - true) / Decimal(float(np.spacing(got))))


@settings(max_examples=300, deadline=None)
@given(st.floats(-745.13, 709.78))
@example(-745.13)  # the least subnormal, 4.9e-324
@example(-708.5)  # a subnormal result: 2**m made of two halves
@example(-709.0291680734604)  # a subnormal result 0.747 units from the true value
@example(709.78)  # the largest finite results
@example(math.log(2.0) / 256)  # where k turns from 0 to 1
@example(1e-300)
@example(1.0)
def test_exp_is_within_about_half_an_ulp_of_the_true_value(x):
    got = _compiled(x)
    assert np.isfinite(got)
    # rounded once where the result is normal; a subnormal result rounds y 2**m1 (exact) to
    # the subnormal grid, after y's own rounding: a quarter of a unit more at most
    bound = 0.52 if got >= np.finfo(np.float64).tiny else 0.77
    assert _ulps_from_truth(x, got) < bound


def test_exp_at_its_edges():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 709.79, 1e308, -745.14, -1e308])
    want = [1.0, 1.0, np.inf, 0.0, np.nan, np.inf, np.inf, 0.0, 0.0]
    np.testing.assert_array_equal(_compiled_loop(x), want)
    np.testing.assert_array_equal(exp_array(x), want)
    assert _compiled(-745.13) == 5e-324


_SPECIAL = st.sampled_from([0.0, np.inf, -np.inf, np.nan, 710.0, -746.0, -745.13, 709.78])


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 40),
              elements=st.one_of(st.floats(-800.0, 800.0), st.floats(-2.0, 2.0), _SPECIAL)))
def test_the_numpy_and_compiled_forms_give_the_same_bits_wherever_an_element_lies(x):
    one = _compiled_loop(x)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN among the inputs
        np.testing.assert_array_equal(exp_array(x), one)
        np.testing.assert_array_equal(ew.exp(x), one)
        np.testing.assert_array_equal(ew.exp(x[::-1]), one[::-1])
    # each element alone (the compiled loop runs in SIMD lanes and a scalar tail)
    np.testing.assert_array_equal([_compiled(v) for v in x], one)
