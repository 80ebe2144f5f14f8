"""Resources: rationing, regrowth, budgets, the lake, shocks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import commons
from commons.sim.resources import lake_threshold


@given(st.floats(0.1, 0.45), st.floats(2.0, 4.5))
def test_lake_threshold_solves_recycling_equals_loss(b, q):
    x = lake_threshold(b, q)
    if np.isfinite(x):
        assert x**q / (1 + x**q) == pytest.approx(b * x, rel=1e-9)


def lake_model(release, **kw):
    return commons.Model(4, resource=commons.LakeStock(**kw), technology=commons.LakeDamage(),
                         rule=commons.FixedDraw(release), max_draw=0.1)


@pytest.mark.statistical
def test_clean_lake_stays_clean_and_overloaded_lake_flips(seed):
    # b = 0.42, q = 2: a steady state below p_crit needs b P - P^2/(1+P^2) - m >= total release.
    # A release of 0.4 a year is 15 times what the lake can absorb, so it flips whatever the
    # random inflow (sd 0.001 a year) does; the clean lake runs without noise.
    res = lake_model(0.0, inflow_sd=0.0).run(100, 2, rng=0)
    b, q, m = 0.42, 2.0, 0.02
    P = res.series["stock"][0, -1]
    assert b * P - P**q / (1 + P**q) == pytest.approx(m, rel=1e-6)  # the clean steady state
    assert not res.metrics["collapsed"].any()
    flipped = lake_model(0.1).run(100, 2, rng=seed)  # total release 0.4
    assert flipped.metrics["collapsed"].all()
    crit = commons.LakeStock().critical
    t = flipped.metrics["time_to_collapse"].astype(int) - 1
    for r in range(2):
        assert flipped.series["stock"][r, t[r]] > crit
        assert t[r] == 0 or flipped.series["stock"][r, t[r] - 1] <= crit


@pytest.mark.statistical
def test_lake_inflow_has_the_requested_mean_and_sd(seed):
    # with no release and P = 0 recycling is 0, so P_1 = eps_0: check the lognormal moments.
    # Statistics: over 4000 replicates the sample mean has standard error 8e-5 (the tolerance,
    # 4e-4, is 5 of them) and the sample sd about 7e-5 (tolerance 2.5e-4, 3.7 of them).
    res = lake_model(0.0, inflow_mean=0.02, inflow_sd=0.005).run(1, 4000, rng=seed)
    eps = res.series["stock"][:, 0]
    assert eps.mean() == pytest.approx(0.02, rel=0.02)
    assert eps.std() == pytest.approx(0.005, rel=0.05)


def budget_model(draw, amount=10.0, growth=0.0, carry=0.0, n=4):
    return commons.Model(n, resource=commons.CareBudget(amount, growth=growth, carry_over=carry),
                         technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                         rule=commons.FixedDraw(draw), max_draw=100.0)


def test_budget_rations_proportionally_and_refills():
    res = budget_model(np.array([1.0, 2.0, 3.0, 4.0])).run(3, 1, rng=0, record="full")
    np.testing.assert_allclose(res.full["granted"][0], [[1, 2, 3, 4]] * 3)  # 10 covers 10
    res = budget_model(np.array([2.0, 4.0, 6.0, 8.0])).run(3, 1, rng=0, record="full")
    np.testing.assert_allclose(res.full["granted"][0], [[1, 2, 3, 4]] * 3)  # half of 20
    grown = budget_model(5.0, growth=0.1).run(4, 1, rng=0, record="full")
    np.testing.assert_allclose(grown.full["granted"][0].sum(-1), 10 * 1.1 ** np.arange(4))


def test_budget_carry_over():
    # draw 1 of 10 each round, half the unspent 9 carried: B_t = 10 + 0.5 * (B_{t-1} - 1)
    res = budget_model(0.25, carry=0.5).run(5, 1, rng=0)
    B, expect = 10.0, []
    for _ in range(5):
        B = 10 + 0.5 * (B - 1.0)
        expect.append(B)
    np.testing.assert_allclose(res.series["stock"][0], expect)


@pytest.mark.statistical
def test_logistic_regrowth_and_shocks(seed):
    model = commons.Model(2, resource=commons.LogisticStock(100, 0.5, initial=0.2),
                          technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                          rule=commons.FixedDraw(0.0), max_draw=1.0)
    s = model.run(3, 1, rng=0).series["stock"][0]
    S, expect = 20.0, []
    for _ in range(3):
        S = min(100, S + 0.5 * S * (1 - S / 100))
        expect.append(S)
    np.testing.assert_allclose(s, expect)
    shocked = commons.Model(2, resource=commons.LogisticStock(100, 0.0, shock_prob=0.3,
                                                              shock_size=0.5),
                            technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                            rule=commons.FixedDraw(0.0), max_draw=1.0)
    st_ = shocked.run(40, 500, rng=seed).series["stock"]
    hits = np.round(np.log2(100 / st_[:, -1])).astype(int)  # each shock halves the stock
    # statistic: shocks per replicate are Binomial(40, 0.3); their mean over 500 replicates
    # has standard error 0.13, and the tolerance (5 % of 12) is 4.6 of them
    assert hits.mean() == pytest.approx(40 * 0.3, rel=0.05)


def test_collapse_is_absorbing():
    model = commons.Model(3, resource=commons.LogisticStock(10, 0.25),
                          technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                          rule=commons.FixedDraw(5.0), max_draw=5.0)
    res = model.run(10, 2, rng=0)
    assert res.metrics["collapsed"].all()
    assert np.all(res.metrics["time_to_collapse"] == 1)  # 15 > 10 empties it in round 0
    assert np.all(res.series["stock"] == 0)
    assert res.metrics["tragedy"].all()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"capacity": -1, "growth": 0.2}, "capacity must be > 0"),
    ({"capacity": 10, "growth": 3.5}, r"growth must be in \[0, 3\)"),
    ({"capacity": 10, "growth": 0.2, "shock_prob": 1.5}, r"shock_prob must be in \[0, 1\]"),
])
def test_bad_resource_parameters(kwargs, match):
    model = commons.Model(2, resource=commons.LogisticStock(**kwargs),
                          technology=commons.PrivateConcave(1.0, 0.5, 0.5), max_draw=1.0)
    with pytest.raises(ValueError, match=match):
        model.run(3)


def test_bad_lake_parameters():
    with pytest.raises(ValueError, match=r"loss must be in \(0, 1\]"):
        commons.LakeStock(loss=0.0)
