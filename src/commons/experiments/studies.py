"""Ready-made studies built from the scenarios: the ablation of Ostrom's principles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_integer
from .scenarios import PRINCIPLES, ostrom_commons

__all__ = ["DEFAULT_STORE", "AblationRow", "default_study", "format_ablation",
           "ics_deterrence_scale", "principle_ablation"]

#: What removing each principle is expected to worsen (the outcome it exists to protect).
EXPECTED = {1: "efficiency", 2: "efficiency", 3: "efficiency", 4: "tragedy",
            5: "efficiency", 6: "wrongful", 7: "efficiency", 8: "efficiency"}


@dataclass(frozen=True)
class AblationRow:
    """One line of the ablation: a configuration and its outcomes over replicates.

    ``efficiency``, ``tragedy`` and ``wrongful`` (wrongful sanctions standing per round) are
    (R,) arrays; ``p_value`` is the one-sided test that removing the principle worsened its
    expected outcome (paired t-test on replicates with the same seeds for efficiency and
    wrongful sanctions, Fisher's exact test for the tragedy rate); None for the full model.
    """

    principle: int | None
    name: str
    efficiency: np.ndarray
    tragedy: np.ndarray
    wrongful: np.ndarray
    expected: str | None
    p_value: float | None

    def outcome(self, key: str) -> float:
        """Mean of an outcome over replicates."""
        return float(np.mean(getattr(self, key)))


def principle_ablation(*, rounds: int = 150, replicates: int = 100, rng: Any = 7,
                       **scenario: Any) -> list[AblationRow]:
    r"""Run :func:`commons.scenarios.ostrom_commons` with all principles, then without each.

    Returns nine rows (all principles, then each removed). Removing a principle is expected to
    worsen the outcome it protects (``EXPECTED``): efficiency for most; the tragedy rate for
    monitoring, whose absence saves fines in most runs but lets some collapse; wrongful
    sanctions standing for conflict resolution.
    """
    from scipy import stats

    T = check_integer("rounds", rounds, low=1)
    R = check_integer("replicates", replicates, low=2)

    def run(disable):
        res = ostrom_commons(disable=disable, **scenario).run(T, R, rng=rng)
        return (res.metrics["efficiency"], res.metrics["tragedy"].astype(float),
                res.series["wrongful"].mean(axis=1))

    full = run(())
    rows = [AblationRow(None, "all eight principles", *full, None, None)]
    for k, name in PRINCIPLES.items():
        eff, trag, wrong = run((k,))
        what = EXPECTED[k]
        if what == "efficiency":
            p = stats.ttest_rel(full[0], eff, alternative="greater").pvalue
        elif what == "wrongful":
            p = stats.ttest_rel(wrong, full[2], alternative="greater").pvalue
        else:
            table = [[trag.sum(), R - trag.sum()], [full[1].sum(), R - full[1].sum()]]
            p = stats.fisher_exact(table, alternative="greater").pvalue
        rows.append(AblationRow(k, f"without {k}: {name}", eff, trag, wrong, what, float(p)))
    return rows


def format_ablation(rows: list[AblationRow]) -> str:
    """The ablation as a text table."""
    head = (f"{'configuration':<52}{'efficiency':>11}{'tragedy':>9}{'wrongful':>10}"
            f"{'  expected to worsen':<22}{'p':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        p = "" if r.p_value is None else f"{r.p_value:.1e}"
        lines.append(f"{r.name:<52}{r.outcome('efficiency'):>11.3f}{r.outcome('tragedy'):>9.2f}"
                     f"{r.outcome('wrongful'):>10.3f}  {r.expected or '':<20}{p:>9}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the main job
DEFAULT_STORE = "commons-results/default-study"


def default_study() -> dict[str, Any]:
    """The main job: sanction strength x communication on the Integrated Care System.

    36 points (6 sanction scales x 6 communication levels), 20 replicates each, 100 rounds of
    self-governance under demand growing 4 % a year against a budget growing 1 %.
    """
    from .sweep import Design
    return {"model": "ics", "name": "ICS: sanction strength x communication",
            "design": Design.grid(sanction=[0.0, 0.25, 0.5, 0.75, 1.0, 1.5],
                                  communication=[0.0, 0.05, 0.1, 0.15, 0.25, 0.5]),
            "replicates": 20, "rounds": 100, "rng": 20261123, "fixed": {"governance": "self"}}


def ics_deterrence_scale(rounds: int = 100, *, demand_growth: float = 0.04,
                         budget_growth: float = 0.01, detection: float = 0.8) -> float:
    r"""Sanction scale at which graduated fines alone deter overclaiming at the end of the run.

    In :func:`commons.scenarios.integrated_care_system` an organisation's quota is its share of
    the budget, q = a**2 B_t / B_0 with B_t = B_0 (1 + g_B)**t, so the marginal value of a unit
    over it is a sqrt(n_t) / (2 sqrt(q)) - c = ((1 + g_D) / (1 + g_B))**(t / 2) / 2 - 1/2 for
    every organisation (c = 1/2, need n_t = (1 + g_D)**t). Fines deter when the expected top
    rate reaches it: detection x scale >= that gain, at t the first round of the last tenth.
    With peers complying, detection is 0.2 + 0.6 = 0.8.
    """
    t = rounds - max(1, math.ceil(rounds / 10))
    gain = 0.5 * ((1 + demand_growth) / (1 + budget_growth)) ** (t / 2) - 0.5
    return gain / detection
