"""The scenario catalog, the lake game's steady states and evolution on graphs."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import commons
from commons.exact.evolution import critical_benefit_cost, fixation_probabilities
from commons.exact.lake import lake_steady_states


@pytest.mark.statistical
def test_lab_game_matches_the_equilibrium_analysis(seed):
    # Asynchronous best replies (each organisation revises with probability 0.3) contract
    # toward the stage Nash: (a - w) / (b (N + 1)) = 8 each. Over 300 replicates the largest
    # deviation was 2e-5 after 200 rounds and 2e-12 after 400, so 400 rounds and 1e-6 leave
    # six orders of magnitude for the seed.
    model = commons.scenarios.lab_game(endowment=25, rule=commons.BestResponse(0.3))
    res = model.run(400, 4, rng=seed)
    np.testing.assert_allclose(res.final["draws"], 8.0, atol=1e-6)
    # and earn the Nash rent F(64) - 5 * 64 = 448 - 320, 4N / (N + 1)^2 of the maximum 324
    np.testing.assert_allclose(res.series["rent"][:, -1], 23 * 64 - 0.25 * 64**2 - 5 * 64,
                               rtol=1e-7)  # asynchronous best replies converge geometrically
    with pytest.raises(ValueError, match="endowment must be >= 0"):
        commons.scenarios.lab_game(endowment=-1)


def test_fishery_open_access_and_its_closed_form():
    gs = commons.GordonSchaefer(0.5, 100, 0.01, 1, 0.3)
    res = commons.scenarios.fishery(5).run(3000, 2, rng=0)
    np.testing.assert_allclose(res.series["stock"][:, -1], gs.open_access().stock, rtol=1e-4)
    total_effort = res.final["draws"].sum(1)
    # in steady state the discrete logistic regrows what q E S removes
    S = res.series["stock"][:, -1]
    Sp = S * (1 - 0.01 * total_effort)
    np.testing.assert_allclose(Sp + 0.5 * Sp * (1 - Sp / 100), S, rtol=1e-6)


def test_lake_game_flips_under_myopic_release():
    res = commons.scenarios.lake_game().run(30, 3, rng=1)
    assert res.metrics["collapsed"].all()
    # the largest steady total release below p_crit: max_x (b x - x^2/(1+x^2)) - mean inflow
    x = np.linspace(0, commons.LakeStock().critical, 100001)
    load = float((0.42 * x - x**2 / (1 + x**2)).max() - 0.02)
    calm = commons.Model(4, resource=commons.LakeStock(), technology=commons.LakeDamage(),
                         rule=commons.FixedDraw(0.8 * load / 4), max_draw=0.1).run(200, 3, rng=1)
    assert not calm.metrics["collapsed"].any()
    over = commons.Model(4, resource=commons.LakeStock(), technology=commons.LakeDamage(),
                         rule=commons.FixedDraw(1.2 * load / 4), max_draw=0.1).run(200, 3, rng=1)
    assert over.metrics["collapsed"].all()


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
    assert [round(s.x, 4) for s in nash] == [0.4485, 0.7402, 3.1832]
    assert [round(s.loading, 4) for s in nash[:2]] == [0.1016, 0.0902]
    assert all(n.loading >= coop[0].loading - 0.02 for n in nash[:1])


@pytest.mark.parametrize(("graph", "k"), [
    (nx.cycle_graph(8), 2), (nx.cycle_graph(10), 2), (nx.petersen_graph(), 3),
    (nx.hypercube_graph(3), 3), (nx.circulant_graph(12, [1, 2]), 4)])
def test_death_birth_threshold_on_small_regular_graphs(graph, k):
    # exact finite-N threshold (N - 2) / (N/k - 2) (Taylor, Day & Wild 2007), weak selection
    N = graph.number_of_nodes()
    assert critical_benefit_cost(graph, w=1e-4) == pytest.approx((N - 2) / (N / k - 2),
                                                                 rel=1e-3)


def test_fixation_probabilities():
    g = nx.cycle_graph(10)
    assert fixation_probabilities(g, 5.0, 1.0, 0.0) == pytest.approx((0.1, 0.1))
    rc, rd = fixation_probabilities(g, 3.0, 1.0, 1e-3)
    assert 10 * rc > 1 > 10 * rd
    rc, rd = fixation_probabilities(g, 2.0, 1.0, 1e-3)
    assert 10 * rc < 1 < 10 * rd
    assert math.isinf(critical_benefit_cost(nx.complete_graph(8)))
    with pytest.raises(ValueError, match="2 to 16 nodes"):
        fixation_probabilities(nx.cycle_graph(20), 3.0)
    with pytest.raises(ValueError, match="no isolated nodes"):
        fixation_probabilities(nx.empty_graph(4), 3.0)


def test_ics_scenario_governance_and_networks():
    kw = {"sanction": 1.0, "communication": 0.5}
    for net in ("places", "hub", "random"):
        m = commons.scenarios.integrated_care_system(network=net, **kw)
        assert m.n == 24
        assert m.network.n_edges > 0
    degrees = commons.scenarios.integrated_care_system(network="hub", **kw).network.degree
    assert degrees[0] == 23
    # (the tragedy rates of governed and ungoverned systems are pinned, as observed numbers,
    # in tests/test_regression_pins.py)
    central = commons.scenarios.integrated_care_system(governance="central")
    assert central.monitoring.external           # an audit from outside the group
    assert any(getattr(m, "stance", None) == "overriding" for m in central.mechanisms)
    with pytest.raises(ValueError, match="governance must be"):
        commons.scenarios.integrated_care_system(governance="market")
    with pytest.raises(ValueError, match="network must be"):
        commons.scenarios.integrated_care_system(network="star")
