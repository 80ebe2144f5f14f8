"""Sums in SIMD lanes (commons.sim._lanes) against running sums made by numpy column by column."""

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

_VALUES = st.one_of(st.floats(-1e300, 1e300), st.floats(-1e-300, 1e-300),
                    st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 1e308]))


def _oracle(terms: np.ndarray, lanes: int) -> float:
    """Running sum j of terms j, j + lanes, ... over whole groups: numpy adds the rows of a
    (groups, lanes) array one after another into the column sums; then the pairwise tree and
    the tail in order."""
    groups = len(terms) // lanes
    with np.errstate(all="ignore"):
        return _tree(terms, groups, lanes)


def _tree(terms: np.ndarray, groups: int, lanes: int) -> float:
    s = list(np.add.reduce(terms[:groups * lanes].reshape(groups, lanes), axis=0)
             if groups else np.zeros(lanes))
    while len(s) > 1:
        s = [s[j] + s[j + 1] for j in range(0, len(s), 2)]
    total = float(s[0])
    for x in terms[groups * lanes:]:
        total += float(x)
    return total


def _same(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))


@cache
def _compiled():
    numba = pytest.importorskip("numba")
    from commons.sim._lanes import lane_sum, lane_terms

    return (numba.njit(lambda a, i0, i1: lane_sum(a, np.uint64(i0), np.uint64(i1))),
            {how: numba.njit(lambda a, b, i0, i1, how=how: lane_terms(a, b, how, i0, i1))
             for how in (0, -1, 1)})


@settings(max_examples=120, deadline=None)
@given(arrays(np.float64, st.integers(0, 70), elements=_VALUES), st.data())
@example(np.arange(1.0, 18.0) * 0.1, None)  # two groups and a tail of one
@example(np.array([1e308, 1e308, -1e308, -1e308] * 4), None)  # lanes overflow apart
@example(np.array([1e16, 1.0, -1e16, 1.0, 0.0, 0.0, 0.0, 0.0]), None)  # 0 pairwise, else 1
def test_lane_sum_is_eight_running_sums(a, data):
    lane_sum, _ = _compiled()
    i0 = 0 if data is None else data.draw(st.integers(0, len(a)))
    i1 = len(a) if data is None else data.draw(st.integers(i0, len(a)))
    assert _same(lane_sum(a, i0, i1), _oracle(a[i0:i1], 8))


@settings(max_examples=120, deadline=None)
@given(arrays(np.float64, st.integers(0, 40), elements=_VALUES), st.data(),
       st.sampled_from([0, -1, 1]))
@example(np.arange(1.0, 12.0) / 3.0, None, -1)
@example(np.array([1e16, 1.0, -1e16, 1.0]), None, 0)  # 0 pairwise, 1 lane after lane
def test_lane_terms_is_four_running_sums_of_the_term(a, data, how):
    _, lane_terms = _compiled()
    b = a[::-1].copy() if data is None else data.draw(
        arrays(np.float64, len(a), elements=_VALUES))
    i0 = 0 if data is None else data.draw(st.integers(0, len(a)))
    i1 = len(a) if data is None else data.draw(st.integers(i0, len(a)))
    with np.errstate(all="ignore"):
        terms = a if how == 0 else a - b if how < 0 else a + b
    got = lane_terms[how](a, b, np.uint64(i0), np.uint64(i1))
    assert _same(got, _oracle(terms[i0:i1], 4))


@given(arrays(np.float64, st.integers(0, 40), elements=st.floats(-1e6, 1e6)),
       st.sampled_from([0, -1, 1]), st.sampled_from([4, 8]))
def test_the_plain_definition_is_the_same_sum(a, how, lanes):
    from commons.sim._lanes import lane_sum_py
    b = np.sqrt(np.abs(a))
    terms = a if how == 0 else a - b if how < 0 else a + b
    assert _same(lane_sum_py(a, b, how, lanes, 0, len(a)), _oracle(terms, lanes))


def test_a_strided_row_is_refused_when_compiling():
    numba = pytest.importorskip("numba")
    from commons.sim._lanes import lane_sum
    f = numba.njit(lambda a: lane_sum(a, 0, 2))
    with pytest.raises(numba.TypingError):
        f(np.arange(8.0)[::2])


@cache
def _many():
    numba = pytest.importorskip("numba")
    from commons.sim._lanes import lane_terms_many

    @numba.njit
    def three(a, b, c, i0, i1):  # the three kinds of term, one loop
        return lane_terms_many((a, b, c), (a, c, a), "0-+", np.uint64(i0), np.uint64(i1))

    return three


@settings(max_examples=120, deadline=None)
@given(arrays(np.float64, st.integers(0, 40), elements=_VALUES), st.data())
@example(np.array([1e16, 1.0, -1e16, 1.0, 2.0, 3.0]), None)
def test_sums_in_one_loop_are_each_the_sum_of_its_own_loop(a, data):
    """Each of the sums lane_terms_many adds in one loop is the four running sums of its own
    term, to the bit, whatever the others hold."""
    three = _many()
    b = a[::-1].copy() if data is None else data.draw(arrays(np.float64, len(a),
                                                             elements=_VALUES))
    c = np.roll(a, 1) if data is None else data.draw(arrays(np.float64, len(a),
                                                            elements=_VALUES))
    i0 = 0 if data is None else data.draw(st.integers(0, len(a)))
    i1 = len(a) if data is None else data.draw(st.integers(i0, len(a)))
    got = three(a, b, c, i0, i1)
    with np.errstate(all="ignore"):
        want = (a, b - c, c + a)
    for g, terms in zip(got, want, strict=True):
        assert _same(g, _oracle(terms[i0:i1], 4))


def test_sums_in_one_loop_refuse_an_unknown_term():
    numba = pytest.importorskip("numba")
    from commons.sim._lanes import lane_terms_many
    f = numba.njit(lambda a: lane_terms_many((a,), (a,), "*", 0, 2))
    with pytest.raises(numba.TypingError):
        f(np.arange(8.0))
