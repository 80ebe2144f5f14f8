"""Sweep speed: a 40-point x 100-replicate CPR-v1 sweep (N = 50, T = 500) and per-task overhead;
and the scale of a store: summarising and showing a store of 100,000 points.

Runs the same sweep in-process (the compiled kernel using both cores), on the default process
pool (one worker per core), and on a local Dask cluster (two worker processes), checks that the
three give identical results, and measures each executor's overhead per task with tasks that do
almost nothing (one replicate, one round). Then fills a store with 100,000 points (one replicate,
a few rounds each) and times ``SweepResult.summary()`` and ``commons show`` on it.

    python benchmarks/bench_sweep.py            # both
    python benchmarks/bench_sweep.py --scale    # the store of 100,000 points only
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import io
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from commons.experiments.sweeps import Design, run_sweep

DESIGN = Design.grid(fine=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 8.0],
                     growth=[0.1, 0.15, 0.2, 0.25, 0.3])
KW = {"replicates": 100, "rounds": 500, "rng": 1, "fixed": {"n": 50}, "progress": False}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def overhead(executor, tasks: int = 30) -> float:
    """Seconds a task spends travelling: round trips of tiny tasks, one at a time, minus the
    same tasks run in this process."""
    from commons.experiments.sweeps.chunks import _Task, run_chunk
    from commons.sim.streams import resolve_seed

    entropy, _ = resolve_seed(1)
    task = _Task("cpr-v1", {"n": 50}, ("fine",), ("float",), (np.array([1.0]),),
                 np.array([0]), np.array([0]), np.array([0]), np.array([0]), 1, entropy, (),
                 "auto")
    executor.submit(run_chunk, task).result()  # warm up the worker
    run_chunk(task)
    trip, _ = timed(lambda: [executor.submit(run_chunk, task).result() for _ in range(tasks)])
    local, _ = timed(lambda: [run_chunk(task) for _ in range(tasks)])
    return (trip - local) / tasks


def scale(points: int = 100_000, chunk_size: int | None = None) -> dict[str, float]:
    """Fill a store with ``points`` points and time summary() and ``commons show`` (in this
    process, and as a command, start-up included)."""
    import subprocess
    import sys

    from commons.cli import main as cli
    from commons.experiments.sweeps import open_store

    design = Design.grid(fine=np.linspace(0.0, 8.0, points // 100).tolist(),
                         growth=np.linspace(0.1, 0.4, 100).tolist())
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "big"
        t_fill, _ = timed(lambda: run_sweep("cpr-v1", design, replicates=1, rounds=5, rng=1,
                                            fixed={"n": 10}, store=store, progress=False,
                                            chunk_size=chunk_size))
        res = open_store(store)
        t_summary, summ = timed(res.summary)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            t_show, status = timed(lambda: cli(["show", str(store)]))
        t_cmd, proc = timed(lambda: subprocess.run(
            [sys.executable, "-m", "commons.cli", "show", str(store)], capture_output=True,
            check=False))
        assert status == 0
        assert proc.returncode == 0
        assert len(summ) == design.size
        chunks = res.done
        print(f"Store of {design.size:,} points in {chunks} chunks: filled in {t_fill:.1f} s; "
              f"summary() {t_summary:.2f} s; commons show {t_show:.2f} s in this process, "
              f"{t_cmd:.2f} s as a command")
    return {"points": design.size, "chunks": chunks, "fill_s": t_fill,
            "summary_s": t_summary, "show_s": t_show, "show_command_s": t_cmd}


def speed() -> None:
    n_runs = DESIGN.size * KW["replicates"]
    aru = n_runs * 50 * KW["rounds"]
    print(f"Sweep: {DESIGN.size} points x {KW['replicates']} replicates of CPR-v1, N = 50, "
          f"T = {KW['rounds']} ({aru / 1e6:.0f} M agent-round updates)")
    run_sweep("cpr-v1", Design.grid(fine=[1.0]), replicates=2, rounds=2, rng=0,
              fixed={"n": 50}, progress=False)  # compile the kernel once
    rows = {}
    t, ref = timed(lambda: run_sweep("cpr-v1", DESIGN, executor="in-process", **KW))
    rows["in-process (kernel on 2 threads)"] = t
    t, auto = timed(lambda: run_sweep("cpr-v1", DESIGN, **KW))
    rows["default executor (in-process: kernel)"] = t
    spawn = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=spawn) as pool:
        pool.submit(int, "1").result()  # start the workers before timing
        t, pool_res = timed(lambda: run_sweep("cpr-v1", DESIGN, executor=pool, **KW))
        rows["process pool (2 workers, started)"] = t
        pool_overhead = overhead(pool)
    same = [pool_res.frame().equals(ref.frame()), auto.frame().equals(ref.frame())]
    dask_overhead = None
    try:
        from distributed import Client, LocalCluster
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            ex = client.get_executor(pure=False)
            run_sweep("cpr-v1", Design.grid(fine=[1.0]), replicates=2, rounds=2, rng=0,
                      fixed={"n": 50}, progress=False, executor=ex)
            t, dask_res = timed(lambda: run_sweep("cpr-v1", DESIGN, executor=ex, **KW))
            rows["dask LocalCluster (2 workers)"] = t
            same.append(dask_res.frame().equals(ref.frame()))
            dask_overhead = overhead(ex)
    except ImportError:
        print("(dask not installed: pip install 'commons-engine[dask]')")
    for name, t in rows.items():
        print(f"  {name:<36} {t:6.2f} s  ({aru / t / 1e6:5.1f} M ARU/s)")
    print(f"  identical results on every executor: {all(same)}")
    print(f"Per-task overhead: process pool {1e3 * pool_overhead:.1f} ms"
          + (f", dask {1e3 * dask_overhead:.1f} ms" if dask_overhead is not None else ""))
    print(json.dumps({"benchmark": "sweep", "points": DESIGN.size,
                      "replicates": KW["replicates"], "N": 50, "T": KW["rounds"],
                      "seconds": rows, "identical": all(same),
                      "overhead_s": {"process_pool": pool_overhead, "dask": dask_overhead}}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true",
                        help="only the store of 100,000 points")
    args = parser.parse_args()
    if not args.scale:
        speed()
    figures = [scale(), scale(chunk_size=100)]
    print(json.dumps({"benchmark": "sweep-store-scale", "stores": figures}))


if __name__ == "__main__":
    main()
