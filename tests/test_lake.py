"""The shallow lake: its critical level, and the feasible steady states of the lake game.

Every oracle here is derived in the test from the model's defining equations (polynomial roots
for integer q, sign-change scans on dense grids, substitution into the maximum principle), never
from the library's output.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

import commons
from commons.exact.lake import critical_loss, lake_crossings, lake_steady_states, lake_threshold

# ---------------------------------------------------------------------------------------------
# the unloaded lake: x**q / (1 + x**q) = b x


def recycling_gap(x, b, q):
    """Recycling minus loss, x**q/(1 + x**q) - b x: the step P_{t+1} - P_t without loading."""
    return x**q / (1 + x**q) - b * x


def crossings_by_roots(b, q):
    """Positive crossings for integer q: x**q = b x (1 + x**q), divided by x, is the polynomial
    b x**q - x**(q-1) + b = 0."""
    coeffs = np.zeros(q + 1)
    coeffs[0], coeffs[1], coeffs[-1] = b, -1.0, b
    z = np.roots(coeffs)
    real = z[(np.abs(z.imag) < 1e-9) & (z.real > 0)].real
    return np.sort(real)


def crossings_by_scan(b, q, lo=1e-12, points=200_001):
    """Brackets of the sign changes of recycling - loss on a log grid up to 1/b (every crossing
    lies below 1/b, since the recycling term is below 1)."""
    x = np.geomspace(lo, 1.0 / b, points)
    f = recycling_gap(x, b, q)
    i = np.flatnonzero(np.sign(f[:-1]) != np.sign(f[1:]))
    return [(x[k], x[k + 1]) for k in i]


def peak_of_ratio(q):
    """max over x of x**(q-1)/(1 + x**q), by a dense scan refined by golden-section search."""
    x = np.geomspace(1e-3, 1e3, 100_001)
    h = x ** (q - 1) / (1 + x**q)
    k = int(np.argmax(h))
    lo, hi = x[max(k - 1, 0)], x[min(k + 1, x.size - 1)]
    g = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        a, c = hi - g * (hi - lo), lo + g * (hi - lo)
        if a ** (q - 1) / (1 + a**q) > c ** (q - 1) / (1 + c**q):
            hi = c
        else:
            lo = a
    m = (lo + hi) / 2
    return m ** (q - 1) / (1 + m**q)


def test_published_thresholds():
    # q = 2: the smaller root of b x^2 - x + b = 0, (1 - sqrt(1 - 4 b^2)) / (2 b)
    for b in (0.42, 0.40, 0.10, 0.45, 0.473):
        assert lake_threshold(b, 2) == pytest.approx((1 - math.sqrt(1 - 4 * b * b)) / (2 * b),
                                                     rel=1e-12)
    # the case the old bracket on [0.01, 1.5] missed: both roots inside it
    assert lake_crossings(0.473, 2) == pytest.approx((0.714412, 1.399753), abs=1e-6)
    assert lake_threshold(0.42, 4.5) == pytest.approx(0.8926, abs=1e-4)
    assert critical_loss(2) == 0.5
    assert lake_crossings(0.5, 2) == pytest.approx((1.0,))  # the tangency b = b_c
    assert lake_threshold(0.6, 2) == math.inf                # reversible: no crossing


@given(st.floats(0.02, 0.999), st.integers(2, 8))
@example(0.473, 2)
@example(0.4615, 2)
@example(0.499, 2)
def test_crossings_are_the_polynomial_roots_for_integer_q(b, q):
    roots = crossings_by_roots(b, q)
    found = lake_crossings(b, q)
    peak = peak_of_ratio(q)
    assume(abs(b - peak) > 1e-6)  # a near-double root is ill-conditioned for numpy.roots
    assert len(found) == roots.size
    assert found == pytest.approx(tuple(roots), rel=1e-9)
    assert lake_threshold(b, q) == pytest.approx(roots[0] if roots.size else math.inf,
                                                 rel=1e-9)


@given(st.floats(0.02, 0.999), st.floats(1.2, 6.0))
@example(0.473, 2.0)
@example(0.42, 4.5)
@example(0.3, 1.2)
def test_crossings_match_a_dense_scan_for_real_q(b, q):
    peak = peak_of_ratio(q)
    assert critical_loss(q) == pytest.approx(peak, rel=1e-9)
    assume(abs(b - peak) > 1e-4 * peak)  # two roots closer than a grid cell would hide
    brackets = crossings_by_scan(b, q)
    found = lake_crossings(b, q)
    assert len(found) == len(brackets) == (2 if b < peak else 0)
    for x, (lo, hi) in zip(found, brackets, strict=True):
        assert lo <= x <= hi
        # substitution: recycling equals loss to rounding
        assert x**q / (1 + x**q) == pytest.approx(b * x, rel=1e-11)


@given(st.floats(0.05, 1.0), st.floats(1.5, 5.0))
def test_threshold_bounds_the_clean_basin(b, q):
    x1 = lake_threshold(b, q)
    assume(math.isfinite(x1))
    x2 = lake_crossings(b, q)[-1]
    assume(x2 > x1 * 1.01)  # not at a tangency

    def run(p, steps=2000):
        path = [p]
        for _ in range(steps):
            p = (1 - b) * p + p**q / (1 + p**q)
            path.append(p)
        return np.array(path)

    below, above = run(x1 * (1 - 1e-3)), run(x1 * (1 + 1e-3))
    # below the threshold the unloaded lake cleans itself, above it runs to the eutrophic state
    assert np.all(below < x1)
    assert np.all(np.diff(below) <= 0)
    assert below[-1] < below[0] / 2
    assert np.all(above > x1)
    assert np.all(np.diff(above) >= -1e-14)  # monotone, up to rounding once it sits on x2
    assert above[-1] > above[0]
    assert np.all(above <= x2 * (1 + 1e-12))


def test_threshold_validates_its_arguments():
    with pytest.raises(ValueError, match="loss must be > 0"):
        lake_threshold(0.0, 2)
    with pytest.raises(ValueError, match="recycling must be > 1"):
        lake_threshold(0.4, 1.0)
    with pytest.raises(ValueError, match="recycling must be > 1"):
        critical_loss(0.5)


def test_lake_stock_uses_the_lower_crossing():
    assert commons.LakeStock(loss=0.473, recycling=2).critical == pytest.approx(0.714412,
                                                                                abs=1e-6)
    # three communities releasing 0.1 a year push the lake to its eutrophic state near 2.5:
    # that is a collapse
    model = commons.Model(3, resource=commons.LakeStock(loss=0.473, recycling=2),
                          technology=commons.LakeDamage(), rule=commons.FixedDraw(0.1),
                          max_draw=0.1)
    res = model.run(100, 2, rng=0)
    assert np.all(res.series["stock"][:, -1] > 2.0)
    assert res.metrics["collapsed"].all()
    # the old import path still works
    from commons.sim.resources import lake_threshold as old_path
    assert old_path(0.473, 2) == lake_threshold(0.473, 2)


def test_lake_stock_refuses_a_reversible_lake():
    with pytest.raises(ValueError, match=r"loss must be <= 0\.5 for recycling=2\.0, got 0\.6"):
        commons.LakeStock(loss=0.6, recycling=2)
    b_c = critical_loss(3.0)
    with pytest.raises(ValueError, match=r"recycling=3\.0"):
        commons.LakeStock(loss=b_c * 1.01, recycling=3.0)
    assert math.isfinite(commons.LakeStock(loss=b_c * 0.99, recycling=3.0).critical)


def test_steady_loading_stops_at_the_threshold():
    lake = commons.LakeStock(loss=0.473, recycling=2, inflow_mean=0.0)
    load, level = lake.steady_loading()
    assert level[-1] == pytest.approx(0.714412, abs=1e-6)
    # the largest loading the clean branch can hold: the fold of b x - x^2/(1+x^2)
    x = np.linspace(0, 0.714412, 200_001)
    assert load.max() == pytest.approx((0.473 * x - x**2 / (1 + x**2)).max(), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# the lake game (Mäler, Xepapadeas & de Zeeuw 2003)


def recycling_slope(x, h=1e-20):
    """d/dx x^2/(1 + x^2) by the complex step."""
    z = x + 1j * h
    return (z**2 / (1 + z**2)).imag / h


def total_loading(x, b, rho, n, c, concept):
    """The loading the maximum principle asks for at level x: sum_k n_k a_k with a_k = -1/lambda_k
    (from dH/da_k = 1/a_k + lambda = 0) and lambda_k from the steady costate,
    0 = rho lambda_k - dH_k/dx = lambda_k (rho + b - r'(x)) + 2 C_k x, where C_k = c_k (Nash: each
    community its own damage) or sum_j n_j c_j (cooperative: the planner's total damage)."""
    n, c = np.asarray(n, float), np.asarray(c, float)
    damage = c if concept == "nash" else np.full_like(c, (n * c).sum())
    lam = -2 * damage * x / (rho + b - recycling_slope(x))
    return float((n * (-1 / lam)).sum()), -1 / lam


def lake_holds(x, b):
    """The loading at which dx/dt = a - b x + x^2/(1 + x^2) vanishes."""
    return b * x - x**2 / (1 + x**2)


groups = st.lists(st.tuples(st.integers(1, 5), st.floats(0.05, 5.0)), min_size=1, max_size=3)


@given(st.floats(0.05, 1.0), st.floats(0.0, 0.2), groups, st.sampled_from(["nash", "cooperative"]))
@example(0.472, 0.0315, [(3, 0.433), (1, 2.21)], "nash")
@example(0.472, 0.0315, [(3, 0.433), (1, 2.21)], "cooperative")
@example(0.6, 0.03, [(2, 0.2), (2, 2.0)], "nash")
def test_lake_game_steady_states_are_feasible_and_complete(b, rho, grp, concept):
    n = [g[0] for g in grp]
    c = [g[1] for g in grp]
    states = lake_steady_states(b, rho, n, c, concept=concept)
    # at least one feasible state always exists
    assert states
    for s in states:
        a, per = total_loading(s.x, b, rho, n, c, concept)
        assert s.x > 0
        assert s.loading > 0
        assert np.all(np.array(s.per_community) > 0)
        assert s.per_community == pytest.approx(tuple(per), rel=1e-9)
        assert s.loading == pytest.approx(lake_holds(s.x, b), rel=1e-12)
        assert s.loading == pytest.approx(a, rel=1e-8)
        assert float(np.dot(n, s.per_community)) == pytest.approx(s.loading, rel=1e-8)
    assert [s.x for s in states] == sorted(s.x for s in states)

    # completeness: scan the gap between what the lake holds and what the players load. Beyond
    # X it is positive (the lake holds >= b x - 1, the players load <= (rho + b) F / (2x)).
    F = sum(k / ck for k, ck in zip(n, c, strict=True)) if concept == "nash" else (
        sum(n) / sum(k * ck for k, ck in zip(n, c, strict=True)))
    X = (1 + math.sqrt(1 + 2 * b * (rho + b) * F)) / (2 * b)
    x = np.geomspace(1e-6, X * 1.01, 400_001)
    slope = recycling_slope(x)
    gap = lake_holds(x, b) - (rho + b - slope) * F / (2 * x)
    assert gap[0] < 0 < gap[-1]
    cells = np.flatnonzero(np.sign(gap[:-1]) != np.sign(gap[1:]))
    assume(np.all(np.diff(cells) > 20))  # crossings resolved by the grid
    feasible = [k for k in cells if rho + b - slope[k] > 0 and rho + b - slope[k + 1] > 0]
    assume(all((rho + b - slope[k]) * (rho + b - slope[k + 1]) > 0 for k in cells))
    assert len(states) == len(feasible)
    for s, k in zip(states, feasible, strict=True):
        assert x[k] <= s.x <= x[k + 1]


def test_lake_game_drops_the_negative_loading_crossing():
    # b = 0.472, rho = 0.0315: rho + b < max g = 0.6495, and one Nash crossing, x = 0.97852,
    # sits where the lake needs a negative loading (-0.02728): it is not a steady state
    for concept in ("nash", "cooperative"):
        states = lake_steady_states(0.472, 0.0315, [3, 1], [0.433, 2.21], concept=concept)
        assert all(s.loading > 0 for s in states)
    nash = lake_steady_states(0.472, 0.0315, [3, 1], [0.433, 2.21])
    assert all(abs(s.x - 0.97852) > 1e-3 for s in nash)
    assert len(nash) == 2


@given(st.floats(0.3, 0.7), st.floats(0.0, 0.1), st.integers(1, 4), st.floats(0.1, 3))
def test_lake_steady_states_solve_their_equations(b, rho, n, c):
    for concept in ("nash", "cooperative"):
        for ss in lake_steady_states(b, rho, [n], [c], concept=concept):
            x, a = ss.x, ss.loading
            assert a == pytest.approx(b * x - x**2 / (1 + x**2), abs=1e-12)
            g = 2 * x / (1 + x**2) ** 2
            factor = n / c if concept == "nash" else 1 / c
            assert a == pytest.approx((rho + b - g) / (2 * x) * factor, rel=1e-8, abs=1e-10)
    # one community: Nash and cooperative coincide
    assert [s.x for s in lake_steady_states(b, rho, [1], [c])] == pytest.approx(
        [s.x for s in lake_steady_states(b, rho, [1], [c], concept="cooperative")])


def test_lake_game_published_steady_states():
    # Mäler et al. (2003) setting of REFERENCES 9.4: b = 0.6, rho = 0.03, groups n = (2, 2),
    # c = (0.2, 2): one cooperative state and three open-loop Nash states
    coop = lake_steady_states(0.6, 0.03, [2, 2], [0.2, 2], concept="cooperative")
    nash = lake_steady_states(0.6, 0.03, [2, 2], [0.2, 2], concept="nash")
    assert [round(s.x, 4) for s in coop] == [0.3472]
    assert [round(s.loading, 4) for s in coop] == [0.1007]
    assert [round(s.x, 4) for s in nash] == [0.4485, 0.7402, 3.1832]
    assert [round(s.loading, 4) for s in nash[:2]] == [0.1016, 0.0902]


def test_lake_game_eutrophic_state_far_out():
    # a small loss puts the eutrophic state near 1/b, far beyond any fixed search window
    states = lake_steady_states(0.02, 0.01, [2], [1.0])
    assert states[-1].x > 40
    assert states[-1].loading == pytest.approx(lake_holds(states[-1].x, 0.02), rel=1e-12)


def test_lake_game_validates_its_arguments():
    with pytest.raises(ValueError, match="concept must be"):
        lake_steady_states(0.6, 0.03, [2], [1.0], concept="planner")
    with pytest.raises(ValueError, match="same length"):
        lake_steady_states(0.6, 0.03, [2, 1], [1.0])
    with pytest.raises(ValueError, match="b must be > 0"):
        lake_steady_states(0.0, 0.03, [2], [1.0])
    with pytest.raises(ValueError, match="rho must be >= 0"):
        lake_steady_states(0.6, -0.1, [2], [1.0])
