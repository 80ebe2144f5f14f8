"""The ``commons`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from ._version import version

__all__ = ["main"]


def _equilibrium(args: argparse.Namespace) -> int:
    from .exact.equilibrium import nash_equilibrium, open_access, social_optimum
    from .exact.game import CPRGame
    from .exact.production import Quadratic
    from .exact.repeated import critical_discount_factor

    game = CPRGame(args.n, Quadratic(args.a, args.b), args.w, args.endowment)
    rows = [("Nash equilibrium", nash_equilibrium(game)),
            ("social optimum", social_optimum(game)),
            ("open access", open_access(game))]
    trig = critical_discount_factor(game)
    if args.json:
        out = {name: r.to_dict() for name, r in rows}
        out["critical_discount_factor"] = trig.delta
        print(json.dumps(out, indent=2))
        return 0
    print(f"CPR game: N = {args.n}, F(X) = {args.a:g} X - {args.b:g} X^2, "
          f"outside return w = {args.w:g}, endowment e = {args.endowment:g}")
    print()
    head = f"{'':18}{'draw/org':>10}{'group draw':>12}{'group rent':>12}{'net yield':>11}"
    print(head + f"{'regret':>10}")
    print("-" * (len(head) + 10))
    for name, r in rows:
        print(f"{name:18}{r.total / args.n:>10.4f}{r.total:>12.4f}{r.rent:>12.4f}"
              f"{100 * r.efficiency:>10.1f}%{r.regret:>10.3g}")
    print()
    if trig.sustainable:
        print(f"critical discount factor (grim trigger, Nash reversion): {trig.delta:.6f}")
    else:
        print("critical discount factor: the optimum cannot be sustained by grim trigger")
    capped = bool((trig.deviation_draws >= game.endowment).any())
    print(f"  best deviation from the optimum: {trig.deviation_draws[0]:.4f} per organisation"
          f"{' (capped by the endowment)' if capped else ''}")
    return 0


_ROWS = 40  # summary rows printed by default


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _print_map_table(summ, x: str, y: str, replicates: int) -> None:
    """P(tragedy avoided) as a table: rows of y, columns of x."""
    xs = sorted(summ[x].unique())
    ys = sorted(summ[y].unique())
    cell = {(r[x], r[y]): r["p_avoid_mean"]
            for r in summ[[x, y, "p_avoid_mean"]].to_dict("records")}
    print(f"P(tragedy avoided), {len(summ)} points x {replicates} replicates"
          f" (rows: {y}, columns: {x})")
    corner = f"{y} / {x}"
    print(f"{corner:>24}" + "".join(f"{_fmt(v):>8}" for v in xs))
    for yy in ys:
        row = "".join(f"{100 * cell[(xx, yy)]:>7.0f}%" if (xx, yy) in cell else f"{'.':>8}"
                      for xx in xs)
        print(f"{_fmt(yy):>24}{row}")


def _report(result, store: str | None, *, all_rows: bool = False) -> int:
    """Print what the sweep found and what failed; 1 when every point failed, else 0."""
    summ = result.summary()
    names = list(result.design.names)
    P = result.design.size
    errs = result.errors()
    if len(summ):
        numeric = all(t in ("int", "float") for t in result.design.types)
        if len(names) == 2 and numeric and summ[names[0]].nunique() <= 20 \
                and summ[names[1]].nunique() <= 40:
            _print_map_table(summ, names[0], names[1], result.study["replicates"])
        else:
            cols = [*names, "n", "p_avoid_mean", "efficiency_mean"]
            shown = summ if all_rows or len(summ) <= _ROWS else summ.head(_ROWS)
            print(shown[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            if len(shown) < len(summ):
                print(f"... {len(summ) - len(shown)} more points (commons show --all, or "
                      "SweepResult.summary())")
        avoided = summ[summ["p_avoid_mean"] >= 0.95]
        print(f"\ntragedy avoided in at least 95 % of replicates at {len(avoided)} of "
              f"{len(summ)} points")
    if errs:
        n_failed = result.n_failed
        where = f" (see {store}/errors)" if store else ""
        head = "every point failed" if n_failed == P else f"{n_failed} of {P} points failed"
        print(f"\n{head}{where}; run the study again to retry them. First causes:")
        for e in errs[:3]:
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in (e.get("params") or {}).items())
            print(f"  point {e.get('point')} ({params}): {e['error']}")
    if not len(summ) and errs:
        return 1
    return 0


def _map(result, store: str) -> None:
    names = list(result.design.names)
    if len(names) != 2 or not all(t in ("int", "float") for t in result.design.types):
        return
    if not len(result.summary()):
        return
    png = f"{store}/tragedy-map.png"
    result.tragedy_map(*names, path=png)
    print(f"tragedy map written to {png} (and {png[:-4]}.pdf)")


def _run(args: argparse.Namespace) -> int:
    from .experiments.studies import (
        DEFAULT_STORE,
        MAP_LABELS,
        boundary_note,
        compare_boundaries,
        default_study,
        ics_deterrence_boundary,
    )
    from .experiments.sweeps import run_sweep
    from .plotting import tragedy_map

    spec = default_study()
    store = args.store or DEFAULT_STORE
    print(f"{spec['name']}: {spec['design'].size} points x {spec['replicates']} replicates x "
          f"{spec['rounds']} rounds -> {store}", flush=True)
    result = run_sweep(spec["model"], spec["design"], replicates=spec["replicates"],
                       rounds=spec["rounds"], rng=spec["rng"], fixed=spec["fixed"],
                       store=store, name=spec["name"], progress=not args.no_progress)
    status = _report(result, store)
    summ = result.summary()
    if not len(summ):
        return status
    comm = sorted(summ["communication"].unique())
    derived = ics_deterrence_boundary(comm, rounds=spec["rounds"], **spec["fixed"])
    table = compare_boundaries(summ, derived)
    print(f"\nderived deterrence boundary (expected cost of a unit over the quota = its "
          f"marginal gain {derived.marginal_gain[0]:.3f}, year {derived.round}) against the "
          "simulated one (P(tragedy avoided) = 0.5):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    note = boundary_note(table, spec["fixed"]["governance"])
    print(note)
    png = f"{store}/tragedy-map.png"
    tragedy_map(summ, "sanction", "communication", path=png, labels=MAP_LABELS,
                title=f"{spec['name']} ({spec['rounds']} years, self-governance, places)",
                boundaries=[("derived: every organisation deterred above", derived.everyone,
                             derived.communication),
                            ("derived: tragedy verdict expected below", derived.verdict,
                             derived.communication)],
                note=note)
    print(f"tragedy map written to {png} (and {png[:-4]}.pdf)")
    return status


def _sweep(args: argparse.Namespace) -> int:
    from .experiments.studyfile import load_study
    from .experiments.sweeps import run_sweep

    spec = load_study(args.study)
    store = spec.pop("store")
    print(f"{spec['name']}: {spec['design'].size} points x {spec['replicates']} replicates -> "
          f"{store or '(memory)'}", flush=True)
    result = run_sweep(**spec, store=store, progress=not args.no_progress)
    status = _report(result, store)
    if store:
        _map(result, store)
    return status


def _show(args: argparse.Namespace) -> int:
    from .experiments.sweeps import open_store

    result = open_store(args.store)
    s = result.study
    print(f"{s['name']} ({s['factory']}), version {s['version']}")
    print(f"  {result.design.size} points x {s['replicates']} replicates x {s['rounds']} "
          f"rounds; seed entropy {s['entropy']}")
    done, runs = result.runs_done, result.runs
    print(f"  runs stored: {done} of {runs}, in {result.done} chunks"
          f"{'' if result.complete else ' (partial: run the study again to resume)'}")
    if done:
        return _report(result, args.store, all_rows=args.all)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="commons",
        description="When is the tragedy of the commons avoided? Exact equilibria and "
                    "simulations of common-pool resource games.")
    p.add_argument("--version", action="version", version=f"commons {version}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    eq = sub.add_parser(
        "equilibrium", help="Nash, optimum, open access and the folk-theorem threshold",
        description="Print the Nash equilibrium, social optimum, open access and the critical "
                    "discount factor of grim trigger for the quadratic CPR game. Defaults: the "
                    "laboratory game of Walker, Gardner & Ostrom (1990), high endowment.")
    eq.add_argument("--n", type=int, default=8, help="number of organisations (default 8)")
    eq.add_argument("--a", type=float, default=23.0, help="F(X) = aX - bX^2: a (default 23)")
    eq.add_argument("--b", type=float, default=0.25, help="F(X) = aX - bX^2: b (default 0.25)")
    eq.add_argument("--w", type=float, default=5.0, help="outside return per unit (default 5)")
    eq.add_argument("--endowment", type=float, default=25.0,
                    help="endowment per organisation (default 25; the low design uses 10)")
    eq.add_argument("--json", action="store_true", help="print JSON instead of a table")
    eq.set_defaults(func=_equilibrium)

    run = sub.add_parser(
        "run", help="the main job: where the tragedy is avoided on the care system",
        description="Sweep sanction strength x communication on the Integrated Care System "
                    "scenario, store the results (resuming an interrupted run), print where "
                    "the tragedy is avoided beside the deterrence boundary derived for the "
                    "rules in force, and write the tragedy map (PNG and PDF).")
    run.add_argument("--store", help=f"results directory (default {'commons-results/'}"
                                     "default-study)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)

    sw = sub.add_parser("sweep", help="run a study described in a TOML file",
                        description="Run (or resume) the sweep a study file describes; see "
                                    "commons.studyfile for the format.")
    sw.add_argument("study", help="path of the study file")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")
    sw.set_defaults(func=_sweep)

    sh = sub.add_parser("show", help="summarise a finished or partial results store")
    sh.add_argument("store", help="results directory")
    sh.add_argument("--all", action="store_true",
                    help=f"print every point (default: the first {_ROWS})")
    sh.set_defaults(func=_show)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``commons`` command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from .experiments.sweeps import StoreError, SweepInterrupted
    try:
        return int(args.func(args))
    except (ValueError, TypeError, StoreError, ImportError) as exc:
        print(f"commons: error: {exc}", file=sys.stderr)
        return 2
    except SweepInterrupted as exc:
        print(f"commons: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("commons: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (commons show STORE | head)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
