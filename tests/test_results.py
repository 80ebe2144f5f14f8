"""Metrics and result exports."""

import json
import sys
import warnings

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
    mean, lo, hi = run.summary().loc["efficiency", ["mean", "low", "high"]]
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


# ---------------------------------------------------------------- metrics of a run, by hand
def test_metrics_of_a_deterministic_run_computed_by_hand():
    # Four organisations of the game F(X) = 23 X - X^2 / 4, outside return 5, 25 tokens,
    # draw (4, 4, 4, 12) against a quota of 5, audited every round. Organisation 3 is warned
    # (rate 0), then fined 50 per unit over (350) and, from its second offence on, excluded for
    # the round after each fine. Rents (payoff above the outside option 125):
    # X = 24: average product 17, rent 12 x; X = 12 (3 excluded): average product 20, 15 x.
    game = commons.CPRGame(4, commons.Quadratic(23, 0.25), 5, 25)
    model = commons.Model(
        4, technology=commons.StageGame(game), quota=commons.FixedQuota(5.0),
        monitoring=commons.CentralAudit(1.0, cost=1.0),
        sanctions=[commons.GraduatedSanction((0.0, 50.0), exclude_after=2)],
        rule=commons.FixedDraw([4.0, 4.0, 4.0, 12.0]))
    res = model.run(5, 2, rng=0, record="full")
    rent = np.array([[48, 48, 48, 144],          # round 1: warning
                     [48, 48, 48, 144 - 350],    # round 2: fined, excluded next round
                     [60, 60, 60, 0],            # round 3: excluded
                     [48, 48, 48, 144 - 350],    # round 4: fined again (top rate)
                     [60, 60, 60, 0]], float)    # round 5: excluded
    np.testing.assert_allclose(res.full["payoffs"] - 125.0, np.broadcast_to(rent, (2, 5, 4)))
    m = res.metrics
    # sustainability (Perolat et al. 2017): the mean over organisations of the mean 1-based
    # round of their positive rewards: rounds 1..5 for 0, 1, 2 (mean 3), round 1 for 3
    np.testing.assert_allclose(m["sustainability"], (3 + 3 + 3 + 1) / 4)
    # equality: 1 - sum_ij |R_i - R_j| / (2 N sum_i |R_i|) on cumulative returns
    cum = rent.sum(0)
    gini = np.abs(cum[:, None] - cum[None, :]).sum() / (2 * 4 * np.abs(cum).sum())
    np.testing.assert_allclose(m["equality"], 1 - gini)
    # peace: organisations not excluded per round, averaged: (4 + 4 + 3 + 4 + 3) / 5
    np.testing.assert_allclose(m["peace"], 3.6)
    # efficiency: rent over the best sustainable rent, (a - w)^2 / (4 b) = 324 a round
    np.testing.assert_allclose(m["efficiency"], rent.sum() / (5 * 324))
    np.testing.assert_allclose(m["tail_efficiency"], rent[-1].sum() / 324)  # last tenth: 1
    # the regulator collects 2 x 350 in fines and spends 1 per inspection, 4 a round
    np.testing.assert_allclose(m["regulator_net"], 700.0 - 5 * 4)
    np.testing.assert_allclose(m["burned"], 0.0)
    assert not m["collapsed"].any()
    assert np.all(np.isinf(m["time_to_collapse"]))
    assert not m["tragedy"].any()


def test_sustainability_counts_rounds_from_one():
    # a single organisation rewarded only in the first round has sustainability 1, and one
    # rewarded in every one of T rounds (T + 1) / 2
    game = commons.CPRGame(1, commons.Quadratic(23, 0.25), 5, 25)
    once = commons.Model(1, technology=commons.StageGame(game),
                         rule=OneRound(4.0)).run(6, 1, rng=0)
    np.testing.assert_allclose(once.metrics["sustainability"], 1.0)
    always = commons.Model(1, technology=commons.StageGame(game),
                           rule=commons.FixedDraw(4.0)).run(6, 1, rng=0)
    np.testing.assert_allclose(always.metrics["sustainability"], 3.5)


class OneRound(commons.Rule):
    """Draws ``x`` in round 0 and nothing afterwards."""

    def __init__(self, x):
        self.x = x

    def decide(self, st, ctx):
        st.draws = np.full(st.draws.shape, self.x if st.t == 0 else 0.0)


