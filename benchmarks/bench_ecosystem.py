"""CPR-v1 written the ways researchers write it today, beside the engine (agreement and speed).

Runs, in one process and on one machine, the same CPR-v1 model (BENCHMARK_MODEL) as

* the engine's compiled path (``commons.simulate(..., engine="numba")``),
* the engine's numpy reference path (``engine="numpy"``),
* a hand-written numba kernel of the model alone (``baselines.run_plain_numba``, the compiled
  reference: the practical ceiling on the machine),
* a hand-vectorised plain numpy script (``baselines.run_plain_numpy``),
* a pure-Python per-agent version (``baselines.run_pure_python``),
* a Mesa 3 version (``baselines.run_mesa``; skipped if Mesa is not installed),

checks that their mean-extraction trajectories agree statistically, prints a table of
agent-round updates per second (ARU/s = R N T / wall seconds, set-up and compilation excluded,
median of repeats) with ratios against the baselines, the scaling in R, N, T and degree, the
speed-up from one to two threads, and ends with one JSON line.

    python benchmarks/bench_ecosystem.py --quick     # about a minute
    python benchmarks/bench_ecosystem.py             # the full table
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import baselines
import commons
from commons.experiments.scenarios import benchmark_cpr_v1, cpr_v1_graph


def timed(fn, repeats: int) -> float:
    """Median wall seconds of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def engine_aru(N: int, R: int, T: int, engine: str, repeats: int, graph=None) -> float:
    """ARU/s of the engine's kernel (or numpy loop) alone: set-up excluded via a 1-round run."""
    model = benchmark_cpr_v1(N, graph=graph)
    model.run(2, min(R, 2), rng=0, engine=engine)  # compile / warm up
    full = timed(lambda: model.run(T, R, rng=1, engine=engine, record="summary"), repeats)
    setup = timed(lambda: model.run(1, R, rng=1, engine=engine, record="summary"), repeats)
    per_round = (full - setup) / (T - 1)
    return R * N / per_round


def agreement(N: int, T: int, R_engine: int, R_py: int, with_mesa: bool) -> dict:
    """Mean extraction over the last 50 rounds, per implementation, with a Welch test."""
    from scipy import stats

    g = cpr_v1_graph(N)
    res = commons.simulate(benchmark_cpr_v1(N, graph=g), rounds=T, replicates=R_engine,
                           rng=2024, engine="auto")
    tail = slice(T - 50, T)
    out = {"engine": res.series["mean_draw"][:, tail].mean(axis=1)}
    out["plain numpy"] = baselines.run_plain_numpy(g, R_engine, T, 7)[0][:, tail].mean(axis=1)
    out["plain numba"] = baselines.run_plain_numba(g, R_engine, T, 8)[0][:, tail].mean(axis=1)
    out["pure Python"] = np.array([np.mean(baselines.run_pure_python(g, T, s)[0][tail])
                                   for s in range(R_py)])
    if with_mesa:
        out["Mesa"] = np.array([np.mean(baselines.run_mesa(g, T, 1000 + s)[0][tail])
                                for s in range(R_py)])
    report = {}
    for name, v in out.items():
        p = 1.0 if name == "engine" else float(stats.ttest_ind(out["engine"], v,
                                                                  equal_var=False).pvalue)
        report[name] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "n": int(v.size),
                        "p_vs_engine": p}
    return report


