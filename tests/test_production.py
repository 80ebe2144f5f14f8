"""Production functions: derivatives against finite differences, levels against their roots."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import commons
from commons.exact.production import Production
from commons.testing import productions


@given(productions(), st.floats(0.01, 50.0))
def test_derivatives_match_finite_differences(F, X):
    h = 1e-5 * X
    fd1 = (F.value(X + h) - F.value(X - h)) / (2 * h)
    fd2 = (F.derivative(X + h) - F.derivative(X - h)) / (2 * h)
    assert fd1 == pytest.approx(float(F.derivative(X)), rel=1e-6, abs=1e-8)
    assert fd2 == pytest.approx(float(F.second_derivative(X)), rel=1e-5, abs=1e-8)


@given(productions(), st.floats(1e-3, 50.0))
def test_average_product_is_value_over_draw(F, X):
    assert float(F.average(X)) == pytest.approx(float(F.value(X)) / X, rel=1e-12)
    assert float(F.average_derivative(X)) == pytest.approx(
        (float(F.derivative(X)) * X - float(F.value(X))) / X**2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("F", [commons.Quadratic(23, 0.25), commons.Exponential(3, 0.5)])
def test_average_at_zero_is_the_limit(F):
    assert float(F.average(0.0)) == pytest.approx(float(F.value(1e-9)) / 1e-9, rel=1e-6)


@given(productions(), st.floats(0.05, 0.95))
def test_levels_solve_their_equations(F, frac):
    f0 = float(F.derivative(0.0))
    w = frac * f0 if math.isfinite(f0) else 10 * frac
    xs, x0 = F.marginal_level(w), F.average_level(w)
    assert float(F.derivative(xs)) == pytest.approx(w, rel=1e-9)
    assert float(F.average(x0)) == pytest.approx(w, rel=1e-9)
    # the closed forms agree with the generic bracketed root of the base class
    assert Production.marginal_level(F, w) == pytest.approx(xs, rel=1e-9)
    assert Production.average_level(F, w) == pytest.approx(x0, rel=1e-9)
    assert x0 > xs > 0  # open access draws more than the optimum for concave F


def test_levels_are_zero_when_the_commons_does_not_pay():
    F = commons.Quadratic(4, 1)
    assert F.marginal_level(5) == 0.0
    assert F.average_level(5) == 0.0


@pytest.mark.parametrize(("factory", "kwargs", "name"), [
    (commons.Quadratic, {"a": -1, "b": 1}, "a"),
    (commons.Quadratic, {"a": 1, "b": 0}, "b"),
    (commons.Quadratic, {"a": float("nan"), "b": 1}, "a"),
    (commons.Power, {"A": 1, "alpha": 1.0}, "alpha"),
    (commons.Power, {"A": 1, "alpha": 0.0}, "alpha"),
    (commons.Power, {"A": -2, "alpha": 0.5}, "A"),
    (commons.Exponential, {"A": 1, "k": float("inf")}, "k"),
])
def test_bad_parameters_name_themselves(factory, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        factory(**kwargs)


def test_non_numbers_are_type_errors():
    with pytest.raises(TypeError, match="a must be a real number"):
        commons.Quadratic("23", 0.25)
    with pytest.raises(TypeError, match="b must be a real number"):
        commons.Quadratic(23, True)


def test_equality_and_repr():
    assert commons.Quadratic(23, 0.25) == commons.Quadratic(23.0, 0.25)
    assert commons.Quadratic(23, 0.25) != commons.Power(23, 0.25)
    assert repr(commons.Power(2, 0.5)) == "Power(A=2.0, alpha=0.5)"
    assert len({commons.Quadratic(1, 1), commons.Quadratic(1, 1)}) == 1


class Convex(Production):
    """F = X + X**2: convex, which the solvers must refuse."""

    def value(self, X):
        X = np.asarray(X, dtype=float)
        return X + X**2

    def derivative(self, X):
        return 1 + 2 * np.asarray(X, dtype=float)

    def second_derivative(self, X):
        return np.full(np.shape(X), 2.0)


def test_solvers_refuse_a_convex_production():
    game = commons.CPRGame(3, Convex(), 0.5, 10)
    with pytest.raises(ValueError, match=r"production .* not concave"):
        commons.nash_equilibrium(game)
    with pytest.raises(ValueError, match=r"production .* not concave"):
        commons.social_optimum(game)


@given(st.floats(1.0, 100.0), st.floats(1e-3, 2.0), st.floats(-323.5, 1.0))
def test_exponential_average_product_holds_down_to_subnormal_draws(A, k, log10_x):
    # AP(X) = A (1 - exp(-k X)) / X = A k sum_n (-k X)^n / (n + 1)!: the series (four terms,
    # error below (kX)^4 / 120) where k X is small, F(X) / X where it is not
    X = 10.0 ** log10_x
    u = k * X
    expect = (A * k * (1 - u / 2 + u**2 / 6 - u**3 / 24) if u < 1e-3
              else A * (1 - math.exp(-u)) / X)
    from commons.sim import _curves
    for ap in (commons.Exponential(A, k).average(X),
               _curves.average(_curves.EXPONENTIAL, A, k, X)):
        assert ap == pytest.approx(expect, rel=1e-12)
