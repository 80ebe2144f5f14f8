"""The studies: where the simulated boundary lies and how it compares with a derived one, the
governance study's table, and the ablation's paired effects."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import commons
from commons.experiments import studies
from commons.experiments.ics_boundary import DeterrenceBoundary


def grid_summary(p_rows, xs=(0.0, 0.5, 1.0, 2.0), ys=(0.0, 0.25)):
    rows = [{"sanction": x, "communication": y, "p_avoid_mean": p}
            for y, ps in zip(ys, p_rows, strict=True) for x, p in zip(xs, ps, strict=True)]
    return pd.DataFrame(rows)


def test_the_simulated_boundary_is_interpolated_along_each_row():
    summ = grid_summary([[0.0, 0.2, 0.6, 1.0], [0.0, 0.0, 0.1, 0.4]])
    out = studies.simulated_boundary(summ)
    # row 0: first cell >= 1/2 is x = 1 (0.6); from (0.5, 0.2): 0.5 + 0.3 / 0.4 x 0.5
    assert out["sanction"].iloc[0] == pytest.approx(0.875)
    assert out["position"].iloc[0] == pytest.approx(1.75)
    assert out["sanction"].iloc[1] == math.inf  # never reached: beyond the grid
    below = studies.simulated_boundary(grid_summary([[0.5, 1, 1, 1], [0.9, 1, 1, 1]]))
    assert (below["position"] == -math.inf).all()


def test_boundaries_are_compared_in_grid_steps():
    summ = grid_summary([[0.0, 0.2, 0.6, 1.0], [0.6, 1.0, 1.0, 1.0]])
    b = DeterrenceBoundary("self", np.array([0.0, 0.25]),
                           sanction=np.array([[1.5, 1.5], [0.5, -1.0]]),
                           ruin=np.array([3.0, 3.0]), marginal_gain=np.ones(2), round=9,
                           demand_growth=0.04)
    table = studies.compare_boundaries(summ, b)
    # row 0: simulated at 1.75 steps; derived everyone 1.5 -> 2.5 steps, verdict (median
    # 1.5) the same: gap 0.75
    assert table["gap"].iloc[0] == pytest.approx(0.75)
    # row 1: simulated below the grid; the band [-1, 0.5] -> [-2, 1] steps reaches it
    assert table["gap"].iloc[1] == 0.0
    assert table["within_one_step"].all()
    assert list(table.columns) == ["communication", "simulated_sanction",
                                   "derived_sanction_everyone", "derived_sanction_verdict",
                                   "gap", "within_one_step"]
    note = studies.boundary_note(table)
    assert note.startswith("The simulated boundary lies within one grid step")
    far = table.assign(gap=[2.0, 0.0], within_one_step=[False, True])
    assert "more than one grid step from the derived band at communication = 0" in \
        studies.boundary_note(far, "central")


def test_governance_study_returns_a_tidy_table_with_intervals():
    df = commons.studies.governance_under_pressure(pressures=[0, 6], horizons=[20, 60],
                                                   replicates=12, rng=3)
    assert list(df.columns) == ["governance", "pressure", "horizon", "mean", "low", "high",
                                "n"]
    assert len(df) == 2 * 2 * 2
    assert set(df["governance"]) == {"self", "central"}
    assert (df["n"] == 12).all()
    assert ((df["low"] <= df["mean"]) & (df["mean"] <= df["high"])).all()
    assert df.attrs["metric"] == "p_avoid"
    for row in df.itertuples():  # the Wilson interval, as scipy computes it
        k = round(row.mean * row.n)
        ci = stats.binomtest(k, row.n).proportion_ci(0.95, method="wilson")
        assert (row.low, row.high) == pytest.approx((ci.low, ci.high))
    eff = commons.studies.governance_under_pressure(pressures=[3], horizons=[30],
                                                    replicates=6, metric="efficiency")
    assert eff.attrs["metric"] == "efficiency"
    assert (eff["high"] - eff["mean"]).gt(0).all()


@pytest.mark.statistical
def test_self_governance_holds_out_longer_as_the_budget_tightens(seed):
    # At communication 0.25 and sanction 1 (the defaults), over 50 years at 6 points of
    # pressure: self-governance avoids the tragedy in about all replicates, central control
    # in about a fifth (derived: the covenant adds 6 c u to the self-governed cost of
    # overdrawing, and central control crowds out civic duty). With 40 replicates a pair, the
    # one-sided McNemar test on the discordant pairs (the arms share each replicate's demand
    # growth) gives p < 1e-6; bound 1e-3. At 25 years neither fails.
    df = commons.studies.governance_under_pressure(pressures=[6], horizons=[25, 50],
                                                   replicates=40, rng=seed)
    at = df.set_index(["governance", "horizon"])["mean"]
    assert at["self", 25] == at["central", 25] == 1.0
    kept_self, kept_central = round(40 * at["self", 50]), round(40 * at["central", 50])
    assert kept_self > kept_central
    # discordant pairs are at least the difference of the counts; each favours self
    b = kept_self - kept_central
    assert stats.binomtest(b, b, 0.5, alternative="greater").pvalue < 1e-3


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"pressures": [-1]}, ValueError, "pressures must be >= 0"),
    ({"pressures": []}, ValueError, "pressures must be a non-empty list"),
    ({"horizons": [5]}, ValueError, "horizons must be >= 10"),
    ({"horizons": [20.5]}, TypeError, "horizons must be an integer"),
    ({"replicates": 1}, ValueError, "replicates must be >= 2"),
    ({"communication": 2.0}, ValueError, r"communication must be in \[0, 1\]"),
    ({"network": "ring"}, ValueError, "network must be one of"),
    ({"metric": "tragedy"}, ValueError, "metric must be 'p_avoid' or 'efficiency'"),
    ({"governance": "self"}, TypeError, "governance is what the study varies"),
])
def test_bad_governance_study_input_names_the_argument(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        commons.studies.governance_under_pressure(**kwargs)


def test_the_ablation_table_states_the_paired_effects():
    R = 8
    full = studies.AblationRow(None, "all eight principles", np.ones(R), np.zeros(R),
                               np.zeros(R), None, None)
    row = studies.AblationRow(4, "without 4: monitoring", np.ones(R), np.ones(R), np.zeros(R),
                              "tragedy", 3.9e-3, 1.0, 1.0, 1.0)
    text = studies.format_ablation([full, row])
    assert "worse by (95 % CI)" in text
    assert "1.000 (1.000, 1.000)" in text
    assert "3.9e-03" in text
