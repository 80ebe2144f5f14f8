"""The engine's own compiled steps, against numpy oracles."""

from functools import cache

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@cache
def _compiled():
    """finite_range and finite_row as compiled code runs them."""
    numba = pytest.importorskip("numba")
    from commons.sim._steps import finite_range, finite_row

    return (numba.njit(lambda a, r, i0, i1, nonneg: finite_range(a, r, i0, i1, nonneg)),
            numba.njit(lambda a, r, nonneg: finite_row(a, r, nonneg)))


_VALUES = st.one_of(st.floats(-1e300, 1e300), st.sampled_from([np.nan, np.inf, -np.inf, -0.0]))
#: A field of 1-3 replicates' rows of up to 40 values, specials included.
_ROWS = arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(0, 40)), elements=_VALUES)


def _row_range(a, data):
    """A replicate r of ``a`` and a range i0 <= i1 of its organisations, drawn from ``data``
    (all of row 0 for an explicit example, whose ``data`` is None)."""
    R, N = a.shape
    if data is None:
        return 0, 0, N
    i0 = data.draw(st.integers(0, N))
    return data.draw(st.integers(0, R - 1)), i0, data.draw(st.integers(i0, N))


@settings(max_examples=80, deadline=None)
@given(_ROWS, st.booleans(), st.data())
@example(np.array([[1.0, -np.inf, 2.0]]), False, None)  # -inf is not finite
@example(np.array([[0.0, -0.0, 5.0]]), True, None)  # -0.0 counts as >= 0
@example(np.array([[1.0, -1e-300]]), True, None)
@example(np.array([[np.finfo(float).max, -np.finfo(float).max, 5e-324]]), False, None)  # finite
def test_finite_range_is_numpys_test_on_the_range(a, nonneg, data):
    finite_range, finite_row = _compiled()
    r, i0, i1 = _row_range(a, data)
    def fault(v):  # the numpy path's test (engine._check): 1 non-finite, 2 negative, 0 fine
        return 1 if not np.all(np.isfinite(v)) else 2 if nonneg and np.any(v < 0) else 0

    assert finite_range(a, r, np.uint64(i0), np.uint64(i1), nonneg) == fault(a[r, i0:i1])
    assert finite_row(a, r, nonneg) == fault(a[r])
    if a.shape[1]:  # a field of one value per replicate (the stock)
        assert finite_row(np.ascontiguousarray(a[:, 0]), r, nonneg) == fault(a[r, :1])


@cache
def _clip():
    """clip_next as compiled code runs it, on a state holding only the next draws."""
    numba = pytest.importorskip("numba")
    from collections import namedtuple

    from commons.sim._steps import clip_next

    state = namedtuple("state", ["next_draws"])
    return state, numba.njit(lambda S, r, cap, i0, i1: clip_next(r, S, cap, i0, i1))


@settings(max_examples=80, deadline=None)
@given(_ROWS, st.floats(0.0, 1e6), st.data())
@example(np.array([[np.inf, 1.0]]), 2.0, None)  # clipped to 2, but reported: not finite
@example(np.array([[-np.inf, -1.0, -0.0]]), 2.0, None)  # negatives clip to 0, -inf reported
def test_clip_next_clips_the_range_and_reports_what_it_was(a, cap, data):
    # the fused kernel's learn check: what was wrong before the clip (finite only, as the
    # numpy path checks the next draws), and numpy's clip of the range, the rest untouched
    state, clip_next = _clip()
    r, i0, i1 = _row_range(a, data)
    R, N = a.shape
    caps = np.full((R, N), cap)
    got = a.copy()
    fault = clip_next(state(got), r, caps, np.uint64(i0), np.uint64(i1))
    assert fault == (0 if np.all(np.isfinite(a[r, i0:i1])) else 1)
    want = a.copy()
    want[r, i0:i1] = np.clip(a[r, i0:i1], 0.0, cap)  # the numpy path's clip; NaN stays NaN
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))  # zeros' signs included
