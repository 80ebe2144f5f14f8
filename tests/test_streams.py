"""Counter-based random streams: known answers, independence, seeding."""

from functools import cache, partial
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from commons.sim.streams import Streams, philox4x32, replicate_keys, resolve_seed

# Random123 tests/kat_vectors, the three philox4x32 10-round lines: counter[4], key[2] -> out[4]
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize(("ctr", "key", "expect"), KAT)
def test_philox_known_answers(ctr, key, expect):
    out = philox4x32(*ctr, *key)
    assert tuple(int(v) for v in out) == expect


def test_philox_is_vectorised_elementwise():
    ctr = np.array([k[0] for k in KAT], dtype=np.uint64).T
    key = np.array([k[1] for k in KAT], dtype=np.uint64).T
    out = np.stack(philox4x32(*ctr, *key), axis=-1)
    assert out.tolist() == [list(k[2]) for k in KAT]


@pytest.mark.parametrize(("ctr", "key", "expect"), KAT)
def test_compiled_philox_known_answers(ctr, key, expect):
    # the block function compiled forms call, on 32-bit words, in compiled code and in Python
    numba = pytest.importorskip("numba")
    from commons.sim._jit import philox

    @numba.njit
    def block(c0, c1, c2, c3, k0, k1):
        return philox(c0, c1, c2, c3, k0, k1)

    words = [np.uint64(v) for v in (*ctr, *key)]
    assert tuple(int(v) for v in block(*words)) == expect
    assert tuple(int(v) for v in philox(*words)) == expect


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=6, max_size=6))
def test_compiled_philox_equals_the_numpy_reference(words):
    pytest.importorskip("numba")
    from commons.sim._philox import philox, uniforms

    c0, c1, c2, c3, k0, k1 = (np.uint64(w) for w in words)
    assert [int(v) for v in philox(c0, c1, c2, c3, k0, k1)] == \
        [int(v) for v in philox4x32(c0, c1, c2, c3, k0, k1)]
    keys = np.array([[k0, k1]], dtype=np.uint64)
    got = uniforms(keys, int(c1), int(c2), 3, int(c3))
    ref = np.stack(philox4x32(np.arange(3, dtype=np.uint64), c1, c2, c3, k0, k1), axis=-1)
    np.testing.assert_array_equal(got[0], (ref.astype(np.float64) + 0.5) / 2.0**32)


@cache
def _packed_draws(numba, packed, held):
    @numba.njit
    def draw(rng, t, block, n):
        return np.array([packed(k, t, rng, block) for k in range(n)])

    @numba.njit
    def pairs(rng, t, block, n, skip):  # two numbers per item, drawn where not skipped
        out = np.full((n, 2), np.nan)
        g, v = -1, (0.5, 0.5, 0.5, 0.5)
        for k in range(n):
            if k % skip != 0:
                g, v = held(g, v, k, 1, t, rng, block)
                out[k, 0] = v[2 * (k & 1)]
                out[k, 1] = v[2 * (k & 1) + 1]
        return out
    return draw, pairs


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 60),
       st.integers(0, 3), st.integers(0, 2), st.integers(1, 4))
def test_packed_uniforms_are_the_reference_words_four_to_a_block(k0, k1, t, stream, block,
                                                                 skip):
    # item k of a packed stream of one number is word k % 4 of the block at counter k // 4;
    # of two numbers, words 2 (k % 2) and 2 (k % 2) + 1 of block k // 2: in compiled code
    # (whichever items draw) and on the numpy path, from the numpy reference of Philox
    numba = pytest.importorskip("numba")
    from commons.sim._jit import held, packed
    from commons.sim.engine import Context

    n = 11
    keys = np.array([[k0, k1]], dtype=np.uint64)
    words = np.stack(philox4x32(np.arange(6, dtype=np.uint64)[:, None], np.uint64(t + 1),
                                np.uint64(stream), np.uint64(block), np.uint64(k0),
                                np.uint64(k1)), axis=-1)
    flat = (words.reshape(-1).astype(np.float64) + 0.5) / 2.0**32
    want, want2 = flat[:n], flat[:2 * n].reshape(n, 2)
    draw, pairs = _packed_draws(numba, packed, held)
    rng = (np.uint64(k0), np.uint64(k1), np.uint64(stream))
    np.testing.assert_array_equal(draw(rng, t, block, n), want)
    got = pairs(rng, t, block, n, skip)
    drawn = np.arange(n) % skip != 0
    np.testing.assert_array_equal(got[drawn], want2[drawn])
    ctx = SimpleNamespace(streams=Streams(keys), t=t, stream_ids={"p": stream}, N=n)
    ctx.uniforms = partial(Context.uniforms, ctx)
    np.testing.assert_array_equal(Context.packed_uniforms(ctx, "p", n, block)[0], want)
    np.testing.assert_array_equal(Context.packed_uniforms(ctx, "p", n, block, width=2)[0],
                                  want2)
    assert Context.packed_uniforms(ctx, "p", 0, block).shape == (1, 0)
    with pytest.raises(ValueError, match="width"):
        Context.packed_uniforms(ctx, "p", n, block, width=3)
    with pytest.raises(ValueError, match="n must be"):
        Context.packed_uniforms(ctx, "p", -1, block)


