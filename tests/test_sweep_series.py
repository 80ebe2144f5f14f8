"""Per-round series of sweeps: stored per (point, replicate), compact, the same bits however
the sweep is cut, and exported with the metrics as an xarray Dataset."""

import concurrent.futures as cf
import json

import numpy as np
import pytest

import commons
from commons.experiments.sweeps import Design, StoreError, open_store, run_sweep
from commons.experiments.sweeps import run as sweep_run
from commons.sim.engine import SERIES

xr = pytest.importorskip("xarray")

DESIGN = Design.grid(fine=[0.0, 8.0], growth=[0.15, 0.3])
SWEEP = {"replicates": 3, "rounds": 25, "rng": 11, "fixed": {"n": 12}, "progress": False}
ALL = (*SERIES, "efficiency")


def data(ds):
    """The Dataset without its attrs (which record the chunk size)."""
    out = ds.copy()
    out.attrs = {}
    return out


@pytest.fixture(scope="module")
def full():
    return run_sweep("cpr-v1", DESIGN, chunk_size=5, series=True, **SWEEP)


def test_the_dataset_holds_what_a_direct_simulation_gives(full):
    ds = full.to_xarray()
    assert dict(ds.sizes) == {"point": 4, "replicate": 3, "round": 25}
    np.testing.assert_array_equal(ds["fine"].values, DESIGN.column("fine"))
    np.testing.assert_array_equal(ds["growth"].values, DESIGN.column("growth"))
    assert ds["fine"].dims == ("point",)
    assert ds.attrs["partial"] is False
    assert json.loads(ds.attrs["study"])["fingerprint"] == full.study["fingerprint"]
    assert ds.attrs["entropy"] == "11"
    assert ds.attrs["version"] == commons.__version__
    for p, r in ((0, 0), (3, 2), (2, 1)):
        direct = commons.scenarios.benchmark_cpr_v1(12, **DESIGN.point(p)).run(
            25, rng=11, point=p, replicate_ids=[r])
        for name in ALL:
            assert ds[name].dims == ("point", "replicate", "round")
            np.testing.assert_array_equal(ds[name].sel(point=p, replicate=r).values,
                                          direct.series[name][0], err_msg=name)
        for name, v in direct.metrics.items():
            var = f"{name}_run" if name in ALL else name
            assert ds[var].dims == ("point", "replicate")
            assert ds[var].sel(point=p, replicate=r).item() == float(v[0]), name
    assert not ds["failed"].any()
    assert ds["stored"].all()
    # the frame and the Dataset agree on every metric
    df = full.frame()
    np.testing.assert_array_equal(ds["tragedy"].values.ravel(), df["tragedy"].to_numpy())
    assert not any(c.startswith("series.") for c in df.columns)


def test_float32_series_are_the_float64_ones_rounded(full):
    small = run_sweep("cpr-v1", DESIGN, chunk_size=4, series=["stock", "efficiency"],
                      series_dtype="float32", **SWEEP)
    ds, ref = small.to_xarray(), full.to_xarray()
    assert {k for k, v in ds.data_vars.items() if "round" in v.dims} == {"stock", "efficiency"}
    assert ds["burned"].dims == ("point", "replicate")  # the metric, no series beside it
    for name in ("stock", "efficiency"):
        assert ds[name].dtype == np.float32
        np.testing.assert_array_equal(ds[name].values, ref[name].values.astype(np.float32))
    # the metrics stay float64 and equal
    np.testing.assert_array_equal(ds["efficiency_run"].values, ref["efficiency_run"].values)
    assert ds.attrs["series_dtype"] == "float32"


@pytest.mark.parametrize(("chunk_size", "batch_points"), [(1, True), (12, True), (2, False)])
def test_series_have_the_same_bits_however_the_sweep_is_cut(full, chunk_size, batch_points):
    got = run_sweep("cpr-v1", DESIGN, chunk_size=chunk_size, batch_points=batch_points,
                    series=True, **SWEEP)
    xr.testing.assert_identical(data(got.to_xarray()), data(full.to_xarray()))


def test_series_have_the_same_bits_on_a_process_pool(full):
    with cf.ProcessPoolExecutor(2) as pool:
        got = run_sweep("cpr-v1", DESIGN, executor=pool, chunk_size=3, series=True, **SWEEP)
    xr.testing.assert_identical(data(got.to_xarray()), data(full.to_xarray()))


def test_a_store_of_series_resumes_and_keeps_its_study(tmp_path, full):
    store = tmp_path / "s"
    run_sweep("cpr-v1", DESIGN, store=store, chunk_size=3, series=True, **SWEEP)
    for f in sorted((store / "chunks").glob("*.parquet"))[::2]:
        f.unlink()
    with pytest.warns(RuntimeWarning, match="chunk file"):
        again = run_sweep("cpr-v1", DESIGN, store=store, chunk_size=5, series=True, **SWEEP)
    xr.testing.assert_identical(data(open_store(store).to_xarray()), data(full.to_xarray()))
    assert again.complete
    # the series are part of the study: another choice is another study
    for other in ({"series": False}, {"series": ["stock"]},
                  {"series": True, "series_dtype": "float32"}):
        with pytest.raises(StoreError, match="holds a different study"):
            run_sweep("cpr-v1", DESIGN, store=store, **other, **SWEEP)
    # and a study without series is described as it always was
    plain = run_sweep("cpr-v1", DESIGN, **SWEEP)
    assert "series" not in plain.study
    assert plain.study["fingerprint"] != full.study["fingerprint"]


