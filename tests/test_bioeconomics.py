"""Gordon–Schaefer steady states against closed forms, the golden rule and the ODE."""

import math
import sys

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import commons

fisheries = st.builds(
    lambda r, K, q, p, s: commons.GordonSchaefer(r, K, q, p, s * p * q * K),
    st.floats(0.05, 2.0), st.floats(1.0, 1e4), st.floats(1e-4, 1.0), st.floats(0.1, 10.0),
    st.just(0.0) | st.floats(0.01, 0.95))


@given(fisheries)
def test_closed_form_steady_states(f):
    r, K, q, p, c = f.r, f.K, f.q, f.price, f.cost
    s = c / (p * q * K)
    msy, mey, oa = f.msy(), f.mey(), f.open_access()
    assert msy.stock == pytest.approx(K / 2)
    assert msy.harvest == pytest.approx(r * K / 4)
    assert msy.effort == pytest.approx(r / (2 * q))
    assert mey.stock == pytest.approx(K * (1 + s) / 2)
    assert mey.effort == pytest.approx(oa.effort / 2)
    assert oa.stock == pytest.approx(c / (p * q), abs=1e-9 * K)
    assert oa.rent == pytest.approx(0, abs=1e-9 * p * r * K)
    # MEY maximises the steady rent: a nearby effort earns less
    for E in (0.9 * mey.effort, 1.1 * mey.effort):
        assert f.at_effort(E).rent <= mey.rent + 1e-12 * abs(mey.rent)


@given(fisheries, st.integers(1, 200))
def test_nash_effort_and_rent_fraction(f, n):
    s = f.cost_price_ratio
    nash = f.nash(n)
    assert nash.effort == pytest.approx((f.r / f.q) * (1 - s) * n / (n + 1), rel=1e-10)
    assert nash.rent / f.mey().rent == pytest.approx(4 * n / (n + 1) ** 2, rel=1e-8)


def golden_rule_stock(f, delta):
    """Independent oracle: root of F'(X) - c'(X) F(X) / (p - c(X)) = delta."""
    r, K, q, p, c = f.r, f.K, f.q, f.price, f.cost

    def g(X):
        F = r * X * (1 - X / K)
        Fp = r * (1 - 2 * X / K)
        cx = c / (q * X)
        cpx = -c / (q * X * X)
        return Fp - cpx * F / (p - cx) - delta

    return brentq(g, c / (p * q) * (1 + 1e-12), K, xtol=1e-13)


@given(fisheries, st.floats(0.0, 5.0))
@example(commons.GordonSchaefer(0.625, 9008.0, 1.0, 1.0, 0.0), 0.9999999999999999)  # X ~ 1e-12
def test_clark_matches_the_golden_rule(f, frac):
    delta = frac * f.r
    if f.cost == 0:  # c(X) = 0: the golden rule reduces to F'(X) = delta
        X = max(f.K * (1 - delta / f.r) / 2, 0.0)
        if X == 0:
            return
    else:
        X = golden_rule_stock(f, delta)
    # the steady state is held at X through its effort, E = r (1 - X/K) / q, and X is read
    # back from E: below K eps the stock is lost to that rounding, whatever the formula
    assert f.clark(delta).stock == pytest.approx(X, rel=1e-7, abs=8 * f.K * sys.float_info.epsilon)


def test_clark_limits():
    f = commons.GordonSchaefer(0.5, 100, 0.01, 1, 0.3)
    assert f.clark(0).stock == pytest.approx(f.mey().stock)
    assert f.clark(1e7).stock == pytest.approx(f.open_access().stock, rel=1e-5)


def test_ode_at_open_access_effort_settles_at_the_bionomic_stock():
    f = commons.GordonSchaefer(0.5, 100, 0.01, 1, 0.3)
    E = f.open_access().effort
    sol = solve_ivp(lambda t, X: f.r * X * (1 - X / f.K) - f.q * E * X, (0, 400), [f.K],
                    rtol=1e-10, atol=1e-12)
    assert sol.y[0, -1] == pytest.approx(f.cost / (f.price * f.q), rel=1e-6)


def test_game_is_the_structural_identity():
    f = commons.GordonSchaefer(0.5, 100, 0.01, 1, 0.3)
    game = f.game(5)
    E = [3.0, 4.0, 5.0, 6.0, 7.0]
    X = f.stock_at_effort(sum(E))
    expect = [f.price * f.q * e * X - f.cost * e for e in E]
    got = game.excess_payoffs(E)
    assert list(got) == pytest.approx(expect)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"r": -1}, "r must be > 0"),
    ({"K": 0}, "K must be > 0"),
    ({"cost": 1.5}, "cost must be < price"),
    ({"cost": -0.1}, "cost must be >= 0"),
    ({"price": math.nan}, "price must be finite"),
])
def test_bad_fishery(kwargs, match):
    args = {"r": 0.5, "K": 100, "q": 0.01, "price": 1, "cost": 0.3} | kwargs
    with pytest.raises(ValueError, match=match):
        commons.GordonSchaefer(**args)


def test_bad_discount_rate_and_firms():
    f = commons.GordonSchaefer(0.5, 100, 0.01, 1, 0.3)
    with pytest.raises(ValueError, match="discount_rate must be >= 0"):
        f.clark(-0.1)
    with pytest.raises(ValueError, match="n_firms must be >= 1"):
        f.nash(0)