@cache
def _filled(numba, fill):
    @numba.njit
    def filled(rng, t, block, k0, k1, n):
        out = np.full(n, -1.0)
        fill(out, k0, k1, t, rng, block)
        return out
    return filled


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 60),
       st.integers(0, 3), st.integers(0, 2), st.integers(0, 30), st.integers(0, 30))
@example(1, 2, 0, 0, 0, 0, 24)  # whole blocks only
@example(1, 2, 0, 0, 0, 5, 2)  # within one block
@example(1, 2, 0, 0, 0, 3, 21)  # a part block at each end
def test_filled_numbers_are_the_packed_stream_and_nothing_else(k0, k1, t, stream, block, lo, n):
    # fill writes number k of a stream packed four to a block (word k % 4 of the block at
    # counter k // 4) for lo <= k < hi, and nothing outside, from the numpy reference
    numba = pytest.importorskip("numba")
    from commons.sim._jit import fill

    hi, size = lo + n, lo + n + 5
    words = np.stack(philox4x32(np.arange(size // 4 + 1, dtype=np.uint64)[:, None],
                                np.uint64(t + 1), np.uint64(stream), np.uint64(block),
                                np.uint64(k0), np.uint64(k1)), axis=-1)
    flat = (words.reshape(-1).astype(np.float64) + 0.5) / 2.0**32
    want = np.full(size, -1.0)
    want[lo:hi] = flat[lo:hi]
    rng = (np.uint64(k0), np.uint64(k1), np.uint64(stream))
    np.testing.assert_array_equal(_filled(numba, fill)(rng, t, block, lo, hi, size), want)


def test_fill_refuses_a_row_too_short_for_its_numbers():
    # compiled code does not check its writes: a short scratch row would be overrun
    numba = pytest.importorskip("numba")
    from commons.sim._jit import fill

    filled = _filled(numba, fill)
    rng = (np.uint64(1), np.uint64(2), np.uint64(0))
    with pytest.raises(IndexError, match="shorter than k1"):
        filled(rng, 0, 0, 0, 9, 8)
    np.testing.assert_array_equal(filled(rng, 0, 0, 8, 8, 8), np.full(8, -1.0))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 40),
       st.sampled_from([1, 2, 4]), st.integers(0, 12), st.integers(0, 12), st.integers(0, 2),
       st.integers(0, 12))
