"""Grim trigger with Nash reversion: the critical discount factor (REFERENCES section 5)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import commons
from commons.testing import games


@given(st.integers(2, 100), st.floats(2, 100), st.floats(0.01, 5), st.floats(0, 0.9))
def test_interior_threshold_is_independent_of_the_game(n, a, b, frac):
    w = frac * a
    game = commons.CPRGame(n, commons.Quadratic(a, b), w, 10 * (a - w) / b)
    assert commons.critical_discount_factor(game).delta == pytest.approx(
        (n + 1) ** 2 / (n**2 + 6 * n + 1), rel=1e-9)


@given(st.integers(2, 30), st.floats(0.05, 0.95))
def test_capped_deviation_threshold(n, t):
    # endowment e between the Nash draw x_N and the interior deviation x_d: Nash stays
    # interior but the deviation is capped at e
    a, b, w = 23.0, 0.25, 5.0
    A = a - w
    x_opt = A / (2 * b * n)
    x_nash = A / (b * (n + 1))
    x_dev = A * (n + 1) / (4 * b * n)
    e = x_nash + t * (x_dev - x_nash)
    Y = (n - 1) * x_opt
    pi_o = A**2 / (4 * b * n)
    pi_n = A**2 / (b * (n + 1) ** 2)
    pi_d = e * (A - b * (Y + e))
    game = commons.CPRGame(n, commons.Quadratic(a, b), w, e)
    res = commons.critical_discount_factor(game)
    assert res.delta == pytest.approx((pi_d - pi_o) / (pi_d - pi_n), rel=1e-9)
    np.testing.assert_allclose(res.deviation_draws, e)
    # a binding cap lowers the threshold below the interior one
    assert res.delta < (n + 1) ** 2 / (n**2 + 6 * n + 1)


def test_ogw_thresholds_from_the_payoffs():
    # cents above w e: pi_o = 40.5, pi_N = 16; e = 25 deviation 20.25, e = 10 capped at 10
    a, b, w, N = 23, 0.25, 5, 8
    A = a - w
    pi_o, pi_n = A**2 / (4 * b * N), A**2 / (b * (N + 1) ** 2)
    Y = (N - 1) * A / (2 * b * N)
    for e in (25, 10):
        xd = min(e, (A - b * Y) / (2 * b))
        pi_d = xd * (A - b * (Y + xd))
        game = commons.CPRGame(N, commons.Quadratic(a, b), w, e)
        assert float(commons.critical_discount_factor(game)) == pytest.approx(
            (pi_d - pi_o) / (pi_d - pi_n), rel=1e-12)


@given(games(min_n=2, max_n=30))
def test_each_threshold_makes_its_organisation_indifferent(game):
    res = commons.critical_discount_factor(game)
    x = res.cooperative.draws
    pi_o = res.cooperative.payoffs
    pi_n = res.punishment.payoffs
    pi_d = res.deviation_payoffs
    # the deviation is the best reply to the others at the optimum
    assert np.all(pi_d >= pi_o - 1e-9 * (1 + np.abs(pi_o)))
    assert np.all(res.deviation_draws <= game.endowment)
    for i, d in enumerate(res.per_organisation):
        if 0 < d < 1:
            stay = pi_o[i] / (1 - d)
            leave = pi_d[i] + d * pi_n[i] / (1 - d)
            assert stay == pytest.approx(leave, rel=1e-7)
    assert res.sustainable == (res.delta < 1)
    assert np.all(x >= 0)


def test_single_organisation_needs_no_patience():
    game = commons.CPRGame(1, commons.Quadratic(23, 0.25), 5, 25)
    res = commons.critical_discount_factor(game)
    assert res.delta == 0.0
    assert res.sustainable


def test_unsustainable_optimum_reports_infinity():
    # proportional split gives the small organisation less than it earns in Nash
    game = commons.CPRGame(2, commons.Quadratic(23, 0.25), 5, np.array([1.0, 100.0]))
    res = commons.critical_discount_factor(game, allocation="proportional")
    assert res.delta == math.inf
    assert not res.sustainable
    assert res.cooperative.payoffs[0] < res.punishment.payoffs[0]


def test_grim_trigger_sustains():
    game = commons.CPRGame(8, commons.Quadratic(23, 0.25), 5, 25)
    d = commons.critical_discount_factor(game).delta
    assert commons.grim_trigger_sustains(game, min(d + 1e-6, 0.999))
    assert not commons.grim_trigger_sustains(game, d - 1e-6)
    for bad in (0.0, 1.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match="discount_factor must be"):
            commons.grim_trigger_sustains(game, bad)