@pytest.mark.fused
@pytest.mark.parametrize(("n", "fine", "seed"), [(10, 2.0, 1), (10, 0.5, 2), (25, 2.0, 3)])
def test_every_metric_is_the_same_on_the_compiled_and_numpy_paths(n, fine, seed):
    # CPR-v1 is of the compiled family; both paths draw the same numbers, so every metric
    # agrees to rounding, collapsed replicates included
    model = benchmark_cpr_v1(n, fine=fine)
    a = model.run(80, 12, rng=seed, engine="numpy")
    b = model.run(80, 12, rng=seed, engine="numba")
    assert (a.provenance["engine"], b.provenance["engine"]) == ("numpy", "numba")
    assert set(a.metrics) == set(b.metrics)
    for k in a.metrics:
        np.testing.assert_allclose(np.asarray(b.metrics[k], float),
                                   np.asarray(a.metrics[k], float), rtol=1e-9, atol=1e-9,
                                   err_msg=k)
    for k in a.final:
        np.testing.assert_allclose(b.final[k], a.final[k], rtol=1e-9, atol=1e-9, err_msg=k)


# ---------------------------------------------------------------- edge cases of the metrics
def stage_run(game, rule, rounds=5, R=2, **kw):
    model = commons.Model(game.n, technology=commons.StageGame(game), rule=rule, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)          # no 0/0 warnings on the way
        return model.run(rounds, R, rng=0)


def test_metrics_when_nothing_is_earned_or_nothing_can_be():
    game = commons.CPRGame(4, commons.Quadratic(23, 0.25), 5, 25)
    # nobody draws: no rent, nobody ever rewarded (sustainability 0), all equal
    idle = stage_run(game, commons.FixedDraw(0.0)).metrics
    np.testing.assert_allclose(idle["efficiency"], 0.0)
    np.testing.assert_allclose(idle["sustainability"], 0.0)
    np.testing.assert_allclose(idle["equality"], 1.0)
    # open access (X = 72, where the average product is w) dissipates the rent: a tragedy
    # without collapse, since the last tenth earns less than a tenth of the best
    oa = commons.open_access(game).draws
    dissipated = stage_run(game, commons.FixedDraw(oa)).metrics
    np.testing.assert_allclose(dissipated["tail_efficiency"], 0.0, atol=1e-12)
    assert not dissipated["collapsed"].any()
    assert dissipated["tragedy"].all()
    # a threshold of 0 is never undercut by a tail efficiency of exactly 0
    none = stage_run(game, commons.FixedDraw(0.0), tragedy_threshold=0.0).metrics
    assert not none["tragedy"].any()
    # a commons not worth drawing (a <= w): the best rent is 0, and efficiency 0, not 0/0
    poor = commons.CPRGame(2, commons.Quadratic(1.0, 1.0), 2.0, 1.0)
    np.testing.assert_array_equal(stage_run(poor, commons.FixedDraw(0.5)).metrics[
        "efficiency"], 0.0)
    # a small commons: best rent (a - w)^2 / (4 b) = 1/16 a round, played at the optimum
    small = commons.CPRGame(2, commons.Quadratic(1.5, 1.0), 1.0, 1.0)
    np.testing.assert_allclose(stage_run(small, commons.PlayOptimum()).metrics["efficiency"],
                               1.0)


def test_equality_with_small_returns():
    # 1 - sum |R_i - R_j| / (2 N sum |R_i|): (0.01, 0) gives 1 - 0.02 / 0.04
    assert equality(np.array([[0.01, 0.0]]))[0] == pytest.approx(0.5)


def test_tail_efficiency_is_over_the_last_tenth_rounded_up():
    # 11 rounds: the last two. Organisation 0 draws 9 in odd rounds (1-based), nothing in even
    # ones; the others always nothing. Rent of 9 alone: 9 (23 - 9/4 - 5) = 141.75
    game = commons.CPRGame(4, commons.Quadratic(23, 0.25), 5, 25)
    pattern = [9.0 if t % 2 == 0 else 0.0 for t in range(11)]
    rule = commons.Mixed([(Alternate(pattern), [0]), (commons.FixedDraw(0.0), [1, 2, 3])])
    m = stage_run(game, rule, rounds=11).metrics
    rent = np.array(pattern) * (23 - np.array(pattern) / 4 - 5)
    np.testing.assert_allclose(m["tail_efficiency"], rent[-2:].sum() / (2 * 324))
    np.testing.assert_allclose(m["efficiency"], rent.sum() / (11 * 324))


