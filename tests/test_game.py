"""The stage game: payoffs, best replies and bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

import commons
from commons.testing import games

OGW = commons.CPRGame(8, commons.Quadratic(23, 0.25), 5, 25)


def test_ogw_payoffs_from_the_linear_form():
    # u_i = w e + x_i (a - w - b X): at Nash (8 each) 125 + 8 (18 - 16) = 141
    a, b, w, e = 23, 0.25, 5, 25
    for x in (8.0, 4.5, 9.0):
        X = 8 * x
        assert OGW.payoffs([x] * 8) == pytest.approx(w * e + x * (a - w - b * X))


@given(games(max_n=12), st.integers(0, 2**32 - 1))
def test_batched_payoffs_equal_the_formula_profile_by_profile(game, seed):
    rng = np.random.default_rng(seed)
    draws = rng.uniform(0, 1, (3, 4, game.n)) * game.endowment
    draws[0, 0] = 0.0  # nobody draws: X = 0
    got = game.payoffs(draws)
    F, w, e = game.production, game.outside_return, game.endowment
    for idx in np.ndindex(3, 4):
        x = draws[idx]
        X = x.sum()
        share = np.divide(x, X, out=np.zeros_like(x), where=X > 0)
        expect = w * (e - x) + share * float(F.value(X))
        np.testing.assert_allclose(got[idx], expect, rtol=1e-10, atol=1e-10)
    # accounting: total payoff = outside option + production
    np.testing.assert_allclose(got.sum(-1), w * (e.sum() - draws.sum(-1))
                               + F.value(draws.sum(-1)), rtol=1e-10, atol=1e-9)


@given(games(max_n=6), st.integers(0, 2**32 - 1))
def test_best_response_beats_a_bounded_scalar_search(game, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, game.n) * game.endowment
    br = game.best_response(x)
    assert np.all(br >= 0)
    assert np.all(br <= game.endowment)
    for i in range(game.n):
        def neg(z, i=i):
            y = x.copy()
            y[i] = z
            return -game.payoffs(y)[i]
        if game.endowment[i] == 0:
            continue
        res = minimize_scalar(neg, bounds=(0, game.endowment[i]), method="bounded",
                              options={"xatol": 1e-12})
        best_search = max(-res.fun, -neg(0.0), -neg(game.endowment[i]))
        y = x.copy()
        y[i] = br[i]
        assert game.payoffs(y)[i] >= best_search - 1e-9 * (1 + abs(best_search))


def test_regret_of_the_optimum_is_the_temptation():
    # Symmetric interior deviation: pi_d - pi_o = A^2 (N-1)^2 / (16 b N^2) (REFERENCES 5)
    a, b, w, N = 23, 0.25, 5, 8
    A = a - w
    x_opt = A / (2 * b * N)
    assert OGW.regret([x_opt] * N) == pytest.approx(A**2 * (N - 1) ** 2 / (16 * b * N**2))


def test_regret_is_batched():
    r = OGW.regret(np.array([[8.0] * 8, [4.5] * 8]))
    assert r.shape == (2,)
    assert r[0] == pytest.approx(0, abs=1e-12)
    assert r[1] > 1


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"n": 0}, ValueError, "n must be >= 1"),
    ({"n": 2.5}, TypeError, "n must be an integer"),
    ({"outside_return": -1}, ValueError, "outside_return must be >= 0"),
    ({"outside_return": float("nan")}, ValueError, "outside_return must be finite"),
    ({"endowment": [1, 2, 3]}, ValueError, r"endowment must be a scalar or have shape \(8,\)"),
    ({"endowment": -1}, ValueError, "endowment must be >= 0"),
    ({"endowment": [1] * 7 + [np.nan]}, ValueError, "endowment must be finite"),
    ({"production": lambda X: X}, TypeError, "production must be a commons.Production"),
])
def test_bad_game_input(kwargs, exc, match):
    args = {"n": 8, "production": commons.Quadratic(23, 0.25), "outside_return": 5,
            "endowment": 25} | kwargs
    with pytest.raises(exc, match=match):
        commons.CPRGame(**args)


@pytest.mark.parametrize(("draws", "match"), [
    ([1.0] * 7, r"draws must have shape \(\.\.\., 8\)"),
    ([26.0] + [1.0] * 7, "must not exceed the endowments"),
    ([-1.0] + [1.0] * 7, "draws must be >= 0"),
    ([np.inf] + [1.0] * 7, "draws must be finite"),
])
def test_bad_draws(draws, match):
    with pytest.raises(ValueError, match=match):
        OGW.payoffs(draws)


def test_endowment_is_read_only():
    with pytest.raises(ValueError, match="read-only"):
        OGW.endowment[0] = 3.0
