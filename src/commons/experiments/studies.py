"""Ready-made studies built from the scenarios: the ablation of Ostrom's principles, the main
job's tragedy map of the Integrated Care System with its derived deterrence boundary, and the
governance study (self-governance against central control as the budget tightens)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_real, check_array, check_integer
from .scenarios import PRINCIPLES, ostrom_commons

__all__ = ["DEFAULT_STORE", "MAP_LABELS", "AblationRow", "boundary_note", "compare_boundaries",
           "default_study", "format_ablation", "governance_under_pressure",
           "ics_deterrence_boundary", "principle_ablation", "simulated_boundary"]

#: What removing each principle is expected to worsen (the outcome it exists to protect).
EXPECTED = {1: "efficiency", 2: "efficiency", 3: "efficiency", 4: "tragedy",
            5: "efficiency", 6: "wrongful", 7: "efficiency", 8: "efficiency"}


@dataclass(frozen=True)
class AblationRow:
    """One line of the ablation: a configuration and its outcomes over replicates.

    ``efficiency``, ``tragedy`` and ``wrongful`` (wrongful sanctions standing per round) are
    (R,) arrays, replicate r of every arm run with the same seed. ``p_value`` is the one-sided
    paired test that removing the principle worsened its expected outcome (see
    :func:`principle_ablation`); ``effect`` the mean paired worsening (the full model's
    efficiency minus this arm's, this arm's tragedy rate or wrongful sanctions minus the full
    model's) with its 95 % interval ``effect_low``, ``effect_high``. None for the full model.

    Attributes
    ----------
    principle : int or None
        The principle removed (1..8), None for the full model.
    name : str
        The configuration, as printed.
    efficiency, tragedy, wrongful : ndarray, shape (R,)
        Outcomes per replicate.
    expected : str or None
        The outcome removing the principle is expected to worsen.
    p_value : float or None
        One-sided paired test that it did.
    effect, effect_low, effect_high : float or None
        The mean paired worsening and its 95 % interval.
    """

    principle: int | None
    name: str
    efficiency: np.ndarray
    tragedy: np.ndarray
    wrongful: np.ndarray
    expected: str | None
    p_value: float | None
    effect: float | None = None
    effect_low: float | None = None
    effect_high: float | None = None

    def outcome(self, key: str) -> float:
        """Mean of an outcome over replicates.

        Parameters
        ----------
        key : {"efficiency", "tragedy", "wrongful"}
            The outcome.

        Returns
        -------
        float
            Its mean over the R replicates.
        """
        return float(np.mean(getattr(self, key)))


def principle_ablation(*, rounds: int = 150, replicates: int = 100, rng: Any = 7,
                       **scenario: Any) -> list[AblationRow]:
    r"""Run :func:`commons.scenarios.ostrom_commons` with all principles, then without each.

    Returns nine rows (all principles, then each removed). Removing a principle is expected to
    worsen the outcome it protects (``EXPECTED``): efficiency for most; the tragedy rate for
    monitoring, whose absence saves fines in most runs but lets some collapse; wrongful
    sanctions standing for conflict resolution.

    The arms are paired: replicate r of every arm has the same seed, and each plug-in draws
    from a stream keyed by its stable name, so the plug-ins the arms share see the same random
    numbers (common random numbers) and a difference between arms is the principle's doing.
    Each test is therefore on the R pairs, one-sided:

    * efficiency and wrongful sanctions: the paired t-test on the differences d_r,
      t = mean(d) / (s_d / sqrt(R)) with R - 1 degrees of freedom (``scipy.stats.ttest_rel``);
    * the tragedy rate: McNemar's exact test on the discordant pairs (McNemar 1947): of the
      b + c pairs whose verdicts differ, b went to tragedy only without the principle, and
      p = P(Binomial(b + c, 1/2) >= b) (``scipy.stats.binomtest``).

    The effect is the mean paired worsening with a 95 % t interval (for the tragedy rate, of
    the differences of the 0/1 verdicts).

    Parameters
    ----------
    rounds : int
        Rounds per run, >= 1.
    replicates : int
        Replicates per arm, >= 2 (the same seeds in every arm).
    rng : None, int, SeedSequence or Generator
        The seed shared by the arms.
    **scenario
        Settings of :func:`commons.scenarios.ostrom_commons` (``places``, ``per_place``, ...).

    Returns
    -------
    list of AblationRow
        Nine rows: all principles, then each of the eight removed.
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
            d = full[0] - eff
            p = stats.ttest_rel(full[0], eff, alternative="greater").pvalue
        elif what == "wrongful":
            d = wrong - full[2]
            p = stats.ttest_rel(wrong, full[2], alternative="greater").pvalue
        else:
            d = trag - full[1]
            b, c = int((d > 0).sum()), int((d < 0).sum())
            p = stats.binomtest(b, b + c, 0.5, alternative="greater").pvalue if b + c else 1.0
        half = float(stats.sem(d) * stats.t.ppf(0.975, R - 1)) if np.ptp(d) > 0 else 0.0
        rows.append(AblationRow(k, f"without {k}: {name}", eff, trag, wrong, what, float(p),
                                float(d.mean()), float(d.mean()) - half,
                                float(d.mean()) + half))
    return rows


def format_ablation(rows: list[AblationRow]) -> str:
    """The ablation as a text table, with each arm's paired worsening and its p-value.

    Parameters
    ----------
    rows : list of AblationRow
        From :func:`principle_ablation`.

    Returns
    -------
    str
        One line per row: mean efficiency, tragedy rate, wrongful sanctions, the outcome
        expected to worsen, the worsening with its 95 % interval, and the p-value.
    """
    head = (f"{'configuration':<52}{'efficiency':>11}{'tragedy':>9}{'wrongful':>10}"
            f"{'  expected to worsen':<22}{'worse by (95 % CI)':>26}{'p':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        p = "" if r.p_value is None else f"{r.p_value:.1e}"
        eff = ("" if r.effect is None else
               f"{r.effect:.3f} ({r.effect_low:.3f}, {r.effect_high:.3f})")
        lines.append(f"{r.name:<52}{r.outcome('efficiency'):>11.3f}{r.outcome('tragedy'):>9.2f}"
                     f"{r.outcome('wrongful'):>10.3f}  {r.expected or '':<20}{eff:>26}{p:>9}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the main job
DEFAULT_STORE = "commons-results/default-study"

#: Axis labels (with units) of the main job's map.
MAP_LABELS = {"sanction": "sanction s (top fine, value per budget unit over the quota)",
              "communication": "communication c (meetings 0.8 c x overlap; covenant 6 c)"}


def default_study() -> dict[str, Any]:
    """The main job: sanction strength x communication on the Integrated Care System.

    48 points (8 sanction strengths x 6 communication levels, both unevenly spaced), 40
    replicates each, 100 years of self-governance on the "places" network under need growing
    4 % a year (each replicate's rate drawn with standard deviation 0.5 points) against a
    budget growing 1 %. The derived deterrence boundary (:func:`ics_deterrence_boundary`)
    crosses the grid: about 1.5 without communication, below 0 at c = 0.5.

    Returns
    -------
    dict
        ``model``, ``name``, ``design`` (a :class:`~commons.experiments.sweeps.Design`),
        ``replicates``, ``rounds``, ``rng`` and ``fixed`` settings, as ``run_sweep`` takes
        them.
    """
    from .sweep import Design
    return {"model": "ics", "name": "ICS: sanction strength x communication",
            "design": Design.grid(sanction=[0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0],
                                  communication=[0.0, 0.05, 0.1, 0.15, 0.25, 0.5]),
            "replicates": 40, "rounds": 100, "rng": 20261123,
            "fixed": {"governance": "self", "network": "places"}}


def ics_deterrence_boundary(communication: Any = (0.0, 0.05, 0.1, 0.15, 0.25, 0.5), *,
                            rounds: int = 100, demand_quantile: float = 0.5,
                            **scenario: Any):
    """The sanction at which the ICS's rules deter overdrawing; see
    :func:`commons.experiments.ics_boundary.deterrence_boundary` for the derivation.

    Parameters
    ----------
    communication : sequence of float
        Communication levels c in [0, 1].
    rounds : int
        Run length T in years (where the verdict window starts).
    demand_quantile : float
        The quantile of the replicates' need growth the boundary is derived for.
    **scenario
        Settings of :func:`commons.scenarios.integrated_care_system`.

    Returns
    -------
    DeterrenceBoundary
        The derived sanctions for each communication level.
    """
    from .ics_boundary import deterrence_boundary
    return deterrence_boundary(communication, rounds=rounds, demand_quantile=demand_quantile,
                               **scenario)


def simulated_boundary(summary, x: str = "sanction", y: str = "communication", *,
                       level: float = 0.5):
    r"""Where P(tragedy avoided) first reaches ``level`` along x, for each value of y.

    ``summary`` is a per-point table with columns ``x``, ``y`` and ``p_avoid_mean``
    (:meth:`SweepResult.summary`).

    On each row of a grid the crossing is interpolated linearly between the two cells it
    lies between, x_k + (level - p_k) (x_{k+1} - x_k) / (p_{k+1} - p_k), taking the first
    cell at or above ``level`` from the left; ``position`` is the same point in grid steps
    (cell k at k). A row whose every cell is at or above ``level`` gives -inf (the boundary
    lies below the grid), one with none +inf (above it).

    Parameters
    ----------
    summary : pandas.DataFrame
        A sweep's summary with columns ``x``, ``y`` and ``p_avoid``.
    x, y : str
        The parameters along and across which the boundary is sought.
    level : float
        The probability in (0, 1) the boundary marks.

    Returns
    -------
    pandas.DataFrame
        Columns ``y`` (named as the parameter), ``x`` crossing (named as the parameter) and
        ``position``.
    """
    pd = _pandas()
    level = as_real("level", level, low=0.0, high=1.0, low_open=True, high_open=True)
    for col in (x, y, "p_avoid_mean"):
        if col not in summary.columns:
            raise ValueError(f"summary has no column {col!r}; it has {list(summary.columns)}")
    xs = np.unique(summary[x].to_numpy(float))
    out = []
    for yv, rows in summary.groupby(y, sort=True):
        rows = rows.sort_values(x)
        px = rows[x].to_numpy(float)
        p = rows["p_avoid_mean"].to_numpy(float)
        k = int(np.argmax(p >= level)) if np.any(p >= level) else None
        if k is None:
            cross, pos = math.inf, math.inf
        elif k == 0:
            cross, pos = -math.inf, -math.inf
        else:
            frac = (level - p[k - 1]) / (p[k] - p[k - 1])
            cross = px[k - 1] + frac * (px[k] - px[k - 1])
            pos = float(np.searchsorted(xs, px[k - 1])) + frac
        out.append({y: yv, x: cross, "position": pos})
    return pd.DataFrame(out)


def compare_boundaries(summary, boundary, x: str = "sanction", y: str = "communication", *,
                       level: float = 0.5):
    r"""The simulated boundary against the derived one, row by row, in grid steps.

    For each value of ``y`` (the communication levels of ``boundary``, a
    :class:`~commons.experiments.ics_boundary.DeterrenceBoundary`): the simulated crossing
    (:func:`simulated_boundary`); the derived sanctions at which every organisation is
    deterred (``everyone``) and below which the verdict is expected (``verdict``), each
    placed on the grid's x axis in cell steps (linear between cells, continued past the
    ends); and ``gap``, the distance in grid steps from the simulated crossing to the band
    between the two derived curves (0 inside it). A simulated boundary beyond the grid is
    only known to lie past the first (or last) cell, and gets the smallest distance that
    allows. ``within_one_step``: gap <= 1.

    Parameters
    ----------
    summary : pandas.DataFrame
        A sweep's summary with columns ``x``, ``y`` and ``p_avoid``.
    boundary : DeterrenceBoundary
        The derived boundary (:func:`ics_deterrence_boundary`).
    x, y : str
        The parameters along and across which the boundary is sought.
    level : float
        The probability in (0, 1) the simulated boundary marks.

    Returns
    -------
    pandas.DataFrame
        One row per communication level: the simulated and derived sanctions, ``gap`` and
        ``within_one_step``.
    """
    pd = _pandas()
    from ..plotting import grid_position
    xs = np.unique(summary[x].to_numpy(float))
    sim = simulated_boundary(summary, x, y, level=level)
    rows = []
    for k, c in enumerate(boundary.communication):
        match = sim[np.isclose(sim[y].to_numpy(float), c)]
        if match.empty:
            continue
        pos = float(match["position"].iloc[0])
        ends = sorted((float(grid_position(boundary.everyone[k], xs)),
                       float(grid_position(boundary.verdict[k], xs))))
        if pos == -math.inf:
            gap = max(ends[0], 0.0)
        elif pos == math.inf:
            gap = max(xs.size - 1.0 - ends[1], 0.0)
        else:
            gap = max(ends[0] - pos, pos - ends[1], 0.0)
        rows.append({y: float(c), f"simulated_{x}": float(match[x].iloc[0]),
                     f"derived_{x}_everyone": float(boundary.everyone[k]),
                     f"derived_{x}_verdict": float(boundary.verdict[k]),
                     "gap": gap, "within_one_step": bool(gap <= 1.0)})
    return pd.DataFrame(rows)


def boundary_note(table, governance: str = "self") -> str:
    """A caption saying how the simulated boundary compares with the derived band, and why
    where they part (``table`` from :func:`compare_boundaries`).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`compare_boundaries`.
    governance : {"self", "central"}
        The governance simulated, which explains where the verdict falls.

    Returns
    -------
    str
        Two sentences: the comparison, then the reason.
    """
    if table.empty:
        return "no row of the map has both a simulated and a derived boundary"
    name = table.columns[0]
    largest = f"{float(table['gap'].max()):.2f}"
    why = ("Under central control nothing tips when deterrence fails (audits and fines do not "
           "depend on others' compliance), so over-claiming grows smoothly below the "
           "deterrence curve and the verdict waits for it to cost a fifth of the value: the "
           "lower curve." if governance == "central" else
           "Under self-governance the first violations tip the rest (peer detection and trust "
           "fall with compliance), so the verdict follows deterrence.")
    if bool(table["within_one_step"].all()):
        head = (f"The simulated boundary lies within one grid step of the derived band at "
                f"every {name} level (largest gap {largest} steps).")
    else:
        off = ", ".join(f"{v:g}" for v in table.loc[~table["within_one_step"], name])
        head = (f"The simulated boundary lies more than one grid step from the derived band "
                f"at {name} = {off} (largest gap {largest} steps): the derivation is a "
                "steady-state, mean-field account, for the median replicate's demand growth, "
                "at one year (the verdict window's first, less the re-planning delay).")
    return f"{head}\n{why}"


def _pandas():
    from .._optional import require
    return require("pandas", "results", "the study tables")


# ---------------------------------------------------------------------- governance study
#: The two arms of the governance study.
_GOVERNANCES = ("self", "central")


def governance_under_pressure(*, pressures: Any = (0, 1, 2, 3, 4, 5, 6, 7, 8),
                              horizons: Any = (25, 50, 100), replicates: int = 40,
                              sanction: float = 1.0, communication: float = 0.25,
                              budget_growth: float = 0.01, network: str = "places",
                              metric: str = "p_avoid", rng: Any = 11, **scenario: Any):
    r"""Self-governance against central control as the budget tightens, over horizons.

    Runs :func:`commons.scenarios.integrated_care_system` under ``governance="self"`` and
    ``"central"`` at every budget pressure p (points a year: demand grows at g_B + p / 100
    against a budget growing at ``budget_growth`` = g_B) for ``horizons`` years, with the same
    sanction strength and communication in both arms. Replicate r at pressure index k is
    seeded as sweep point k (``SeedSequence(rng, spawn_key=(k, r))``) in both arms and at
    every horizon, and each plug-in's stream is keyed by its name, so the arms share each
    replicate's demand growth draw: the comparisons are paired.

    ``metric="p_avoid"`` estimates P(tragedy avoided) with a Wilson (1927) 95 % interval
    (:math:`(2 n \hat p + z^2 \pm z \sqrt{4 n \hat p (1 - \hat p) + z^2}) / (2 (n + z^2))`);
    ``"efficiency"`` the mean efficiency over the whole horizon with a t interval,
    :math:`\bar x \pm t_{n-1, 0.975} s / \sqrt n`.

    Parameters
    ----------
    pressures : sequence of float
        Budget pressures in points a year, each in [0, 20].
    horizons : sequence of int
        Run lengths in years, each >= 10.
    replicates : int
        Replicates per (governance, pressure, horizon), >= 2.
    sanction, communication : float
        The scenario's sanction strength (>= 0) and communication (in [0, 1]).
    budget_growth : float
        g_B, > -1.
    network : str
        One of :data:`commons.experiments.ics.ICS_NETWORKS`.
    metric : {"p_avoid", "efficiency"}
        The outcome compared.
    rng : int or SeedSequence
        Entropy of the study.
    **scenario
        Further scalar settings of the scenario (``places``, ``demand_volatility``,
        ``seed``).

    Returns
    -------
    pandas.DataFrame
        Columns ``governance``, ``pressure``, ``horizon``, ``mean``, ``low``, ``high``, ``n``;
        ``attrs["metric"]`` names the metric and ``attrs["settings"]`` the arguments.
    """
    pd = _pandas()
    from scipy import stats

    from .ics import ICS_NETWORKS
    from .scenarios import integrated_care_system

    press = np.atleast_1d(check_array("pressures", pressures, low=0.0, high=20.0))
    if press.ndim != 1 or press.size == 0:
        raise ValueError(f"pressures must be a non-empty list of numbers, got {pressures!r}")
    hs = [check_integer("horizons", h, low=10) for h in np.atleast_1d(
        np.asarray(horizons, dtype=object)).tolist()]
    if not hs:
        raise ValueError("horizons must name at least one horizon (years >= 10)")
    R = check_integer("replicates", replicates, low=2)
    sanction = as_real("sanction", sanction, low=0.0)
    communication = as_real("communication", communication, low=0.0, high=1.0)
    budget_growth = as_real("budget_growth", budget_growth, low=-1.0, low_open=True)
    if network not in ICS_NETWORKS:
        raise ValueError(f"network must be one of {ICS_NETWORKS}, got {network!r}")
    if metric not in ("p_avoid", "efficiency"):
        raise ValueError(f"metric must be 'p_avoid' or 'efficiency', got {metric!r}")
    for key in ("governance", "demand_growth"):
        if key in scenario:
            raise TypeError(f"governance_under_pressure: {key} is what the study varies; "
                            "it cannot be fixed")
    points = np.repeat(np.arange(press.size), R)
    growth = budget_growth + np.repeat(press, R) / 100.0
    rows = []
    for gov in _GOVERNANCES:
        model = integrated_care_system(governance=gov, sanction=sanction,
                                       communication=communication, demand_growth=growth,
                                       budget_growth=budget_growth, network=network,
                                       **scenario)
        for h in hs:
            res = model.run(h, points.size, rng=rng, point=points, record="final")
            for k, p in enumerate(press):
                sl = slice(k * R, (k + 1) * R)
                if metric == "p_avoid":
                    kept = int((~res.metrics["tragedy"][sl]).sum())
                    mean = kept / R
                    ci = stats.binomtest(kept, R).proportion_ci(0.95, method="wilson")
                    low, high = float(ci.low), float(ci.high)
                else:
                    x = res.metrics["efficiency"][sl]
                    mean = float(x.mean())
                    half = float(stats.sem(x) * stats.t.ppf(0.975, R - 1))
                    low, high = mean - half, mean + half
                rows.append({"governance": gov, "pressure": float(p), "horizon": h,
                             "mean": mean, "low": low, "high": high, "n": R})
    frame = pd.DataFrame(rows, columns=["governance", "pressure", "horizon", "mean", "low",
                                        "high", "n"])
    frame.attrs["metric"] = metric
    frame.attrs["settings"] = {"sanction": sanction, "communication": communication,
                               "budget_growth": budget_growth, "network": network,
                               "replicates": R, **scenario}
    return frame
