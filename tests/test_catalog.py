"""The scenario catalog (the lake game's steady states: test_lake.py; evolution on graphs:
test_evolution.py)."""

import numpy as np
import pytest

import commons


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
    assert central.quota.external                 # a quota imposed on the group
    with pytest.raises(ValueError, match="governance must be"):
        commons.scenarios.integrated_care_system(governance="market")
    with pytest.raises(ValueError, match="network must be"):
        commons.scenarios.integrated_care_system(network="star")
