"""Sweeps: same bits on every executor, resumable stores, study files, failures as data."""

import concurrent.futures as cf
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import commons
from commons.experiments.studyfile import StudyFileError, load_study
from commons.experiments.sweeps import Design, RayExecutor, StoreError, open_store, run_sweep

DESIGN = Design.grid(fine=[0.0, 2.0, 8.0], growth=[0.15, 0.3])
SWEEP = {"replicates": 6, "rounds": 30, "rng": 11, "fixed": {"n": 12}}


def frame(result):
    return result.frame().drop(columns=["failed"])


@pytest.fixture(scope="module")
def reference():
    return frame(run_sweep("cpr-v1", DESIGN, progress=False, chunk_size=7, **SWEEP))


def test_results_are_seeded_per_point_and_replicate(reference):
    assert len(reference) == DESIGN.size * 6
    # element (p, r) equals a direct simulation seeded by SeedSequence(11, spawn_key=(p, r))
    p, r = 4, 3
    pt = DESIGN.point(p)
    direct = commons.scenarios.benchmark_cpr_v1(12, **pt).run(
        30, rng=11, point=p, replicate_ids=[r], record="final")
    row = reference[(reference.point == p) & (reference.replicate == r)]
    assert row["efficiency"].item() == direct.metrics["efficiency"][0]
    assert row["final_stock"].item() == direct.final["stock"][0]


@pytest.mark.parametrize(("chunk_size", "batch_points"), [(1, True), (5, False), (36, True)])
def test_same_bits_whatever_the_chunking(reference, chunk_size, batch_points):
    got = frame(run_sweep("cpr-v1", DESIGN, progress=False, chunk_size=chunk_size,
                          batch_points=batch_points, **SWEEP))
    pd.testing.assert_frame_equal(got, reference)


def test_same_bits_on_a_process_pool(reference):
    with cf.ProcessPoolExecutor(2) as pool:
        got = frame(run_sweep("cpr-v1", DESIGN, executor=pool, progress=False, chunk_size=4,
                              **SWEEP))
        assert not pool._shutdown_thread  # the caller's pool is left running
        assert pool.submit(int, "3").result() == 3
    pd.testing.assert_frame_equal(got, reference)


def test_same_bits_on_dask(reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ex = client.get_executor(pure=False)
        got = frame(run_sweep("cpr-v1", DESIGN, executor=ex, progress=False, chunk_size=4,
                              **SWEEP))
        assert client.submit(sum, [1, 2]).result() == 3  # still usable
    pd.testing.assert_frame_equal(got, reference)


def test_same_bits_on_ray(reference):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             ignore_reinit_error=True)
    try:
        got = frame(run_sweep("cpr-v1", DESIGN, executor=RayExecutor(), progress=False,
                              chunk_size=4, **SWEEP))
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(got, reference)


def test_store_streams_chunks_and_resumes(tmp_path, reference):
    store = tmp_path / "s"
    res = run_sweep("cpr-v1", DESIGN, store=store, progress=False, chunk_size=7, **SWEEP)
    assert res.complete
    assert res.n_chunks == 6
    assert len(list((store / "chunks").glob("*.parquet"))) == 6
    pd.testing.assert_frame_equal(frame(open_store(store)), reference)
    # deleting chunks = an interruption: resuming recomputes exactly those
    for f in sorted((store / "chunks").glob("*.parquet"))[::2]:
        f.unlink()
    kept = {f.name: f.stat().st_mtime_ns for f in (store / "chunks").glob("*.parquet")}
    with pytest.warns(RuntimeWarning, match="3 chunk file"):
        again = run_sweep("cpr-v1", DESIGN, store=store, progress=False, chunk_size=7, **SWEEP)
    for name, mtime in kept.items():
        assert (store / "chunks" / name).stat().st_mtime_ns == mtime  # not computed twice
    pd.testing.assert_frame_equal(frame(again), reference)
    with pytest.raises(StoreError, match="pass resume=True"):
        run_sweep("cpr-v1", DESIGN, store=store, progress=False, chunk_size=7, resume=False,
                  **SWEEP)


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from commons.experiments.sweeps import Design, run_sweep
    design = Design.grid(fine=[0.0, 1.0, 2.0, 4.0, 8.0], growth=[0.1, 0.2, 0.3, 0.4])
    run_sweep("cpr-v1", design, replicates=8, rounds=150, rng=5, fixed={"n": 30},
              store=sys.argv[1], chunk_size=4, progress=False, engine="numpy")
