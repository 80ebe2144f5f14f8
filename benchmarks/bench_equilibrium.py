"""Speed and accuracy of the O(n) Nash solver on large heterogeneous games.

Solves the quadratic, power and exponential CPR games with n heterogeneous organisations
(endowments spread so that a part of them bind) and prints, per game: the time to solve (the
result includes its regret), the regret itself, and for comparison the time of one evaluation
of all n payoffs (the cost floor of any method that looks at every organisation).

    python benchmarks/bench_equilibrium.py            # n = 10**6
    python benchmarks/bench_equilibrium.py --n 10000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import commons


def _median_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    n = args.n
    rng = np.random.default_rng(2024)
    productions = [("quadratic", commons.Quadratic(23, 0.25), 5.0),
                   ("power", commons.Power(10, 0.5), 1.0),
                   ("exponential", commons.Exponential(100, 0.02), 0.5)]
    print(f"Nash equilibrium of the CPR game, n = {n:,} heterogeneous organisations")
    print(f"{'production':<12}{'solve+regret s':>15}{'payoff eval s':>15}{'ratio':>8}"
          f"{'regret':>11}{'capped %':>10}")
    records = []
    for name, F, w in productions:
        x0 = F.average_level(w)
        e = rng.uniform(0.05, 3.0, n) * x0 / (n + 1)
        game = commons.CPRGame(n, F, w, e)
        t_solve, eq = _median_time(lambda game=game: commons.nash_equilibrium(game), args.repeats)
        t_eval, _ = _median_time(lambda game=game, eq=eq: game.payoffs(eq.draws), args.repeats)
        capped = float(np.mean(eq.draws >= e))
        print(f"{name:<12}{t_solve:>15.3f}{t_eval:>15.4f}{t_solve / t_eval:>8.1f}"
              f"{eq.regret:>11.2e}{100 * capped:>10.1f}")
        records.append({"production": name, "n": n, "solve_s": t_solve, "payoff_eval_s": t_eval,
                        "regret": eq.regret, "capped_share": capped})
    print(json.dumps({"benchmark": "nash_equilibrium", "results": records}))


if __name__ == "__main__":
    main()