class Alternate(commons.Rule):
    """Draws pattern[t] in round t."""

    def __init__(self, pattern):
        self.pattern = pattern

    def decide(self, st, ctx):
        st.draws = np.full(st.draws.shape, self.pattern[st.t])


def test_summary_is_the_mean_and_its_t_interval(run):
    from scipy import stats as st
    for level in (0.95, 0.8):
        got = run.summary(level) if level != 0.95 else run.summary()
        assert list(got.columns) == ["mean", "low", "high", "n"]
        assert got.index.name == "metric"
        assert list(got.index) == list(run.metrics)
        x = run.metrics["efficiency"]
        half = st.sem(x) * st.t.ppf(0.5 + level / 2, x.size - 1)
        assert tuple(got.loc["efficiency", ["mean", "low", "high"]]) == pytest.approx(
            (x.mean(), x.mean() - half, x.mean() + half))
        assert got.loc["efficiency", "n"] == x.size
    # two replicates are enough for an interval; a constant metric has none; no finite value
    # at all gives nan
    two = benchmark_cpr_v1(10).run(20, 2, rng=5)
    x = two.metrics["efficiency"]
    assert x[0] != x[1]
    half = st.sem(x) * st.t.ppf(0.975, 1)
    s2 = two.summary()
    assert tuple(s2.loc["efficiency", ["mean", "low", "high"]]) == pytest.approx(
        (x.mean(), x.mean() - half, x.mean() + half))
    assert tuple(s2.loc["peace", ["mean", "low", "high", "n"]]) == (10.0, 10.0, 10.0, 2)
    never = run.summary().loc["time_to_collapse"]
    finite = np.isfinite(run.metrics["time_to_collapse"])
    assert never["n"] == finite.sum()
    if not finite.any():
        assert all(np.isnan(never[c]) for c in ("mean", "low", "high"))
    assert f"efficiency={run.metrics['efficiency'].mean():.3g}," in repr(run)
    assert f"tragedy_rate={run.tragedy_rate:.3g}" in repr(run)


@pytest.mark.parametrize("level", [0, 1, -0.5, 1.5, True, "0.9"])
def test_summary_refuses_a_level_outside_zero_one(run, level):
    with pytest.raises(ValueError, match="level must be a number in \\(0, 1\\)"):
        run.summary(level)


def test_efficiency_is_recorded_per_round(run):
    # e_t = rent_t / best_t. CPR-v1's best sustainable rent is the same every round of a
    # replicate (a fixed logistic stock, fixed productivities), so the run's efficiency,
    # sum_t rent_t / sum_t best_t, is the plain mean of e_t, and the tail efficiency the mean
    # of its last tenth
    e = run.series["efficiency"]
    assert e.shape == (run.replicates, run.rounds)
    assert np.all(np.isfinite(e))
    np.testing.assert_allclose(e.mean(axis=1), run.metrics["efficiency"], rtol=1e-9)
    tail = int(np.ceil(run.rounds / 10))
    np.testing.assert_allclose(e[:, -tail:].mean(axis=1), run.metrics["tail_efficiency"],
                               rtol=1e-9)
    # the same best rent in every round: rent_t / e_t is constant along a replicate
    rent = run.series["rent"]
    for r in range(run.replicates):
        nz = np.abs(e[r]) > 1e-9
        best = rent[r, nz] / e[r, nz]
        np.testing.assert_allclose(best, best[0], rtol=1e-9)
    np.testing.assert_array_equal(run.to_xarray()["efficiency"].values, e)
    assert "efficiency" not in benchmark_cpr_v1(10).run(5, 2, rng=1, record="final").series


@given(st.integers(1, 5), st.integers(1, 6), st.floats(0.5, 0.99))
def test_mean_interval_matches_scipy(n_rows, n_cols, level):
    from scipy import stats as sst

    from commons.results import mean_interval
    rng = np.random.default_rng(n_rows * 7 + n_cols)
    x = rng.normal(size=(n_rows, n_cols))
    x[0, 0] = np.inf
    mean, lo, hi, n = mean_interval(x, level, axis=0)
    for j in range(n_cols):
        col = x[:, j][np.isfinite(x[:, j])]
        assert n[j] == col.size
        if col.size == 0:
            assert np.isnan(mean[j])
            assert np.isnan(lo[j])
            continue
        assert mean[j] == pytest.approx(col.mean())
        half = 0.0 if col.size < 2 else sst.sem(col) * sst.t.ppf(0.5 + level / 2, col.size - 1)
        assert (lo[j], hi[j]) == pytest.approx((col.mean() - half, col.mean() + half), abs=1e-12)


