"""The engine's speed on every model, against the strongest hand-written kernel we can write.

All in one process, one machine, ratios taken in the same run:

* CPR-v1 on the engine (its plug-ins' compiled forms fused into one kernel) against
  ``strong_kernel.run``: a numba kernel written for CPR-v1 alone, drawing each counter-based
  random number only where it is used (the baseline); twice: with the engine's summary
  record (13 series and the metrics' per-organisation sums), and recording what the hand
  kernel records, the mean draw and the stock (``record=("mean_draw", "stock")``);
* the five plug-in models of ``plugin_models.py`` against the engine's CPR-v1 rate at the same
  R, N and T (target: at least 0.5x) and against the baseline;
* the fused kernel against the same compiled forms run act by act (the design choice);
* one replicate (R = 1, N = 100, T = 200, set-up included);
* scaling in R, N, T and degree; bytes per agent-round of a full record; threads;
* one large replicate (R = 1, N = 10^5): 1 thread against all (target: 1.6x from 2);
* the first compilation of a composition and its load from the cache in a fresh process.

Every ratio (the engine to the hand kernel, the plug-in models to CPR-v1, scaling, degree,
threads) is the median over pairs of runs taken alternately in one process, which cancels
most of a shared machine's drift. On a virtual machine the host may give this machine's cores
to others for a while (steal): the large replicate's line, and the run's last, say how much
CPU time the host took (Linux), since threads that meet at barriers wait for a stolen core.

Each model prints one JSON line {"model", "R", "N", "T", "aru_per_s", "baseline_aru_per_s",
"record"} (agent-round updates per second, median of repeats, compilation excluded).

    python benchmarks/bench_engine.py --quick     # smaller sizes, a few minutes
    python benchmarks/bench_engine.py             # R = 1000, N = 100, T = 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import commons
import plugin_models
import strong_kernel
from commons.experiments.scenarios import benchmark_cpr_v1, cpr_v1_graph


def timed(fn, repeats: int) -> float:
    """Median wall seconds of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def paired(fa, fb, repeats: int) -> tuple[float, float, float]:
    """Median wall seconds of ``fa()`` and of ``fb()``, run alternately, and the median over
    the pairs of time(fb) / time(fa): alternating cancels most of a shared machine's drift,
    which moves single timings by 20 % here."""
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    ta_, tb_ = np.asarray(ta), np.asarray(tb)
    return float(np.median(ta_)), float(np.median(tb_)), float(np.median(tb_ / ta_))


def cpu_times() -> tuple[int, int] | None:
    """(stolen, total) CPU ticks of the machine so far, from Linux's /proc/stat; None
    elsewhere. On a virtual machine, steal is time the host gave this machine's cores to
    others: threads that meet at barriers (a replicate shared by its organisations) wait
    for a stolen core, so the figures of a run with much steal are low."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def steal_since(start: tuple[int, int] | None) -> str:
    """The share of CPU time stolen by the host since ``start`` (:func:`cpu_times`)."""
    now = cpu_times()
    if start is None or now is None or now[1] <= start[1]:
        return "steal not known"
    return f"{100 * (now[0] - start[0]) / (now[1] - start[1]):.1f} % of CPU time stolen by the host"


def model_aru(model, R: int, T: int, repeats: int) -> float:
    """Agent-round updates per second of a model's run (the first, compiling run excluded)."""
    model.run(2, 2, rng=0)
    return R * model.n * T / timed(lambda: model.run(T, R, rng=1), repeats)


def acts_aru(model, R: int, T: int, repeats: int) -> float:
    """The same compiled forms run act by act (no fused kernel)."""
    from commons.sim import codegen
    saved = codegen.FUSE
    codegen.FUSE = False
    try:
        fresh = model.replace()
        return model_aru(fresh, R, T, repeats)
    finally:
        codegen.FUSE = saved