def thread_ceiling() -> float:
    """Speed-up from one thread to all of them on an embarrassingly parallel compute loop."""
    import math

    import numba

    @numba.njit(parallel=True)
    def spin(n, parts):
        out = np.zeros(parts)
        for k in numba.prange(parts):
            acc = 0.0
            for i in range(n):
                acc += math.exp(-(i * 1e-9)) * math.sqrt(1.0 + i * 1e-9)
            out[k] = acc
        return out

    n_threads = numba.get_num_threads()
    spin(10, n_threads)
    numba.set_num_threads(1)
    one = timed(lambda: spin(20_000_000, n_threads), 1)
    numba.set_num_threads(n_threads)
    return one / timed(lambda: spin(20_000_000, n_threads), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    args = ap.parse_args()
    quick = args.quick
    try:
        import mesa  # noqa: F401
        have_mesa = True
    except ImportError:
        have_mesa = False
    import numba

    T = 200
    reps = 1 if quick else 3
    R_main = 200 if quick else 1000
    print(f"CPR-v1 on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numba {numba.__version__}, {numba.get_num_threads()} threads, T = {T}")
    print()

    # ---------------------------------------------------------------- agreement
    agree = agreement(100, T, 100 if quick else 300, 8 if quick else 30, have_mesa)
    print("Mean draw over rounds 150-199, N = 100 (statistical agreement with the engine)")
    for name, r in agree.items():
        print(f"  {name:<12} {r['mean']:.4f} +- {r['sd']:.4f} (n = {r['n']:>3})  "
              f"Welch p = {r['p_vs_engine']:.3f}")
    print()

    # ---------------------------------------------------------------- speed table
    sizes = [(10, R_main), (100, 1), (100, R_main)] + ([] if quick else [(1000, R_main)])
    g100 = cpr_v1_graph(100)
    py_t = timed(lambda: baselines.run_pure_python(g100, T, 1), reps)
    py_aru = 100 * T / py_t
    mesa_aru = None
    if have_mesa:
        mesa_aru = 100 * T / timed(lambda: baselines.run_mesa(g100, T, 1), reps)
    rows = []
    print(f"{'N':>6}{'R':>6}{'engine':>10}{'plain numba':>13}{'numpy path':>12}"
          f"{'plain numpy':>13}{'/numba':>8}{'/numpy':>8}{'/Python':>9}{'/Mesa':>7}   (ARU/s)")
    for N, R in sizes:
        eng = engine_aru(N, R, T, "numba", reps)
        R_np = min(R, 100)
        npath = engine_aru(N, R_np, T, "numpy", 1)
        g = cpr_v1_graph(N)
        plain = R_np * N * T / timed(lambda g=g, R_np=R_np: baselines.run_plain_numpy(
            g, R_np, T, 1), 1)
        baselines.run_plain_numba(g, 2, 2, 0)  # compile
        ref = R * N * T / timed(lambda g=g, R=R: baselines.run_plain_numba(g, R, T, 1), reps)
        rows.append({"N": N, "R": R, "engine": eng, "plain_numba": ref, "numpy_path": npath,
                     "plain_numpy": plain})
        mesa_ratio = f"{eng / mesa_aru:>6.0f}x" if mesa_aru else f"{'-':>7}"
        print(f"{N:>6}{R:>6}{eng / 1e6:>9.2f}M{ref / 1e6:>12.2f}M{npath / 1e6:>11.2f}M"
              f"{plain / 1e6:>12.2f}M{eng / ref:>7.2f}x{eng / plain:>7.1f}x{eng / py_aru:>8.0f}x"
              f"{mesa_ratio}")
    print(f"  pure Python per agent: {py_aru / 1e6:.3f}M ARU/s"
          + (f"; Mesa: {mesa_aru / 1e6:.3f}M ARU/s" if mesa_aru else "; Mesa not installed"))

    # ---------------------------------------------------------------- single replicate
    model = benchmark_cpr_v1(100)
    model.run(2, 1, rng=0, engine="numba")
    one = timed(lambda: model.run(T, 1, rng=3, engine="numba"), 5)
    print(f"  one replicate, N = 100, T = 200, set-up included: {1e3 * one:.2f} ms")

    # ---------------------------------------------------------------- scaling
    base_R = 100 if quick else 400
    print("\nScaling (engine, compiled): wall time relative to the base size, ideal = factor")
    base = timed(lambda: benchmark_cpr_v1(100).run(T, base_R, rng=1, engine="numba"), reps)
    scale = {}
    m200 = benchmark_cpr_v1(200)
    m200.run(2, 2, rng=0, engine="numba")
    for label, fn in [
        ("R x2", lambda: benchmark_cpr_v1(100).run(T, 2 * base_R, rng=1, engine="numba")),
        ("N x2", lambda: m200.run(T, base_R, rng=1, engine="numba")),
        ("T x2", lambda: benchmark_cpr_v1(100).run(2 * T, base_R, rng=1, engine="numba")),
    ]:
        scale[label] = timed(fn, reps) / base
        print(f"  {label}: {scale[label]:.2f}")
    import networkx as nx
    kd = {}
    for k in (4, 8, 16):
        gk = nx.connected_watts_strogatz_graph(100, k, 0.1, seed=0)
        kd[k] = engine_aru(100, base_R, T, "numba", reps, graph=gk)
    per_edge = [(1 / kd[k] - 1 / kd[4]) / (k - 4) * 1e9 for k in (8, 16)]
    print(f"  degree 4 / 8 / 16: {kd[4] / 1e6:.2f}M / {kd[8] / 1e6:.2f}M / {kd[16] / 1e6:.2f}M "
          f"ARU/s; marginal cost {np.mean(per_edge):.2f} ns per edge per round")

    # ---------------------------------------------------------------- threads
    n_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    one_t = engine_aru(100, R_main, T, "numba", reps)
    numba.set_num_threads(n_threads)
    two_t = engine_aru(100, R_main, T, "numba", reps)
    ceiling = thread_ceiling()
    print(f"\nThreads: 1 -> {one_t / 1e6:.2f}M, {n_threads} -> {two_t / 1e6:.2f}M ARU/s "
          f"(speed-up {two_t / one_t:.2f}x; this machine's own ceiling on pure compute "
          f"{ceiling:.2f}x)")

    main_row = rows[-1] if quick else next(r for r in rows if r["N"] == 100 and r["R"] > 1)
    print(json.dumps({
        "model": "CPR-v1", "R": main_row["R"], "N": main_row["N"], "T": T,
        "engine_aru_per_s": main_row["engine"], "numpy_path_aru_per_s": main_row["numpy_path"],
        "plain_numpy_aru_per_s": main_row["plain_numpy"], "pure_python_aru_per_s": py_aru,
        "mesa_aru_per_s": mesa_aru, "single_replicate_ms": 1e3 * one,
        "plain_numba_aru_per_s": main_row["plain_numba"],
        "thread_speedup": two_t / one_t, "machine_thread_ceiling": ceiling, "scaling": scale,
        "engine_vs_pure_python": main_row["engine"] / py_aru, "quick": quick}))


if __name__ == "__main__":
    main()
