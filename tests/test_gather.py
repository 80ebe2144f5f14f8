"""The gathering loops (commons.sim._gather) against numpy's elementwise forms, to the bit."""

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

_VALUES = st.one_of(st.floats(-1e300, 1e300), st.floats(-1e-300, 1e-300),
                    st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e308]))


@cache
def _compiled():
    numba = pytest.importorskip("numba")
    from commons.sim._gather import ease_where_le

    @numba.njit
    def run(w, key, idx, e0, e1, hi, keep, yes, no):
        ease_where_le(w, key, idx, e0, e1, hi, keep, yes, no)

    return run


@cache
def _compiled_at():
    numba = pytest.importorskip("numba")
    from commons.sim._gather import ease_where_le_at

    @numba.njit
    def run(w, key, idx, his, src, e0, e1, keep, yes, no):
        ease_where_le_at(w, key, idx, his, src, e0, e1, keep, yes, no)

    return run


@cache
def _take():
    numba = pytest.importorskip("numba")
    from commons.sim._gather import take

    @numba.njit
    def run(out, src, idx, e0, e1):
        take(out, src, idx, e0, e1)

    return run


def _oracle(w, key, idx, e0, e1, hi, keep, yes, no):
    """numpy's multiply, then its add, then the blend chosen by <=, edge by edge at once."""
    out = w.copy()
    with np.errstate(all="ignore"):
        out[e0:e1] = keep * w[e0:e1] + np.where(key[idx[e0:e1]] <= hi, yes, no)
    return out


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal element by element, NaN with NaN, and zeros of the same sign."""
    return all((x == y and math.copysign(1, x) == math.copysign(1, y))
               or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.integers(0, 45), elements=_VALUES),
       arrays(np.float64, st.integers(1, 30), elements=_VALUES), st.data(),
       st.sampled_from([np.int64, np.uint64]))
@example(np.arange(20.0), np.linspace(-1.0, 1.0, 5), None, np.uint64)  # two groups and a tail
def test_ease_where_le_is_the_elementwise_update(w, key, data, itype):
    run = _compiled()
    if data is None:
        idx = (np.arange(len(w)) % len(key)).astype(itype)
        e0, e1, (hi, keep, yes, no) = 1, len(w), (0.5, 0.9, 0.1, 0.0)  # a key equal to hi
    else:
        idx = data.draw(arrays(itype, len(w), elements=st.integers(0, len(key) - 1)))
        e0 = data.draw(st.integers(0, len(w)))
        e1 = data.draw(st.integers(e0, len(w)))
        hi, keep, yes, no = (data.draw(_VALUES) for _ in range(4))
    want = _oracle(w, key, idx, e0, e1, hi, keep, yes, no)
    got = w.copy()
    run(got, key, idx, np.uint64(e0), np.uint64(e1), hi, keep, yes, no)
    assert _same(got, want)


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.integers(0, 45), elements=_VALUES),
       arrays(np.float64, st.integers(1, 30), elements=_VALUES),
       arrays(np.float64, st.integers(1, 30), elements=_VALUES), st.data(),
       st.sampled_from([np.int64, np.uint64]))
@example(np.arange(20.0), np.linspace(-1.0, 1.0, 5), np.linspace(1.0, -1.0, 3), None,
         np.uint64)  # two groups and a tail, keys equal to the bounds
def test_ease_where_le_at_is_the_elementwise_update_with_gathered_bounds(w, key, his, data,
                                                                          itype):
    # each edge's bound his[src[e]] gathered as well: the update of ease_where_le with that
    # bound, edge by edge
    run = _compiled_at()
    if data is None:
        idx = (np.arange(len(w)) % len(key)).astype(itype)
        src = (np.arange(len(w)) // 7 % len(his)).astype(itype)
        e0, e1, (keep, yes, no) = 1, len(w), (0.9, 0.1, 0.0)
    else:
        idx = data.draw(arrays(itype, len(w), elements=st.integers(0, len(key) - 1)))
        src = data.draw(arrays(itype, len(w), elements=st.integers(0, len(his) - 1)))
        e0 = data.draw(st.integers(0, len(w)))
        e1 = data.draw(st.integers(e0, len(w)))
        keep, yes, no = (data.draw(_VALUES) for _ in range(3))
    want = w.copy()
    with np.errstate(all="ignore"):
        want[e0:e1] = keep * w[e0:e1] + np.where(key[idx[e0:e1]] <= his[src[e0:e1]], yes, no)
    got = w.copy()
    run(got, key, idx, his, src, np.uint64(e0), np.uint64(e1), keep, yes, no)
    assert _same(got, want)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=_VALUES), st.integers(0, 45), st.data(),
       st.sampled_from([np.int64, np.uint64]))
@example(np.array([-0.0, np.nan, 7.0]), 19, None, np.int64)  # two groups and a tail of three
def test_take_copies_through_the_index(src, n, data, itype):
    run = _take()
    if data is None:
        idx = (np.arange(n)[::-1] % len(src)).astype(itype)
        e0, e1 = 0, n
    else:
        idx = data.draw(arrays(itype, n, elements=st.integers(0, len(src) - 1)))
        e0 = data.draw(st.integers(0, n))
        e1 = data.draw(st.integers(e0, n))
    before = np.full(n, 0.5)
    want = before.copy()
    want[e0:e1] = src[idx[e0:e1]]
    got = before.copy()
    run(got, src, idx, np.uint64(e0), np.uint64(e1))
    assert _same(got, want)


def test_the_python_definitions_are_the_same_loops():
    from commons.sim._gather import ease_where_le_py

    rng = np.random.default_rng(5)
    w, key = rng.normal(size=37), rng.normal(size=11)
    key[3] = np.nan
    idx = rng.integers(0, 11, 37)
    got = w.copy()
    ease_where_le_py(got, key, idx, 2, 35, 0.1, 0.8, 0.2, -0.0)
    assert _same(got, _oracle(w, key, idx, 2, 35, 0.1, 0.8, 0.2, -0.0))
    from commons.sim._gather import ease_where_le_at_py
    his = rng.normal(size=5)
    src = np.arange(37) % 5
    got = w.copy()
    ease_where_le_at_py(got, key, idx, his, src, 2, 35, 0.8, 0.2, -0.0)
    want = w.copy()
    want[2:35] = 0.8 * w[2:35] + np.where(key[idx[2:35]] <= his[src[2:35]], 0.2, -0.0)
    assert _same(got, want)
    from commons.sim._gather import take_py
    out = np.zeros(37)
    take_py(out, key, idx, 2, 35)
    assert _same(out[2:35], key[idx[2:35]])
    assert not out[:2].any()
    assert not out[35:].any()


def test_other_types_are_refused_at_compile_time():
    numba = pytest.importorskip("numba")
    from commons.sim._gather import ease_where_le

    @numba.njit
    def run(w, key, idx):
        ease_where_le(w, key, idx, 0, 2, 0.0, 1.0, 1.0, 0.0)

    with pytest.raises(numba.core.errors.TypingError):
        run(np.zeros(2, np.float32), np.zeros(2), np.zeros(2, np.int64))
    with pytest.raises(numba.core.errors.TypingError):
        run(np.zeros(2), np.zeros(2), np.zeros(2, np.int32))
