"""Sweeps never lose, hide or mix work: interruption, dead workers, hung points, damaged or
shared stores, typed designs, resources checked before computing."""

import concurrent.futures as cf
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

import commons
from commons.cli import main
from commons.experiments.sweeps import (
    Design,
    StoreError,
    SweepInterrupted,
    open_store,
    run_sweep,
)
from commons.experiments.sweeps import run as sweep_run
from commons.experiments.sweeps import store as sweep_store

DESIGN = Design.grid(fine=[0.0, 2.0, 8.0], growth=[0.15, 0.3])
SWEEP = {"replicates": 4, "rounds": 20, "rng": 11, "fixed": {"n": 10}, "progress": False}


def rows(result):
    return result.frame().drop(columns=["failed"])


@pytest.fixture(scope="module")
def reference():
    return rows(run_sweep("cpr-v1", DESIGN, chunk_size=5, **SWEEP))


def entries(store):
    return sweep_store.Store(store).read_manifest()[1]


def wait_for(predicate, what, limit=120.0):
    """Poll until ``predicate()`` (a guard against hanging, not a timing assertion)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


# ---------------------------------------------------------------- interruption
STUDY = """
    [study]
    name = "interrupted"
    scenario = "cpr-v1"
    rounds = {rounds}
    replicates = 4
    seed = 5
    store = "out"
    chunk_size = 4
    engine = "{engine}"
    [fixed]
    n = 30
    [design.grid]
    fine = [0.0, 1.0, 2.0, 4.0]
    growth = [0.1, 0.2, 0.3, 0.4]