""")


def test_a_killed_sweep_resumes_to_the_same_result(tmp_path):
    design = Design.grid(fine=[0.0, 1.0, 2.0, 4.0, 8.0], growth=[0.1, 0.2, 0.3, 0.4])
    kwargs = {"replicates": 8, "rounds": 150, "rng": 5, "fixed": {"n": 30}, "chunk_size": 4,
              "progress": False, "engine": "numpy"}
    store = tmp_path / "killed"
    script = tmp_path / "sweep.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(store)])
    chunks = store / "chunks"
    deadline = time.time() + 120
    while time.time() < deadline:
        if chunks.exists() and len(list(chunks.glob("chunk-*.parquet"))) >= 5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(chunks.glob("chunk-*.parquet")))
    assert 5 <= done < 40, "the sweep should have been killed part-way"
    partial = open_store(store)
    assert not partial.complete
    resumed = run_sweep("cpr-v1", design, store=store, **kwargs)
    assert resumed.complete
    assert not list(store.rglob(".tmp-*"))
    whole = run_sweep("cpr-v1", design, **kwargs)
    got, want = frame(resumed), frame(whole)
    assert not got.duplicated(["point", "replicate"]).any()
    pd.testing.assert_frame_equal(got, want)


def failing_factory(n=8, x=0.0):
    if x > 1.5:
        raise RuntimeError(f"no model for x = {x}")
    return commons.scenarios.benchmark_cpr_v1(n)


def test_failures_are_recorded_as_data():
    res = run_sweep(failing_factory, Design.grid(x=[0.0, 1.0, 2.0, 3.0]), replicates=3,
                    rounds=5, rng=1, progress=False, chunk_size=12)
    df = res.frame()
    assert df["failed"].tolist() == [False] * 6 + [True] * 6
    assert df.loc[df.failed, "efficiency"].isna().all()
    errs = res.errors()
    assert sorted(e["point"] for e in errs) == [2, 3]
    assert "no model for x = 2.0" in errs[0]["error"]
    assert res.summary()["point"].tolist() == [0, 1]


def test_summary_intervals_and_the_tragedy_map(tmp_path, reference):
    res = run_sweep("cpr-v1", DESIGN, store=tmp_path / "m", progress=False, **SWEEP)
    summ = res.summary()
    g = reference[reference.point == 0]
    assert list(summ.columns[:4]) == ["point", "fine", "growth", "n"]
    assert list(summ.filter(like="efficiency_").columns[:4]) == [
        "efficiency_mean", "efficiency_low", "efficiency_high", "efficiency_n"]
    row = summ[summ.point == 0].iloc[0]
    assert row["efficiency_mean"] == pytest.approx(g["efficiency"].mean())
    half = stats.sem(g["efficiency"]) * stats.t.ppf(0.975, len(g) - 1)
    assert row["efficiency_high"] - row["efficiency_mean"] == pytest.approx(half)
    assert row["efficiency_mean"] - row["efficiency_low"] == pytest.approx(half)
    assert row["efficiency_n"] == len(g)
    k = int((g["tragedy"] < 0.5).sum())
    ci = stats.binomtest(k, len(g)).proportion_ci(0.95, method="wilson")
    assert (row["p_avoid_mean"], row["p_avoid_low"], row["p_avoid_high"]) == pytest.approx(
        (k / len(g), ci.low, ci.high))
    png = tmp_path / "map.png"
    fig = res.tragedy_map("fine", "growth", path=png, predictions=[("theory", "x", 1.0)])
    assert png.stat().st_size > 10_000
    assert fig.axes[0].get_xlabel() == "fine"
    # the plotting options pass through: a boundary drawn on the map alone, no efficiency panel
    alone = res.tragedy_map("fine", "growth", efficiency=None,
                            boundaries=[("drawn", [0.0, 2.0], [0.2, 0.2])])
    assert len(alone.axes) < len(fig.axes)
    assert "drawn" in [ln.get_label() for ln in alone.axes[0].lines]


def test_sample_designs_use_scipy_qmc():
    from scipy.stats import qmc
    d = Design.sample({"a": (0, 1), "b": (10, 20)}, 8, method="sobol", seed=3)
    expect = qmc.scale(qmc.Sobol(d=2, seed=3).random(8), [0, 10], [1, 20])
    np.testing.assert_array_equal(d.values, expect)
    assert Design.sample({"a": (0, 1)}, 5, method="lhs").size == 5


def ignores_y(n=10, fine=0.0, y=0.0):
    """CPR-v1 whose fine matters and whose y does not."""
    return commons.scenarios.benchmark_cpr_v1(n, fine=fine)


def test_sobol_indices_find_the_parameter_that_matters():
    pytest.importorskip("SALib")
    design = Design.saltelli({"fine": (0.0, 8.0), "y": (0.0, 1.0)}, 32, seed=1)
    assert design.size == 32 * 4
    res = run_sweep(ignores_y, design, replicates=4, rounds=60, rng=2, progress=False,
                    common_random_numbers=True)
    si = res.sobol("efficiency")
    assert si["y"]["ST"] == pytest.approx(0.0, abs=1e-12)  # y never enters the model
    assert si["fine"]["ST"] > 0.5
    with pytest.raises(ValueError, match=r"must come from Design\.saltelli"):
        run_sweep("cpr-v1", DESIGN, progress=False, **SWEEP).sobol()


# ---------------------------------------------------------------- bad input
def write_study(tmp_path, text, name="study.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


GOOD = """
    [study]
    name = "small"
    scenario = "cpr-v1"
    rounds = 10
    replicates = 2
    seed = 3
    store = "out"
    [fixed]
    n = 10
    [design.grid]
    fine = [0.0, 2.0]
    growth = [0.2]
