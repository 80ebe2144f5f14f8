"""The ``commons`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ._version import version

__all__ = ["main"]


def _equilibrium(args: argparse.Namespace) -> int:
    from .equilibrium import nash_equilibrium, open_access, social_optimum
    from .game import CPRGame
    from .production import Quadratic
    from .repeated import critical_discount_factor

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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``commons`` command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args))
    except (ValueError, TypeError) as exc:
        print(f"commons: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