"""


@pytest.mark.parametrize(("sig", "engine", "rounds"), [(signal.SIGINT, "auto", 3000),
                                                      (signal.SIGTERM, "numpy", 100)])
def test_a_signal_stops_commons_sweep_keeps_its_chunks_and_a_rerun_resumes(
        tmp_path, sig, engine, rounds):
    study = tmp_path / "study.toml"
    study.write_text(textwrap.dedent(STUDY.format(engine=engine, rounds=rounds)))
    store = tmp_path / "out"
    # the command starts as from a terminal: Python's own handling of the signal, whatever
    # the test runner's thread blocks or ignores (a child inherits both)
    start = ("import runpy, signal, sys; "
             "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM}); "
             "signal.signal(signal.SIGINT, signal.default_int_handler); "
             "signal.signal(signal.SIGTERM, signal.SIG_DFL); "
             "sys.argv = ['commons'] + sys.argv[1:]; "
             "runpy.run_module('commons.cli', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", start, "sweep", str(study),
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    wait_for(lambda: (store / "manifest.jsonl").exists() and len(entries(store)) >= 1,
             "the first chunk")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    stored = entries(store)
    assert 1 <= len(stored) < 16, "the sweep should have stopped part-way"
    # the message tells the true count of chunks on disk, and nothing was left half-written
    said = re.search(r"(\d+) chunks? \((\d+) of 64 runs\) are stored", err)
    assert said, err
    assert int(said.group(1)) == len(stored) == open_store(store).done
    assert int(said.group(2)) == 4 * len(stored)
    assert "Traceback" not in err
    assert not list(store.rglob(".tmp-*"))
    # the rerun computes only the rest and gives what an uninterrupted run gives
    assert main(["sweep", str(study), "--no-progress"]) == 0
    resumed = open_store(store)
    assert resumed.complete
    whole = run_sweep("cpr-v1", Design.grid(fine=[0.0, 1.0, 2.0, 4.0],
                                            growth=[0.1, 0.2, 0.3, 0.4]),
                      replicates=4, rounds=rounds, rng=5, fixed={"n": 30}, engine=engine,
                      progress=False)
    pd.testing.assert_frame_equal(rows(resumed), rows(whole))


def test_each_chunk_is_on_disk_before_the_next_starts(tmp_path):
    store = tmp_path / "s"
    seen = []

    def counting(n=10, fine=0.0, growth=0.25):
        path = store / "manifest.jsonl"
        seen.append(len(entries(store)) if path.exists() else None)
        return commons.scenarios.benchmark_cpr_v1(n, fine=fine, growth=growth)

    res = run_sweep(counting, DESIGN, store=store, chunk_size=4, executor="in-process",
                    **SWEEP)
    assert res.done == 6
    # the first call builds the model up front; then chunk k starts with k chunks stored
    assert seen[1:] == [0, 1, 2, 3, 4, 5]


def test_the_progress_bar_advances_chunk_by_chunk(tmp_path, monkeypatch):
    import tqdm.auto
    updates = []

    class Bar:
        def __init__(self, total, initial, **kw):
            updates.append(("start", total, initial))

        def update(self, n):
            updates.append(("update", n, len(entries(tmp_path / "s"))))

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    run_sweep("cpr-v1", DESIGN, store=tmp_path / "s", chunk_size=8,
              **{**SWEEP, "progress": True})
    assert updates[0] == ("start", 24, 0)
    assert updates[1:] == [("update", 8, 1), ("update", 8, 2), ("update", 8, 3)]


# ---------------------------------------------------------------- dead and hung workers
def dies_at_two(n=8, x=0.0):
    """CPR-v1 whose worker dies (os._exit) at x = 2."""
    if np.any(np.asarray(x) == 2.0):
        os._exit(3)
    return commons.scenarios.benchmark_cpr_v1(n, fine=x)


def never_dies(n=8, x=0.0):
    return commons.scenarios.benchmark_cpr_v1(n, fine=x)


def hangs_at_two(n=8, x=0.0):
    if np.any(np.asarray(x) == 2.0):
        time.sleep(600)
    return commons.scenarios.benchmark_cpr_v1(n, fine=x)


XS = Design.grid(x=[0.0, 1.0, 2.0, 3.0, 4.0])
SMALL = {"replicates": 3, "rounds": 10, "rng": 4, "progress": False, "engine": "numpy"}


def check_only_point_two_failed(res, cause):
    assert res.complete
    assert res.failed_points == [2]
    errs = res.errors()
    assert [e["point"] for e in errs] == [2]
    assert errs[0]["params"] == {"x": 2.0}
    assert re.search(cause, errs[0]["error"]), errs[0]["error"]
    df = res.frame()
    good = df[df.point != 2].drop(columns=["failed"]).reset_index(drop=True)
    want = rows(run_sweep(never_dies, XS, **SMALL))
    want = want[want.point != 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(good, want)
    assert df.loc[df.point == 2, "failed"].all()


@pytest.mark.parametrize("pool", ["ours", "caller's"])
def test_a_worker_that_dies_costs_only_its_point_on_a_process_pool(tmp_path, pool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "the executor broke ..."
        if pool == "ours":
            res = run_sweep(dies_at_two, XS, executor="processes", chunk_size=6,
                            store=tmp_path / "s", **SMALL)
        else:
            with cf.ProcessPoolExecutor(2) as ex:
                res = run_sweep(dies_at_two, XS, executor=ex, chunk_size=6,
                                store=tmp_path / "s", **SMALL)
    check_only_point_two_failed(res, "worker .* was lost .*BrokenProcessPool")
    if pool == "ours":  # a failed point is tried again on resume (and fails the same way)
        before = len(entries(tmp_path / "s"))
        again = run_sweep(dies_at_two, XS, executor="processes", chunk_size=6,
                          store=tmp_path / "s", **SMALL)
        assert len(entries(tmp_path / "s")) == before + 1
        check_only_point_two_failed(again, "BrokenProcessPool")


def test_a_worker_that_dies_costs_only_its_point_on_dask(tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = run_sweep(dies_at_two, XS, executor=client.get_executor(pure=False),
                        chunk_size=6, store=tmp_path / "s", **SMALL)
        assert client.submit(sum, [1, 2]).result() == 3  # the caller's cluster still works
    check_only_point_two_failed(res, "worker .* was lost .*KilledWorker")


def test_a_hung_point_is_recorded_as_failed_after_its_timeout(tmp_path):
    res = run_sweep(hangs_at_two, XS, chunk_size=3, timeout=5, store=tmp_path / "s",
                    **SMALL)
    check_only_point_two_failed(res, "TimeoutError: no result within 5 s")


ORPHAN_SCRIPT = textwrap.dedent("""
    import sys, time
    import commons
    from commons.experiments.sweeps import Design, run_sweep

    def slow(n=8, x=0.0):
        import multiprocessing
        if multiprocessing.parent_process() is not None:  # in the pool's workers only
            time.sleep(600)
        return commons.scenarios.benchmark_cpr_v1(n)

    if __name__ == "__main__":
        run_sweep(slow, Design.grid(x=[0.0, 1.0, 2.0, 3.0]), replicates=1, rounds=2, rng=1,
                  executor="processes", progress=False)
