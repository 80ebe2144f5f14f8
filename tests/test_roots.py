"""The compiled bracketed root (Chandrupatla) and the best replies it gives on power and
exponential stage games."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

import commons
from commons.sim import _curves
from commons.sim._jit import HAVE_NUMBA, jitable
from commons.sim._roots import XATOL, XRTOL, bracketed_root
from commons.sim.replies import _curve_reply


@jitable
def _cubic(x, args):
    """x**3 + p x - c with p > 0: strictly increasing, one real root."""
    p, c = args
    return x * x * x + p * x - c


@jitable
def _saturating(x, args):
    """a (1 - exp(-k x)) - b x - c: concave, so decreasing past its peak."""
    a, k, b, c = args
    return a * -math.expm1(-k * x) - b * x - c


@jitable
def _holed(x, args):
    """A sign change at 0 with NaN everywhere inside (0.25, 0.75)."""
    return math.nan if 0.25 < x < 0.75 else x - 0.5


cubic_root = bracketed_root(_cubic)
saturating_root = bracketed_root(_saturating)
holed_root = bracketed_root(_holed)


def _cubic_root_loop(lo, hi, p, c):
    return cubic_root(lo, hi, (p, c), XATOL, XRTOL, 500)


_compiled_cubic_root = (_cubic_root_loop if not HAVE_NUMBA
                        else __import__("numba").njit(_cubic_root_loop))


def _close(x, y):
    return abs(x - y) <= 8 * np.finfo(float).eps * max(abs(x), abs(y)) + 1e-300


generic = st.floats(-1e3, 1e3).filter(lambda v: abs(v) > 1e-9)  # roots away from 0


@settings(max_examples=200)
@given(st.floats(0.01, 100.0), generic, st.floats(0.0, 50.0), st.floats(0.0, 50.0))
def test_the_root_of_a_cubic_is_scipy_brentq_root(p, c, below, above):
    # the root r of x^3 + p x = c; any bracket [r - below, r + above] holding it
    r = brentq(_cubic, -20.0, 20.0, args=((p, c),), xtol=1e-300, rtol=4 * np.finfo(float).eps)
    lo, hi = r - below - 1e-3, r + above + 1e-3
    x = cubic_root(lo, hi, (p, c), XATOL, XRTOL, 500)
    assert lo <= x <= hi
    ref = brentq(_cubic, lo, hi, args=((p, c),), xtol=1e-300, rtol=4 * np.finfo(float).eps)
    assert abs(x - ref) <= 1e-12 * (1 + abs(ref))
    # the bracket it returns from straddles the root: f changes sign within a few ulps
    step = 16 * np.finfo(float).eps * max(abs(x), 1e-290) + 1e-300
    assert _cubic(x - step, (p, c)) <= 0.0 <= _cubic(x + step, (p, c))


@settings(max_examples=200)
@given(st.floats(0.5, 100.0), st.floats(0.01, 5.0), st.floats(0.01, 10.0),
       st.floats(0.05, 0.9), st.floats(0.0, 1.0))
def test_a_decreasing_root_matches_scipy(a, k, b, share, where):
    # past the peak at x* = ln(a k / b) / k the function decreases to -inf: bracket
    # [x*, x* + far] around the root where it falls to c = share * f(x*)
    assume(a * k > 1.01 * b)
    peak = math.log(a * k / b) / k
    top = _saturating(peak, (a, k, b, 0.0))
    assume(top > 1e-6)
    c = share * top
    far = peak + (a + c) / b + 1.0
    lo = peak * where
    assume(_saturating(lo, (a, k, b, c)) > 1e-9 * top)  # a clear sign change
    x = saturating_root(lo, far, (a, k, b, c), XATOL, XRTOL, 500)
    ref = brentq(_saturating, lo, far, args=((a, k, b, c),), xtol=1e-300,
                 rtol=4 * np.finfo(float).eps)
    assert abs(x - ref) <= 1e-11 * (1 + abs(ref))


@settings(max_examples=50)
@given(st.floats(0.01, 100.0), generic, st.floats(-30.0, 30.0),
       st.floats(-30.0, 30.0))
def test_compiled_and_python_give_the_same_bits(p, c, a, b):
    lo, hi = min(a, b), max(a, b)
    assume(_cubic(lo, (p, c)) * _cubic(hi, (p, c)) < 0)
    assert _compiled_cubic_root(lo, hi, p, c) == cubic_root(lo, hi, (p, c), XATOL, XRTOL, 500)


def test_the_ends_may_come_in_either_order_and_an_end_may_be_the_root():
    x = cubic_root(3.0, -3.0, (1.0, 2.0), XATOL, XRTOL, 500)  # x^3 + x = 2: x = 1
    assert _close(x, 1.0)
    assert cubic_root(1.0, 5.0, (1.0, 2.0), XATOL, XRTOL, 500) == 1.0


@pytest.mark.parametrize("solve", [lambda: cubic_root(2.0, 3.0, (1.0, 2.0), XATOL, XRTOL, 50),
                                   lambda: _compiled_cubic_root(2.0, 3.0, 1.0, 2.0)])
def test_a_bracket_without_a_sign_change_is_refused(solve):
    with pytest.raises(ValueError, match="opposite signs"):
        solve()


def test_nan_is_refused_at_the_ends_and_inside():
    with pytest.raises(ValueError, match="opposite signs"):
        cubic_root(math.nan, 3.0, (1.0, 2.0), XATOL, XRTOL, 50)
    with pytest.raises(ValueError, match="NaN inside the bracket"):
        holed_root(0.0, 1.0, (), XATOL, XRTOL, 50)


def test_the_iterations_are_bounded():
    # three evaluations cannot reach the tolerance, yet the answer stays in the bracket
    x = cubic_root(-100.0, 100.0, (1.0, 2.0), XATOL, XRTOL, 3)
    assert -100.0 <= x <= 100.0
    assert abs(x - 1.0) > 1e-6


# ---------------------------------------------------------------- best replies
def _marginal(kind, A, s, w, Y, theta, N, z, charge):
    """d/dz of (1 - theta) u_i + theta (1/N) sum_j u_j minus ``charge`` per unit, from the
    payoff u_i = w (e - z) + z F(X) / X (X = z + Y) and sum_j u_j = w (E - X) + F(X):
    (1 - theta) (AP(X) + z AP'(X) - w) + (theta / N) (F'(X) - w) - charge, with
    AP' = (F' - AP) / X."""
    X = z + Y
    if X == 0:  # F'(0) is infinite for a power s < 1 (and X**(s - 1) would raise)
        return math.inf if kind == _curves.POWER else (A * s - w) - charge
    if kind == _curves.POWER:
        F, dF = A * X**s, s * A * X ** (s - 1)
    else:
        F, dF = A * (1 - math.exp(-s * X)), A * s * math.exp(-s * X)
    ap = F / X
    own = ap + z * (dF - ap) / X - w
    return (1 - theta) * own + theta / N * (dF - w) - charge


curves = st.one_of(
    st.tuples(st.just(_curves.POWER), st.floats(1.0, 50.0), st.floats(0.1, 0.9)),
    st.tuples(st.just(_curves.EXPONENTIAL), st.floats(5.0, 200.0), st.floats(0.005, 0.5)))


@settings(max_examples=300)
@example(curve=(_curves.EXPONENTIAL, 5.0, 0.5), w=1.0, Y=5e-324, theta=0.0, share=1.0, fee=0.0,
         fine=0.0, e=2.0, N=2)  # others' draw subnormal: k X underflowed and AP(X) came out 0
@example(curve=(_curves.POWER, 1.0, 0.75), w=1.0, Y=0.0, theta=1.0, share=0.0, fee=0.0,
         fine=6.0, e=1.0, N=23)  # a reply of 0 beside others' 0: the marginal at X = 0
@example(curve=(_curves.EXPONENTIAL, 65.0, 0.0078125), w=0.75, Y=5e-324, theta=0.0, share=0.0,
         fee=0.0, fine=0.0, e=1.0, N=2)  # others' draw subnormal: Y AP(X) rounded to Y, and
# the slope at 0 (AP - w < 0) came out 1 - w > 0: a reply of 9e-308, not the corner
@example(curve=(_curves.EXPONENTIAL, 65.0, 0.0078125), w=0.75, Y=5e-324, theta=0.0,
         share=1.1125369292536007e-308, fee=0.0, fine=0.0, e=1.0, N=2)  # the same, quota tiny
@given(curves, st.floats(0.5, 10.0), st.floats(0.0, 100.0), st.floats(0.0, 1.0),
       st.floats(0.0, 1.0), st.floats(0.0, 3.0), st.floats(0.0, 10.0), st.floats(0.5, 60.0),
       st.integers(2, 40))
def test_the_best_reply_meets_the_first_order_conditions(curve, w, Y, theta, share, fee,
                                                         fine, e, N):
    # the objective is concave in z, with the charge per unit rising from fee to fee + fine at
    # the quota q: an interior reply is a root of the marginal payoff, a reply at a bound has
    # the marginal payoff pointing out of the interval, and the quota is kept when the
    # marginal payoff lies between the two charges there
    kind, A, s = curve
    q = share * e
    z = _curve_reply(kind, A, s, w, Y, theta, q, fee, fine, e, N)
    assert 0.0 <= z <= e

    def g(x, charge):
        return _marginal(kind, A, s, w, Y, theta, N, x, charge)

    d = 1e-9 * max(z, 1.0)
    if z < q:
        charge = fee
    elif z > q:
        charge = fee + fine
    else:  # at the quota: the reply of each side reaches it
        assert q == 0.0 or g(q - d, fee) >= -1e-9
        if q < e:
            assert g(q + d, fee + fine) <= 1e-9
        return
    if z > 0:
        assert g(max(z - d, 0.0), charge) >= -1e-9 or z == q
    if z < e:
        assert g(z + d, charge) <= 1e-9


N_GAME = 8


@pytest.mark.parametrize("production", [commons.Power(20.0, 0.6),
                                        commons.Exponential(150.0, 0.02)])
@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_a_best_responding_model_replies_as_the_exact_game(production, engine):
    # with revision probability 1, no noise, no prosociality and no quota, the draws of round
    # t + 1 are the exact game's best replies (SciPy's root) to the draws of round t
    rng = np.random.default_rng(3)
    game = commons.CPRGame(N_GAME, production, 2.0, rng.uniform(5.0, 40.0, N_GAME))
    model = commons.Model(N_GAME, network=nx.cycle_graph(N_GAME),
                          technology=commons.StageGame(game),
                          rule=commons.BestResponse(1.0, 0.0))
    res = model.run(4, 2, rng=1, record="full", engine=engine)
    assert res.provenance["engine"] in (("numpy",) if engine == "numpy" else ("numba", "mixed"))
    x = res.full["draws"]
    for t in range(3):
        np.testing.assert_allclose(x[:, t + 1], game.best_response(x[:, t]), rtol=1e-10,
                                   atol=1e-10)