"""


def test_a_study_file_runs_and_shows(tmp_path, capsys):
    path = write_study(tmp_path, GOOD)
    from commons.cli import main
    assert main(["sweep", str(path), "--no-progress"]) == 0
    assert main(["show", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "runs stored: 4 of 4" in out
    assert "P(tragedy avoided)" in out


def test_a_study_file_stores_the_series_it_names(tmp_path):
    text = GOOD.replace("seed = 3",
                        'seed = 3\n    series = ["stock"]\n    series_dtype = "float32"')
    kw = load_study(write_study(tmp_path, text))
    assert kw["series"] == ["stock"]
    assert kw["series_dtype"] == "float32"
    name = kw.pop("name")
    ds = run_sweep(name=name, progress=False, **kw).to_xarray()
    assert {k for k, v in ds.data_vars.items() if "round" in v.dims} == {"stock"}
    # the stored stock is the stock a direct run of the last point gives, rounded to float32
    direct = commons.scenarios.benchmark_cpr_v1(10, fine=2.0, growth=0.2).run(
        10, rng=3, point=1, replicate_ids=[1])
    assert ds["stock"].dtype == np.float32
    np.testing.assert_array_equal(ds["stock"].sel(point=1, replicate=1).values,
                                  direct.series["stock"][0].astype(np.float32))


@pytest.mark.parametrize(("text", "match"), [
    (GOOD.replace("fine = [0.0, 2.0]", "fines = [0.0, 2.0]"),
     r"unknown parameter\(s\) \['fines'\]"),
    (GOOD.replace("[fixed]\n    n = 10", "[fixed]\n    size = 10"),
     r"unknown parameter\(s\) \['size'\]"),
    (GOOD.replace("fine = [0.0, 2.0]", "fine = []"), "malformed design"),
    (GOOD.replace("fine = [0.0, 2.0]", 'fine = ["a", "b"]'), "'fine' .* takes a number"),
    (GOOD.replace("fine = [0.0, 2.0]", 'fine = ["a", 1.0]'), "malformed design.*mix"),
    (GOOD.replace("seed = 3", "seed = -3"), "seed must be an integer >= 0"),
    (GOOD.replace("seed = 3", 'seed = 3\n    engine = "gpu"'), "engine must be one of"),
    (GOOD.replace("seed = 3", "seed = 3\n    timeout = 0"), "timeout must be a positive"),
    (GOOD.replace("seed = 3", 'seed = 3\n    series = ["stok"]'), r"no series \['stok'\]"),
    (GOOD.replace("seed = 3", 'seed = 3\n    series = 3'), "series must be True, False or a"),
    (GOOD.replace("seed = 3", 'seed = 3\n    series_dtype = "float16"'), "series_dtype must be"),
    (GOOD.replace("[design.grid]", "[design.cube]"), r"\[design\] must hold exactly one of"),
    (GOOD.replace('scenario = "cpr-v1"', 'scenario = "moon"'), "scenario must be one of"),
    (GOOD.replace("rounds = 10", "rounds = 0"), "rounds must be an integer >= 1"),
    (GOOD.replace('name = "small"', 'nme = "small"'), r"unknown key\(s\) in \[study\]"),
    ("[study\nscenario=", "not valid TOML"),
])
def test_bad_study_files(tmp_path, text, match):
    with pytest.raises(StudyFileError, match=match):
        load_study(write_study(tmp_path, text))


def test_unwritable_store(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="is not writable"):
        run_sweep("cpr-v1", DESIGN, store=blocker / "store", progress=False, **SWEEP)


def test_a_store_of_another_study_is_refused_and_left_intact(tmp_path):
    store = tmp_path / "s"
    run_sweep("cpr-v1", DESIGN, store=store, progress=False, **SWEEP)
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    other = {**SWEEP, "rng": 12}
    with pytest.raises(StoreError, match="holds a different study"):
        run_sweep("cpr-v1", DESIGN, store=store, progress=False, **other)
    after = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    assert before == after
    (store / "study.json").write_text("{broken")
    with pytest.raises(StoreError, match=r"unreadable study\.json"):
        run_sweep("cpr-v1", DESIGN, store=store, progress=False, **SWEEP)
    with pytest.raises(StoreError, match="not a commons sweep store"):
        open_store(tmp_path)


def test_bad_sweep_arguments():
    with pytest.raises(ValueError, match="unknown scenario"):
        run_sweep("nope", DESIGN, progress=False, **SWEEP)
    with pytest.raises(TypeError, match="design must be"):
        run_sweep("cpr-v1", {"fine": [1]}, progress=False, **SWEEP)
    with pytest.raises(ValueError, match="design: parameter names repeat"):
        Design(("a", "a"), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="every bound must be"):
        Design.sample({"a": (1, 0)}, 4)