@example(5, 6, 0, 4, 0, 7, 1, 0)  # blocks of four, every item
@example(5, 6, 0, 2, 3, 5, 0, 0)  # two items to a block, from an odd item: a half block first
@example(5, 6, 0, 4, 9, 3, 2, 9)  # a window: items 9..11 in the first rows
def test_filled_items_are_their_numbers_of_the_stream(k0, k1, t, w, i0, n, r, at):
    # fill_items(u, r, i0, i1, ..., at) gives item i of replicate r, in row i - at, the
    # stream's numbers w i .. w i + w - 1 (from the numpy reference) and touches no other row
    # or replicate
    numba = pytest.importorskip("numba")
    from commons.sim._jit import fill_items

    at = min(at, i0)

    @numba.njit
    def filled(u, r, i0, i1, t, rng):
        fill_items(u, r, i0, i1, t, rng, 0, at)

    i1, N = i0 + n, i0 + n + 3
    words = np.stack(philox4x32(np.arange(w * N // 4 + 1, dtype=np.uint64)[:, None],
                                np.uint64(t + 1), np.uint64(9), np.uint64(0), np.uint64(k0),
                                np.uint64(k1)), axis=-1)
    flat = (words.reshape(-1).astype(np.float64) + 0.5) / 2.0**32
    want = np.full((3, N, w), -1.0)
    want[r, i0 - at:i1 - at] = flat[w * i0:w * i1].reshape(n, w)
    u = np.full((3, N, w), -1.0)
    filled(u, r, i0, i1, t, (np.uint64(k0), np.uint64(k1), np.uint64(9)))
    np.testing.assert_array_equal(u, want)


@pytest.mark.statistical
def test_uniforms_are_uniform_and_in_the_open_interval(seed):
    # statistic: the Kolmogorov–Smirnov test of 80 000 uniforms, at level 1e-4
    s = Streams(replicate_keys(seed, np.arange(50)))
    u = s.uniforms(3, 1, 400)
    assert u.shape == (50, 400, 4)
    assert np.all(u > 0)
    assert np.all(u < 1)
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-4


@pytest.mark.statistical
def test_streams_differ_by_round_stream_replicate_and_point(seed):
    keys = replicate_keys(seed, [0, 1])
    s = Streams(keys)
    base = s.uniforms(0, 1, 10)
    assert not np.array_equal(base, s.uniforms(1, 1, 10))
    assert not np.array_equal(base, s.uniforms(0, 2, 10))
    assert not np.array_equal(base[0], base[1])
    other_point = Streams(replicate_keys(seed, [0, 1], point=1)).uniforms(0, 1, 10)
    assert not np.array_equal(base, other_point)
    # statistic: the correlation of 10 000 pairs has standard error 0.01; 0.05 is 5 of them
    u = s.uniforms(0, 1, 10000)
    assert abs(np.corrcoef(u[0, :, 0], u[1, :, 0])[0, 1]) < 0.05


def test_a_subset_of_replicates_sees_the_same_numbers():
    keys = replicate_keys(9, np.arange(6))
    full = Streams(keys).uniforms(7, 3, 20)
    part = Streams(replicate_keys(9, [4, 5])).uniforms(7, 3, 20)
    np.testing.assert_array_equal(full[4:], part)


def test_keys_follow_seedsequence_spawn_keys():
    k = replicate_keys(42, [3], point=2)
    expect = np.random.SeedSequence(42, spawn_key=(2, 3)).generate_state(2, np.uint32)
    assert k[0].tolist() == expect.tolist()


def test_resolve_seed():
    assert resolve_seed(7) == (7, ())
    ss = np.random.SeedSequence(11, spawn_key=(4,))
    assert resolve_seed(ss) == (11, (4,))
    a = resolve_seed(np.random.default_rng(3))
    b = resolve_seed(np.random.default_rng(3))
    assert a == b
    assert resolve_seed(None)[0] != resolve_seed(None)[0]
    with pytest.raises(TypeError, match="rng must be"):
        resolve_seed("seed")
    with pytest.raises(ValueError, match="non-negative"):
        resolve_seed(-1)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(1e-300, 1.0, exclude_max=True),
                 st.integers(0, 2**32 - 1).map(lambda w: (w + 0.5) / 2.0**32)))
@example(0.075)  # the edges of the centre (|p - 1/2| = 0.425) and of the far tail (r = 5)
@example(0.925)
@example(1.3887943864964021e-11)
@example(0.5)
def test_the_normal_quantile_is_scipys_and_the_same_bits_compiled(p):
    # z = Phi^-1(p) to 1e-15 relative (scipy's ndtri, an independent implementation), and the
    # compiled form the plug-ins call gives the numpy form's bits
    from scipy.special import ndtri

    from commons.sim._jit import normal
    from commons.sim.streams import normal_quantile

    z = float(normal_quantile(np.array([p]))[0])
    assert z == pytest.approx(float(ndtri(p)), rel=4e-15, abs=1e-300)
    assert float(normal_quantile(p)) == z
    numba = pytest.importorskip("numba")
    assert _compiled_normal(numba, normal)(p) == z


@cache
def _compiled_normal(numba, normal):
    return numba.njit(lambda p: normal(p))