def test_a_partial_store_gives_what_it_holds_and_says_so(tmp_path, full):
    store = tmp_path / "p"
    # one point per chunk; keep the first two chunks in the manifest: points 0 and 1 finished
    run_sweep("cpr-v1", DESIGN, store=store, chunk_size=3, series=True, **SWEEP)
    lines = (store / "manifest.jsonl").read_text().splitlines()
    (store / "manifest.jsonl").write_text("\n".join(lines[:3]) + "\n")
    part = open_store(store)
    assert not part.complete
    with pytest.warns(RuntimeWarning, match=r"partial: 2 of 4 points are missing"):
        ds = part.to_xarray()
    assert ds.attrs["partial"] is True
    assert ds["point"].values.tolist() == [0, 1]
    np.testing.assert_array_equal(ds["fine"].values, DESIGN.column("fine")[:2])
    ref = full.to_xarray().sel(point=[0, 1])
    xr.testing.assert_identical(data(ds), data(ref))
    # nothing stored at all: an empty Dataset, still partial
    (store / "manifest.jsonl").write_text(lines[0] + "\n")
    with pytest.warns(RuntimeWarning, match=r"partial: 4 of 4 points"):
        empty = open_store(store).to_xarray()
    assert empty.sizes["point"] == 0
    assert empty["stock"].shape == (0, 3, 25)


def test_failed_runs_are_nan_in_the_dataset():
    def_design = Design.grid(x=[0.0, 2.0])
    res = run_sweep(failing_factory, def_design, replicates=2, rounds=4, rng=1,
                    progress=False, series=["stock"], chunk_size=4)
    ds = res.to_xarray()
    assert ds["failed"].values.tolist() == [[False, False], [True, True]]
    assert np.isnan(ds["stock"].sel(point=1)).all()
    assert np.isfinite(ds["stock"].sel(point=0)).all()
    assert np.isnan(ds["efficiency"].sel(point=1)).all()


def failing_factory(n=6, x=0.0):
    if x > 1.5:
        raise RuntimeError(f"no model for x = {x}")
    return commons.scenarios.benchmark_cpr_v1(n)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"series": ["stock", "wealth"]}, ValueError,
     r"series: no series \['wealth'\]; the engine records \['mean_draw', .*'efficiency'\]"),
    ({"series": ["stock", "stock"]}, ValueError, "series: a name is given twice"),
    ({"series": 3}, TypeError, "series must be True, False or a list"),
    ({"series": True, "series_dtype": "float16"}, ValueError,
     "series_dtype must be one of 'float64', 'float32', got 'float16'"),
])
def test_bad_series_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        run_sweep("cpr-v1", DESIGN, **kwargs, **SWEEP)


def test_memory_and_disk_checks_count_the_series(monkeypatch, tmp_path):
    model = commons.scenarios.benchmark_cpr_v1(10)
    T = 1000
    base = sweep_run.estimate_run_memory(model, T)
    f64 = sweep_run.estimate_run_memory(model, T, series=len(ALL), series_itemsize=8)
    f32 = sweep_run.estimate_run_memory(model, T, series=len(ALL), series_itemsize=4)
    # every stored value is held in float64 and as stored, plus the derived efficiency
    assert f64 - base >= len(ALL) * T * 16
    assert f64 - f32 == len(ALL) * T * 4
    # memory for chunks of 10 runs without series, not with them: the chunk is refused
    monkeypatch.setattr(sweep_run, "_available_memory", lambda: int(base * 10 / 0.8))
    with pytest.raises(ValueError, match=r"chunk_size: a chunk of 10 runs of 1000 rounds "
                                         r"\(N = 10, 14 series kept as float64\)"):
        run_sweep("cpr-v1", DESIGN, replicates=3, rounds=T, rng=1, fixed={"n": 10},
                  chunk_size=10, progress=False, executor="in-process", series=True)
    # the disk: the series' bytes are asked for before anything runs
    import shutil
    from collections import namedtuple
    usage = namedtuple("usage", "total used free")
    need = 4 * 3 * T * len(ALL) * 4  # the float32 series of 4 points x 3 replicates
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**12, 0, need))
    with pytest.raises(StoreError, match="the disk has"):
        run_sweep("cpr-v1", DESIGN, replicates=3, rounds=T, rng=1, fixed={"n": 10},
                  progress=False, store=tmp_path / "d", series=True, series_dtype="float32")


def test_the_memory_estimate_counts_what_the_plugins_declare():
    # a trust rule that also keeps 3 numbers per edge and one integer per organisation:
    # one replicate needs 3 E 8 + N 8 bytes more
    class Hoarding(commons.ComplianceTrust):
        memory = {**commons.ComplianceTrust.memory, "pile": ("edge", float, "depth"),
                  "tally": ("org", np.int64)}
        depth = 3

    plain = commons.scenarios.benchmark_cpr_v1(10)
    hoarding = plain.replace(trust=Hoarding(0.1, 0.5))
    E = plain.network.n_edges
    for T in (10, 1000):
        grown = (sweep_run.estimate_run_memory(hoarding, T)
                 - sweep_run.estimate_run_memory(plain, T))
        assert grown == 3 * E * 8 + 10 * 8
