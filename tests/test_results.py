"""Metrics and result exports."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import commons
from commons.experiments.scenarios import benchmark_cpr_v1
from commons.results import equality, sustainability


@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 30)),
              elements=st.floats(-100, 100)))
def test_equality_is_one_minus_the_double_sum_gini(R):
    got = equality(R)
    for r in range(R.shape[0]):
        x = R[r]
        denom = 2 * x.size * np.abs(x).sum()
        expect = 1.0 if denom == 0 else 1 - np.abs(x[:, None] - x[None, :]).sum() / denom
        assert got[r] == pytest.approx(expect, abs=1e-9)


def test_equality_extremes():
    assert equality(np.array([[5.0, 5.0, 5.0]]))[0] == pytest.approx(1.0)
    # one agent takes everything: 1/N (Perolat et al. 2017)
    assert equality(np.array([[0.0, 0.0, 0.0, 8.0]]))[0] == pytest.approx(0.25)


def test_sustainability_is_the_mean_time_of_positive_rewards():
    # agent 0 rewarded in rounds 1 and 3 (mean 2), agent 1 in round 4, agent 2 never
    pos_t = np.array([[1 + 3, 4, 0]], float)
    pos_n = np.array([[2, 1, 0]], float)
    assert sustainability(pos_t, pos_n)[0] == pytest.approx((2 + 4) / 2)
    assert sustainability(np.zeros((1, 3)), np.zeros((1, 3)))[0] == 0.0


@pytest.fixture(scope="module")
def run():
    return benchmark_cpr_v1(10).run(60, 12, rng=3, record="full")


def test_metrics_agree_with_the_series(run):
    m, s = run.metrics, run.series
    assert m["collapsed"].dtype == bool
    # a collapsed stock stays at zero from its collapse round on
    for r in np.flatnonzero(m["collapsed"]):
        t = int(m["time_to_collapse"][r]) - 1
        assert np.all(s["stock"][r, t:] == 0)
        assert t == 0 or s["stock"][r, t - 1] > 0
    assert np.all(np.isinf(m["time_to_collapse"][~m["collapsed"]]))
    np.testing.assert_allclose(m["final_stock_ratio"], s["stock"][:, -1] / (100 / 2))
    np.testing.assert_allclose(m["peace"], 10.0)
    # tragedy: collapsed or the last tenth earned less than 10 % of the best sustainable rent
    assert np.all(m["tragedy"][m["collapsed"]])
    np.testing.assert_array_equal(m["tragedy"], m["collapsed"] | (m["tail_efficiency"] < 0.1))


def test_exports(run):
    ds = run.to_xarray()
    assert dict(ds.sizes) == {"replicate": 12, "round": 60, "org": 10}
    np.testing.assert_array_equal(ds["stock"].values, run.series["stock"])
    np.testing.assert_array_equal(ds["draws"].values, run.full["draws"])
    prov = json.loads(ds.attrs["provenance"])
    assert prov["rounds"] == 60
    assert prov["entropy"] == 3
    assert prov["model"]["name"] == "CPR-v1"
    assert prov["version"] == commons.__version__
    df = run.to_pandas()
    assert list(df.index) == list(range(12))
    np.testing.assert_array_equal(df["efficiency"].to_numpy(), run.metrics["efficiency"])
    mean, lo, hi = run.summary()["efficiency"]
    assert lo <= mean <= hi
    assert mean == pytest.approx(run.metrics["efficiency"].mean())


def test_record_modes():
    model = benchmark_cpr_v1(10)
    final = model.run(20, 3, rng=1, record="final")
    summary = model.run(20, 3, rng=1)
    assert final.series == {}
    assert final.full is None
    assert summary.full is None
    np.testing.assert_array_equal(final.metrics["efficiency"], summary.metrics["efficiency"])
    np.testing.assert_array_equal(final.final["stock"], summary.series["stock"][:, -1])


def test_provenance_records_the_composition():
    res = benchmark_cpr_v1(10).run(5, 2, rng=8)
    comp = res.provenance["model"]["components"]
    assert comp["sanction0"]["name"] == "QuotaFine"
    assert comp["sanction0"]["budget_balanced"] is False
    assert comp["sanction0"]["params"] == {"rate": 2.0, "recipient": "regulator"}
    assert comp["monitoring"]["stochastic"] is True
    assert res.provenance["replicate_ids"] == [0, 1]
