"""Element-wise transcendental functions: each element's value depends on its inputs only."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from commons.sim import _elementwise as ew
from commons.sim._jit import cpow  # the compiled path's scalar rule, run as Python

_X = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 7)),
            elements=st.floats(0.0, 1e6, allow_nan=False))
_Y = st.sampled_from([0.5, 2.0, 1.0, 1.7, 1.0 / 3.0])


@settings(max_examples=60, deadline=None)
@given(_X, st.lists(_Y, min_size=1, max_size=5), st.booleans())
@example(np.full((3, 4), 2.5), [0.5], False)  # one exponent as a column: the scalar path
def test_power_matches_the_scalar_rule_for_every_element(x, ys, uniform):
    R = x.shape[0]
    y = np.array([ys[0] if uniform else ys[r % len(ys)] for r in range(R)])[:, None]
    got = ew.power(x, y)
    want = np.array([[cpow(float(x[r, i]), float(y[r, 0])) for i in range(x.shape[1])]
                     for r in range(R)])
    np.testing.assert_array_equal(got, want)
    assert got.flags.c_contiguous
    # a row's values do not depend on the rows around it
    for r in range(R):
        np.testing.assert_array_equal(ew.power(x[r:r + 1], y[r:r + 1]), got[r:r + 1])
