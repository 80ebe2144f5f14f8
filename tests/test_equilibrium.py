"""Nash, optimum and open access against closed forms, properties and brute force."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

import commons
from commons.testing import games

REGRET_TOL = 1e-9


def quadratic_game(n, a, b, w, e):
    return commons.CPRGame(n, commons.Quadratic(a, b), w, e)


@given(st.integers(1, 60), st.floats(2, 100), st.floats(0.01, 5), st.floats(0, 0.9))
def test_symmetric_quadratic_closed_forms(n, a, b, frac):
    w = frac * a
    A = a - w
    game = quadratic_game(n, a, b, w, 10 * A / b)  # endowment never binds
    nash, opt, oa = (commons.nash_equilibrium(game), commons.social_optimum(game),
                     commons.open_access(game))
    # x_N = (a - w) / (b (N + 1)); X* = (a - w) / (2b); X0 = (a - w) / b   (REFERENCES 1.2)
    np.testing.assert_allclose(nash.draws, A / (b * (n + 1)), rtol=1e-12)
    assert opt.total == pytest.approx(A / (2 * b), rel=1e-12)
    assert oa.total == pytest.approx(A / b, rel=1e-12)
    # maximum rent (a - w)^2 / (4b), rent at Nash / max = 4N / (N + 1)^2
    assert opt.rent == pytest.approx(A**2 / (4 * b), rel=1e-12)
    assert nash.efficiency == pytest.approx(4 * n / (n + 1) ** 2, rel=1e-10)
    assert oa.rent == pytest.approx(0, abs=1e-9 * A**2 / b)
    # Hardin's ratio X_N / X* = 2N / (N + 1)
    assert nash.total / opt.total == pytest.approx(2 * n / (n + 1), rel=1e-12)
    assert nash.regret <= REGRET_TOL


def test_ogw_earnings_from_the_formulas():
    # per-subject excess at optimum A^2/(4bN), at Nash A^2/(b (N+1)^2)  (REFERENCES 1.2)
    a, b, w, N = 23, 0.25, 5, 8
    A = a - w
    for e in (10, 25):
        game = quadratic_game(N, a, b, w, e)
        nash, opt = commons.nash_equilibrium(game), commons.social_optimum(game)
        np.testing.assert_allclose(opt.payoffs, w * e + A**2 / (4 * b * N))
        np.testing.assert_allclose(nash.payoffs, w * e + A**2 / (b * (N + 1) ** 2))


@given(st.integers(1, 50), st.floats(0.2, 10), st.floats(0.1, 0.9), st.floats(0.05, 5))
def test_symmetric_power_closed_form(n, A, alpha, w):
    # share 1/n = (1 - w X^(1-alpha) / A) / (1 - alpha)
    #   =>  X_N = ((A / w) (1 - (1 - alpha) / n))^(1 / (1 - alpha))
    X = ((A / w) * (1 - (1 - alpha) / n)) ** (1 / (1 - alpha))
    game = commons.CPRGame(n, commons.Power(A, alpha), w, 10 * X)
    eq = commons.nash_equilibrium(game)
    assert eq.total == pytest.approx(X, rel=1e-11)
    assert eq.regret <= REGRET_TOL * max(1.0, eq.rent)


def quadratic_capped_nash(a, b, w, e):
    """Independent oracle: enumerate how many of the smallest endowments bind.

    Uncapped players satisfy a - w - b X - b x = 0, so x_u = A/b - X; with C the capped total
    and m uncapped players, X = (C + m A / b) / (1 + m).
    """
    A = a - w
    es = np.sort(e)
    n = len(e)
    for k in range(n + 1):
        C, m = es[:k].sum(), n - k
        X = (C + m * A / b) / (1 + m)
        xu = A / b - X
        if (k == 0 or es[k - 1] <= xu + 1e-12) and (k == n or xu <= es[k] + 1e-12):
            return np.minimum(e, max(xu, 0.0))
    raise AssertionError("no consistent capped set")


@given(st.integers(1, 30), st.integers(0, 2**32 - 1))
@example(n=3, seed=0)
def test_heterogeneous_quadratic_against_enumeration(n, seed):
    rng = np.random.default_rng(seed)
    a, b, w = 23, 0.25, 5
    e = rng.uniform(0.1, 2.5, n) * (a - w) / (b * (n + 1))
    game = quadratic_game(n, a, b, w, e)
    eq = commons.nash_equilibrium(game)
    np.testing.assert_allclose(eq.draws, quadratic_capped_nash(a, b, w, e), rtol=1e-11,
                               atol=1e-12)


@given(games())
def test_nash_properties(game):
    nash = commons.nash_equilibrium(game)
    opt = commons.social_optimum(game)
    oa = commons.open_access(game)
    scale = 1.0 + abs(opt.rent)
    assert nash.converged
    assert nash.regret <= REGRET_TOL * scale
    assert np.all(nash.draws >= 0)
    assert np.all(nash.draws <= game.endowment)
    assert np.all(np.isfinite(nash.payoffs))
    # the optimum beats Nash in total payoff; Nash total lies between optimum and open access
    assert opt.payoffs.sum() >= nash.payoffs.sum() - 1e-9 * scale
    assert opt.total <= nash.total * (1 + 1e-12) + 1e-12
    assert nash.total <= oa.total * (1 + 1e-12) + 1e-12
    assert opt.efficiency == pytest.approx(1.0)


@given(games(min_n=1, max_n=1))
def test_single_organisation_nash_is_the_optimum(game):
    nash, opt = commons.nash_equilibrium(game), commons.social_optimum(game)
    assert nash.total == pytest.approx(opt.total, rel=1e-9, abs=1e-12)


def brute_force_nash(game, sweeps=400):
    """Gauss–Seidel best-response iteration with a bounded scalar optimiser per player.

    A bounded Brent minimiser locates a maximum only to about sqrt(machine epsilon) relative,
    so the iteration stops when a sweep moves no draw by more than 1e-7 of the scale.
    """
    x = game.endowment / 2
    tol = 1e-7 * (1 + game.endowment.max())
    for _ in range(sweeps):
        old = x.copy()
        for i in range(game.n):
            def neg(z, i=i):
                y = x.copy()
                y[i] = z
                return -game.payoffs(y, check=False)[i]
            res = minimize_scalar(neg, bounds=(0, game.endowment[i]), method="bounded",
                                  options={"xatol": 1e-13})
            cands = [0.0, res.x, game.endowment[i]]
            x[i] = max(cands, key=lambda z: -neg(z))
        if np.max(np.abs(x - old)) < tol:
            return x
    raise AssertionError("brute-force iteration did not converge")


@settings(max_examples=25)
@given(games(min_n=1, max_n=4))
def test_solver_agrees_with_brute_force_best_response(game):
    eq = commons.nash_equilibrium(game)
    bf = brute_force_nash(game)
    np.testing.assert_allclose(eq.draws, bf, rtol=1e-5, atol=1e-5 * (1 + bf.max()))


def test_large_heterogeneous_game_has_tiny_regret():
    rng = np.random.default_rng(7)
    n = 100_000
    game = quadratic_game(n, 23, 0.25, 5, rng.uniform(0, 2 * 72 / n, n))
    eq = commons.nash_equilibrium(game)
    assert eq.regret < 1e-9
    assert np.any(eq.draws == game.endowment)
    assert np.any(eq.draws < game.endowment)


def test_commons_not_worth_drawing():
    game = quadratic_game(4, 3, 0.25, 5, 10)  # F'(0) = 3 < w = 5
    for f in (commons.nash_equilibrium, commons.social_optimum, commons.open_access):
        r = f(game)
        assert r.total == 0
        assert r.regret == 0


def test_everyone_capped():
    game = quadratic_game(4, 23, 0.25, 5, 1.0)  # tiny endowments: all draw everything
    eq = commons.nash_equilibrium(game)
    np.testing.assert_array_equal(eq.draws, 1.0)


def test_water_fill_and_proportional_allocations():
    e = np.array([1.0, 2.0, 10.0, 10.0])
    game = quadratic_game(4, 23, 0.25, 5, e)  # X* = 36 > sum e = 23: everyone at cap
    np.testing.assert_array_equal(commons.social_optimum(game).draws, e)
    game = quadratic_game(4, 23, 0.25, 5, np.array([1.0, 30.0, 30.0, 30.0]))
    eq = commons.social_optimum(game).draws
    np.testing.assert_allclose(eq, [1.0, 35 / 3, 35 / 3, 35 / 3])
    prop = commons.social_optimum(game, allocation="proportional").draws
    np.testing.assert_allclose(prop, 36 * np.array([1, 30, 30, 30]) / 91)


def test_result_provenance():
    eq = commons.nash_equilibrium(quadratic_game(8, 23, 0.25, 5, 25))
    assert eq.method == "share"
    assert eq.converged
    assert eq.iterations > 0
    assert eq.version == commons.__version__
    assert eq.game["production"] == {"kind": "Quadratic", "a": 23.0, "b": 0.25}
    d = eq.to_dict()
    assert d["total"] == eq.total
    assert len(d["draws"]) == 8
    assert "concept='nash'" in repr(eq)
    with pytest.raises(ValueError, match="read-only"):
        eq.draws[0] = 1.0


@pytest.mark.parametrize(("call", "match"), [
    (lambda g: commons.nash_equilibrium(g, method="newton"), "method must be 'share'"),
    (lambda g: commons.nash_equilibrium(g, tol=0), r"tol must be in \(0"),
    (lambda g: commons.social_optimum(g, allocation="greedy"), "allocation must be"),
    (lambda g: commons.nash_equilibrium("game"), "game must be a commons.CPRGame"),
])
def test_bad_solver_input(call, match):
    game = quadratic_game(3, 23, 0.25, 5, 10)
    with pytest.raises((ValueError, TypeError), match=match):
        call(game)
