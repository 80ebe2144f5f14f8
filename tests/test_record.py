"""What a run records: a run that names its series keeps those, to the bit, and the metrics
made from them; "final" keeps the metrics of a summary run; bad requests are refused."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import commons
from commons.sim import compiled_run
from commons.sim._steps import RB
from commons.sim.engine import SERIES

N = 24
GRAPH = nx.connected_watts_strogatz_graph(N, 6, 0.2, seed=4)


def accounting_model(n=N, graph=GRAPH):
    """Every recorded quantity moves: fines, fees to the members, punishment costs burned,
    misread inspections (wrongful sanctions), exclusions, trust."""
    return commons.Model(
        n, network=graph, resource=commons.LogisticStock(10.0 * n, growth=0.25),
        technology=commons.PrivateConcave(commons.Uniform(0.5, 1.5), 0.5, 0.5),
        quota=commons.FixedQuota(0.6), monitoring=commons.PeerMonitoring(0.3, 0.5, noise=0.2),
        sanctions=[commons.GraduatedSanction((0.0, 2.0, 4.0), exclude_after=2,
                                             exclusion_rounds=1, forgive_after=2),
                   commons.UnitFee(0.05, recipient="members"),
                   commons.PeerPunishment(2, antisocial=0.1, revenge=0.3)],
        rule=commons.BestResponse(0.4, 0.2), max_draw=2.0, initial_draws=commons.Uniform(0, 2))


MODEL = accounting_model()
# the fused kernel's recorder, and the numpy one (which acts run one by one also use)
ENGINES = [pytest.param("numba", marks=pytest.mark.fused), "numpy"]


def metrics_made_from(names):
    """The metrics a run keeping the series ``names`` (and no accumulators) can compute, by
    compute_metrics' rule: the final state's always, the others from their series."""
    out = {"collapsed", "time_to_collapse", "final_stock_ratio"}
    if "rent" in names:
        out |= {"efficiency", "tail_efficiency", "tragedy"}
    if {"regulator_income", "regulator_spending"} <= set(names):
        out.add("regulator_net")
    if "burned" in names:
        out.add("burned")
    return out


def test_the_accounting_model_moves_every_series():
    # the oracle below compares named series with a summary run's (this one for each series
    # alone); series that stayed 0 would compare nothing
    res = MODEL.run(20, 3, rng=11)
    for k in ("fines", "costs", "regulator_income", "burned", "wrongful", "excluded",
              "total_granted", "rent", "mean_trust"):
        assert np.ptp(res.series[k]) > 0, k
    assert res.series["compliance"].min() < 1


def _same_as_summary(named, summary, names):
    assert named.provenance["record"] == [k for k in SERIES if k in names]
    derived = {"efficiency"} if "rent" in names else set()
    assert set(named.series) == set(names) | derived
    for k, v in named.series.items():
        np.testing.assert_array_equal(v, summary.series[k], err_msg=k)
    assert set(named.metrics) == metrics_made_from(names)
    for k, v in named.metrics.items():
        np.testing.assert_array_equal(v, summary.metrics[k], err_msg=k)
    np.testing.assert_array_equal(named.final["draws"], summary.final["draws"])
    assert "cumulative_rent" not in named.final


@pytest.mark.parametrize("engine", ENGINES)
def test_each_series_alone_and_all_but_it(engine):
    # each series' sum is made only when it is kept: kept alone, it must be made, and kept
    # with every other but one, the one left out must not change the others
    summary = MODEL.run(20, 3, rng=11, engine=engine)
    for name in SERIES:
        for names in ([name], [k for k in SERIES if k != name]):
            named = MODEL.run(20, 3, rng=11, engine=engine, record=names)
            _same_as_summary(named, summary, names)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=12, deadline=None)
@given(names=st.lists(st.sampled_from(SERIES), min_size=1, max_size=6, unique=True),
       seed=st.integers(0, 2**32 - 1))
@example(names=["mean_draw", "stock"], seed=0)
@example(names=list(SERIES), seed=1)
def test_a_run_that_names_its_series_keeps_those_to_the_bit(engine, names, seed):
    summary = MODEL.run(20, 3, rng=seed, engine=engine)
    named = MODEL.run(20, 3, rng=seed, engine=engine, record=names)
    _same_as_summary(named, summary, names)


@pytest.mark.parametrize("engine", ENGINES)
def test_final_keeps_every_metric_of_a_summary_run(engine):
    summary = MODEL.run(25, 4, rng=8, engine=engine)
    final = MODEL.run(25, 4, rng=8, engine=engine, record="final")
    assert final.series == {}
    assert list(final.metrics) == list(summary.metrics)
    for k, v in summary.metrics.items():
        np.testing.assert_array_equal(final.metrics[k], v, err_msg=k)
    np.testing.assert_array_equal(final.final["cumulative_rent"],
                                  summary.final["cumulative_rent"])


@pytest.mark.fused
def test_named_series_on_threads_sharing_a_replicate(monkeypatch):
    # fewer replicates than threads: organisations in blocks, the sums block by block
    n = 2 * RB + 9
    model = accounting_model(n, nx.connected_watts_strogatz_graph(n, 4, 0.1, seed=2))
    monkeypatch.setattr(compiled_run, "threads", lambda: 2)
    monkeypatch.setattr(compiled_run, "ORGS_MIN", 1)
    names = ["mean_draw", "compliance", "mean_trust", "wrongful"]
    summary = model.run(12, 1, rng=3)
    named = model.run(12, 1, rng=3, record=names)
    for k in names:
        np.testing.assert_array_equal(named.series[k], summary.series[k], err_msg=k)
    monkeypatch.setattr(compiled_run, "threads", lambda: 1)
    one = model.run(12, 1, rng=3, record=names)
    for k in names:
        np.testing.assert_array_equal(named.series[k], one.series[k], err_msg=k)


def test_a_run_without_rent_says_what_it_lacks():
    res = MODEL.run(10, 2, rng=0, record=("stock",))
    assert "series=['stock']" in repr(res)
    with pytest.raises(KeyError, match="rent series, which this run did not record"):
        _ = res.tragedy_rate
    with_rent = MODEL.run(10, 2, rng=0, record=("rent",))
    assert with_rent.tragedy_rate == MODEL.run(10, 2, rng=0).tragedy_rate


@pytest.mark.parametrize(("record", "match"), [
    ([], "record names no series"),
    (["stock", "biomass"], r"unknown series \['biomass'\]"),
    (["stock", 3], r"unknown series \[3\]"),
    (["efficiency"], "efficiency is derived from rent: name 'rent'"),
    ("stock", "record must be 'summary', 'full', 'final' or a sequence"),
    (5, "record must be 'summary', 'full', 'final' or a sequence"),
    (b"stock", "record must be 'summary', 'full', 'final' or a sequence"),
    (None, "record must be"),
])
def test_bad_record_requests_are_refused(record, match):
    with pytest.raises(ValueError, match=match):
        MODEL.run(5, 1, record=record)


def test_memory_estimate_counts_the_series_kept():
    from commons.sim.memory import run_bytes
    R, T = 10, 1000
    summary = run_bytes(R, N, 100, T, "summary")
    two = run_bytes(R, N, 100, T, ("mean_draw", "stock"))
    rent = run_bytes(R, N, 100, T, ("rent",))  # and its derived efficiency
    assert summary - two == (14 - 2) * R * T * 8
    assert rent - two == 0
    assert run_bytes(R, N, 100, T, "final") == two + 2 * R * T * 8  # four series, no output