def test_exports_carry_every_metric_and_the_final_stock(run):
    df = run.to_pandas()
    assert df.index.name == "replicate"
    ds = run.to_xarray()
    for k, v in run.metrics.items():
        var = f"{k}_run" if k in run.series else k   # the run's efficiency beside the series
        np.testing.assert_array_equal(ds[var].values, np.asarray(v), err_msg=k)
        assert ds[var].dims == ("replicate",)
        np.testing.assert_array_equal(df[k].to_numpy(), np.asarray(v), err_msg=k)
    np.testing.assert_array_equal(ds["final_stock"].values, run.final["stock"])
    assert ds["final_stock"].dims == ("replicate",)
    # the replicate coordinate is the replicate indices (their seeds), not positions
    some = benchmark_cpr_v1(10).run(5, rng=3, replicate_ids=[3, 5, 9], record="full")
    ds = some.to_xarray()
    np.testing.assert_array_equal(ds["replicate"].values, [3, 5, 9])
    np.testing.assert_array_equal(ds["round"].values, np.arange(5))
    assert list(some.to_pandas().index) == [3, 5, 9]


@pytest.mark.parametrize(("module", "method"), [("pandas", "to_pandas"),
                                                ("xarray", "to_xarray")])
def test_exports_name_the_extra_when_a_library_is_missing(run, monkeypatch, module, method):
    monkeypatch.setitem(sys.modules, module, None)     # import fails as if not installed
    with pytest.raises(ImportError, match=rf"^RunResult.{method} needs {module}: pip install "
                                          r"'commons-engine\[results\]'$"):
        getattr(run, method)()


@pytest.mark.parametrize("growth", [0.0, 0.05])
@pytest.mark.parametrize("beta", [0.3, 0.5, 0.7])
def test_rent_benchmark_of_private_returns_is_the_best_split_of_the_sustainable_yield(
        beta, growth):
    """The best sustainable group rent of round t (the denominator of efficiency), against a
    direct numerical maximisation of sum_i a_i n_t**(1-beta) h_i**beta - c sum_i h_i over the
    grants h >= 0 with sum_i h_i <= Y = g K / 4 (SLSQP): the closed form's split and its cap
    at the yield, with need n_t = (1 + gamma)**t growing or constant."""
    from scipy.optimize import minimize

    from commons.sim.engine import Context, bind
    from commons.sim.streams import Streams, replicate_keys
    from commons.sim.targets import max_rent

    a = np.array([0.7, 1.0, 1.3])
    c, K, g, T = 0.5, 8.0, 0.25, 60
    model = commons.Model(3, resource=commons.LogisticStock(capacity=K, growth=g),
                          technology=commons.PrivateConcave(productivity=a, elasticity=beta,
                                                            cost=c, need_growth=growth),
                          max_draw=10.0)
    ctx = Context(model, 2, T, Streams(replicate_keys(0, np.arange(2))), model.network)
    bind(model, ctx)
    got = max_rent(model.technology, ctx)
    assert got.shape == (2, T)
    Y = g * K / 4
    for t in (0, T // 2, T - 1):
        n = (1 + growth) ** t

        def loss(h, n=n):
            return -(np.sum(a * n ** (1 - beta) * h ** beta) - c * h.sum())

        best = minimize(loss, np.full(3, Y / 6), method="SLSQP", bounds=[(1e-12, Y)] * 3,
                        constraints=[{"type": "ineq", "fun": lambda h: Y - h.sum()}],
                        options={"ftol": 1e-14, "maxiter": 500})
        assert best.status in (0, 8)  # 8: no step improves further (at rounding's limit)
        np.testing.assert_allclose(got[:, t], -best.fun, rtol=1e-6)
    if growth == 0.0:  # the same every round
        np.testing.assert_array_equal(got, got[:, :1].repeat(T, axis=1))
    else:  # the need grows past the yield: the cap binds in the last rounds, not the first
        assert got[0, -1] > got[0, 0]
