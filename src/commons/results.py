"""Run results with provenance, social-outcome metrics and tidy exports."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._optional import require

__all__ = ["RunResult", "compute_metrics", "equality", "sustainability"]


def equality(returns: np.ndarray) -> np.ndarray:
    r"""1 - Gini of each replicate's per-organisation returns, shape (R, N) -> (R,).

    E = 1 - sum_i sum_j |R_i - R_j| / (2 N sum_i |R_i|) (Perolat et al. 2017, with |R_i| in the
    denominator so that negative returns cannot make it undefined); 1 when all returns are 0.
    Computed in O(N log N) from the sorted returns: sum_ij |R_i - R_j| = 2 sum_k (2k - N + 1) R_(k).
    """
    Rs = np.sort(returns, axis=1)
    N = Rs.shape[1]
    k = np.arange(N)
    mad = 2.0 * (Rs * (2 * k - N + 1)).sum(axis=1)
    denom = 2.0 * N * np.abs(Rs).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 1.0 - mad / denom, 1.0)


def sustainability(pos_t: np.ndarray, pos_n: np.ndarray) -> np.ndarray:
    r"""Perolat et al. (2017) sustainability: mean over organisations of the average round
    (1-based) in which each earned a positive reward. Organisations that never did are
    skipped; 0 if none did. Shapes (R, N) -> (R,).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        t_i = np.where(pos_n > 0, pos_t / pos_n, 0.0)
    counted = (pos_n > 0).sum(axis=1)
    return np.where(counted > 0, t_i.sum(axis=1) / np.maximum(counted, 1), 0.0)


def compute_metrics(model, ctx, st, rec) -> dict[str, np.ndarray]:
    r"""Social-outcome metrics per replicate.

    * ``efficiency``: total rent over the run / total best sustainable rent
      (:func:`commons.sim.targets.max_rent`), the net-yield of Ostrom, Walker & Gardner (1992)
      for a dynamic commons;
      0 where the best sustainable rent is not positive;
    * ``equality``, ``sustainability``: Perolat et al. (2017), see :func:`equality`;
    * ``peace``: average number of organisations not excluded per round (Perolat et al.);
    * ``collapsed``, ``time_to_collapse`` (rounds until collapse, inf if never);
    * ``final_stock_ratio``: final stock / reference stock (the MSY stock K/2 for a logistic
      stock, the round-0 budget, the lake's critical level);
    * ``tail_efficiency``: efficiency over the last tenth of the rounds;
    * ``tragedy``: collapsed, or tail efficiency below the model's ``tragedy_threshold``;
    * ``regulator_net``: the regulator's income (fines, fees) minus its spending (audits) over
      the run; ``burned``: money destroyed by sanctions and efforts over the run.
    """
    T = ctx.rounds
    rent = rec.series["rent"]
    from .sim.targets import max_rent
    best = np.asarray(max_rent(model.technology, ctx), dtype=np.float64)
    best = np.broadcast_to(best, rent.shape)
    tail = max(1, math.ceil(T / 10))

    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, 0.0)

    eff = ratio(rent.sum(axis=1), best.sum(axis=1))
    tail_eff = ratio(rent[:, -tail:].sum(axis=1), best[:, -tail:].sum(axis=1))
    collapsed = st.collapsed.copy()
    ttc = np.where(collapsed, st.collapse_round + 1.0, np.inf)
    ref = np.asarray(model.resource.reference_stock(ctx), dtype=np.float64)
    return {
        "efficiency": eff,
        "tail_efficiency": tail_eff,
        "equality": equality(rec.cum_payoff),
        "sustainability": sustainability(rec.pos_t, rec.pos_n),
        "peace": rec.active / T,
        "collapsed": collapsed,
        "time_to_collapse": ttc,
        "final_stock_ratio": ratio(st.stock, ref),
        "tragedy": collapsed | (tail_eff < model.tragedy_threshold),
        "regulator_net": (rec.series["regulator_income"]
                          - rec.series["regulator_spending"]).sum(axis=1),
        "burned": rec.series["burned"].sum(axis=1),
    }


def _mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    from scipy import stats
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    m = float(x.mean())
    if x.size < 2 or np.all(x == x[0]):
        return (m, m, m)
    half = float(stats.sem(x) * stats.t.ppf(0.5 + level / 2, x.size - 1))
    return (m, m - half, m + half)


@dataclass(eq=False)
class RunResult:
    """The outcome of a run: series, metrics, final state and how it was made.

    Attributes
    ----------
    series : dict of (R, T) arrays
        mean_draw, total_granted, stock (after regeneration), rent (payoff above the outside
        option, summed over organisations), compliance, fines, costs, mean_trust.
    full : dict of (R, T, N) arrays or None
        draws, granted, payoffs (with ``record="full"``).
    metrics : dict of (R,) arrays
        See :func:`compute_metrics`.
    final : dict
        Final stock (R,), draws (R, N), trust (R, E) and cumulative rent (R, N).
    provenance : dict
        Model composition and parameters, rounds, replicates, seed entropy and spawn key,
        engine, library version, wall time.
    replicate_ids : (R,) array
        The replicate indices (their seeds).
    """

    series: dict[str, np.ndarray]
    full: dict[str, np.ndarray] | None
    metrics: dict[str, np.ndarray]
    final: dict[str, np.ndarray]
    provenance: dict[str, Any]
    replicate_ids: np.ndarray

    @property
    def replicates(self) -> int:
        """Number of replicates R."""
        return int(self.replicate_ids.size)

    @property
    def rounds(self) -> int:
        """Number of rounds T."""
        return int(self.provenance["rounds"])

    @property
    def tragedy_rate(self) -> float:
        """Share of replicates that ended in tragedy."""
        return float(np.mean(self.metrics["tragedy"]))

    def summary(self, level: float = 0.95) -> dict[str, tuple[float, float, float]]:
        """(mean, lower, upper) with a t confidence interval over replicates, per metric."""
        return {k: _mean_ci(np.asarray(v, dtype=np.float64), level)
                for k, v in self.metrics.items()}

    def __repr__(self) -> str:
        s = self.summary()
        return (f"RunResult(R={self.replicates}, T={self.rounds}, "
                f"engine={self.provenance['engine']!r}, "
                f"efficiency={s['efficiency'][0]:.3g}, tragedy_rate={self.tragedy_rate:.3g})")

    def to_pandas(self):
        """Per-replicate metrics as a pandas DataFrame indexed by replicate."""
        pd = require("pandas", "results", "RunResult.to_pandas")
        df = pd.DataFrame({k: np.asarray(v) for k, v in self.metrics.items()},
                          index=pd.Index(self.replicate_ids, name="replicate"))
        return df

    def to_xarray(self):
        """An xarray Dataset with dims (replicate, round, org) and provenance in ``attrs``."""
        xr = require("xarray", "results", "RunResult.to_xarray")
        coords = {"replicate": self.replicate_ids, "round": np.arange(self.rounds)}
        data: dict[str, Any] = {}
        for k, v in self.series.items():
            data[k] = (("replicate", "round"), v)
        if self.full is not None:
            coords["org"] = np.arange(next(iter(self.full.values())).shape[2])
            for k, v in self.full.items():
                data[k] = (("replicate", "round", "org"), v)
        for k, v in self.metrics.items():
            data[k] = (("replicate",), np.asarray(v))
        data["final_stock"] = (("replicate",), self.final["stock"])
        attrs = {"provenance": json.dumps(self.provenance, default=str)}
        return xr.Dataset(data, coords=coords, attrs=attrs)