""")


def test_workers_exit_when_the_sweep_process_is_killed(tmp_path):
    psutil = pytest.importorskip("psutil")
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script)])
    parent = psutil.Process(proc.pid)
    n_workers = min(os.cpu_count() or 1, 4)
    wait_for(lambda: len([c for c in parent.children()
                          if "spawn_main" in " ".join(c.cmdline())]) >= n_workers,
             "the pool's workers")
    kids = parent.children(recursive=True)
    proc.kill()
    proc.wait()

    def gone(p):
        try:
            return p.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(lambda: all(gone(k) for k in kids), "the workers to exit")


# ---------------------------------------------------------------- the store
def test_a_second_writer_is_refused_and_the_first_completes(tmp_path, reference):
    store = tmp_path / "s"
    holding = threading.Event()
    release = threading.Event()
    calls = []

    def held(n=10, fine=0.0, growth=0.25):
        calls.append(1)
        if len(calls) == 3:  # the first run is inside its second chunk
            holding.set()
            release.wait(60)
        return commons.scenarios.benchmark_cpr_v1(n, fine=fine, growth=growth)

    first: dict = {}
    thread = threading.Thread(target=lambda: first.setdefault(
        "res", run_sweep(held, DESIGN, store=store, chunk_size=4, **SWEEP)))
    thread.start()
    assert holding.wait(60)
    tmp_before = sorted(p.name for p in store.rglob("*"))
    with pytest.raises(StoreError, match=r"is being written by another run \(pid \d+"):
        run_sweep(held, DESIGN, store=store, chunk_size=4, **SWEEP)
    assert sorted(p.name for p in store.rglob("*")) == tmp_before  # nothing touched
    release.set()
    thread.join(60)
    assert first["res"].complete
    pd.testing.assert_frame_equal(rows(first["res"]), reference)


def test_a_truncated_chunk_is_detected_and_computed_again(tmp_path, reference):
    store = tmp_path / "s"
    run_sweep("cpr-v1", DESIGN, store=store, chunk_size=5, **SWEEP)
    victim = store / entries(store)[2].file
    victim.write_bytes(victim.read_bytes()[:100])
    # a stray copy of a chunk is not part of the store
    (store / "chunks" / "chunk-000003 (copy).parquet").write_bytes(
        (store / entries(store)[3].file).read_bytes())
    with pytest.warns(RuntimeWarning, match="missing or damaged"):
        partial = open_store(store)
    assert not partial.complete
    assert partial.runs_done == 24 - 5
    with pytest.warns(RuntimeWarning, match="missing or damaged"):
        assert len(partial.frame()) == 24 - 5
    with pytest.warns(RuntimeWarning, match="computed again"):
        again = run_sweep("cpr-v1", DESIGN, store=store, chunk_size=5, **SWEEP)
    assert again.complete
    pd.testing.assert_frame_equal(rows(again), reference)
    pd.testing.assert_frame_equal(rows(open_store(store)), reference)


def test_a_resume_with_another_chunk_size_gives_the_same_result(tmp_path, reference):
    store = tmp_path / "s"
    run_sweep("cpr-v1", DESIGN, store=store, chunk_size=7, **SWEEP)
    kept = {e.file: (store / e.file).stat().st_mtime_ns for e in entries(store)}
    same = run_sweep("cpr-v1", DESIGN, store=store, chunk_size=2, **SWEEP)  # nothing to do
    assert {e.file: (store / e.file).stat().st_mtime_ns for e in entries(store)} == kept
    pd.testing.assert_frame_equal(rows(same), reference)
    for e in entries(store)[1::2]:  # lose two chunks of seven runs
        (store / e.file).unlink()
    with pytest.warns(RuntimeWarning):
        resumed = run_sweep("cpr-v1", DESIGN, store=store, chunk_size=3, **SWEEP)
    assert resumed.complete
    assert [e.rows for e in entries(store)[4:]] == [3, 3, 3, 1]  # 7..13 and 21..23
    pd.testing.assert_frame_equal(rows(resumed), reference)


def test_an_unseeded_study_records_its_entropy_and_resumes(tmp_path):
    store = tmp_path / "s"
    kw = {**SWEEP, "rng": None}
    first = run_sweep("cpr-v1", DESIGN, store=store, chunk_size=5, **kw)
    study = json.loads((store / "study.json").read_text())
    assert study["seeded"] is False
    for e in entries(store)[::2]:
        (store / e.file).unlink()
    with pytest.warns(RuntimeWarning):
        resumed = run_sweep("cpr-v1", DESIGN, store=store, chunk_size=5, **kw)
    assert resumed.complete
    assert resumed.study["entropy"] == study["entropy"]
    seeded = run_sweep("cpr-v1", DESIGN, chunk_size=24, **{**SWEEP,
                                                          "rng": int(study["entropy"])})
    pd.testing.assert_frame_equal(rows(resumed), rows(seeded))
    pd.testing.assert_frame_equal(rows(first), rows(seeded))
    # a study with its own seed is another study
    with pytest.raises(StoreError, match="holds a different study"):
        run_sweep("cpr-v1", DESIGN, store=store, **{**SWEEP, "rng": 3})


def test_a_store_of_another_study_is_refused_even_without_study_json(tmp_path):
    store = tmp_path / "s"
    run_sweep("cpr-v1", DESIGN, store=store, **SWEEP)
    (store / "study.json").unlink()
    other = Design.grid(fine=[1.0, 3.0], growth=[0.15, 0.3])
    with pytest.raises(StoreError, match="holds a different study"):
        run_sweep("cpr-v1", other, store=store, **SWEEP)
    # the same study takes its store back
    res = run_sweep("cpr-v1", DESIGN, store=store, **SWEEP)
    assert res.complete
    assert len(res.frame()) == 24
    assert (store / "study.json").exists()
    # a directory of other things is not a store
    elsewhere = tmp_path / "papers"
    elsewhere.mkdir()
    (elsewhere / "draft.txt").write_text("mine")
    with pytest.raises(StoreError, match=r"is not empty \(draft\.txt\) and holds no commons"):
        run_sweep("cpr-v1", DESIGN, store=elsewhere, **SWEEP)
    # nor is a store whose study.json was deleted and whose manifest is gone too
    bare = tmp_path / "bare"
    run_sweep("cpr-v1", DESIGN, store=bare, **SWEEP)
    (bare / "study.json").unlink()
    (bare / "manifest.jsonl").unlink()
    with pytest.raises(StoreError, match="holds no commons study"):
        run_sweep("cpr-v1", other, store=bare, **SWEEP)


def test_chunk_files_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        run_sweep("cpr-v1", DESIGN, store=tmp_path / "s", **SWEEP)
    finally:
        os.umask(old)
    for f in (tmp_path / "s").rglob("*"):
        if f.is_file() and f.name != ".lock":
            assert f.stat().st_mode & 0o777 == 0o644, f


def test_an_unwritable_or_full_store_fails_before_computing(tmp_path, monkeypatch):
    calls = []

    def counted(n=10, fine=0.0, growth=0.25):
        calls.append(1)
        return commons.scenarios.benchmark_cpr_v1(n, fine=fine, growth=growth)

    class Full:
        free = 1000

    monkeypatch.setattr(sweep_store.shutil, "disk_usage", lambda p: Full)
    with pytest.raises(StoreError, match=r"'.*full-disk'.*MiB free"):
        run_sweep(counted, DESIGN, store=tmp_path / "full-disk", **SWEEP)
    assert len(calls) == 1  # the model built once, up front; no chunk ran
    monkeypatch.undo()

    def failing_write(path, data):
        raise OSError(30, "Read-only file system", str(path))

    monkeypatch.setattr(sweep_store, "write_atomic", failing_write)
    with pytest.raises(StoreError, match=r"'.*read-only' is not writable: .*Read-only"):
        run_sweep("cpr-v1", DESIGN, store=tmp_path / "read-only", **SWEEP)


def test_a_disk_that_fills_while_running_keeps_what_was_written(tmp_path, monkeypatch):
    real = sweep_store.write_atomic
    chunks = []

    def filling(path, data):
        if path.suffix == ".parquet":
            chunks.append(path)
            if len(chunks) > 2:
                raise OSError(28, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(sweep_store, "write_atomic", filling)
    store = tmp_path / "s"
    with pytest.raises(StoreError, match=r"cannot write to store '.*s' \(the disk is full\)"):
        run_sweep("cpr-v1", DESIGN, store=store, chunk_size=4, **SWEEP)
    assert open_store(store).done == 2
    monkeypatch.undo()
    assert run_sweep("cpr-v1", DESIGN, store=store, chunk_size=4, **SWEEP).complete


# ---------------------------------------------------------------- designs keep their types
def test_integer_and_string_axes_round_trip(tmp_path):
    design = Design.grid(places=[2, 3], governance=["self", "central"], sanction=[0.5, 1.0])
    assert design.types == ("int", "str", "float")
    assert Design.from_dict(json.loads(json.dumps(design.to_dict()))) == design
    res = run_sweep("ics", design, replicates=2, rounds=8, rng=3, progress=False,
                    store=tmp_path / "s")
    assert res.complete
    assert res.n_failed == 0
    df = open_store(tmp_path / "s").frame()
    assert df["places"].dtype == np.int64
    assert df["governance"].tolist() == (["self"] * 4 + ["central"] * 4) * 2
    assert not df["failed"].any()
    p, r = 6, 1  # places 3, central, sanction 0.5
    assert design.point(p) == {"places": 3, "governance": "central", "sanction": 0.5}
    direct = commons.scenarios.integrated_care_system(**design.point(p)).run(
        8, rng=3, point=p, replicate_ids=[0, 1], record="final")
    row = df[(df.point == p) & (df.replicate == r)]
    assert row["efficiency"].item() == direct.metrics["efficiency"][r]
    summ = res.summary()
    assert summ["places"].tolist() == [2] * 4 + [3] * 4
    assert summ["governance"].tolist()[:4] == ["self", "self", "central", "central"]


def test_study_files_keep_integer_and_string_axes(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(textwrap.dedent("""
        [study]
        scenario = "ics"
        rounds = 6
        replicates = 2
        seed = 1
        store = "out"
        [design.grid]
        places = [2, 3]
        governance = ["self", "central"]
        sanction = [0, 1]
    """))
    assert main(["sweep", str(tmp_path / "s.toml"), "--no-progress"]) == 0
    res = open_store(tmp_path / "out")
    assert res.design.types == ("int", "str", "float")  # sanction's default is a real
    assert res.n_failed == 0
    out = capsys.readouterr().out
    assert "central" in out
    assert "failed" not in out


def test_a_sweep_where_every_point_fails_is_complete_and_says_so(tmp_path, capsys):
    res = run_sweep("cpr-v1", Design.grid(n=[0, -1]), replicates=2, rounds=5, rng=1,
                    progress=False)
    assert res.complete
    assert res.n_failed == 2
    assert len(res.summary()) == 0
    assert "n must be >= 1" in res.errors()[0]["error"]
    (tmp_path / "s.toml").write_text(textwrap.dedent("""
        [study]
        scenario = "cpr-v1"
        rounds = 5
        replicates = 2
        seed = 1
        store = "out"
        [design.grid]
        n = [0, -1]
    """))
    assert main(["sweep", str(tmp_path / "s.toml"), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "every point failed" in out
    assert "point 0 (n=0): ValueError: n must be >= 1" in out
    assert main(["show", str(tmp_path / "out")]) == 1


# ---------------------------------------------------------------- resources and bad input
def test_memory_is_checked_before_computing(monkeypatch):
    with pytest.raises(ValueError, match=r"rounds: one run of 1000000000000 rounds \(N = 10, "
                                         r"record='final'\) needs about [\d.]+ TiB"):
        run_sweep("cpr-v1", DESIGN, replicates=2, rounds=10**12, rng=1, fixed={"n": 10},
                  progress=False)
    one = sweep_run.estimate_run_memory(commons.scenarios.benchmark_cpr_v1(10), 1000)
    monkeypatch.setattr(sweep_run, "_available_memory", lambda: int(one * 10 / 0.8))
    with pytest.raises(ValueError, match=r"chunk_size: a chunk of 24 runs .* pass "
                                         r"chunk_size <= 10"):
        run_sweep("cpr-v1", DESIGN, replicates=4, rounds=1000, rng=1, fixed={"n": 10},
                  chunk_size=24, progress=False, executor="in-process")
    # without a chunk size, the default shrinks to what fits
    res = run_sweep("cpr-v1", DESIGN, replicates=4, rounds=1000, rng=1, fixed={"n": 10},
                    progress=False, executor="in-process")
    assert res.study["chunk_size"] <= 10
    assert res.complete


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"engine": "gpu"}, ValueError, r"engine must be one of 'auto', 'numba', 'numpy', got 'gpu'"),
    ({"executor": "gpu"}, ValueError, r"executor must be .* 'in-process', 'processes'"),
    ({"executor": 4}, TypeError, r"executor must be a concurrent\.futures\.Executor"),
    ({"timeout": 0}, ValueError, r"timeout must be a positive number of seconds"),
    ({"timeout": 1, "executor": "in-process"}, ValueError, r"timeout needs a process"),
    ({"chunk_size": 0}, ValueError, r"chunk_size must be >= 1"),
    ({"resume": "yes"}, TypeError, r"resume must be True or False"),
    ({"fixed": {"fine": 1.0}}, ValueError, r"fixed: \['fine'\] are swept by the design"),
    ({"fixed": [1]}, TypeError, r"fixed must be a mapping"),
    ({"store": 3}, TypeError, r"store must be a directory path"),
    ({"rng": -1}, ValueError, r"rng must be a non-negative integer"),
])
def test_bad_arguments_name_themselves(kwargs, error, match):
    kw = {**SWEEP, **kwargs}
    with pytest.raises(error, match=match):
        run_sweep("cpr-v1", DESIGN, **kw)


def test_bad_designs_say_what_is_accepted():
    with pytest.raises(ValueError, match=r"'a' mix float and str"):
        Design.grid(a=[1.0, "x"])
    with pytest.raises(ValueError, match=r"'a' must be numbers, strings or booleans"):
        Design.grid(a=[None])
    with pytest.raises(ValueError, match=r"'a' must be finite"):
        Design.grid(a=[np.inf])
    with pytest.raises(ValueError, match=r"'fine' of scenario:cpr-v1 takes a number"):
        run_sweep("cpr-v1", Design.grid(fine=["low", "high"]), **SWEEP)
    with pytest.raises(ValueError, match=r"'governance' of scenario:ics takes a string"):
        run_sweep("ics", Design.grid(governance=[1, 2]), replicates=1, rounds=2,
                  progress=False)
    with pytest.raises(TypeError, match=r"model: .* cannot be sent to worker processes"):
        run_sweep(lambda fine=0.0: commons.scenarios.benchmark_cpr_v1(8, fine=fine),
                  Design.grid(fine=[0.0]), replicates=1, rounds=2, progress=False,
                  executor="processes")


def test_commons_show_into_a_closed_pipe_is_quiet(tmp_path):
    store = tmp_path / "many"
    run_sweep("cpr-v1", Design.grid(fine=np.linspace(0, 8, 1500).tolist()), replicates=1,
              rounds=2, rng=1, fixed={"n": 4}, store=store, progress=False)
    res = subprocess.run(f"'{sys.executable}' -m commons.cli show --all '{store}' | head -2",
                         shell=True, capture_output=True, text=True, check=True)
    assert len(res.stdout.splitlines()) == 2
    assert "Error" not in res.stderr, res.stderr
    assert "Traceback" not in res.stderr, res.stderr


def test_an_interrupted_sweep_in_memory_says_nothing_was_kept():
    class Boom(cf.Executor):
        def submit(self, fn, /, *args, **kwargs):
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted, match="nothing was kept"):
        run_sweep("cpr-v1", DESIGN, executor=Boom(), **SWEEP)