def compile_times() -> tuple[float, float]:
    """(first compile and run, cached load and run) of a composition in fresh processes."""
    script = textwrap.dedent("""
        import time
        t0 = time.perf_counter()
        import commons
        model = commons.scenarios.ostrom_commons(places=2, per_place=6)
        t1 = time.perf_counter()
        model.run(2, 2, rng=0)
        print(time.perf_counter() - t1)
    """)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "COMMONS_CACHE_DIR": tmp, "COMMONS_FUSE": "1"}
        runs = [float(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                     capture_output=True, text=True).stdout.split()[-1])
                for _ in range(2)]
    return runs[0], runs[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    args = ap.parse_args()
    import numba

    T = 200
    R = 200 if args.quick else 1000
    reps = 3
    pairs = 5 if args.quick else 11
    began = cpu_times()
    print(f"{os.cpu_count()} cores, numba {numba.__version__}, {numba.get_num_threads()} "
          f"threads, commons {commons.__version__}; T = {T}, R = {R}")
    print()
    # ------------------------------------------------------------------ CPR-v1
    g100 = cpr_v1_graph(100)
    strong_kernel.run_strong_numba(g100, 2, 2, 0)
    cpr_model = benchmark_cpr_v1(100)
    cpr_model.run(2, 2, rng=0)
    work = R * 100 * T
    t_cpr, t_base, cpr_ratio = paired(lambda: cpr_model.run(T, R, rng=1),
                                      lambda: strong_kernel.run_strong_numba(g100, R, T, 1),
                                      pairs)
    base, cpr = work / t_base, work / t_cpr
    # the same outputs as the hand kernel: the benchmark model records the mean draw and the
    # stock (BENCHMARK_MODEL step 8), the engine's summary 13 series and the metrics' sums
    two = ("mean_draw", "stock")
    t_two, _, two_ratio = paired(lambda: cpr_model.run(T, R, rng=1, record=two),
                                 lambda: strong_kernel.run_strong_numba(g100, R, T, 1), pairs)
    rows = [{"model": "CPR-v1", "R": R, "N": 100, "T": T, "aru_per_s": cpr,
             "baseline_aru_per_s": base, "record": "summary"},
            {"model": "CPR-v1", "R": R, "N": 100, "T": T, "aru_per_s": work / t_two,
             "baseline_aru_per_s": base, "record": list(two)}]
    print(f"{'model':<16}{'N':>5}{'M aru/s':>10}{'/ hand kernel':>15}{'/ CPR-v1':>10}"
          f"{'fused / acts':>14}")
    print(f"{'hand kernel':<16}{100:>5}{base / 1e6:>10.2f}")
    acts = acts_aru(benchmark_cpr_v1(100), R, T, 1)
    print(f"{'CPR-v1':<16}{100:>5}{cpr / 1e6:>10.2f}{cpr_ratio:>14.2f}x{1.0:>9.2f}x"
          f"{cpr / acts:>13.2f}x")
    print(f"{'  draw, stock':<16}{100:>5}{work / t_two / 1e6:>10.2f}{two_ratio:>14.2f}x"
          "   (recording the mean draw and the stock only, as the hand kernel does)")
    for name, make in plugin_models.MODELS.items():
        model = make()
        model.run(2, 2, rng=0)
        t_model, _, per_cpr = paired(lambda m=model: m.run(T, R, rng=1),
                                     lambda: cpr_model.run(T, R, rng=1), pairs)
        aru = R * model.n * T / t_model
        to_cpr = per_cpr * model.n / 100      # (aru of the model) / (aru of CPR-v1), paired
        acts = acts_aru(model, R, T, 1)
        rows.append({"model": name, "R": R, "N": model.n, "T": T, "aru_per_s": aru,
                     "baseline_aru_per_s": base, "record": "summary"})
        print(f"{name:<16}{model.n:>5}{aru / 1e6:>10.2f}{aru / base:>14.2f}x{to_cpr:>9.2f}x"
              f"{aru / acts:>13.2f}x")
    print()
    # ------------------------------------------------------------------ one replicate
    one_model = benchmark_cpr_v1(100)
    one_model.run(2, 1, rng=0)
    one = timed(lambda: one_model.run(T, 1, rng=3), 7)
    print(f"one replicate, N = 100, T = 200, set-up included: {1e3 * one:.2f} ms")
    # ------------------------------------------------------------------ scaling
    base_R = 100 if args.quick else 400
    m100 = benchmark_cpr_v1(100)
    m200 = benchmark_cpr_v1(200)
    m100.run(2, 2, rng=0)
    m200.run(2, 2, rng=0)
    # each ratio paired with its base, run alternately (single timings drift by 20 % here)
    base_run = lambda: m100.run(T, base_R, rng=1)  # noqa: E731
    scale = {"R x2": paired(base_run, lambda: m100.run(T, 2 * base_R, rng=1), reps)[2],
             "N x2": paired(base_run, lambda: m200.run(T, base_R, rng=1), reps)[2],
             "T x2": paired(base_run, lambda: m100.run(2 * T, base_R, rng=1), reps)[2]}
    print("scaling (wall time / base, ideal 2.00): "
          + ", ".join(f"{k} {v:.2f}" for k, v in scale.items()))
    import networkx as nx
    by_degree = {}
    for k in (4, 8, 16):
        gk = nx.connected_watts_strogatz_graph(100, k, 0.1, seed=0)
        by_degree[k] = benchmark_cpr_v1(100, graph=gk)
        by_degree[k].run(2, 2, rng=0)
    kd, per_edge = {}, []
    for k in (8, 16):
        t4, tk, _ = paired(lambda: by_degree[4].run(T, base_R, rng=1),
                           lambda k=k: by_degree[k].run(T, base_R, rng=1), reps)
        kd[4], kd[k] = base_R * 100 * T / t4, base_R * 100 * T / tk
        per_edge.append((tk - t4) / (base_R * 100 * T * (k - 4)) * 1e9)
    print(f"degree 4 / 8 / 16: {kd[4] / 1e6:.2f} / {kd[8] / 1e6:.2f} / {kd[16] / 1e6:.2f} "
          f"M aru/s: {np.mean(per_edge):.2f} ns per extra edge and round")
    full = m100.run(T, 20, rng=1, record="full")
    per_aru = sum(a.nbytes for a in full.full.values()) / (20 * 100 * T)
    print(f"full record: {per_aru:.0f} bytes per agent-round")
    # ------------------------------------------------------------------ threads
    n = numba.get_num_threads()

    def on(threads, fn):
        def run():
            numba.set_num_threads(threads)
            try:
                fn()
            finally:
                numba.set_num_threads(n)
        return run

    cpr_run = lambda: cpr_model.run(T, R, rng=1)  # noqa: E731
    t1, tn, q = paired(on(1, cpr_run), on(n, cpr_run), reps)
    print(f"threads: 1 -> {work / t1 / 1e6:.2f}, {n} -> {work / tn / 1e6:.2f} M aru/s "
          f"({1 / q:.2f}x, paired)")
    # one large replicate: what the second core gives (target: 1.6x at N = 10^5)
    big_n = 20_000 if args.quick else 100_000
    big = benchmark_cpr_v1(big_n)
    on(1, lambda: big.run(2, 1, rng=0))()  # compiled: replicates side by side (one thread)
    on(n, lambda: big.run(2, 1, rng=0))()  # and the replicate shared by organisations
    big_t = 20 if args.quick else T
    big_run = lambda: big.run(big_t, 1, rng=1)  # noqa: E731
    big_began = cpu_times()
    big_one, big_n_threads, q = paired(on(1, big_run), on(n, big_run), 5)
    print(f"one replicate, N = {big_n}, T = {big_t}: 1 thread {big_one:.2f} s, {n} threads "
          f"{big_n_threads:.2f} s ({1 / q:.2f}x, paired; {steal_since(big_began)})")
    # ------------------------------------------------------------------ compilation
    first, cached = compile_times()
    print(f"a composition (the Ostrom commons) in a fresh process: first compile {first:.1f} s, "
          f"cached load {cached:.2f} s")
    print(f"the whole run: {steal_since(began)}")
    print()
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
