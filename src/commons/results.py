"""Run results with provenance, social-outcome metrics and tidy exports."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._optional import require

__all__ = ["RunResult", "compute_metrics", "derived_series", "equality", "mean_interval",
           "sustainability"]


def equality(returns: np.ndarray) -> np.ndarray:
    r"""1 - Gini of each replicate's per-organisation returns, shape (R, N) -> (R,).

    .. math:: E = 1 - \frac{\sum_i \sum_j |R_i - R_j|}{2 N \sum_i |R_i|}

    (the Gini coefficient, Gini 1912, as used for the equality metric of Perolat et al. 2017,
    with :math:`|R_i|` in the denominator so that negative returns cannot make it undefined);
    1 when all returns are 0. Computed in :math:`O(N \log N)` from the sorted returns
    :math:`R_{(0)} \le \dots \le R_{(N-1)}`:
    :math:`\sum_{i,j} |R_i - R_j| = 2 \sum_k (2k - N + 1) R_{(k)}`.

    Parameters
    ----------
    returns : ndarray, shape (R, N)
        Each organisation's return (money) in each replicate; in :func:`compute_metrics`, its
        cumulative payoff above the outside option over the run.

    Returns
    -------
    ndarray, shape (R,)
        The equality of each replicate, 1 for equal returns; in [0, 1] when the returns are
        non-negative.

    References
    ----------
    Gini, C. (1912). *Variabilità e mutabilità*. Bologna: Cuppini.

    Perolat, J., Leibo, J. Z., Zambaldi, V., Beattie, C., Tuyls, K. & Graepel, T. (2017). A
    multi-agent reinforcement learning model of common-pool resource appropriation. *NeurIPS
    30*, 3643-3652.
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
    (1-based) in which each earned a positive reward.

    .. math:: S = \frac{1}{|I|} \sum_{i \in I} \frac{\sum_t t\, \mathbb{1}[r_{i,t} > 0]}
        {\sum_t \mathbb{1}[r_{i,t} > 0]},

    :math:`t = 1, \dots, T` and :math:`I` the organisations with at least one positive reward
    (the others are skipped); 0 if none had one. Late positive rewards mean the resource kept
    paying.

    Parameters
    ----------
    pos_t : ndarray, shape (R, N)
        :math:`\sum_t t\, \mathbb{1}[r_{i,t} > 0]`: for each organisation, the sum of the
        (1-based) rounds in which its reward (payoff above the outside option) was positive.
    pos_n : ndarray, shape (R, N)
        :math:`\sum_t \mathbb{1}[r_{i,t} > 0]`: the number of such rounds.

    Returns
    -------
    ndarray, shape (R,)
        S for each replicate, in rounds (0 to T).

    References
    ----------
    Perolat, J., Leibo, J. Z., Zambaldi, V., Beattie, C., Tuyls, K. & Graepel, T. (2017). A
    multi-agent reinforcement learning model of common-pool resource appropriation. *NeurIPS
    30*, 3643-3652.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        t_i = np.where(pos_n > 0, pos_t / pos_n, 0.0)
    counted = (pos_n > 0).sum(axis=1)
    return np.where(counted > 0, t_i.sum(axis=1) / np.maximum(counted, 1), 0.0)


def _best_rent(model, ctx, shape: tuple[int, int]) -> np.ndarray:
    """The best sustainable rent of each replicate and round, computed once per run (the
    metrics and the derived series both need it)."""
    best = ctx.__dict__.get("_best_rent")
    if best is None:
        from .sim.targets import max_rent
        best = np.asarray(max_rent(model.technology, ctx), dtype=np.float64)
        ctx.__dict__["_best_rent"] = best
    return np.broadcast_to(best, shape)


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, 0.0)


def derived_series(model, ctx, rec) -> dict[str, np.ndarray]:
    r"""Per-round series derived from the recorded ones, shape (R, T) each.

    * ``efficiency``: the round's rent over the best sustainable rent of that round,
      :math:`e_t = \pi_t / \pi^*_t` (0 where :math:`\pi^*_t \le 0`), the per-round
      net yield of Ostrom, Walker & Gardner (1992). The run's ``efficiency`` metric is
      :math:`\sum_t \pi_t / \sum_t \pi^*_t`, the rent-weighted mean of these.

    Parameters
    ----------
    model : Model
        The model that was run (its technology gives the best sustainable rent).
    ctx : Context
        The run's context (R, T, parameters).
    rec : Recorder
        The run's records; reads ``rec.series["rent"]`` (R, T), the rent in money per round.

    Returns
    -------
    dict of str to ndarray
        ``{"efficiency": (R, T) array}``, dimensionless.

    References
    ----------
    Ostrom, E., Walker, J. & Gardner, R. (1992). Covenants with and without a sword:
    self-governance is possible. *American Political Science Review* 86, 404-417.
    """
    if "rent" not in rec.series:
        return {}
    rent = rec.series["rent"]
    return {"efficiency": _ratio(rent, _best_rent(model, ctx, rent.shape))}


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

    In formulas, with :math:`\pi_t` the round's rent, :math:`\pi^*_t` the best sustainable
    rent, :math:`x_{i,t} = 1` when organisation :math:`i` is not excluded in round :math:`t`
    and the tail the last :math:`\lceil T / 10 \rceil` rounds:

    .. math::

        \text{efficiency} = \frac{\sum_t \pi_t}{\sum_t \pi^*_t}, \qquad
        \text{peace} = \frac{1}{T} \sum_t \sum_i x_{i,t}, \qquad
        \text{tail efficiency} = \frac{\sum_{t \in \text{tail}} \pi_t}
        {\sum_{t \in \text{tail}} \pi^*_t}.

    ``equality`` is computed on each organisation's cumulative payoff above the outside option
    and ``sustainability`` on the rounds in which that payoff was positive.

    A metric is computed when what it is made from was recorded: ``collapsed``,
    ``time_to_collapse`` and ``final_stock_ratio`` always (the final state); ``efficiency``,
    ``tail_efficiency`` and ``tragedy`` with the ``rent`` series; ``regulator_net`` with
    ``regulator_income`` and ``regulator_spending``; ``burned`` with ``burned``;
    ``equality``, ``sustainability`` and ``peace`` with the per-organisation accumulators,
    which every ``record`` mode keeps and a run that names its series does not.

    Parameters
    ----------
    model : Model
        The model that was run (technology, resource, ``tragedy_threshold``).
    ctx : Context
        The run's context (R, T, parameters).
    st : State
        The final state; reads ``collapsed``, ``collapse_round`` and ``stock``.
    rec : Recorder
        The run's records: the series (R, T) ``rent``, ``regulator_income``,
        ``regulator_spending``, ``burned``, and, when ``rec.accumulate``, the
        per-organisation accumulators (R, N) ``cum_payoff``, ``pos_t``, ``pos_n`` and the
        count of active organisations ``active`` (R,).

    Returns
    -------
    dict of str to ndarray
        Each metric above, shape (R,): ``collapsed`` and ``tragedy`` boolean,
        ``time_to_collapse`` in rounds, ``peace`` in organisations, ``regulator_net`` and
        ``burned`` in money, the others dimensionless.

    References
    ----------
    Ostrom, E., Walker, J. & Gardner, R. (1992). Covenants with and without a sword:
    self-governance is possible. *American Political Science Review* 86, 404-417.

    Perolat, J., Leibo, J. Z., Zambaldi, V., Beattie, C., Tuyls, K. & Graepel, T. (2017). A
    multi-agent reinforcement learning model of common-pool resource appropriation. *NeurIPS
    30*, 3643-3652.
    """
    T = ctx.rounds
    s = rec.series
    collapsed = st.collapsed.copy()
    ref = np.asarray(model.resource.reference_stock(ctx), dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    if "rent" in s:
        rent = s["rent"]
        best = _best_rent(model, ctx, rent.shape)
        tail = max(1, math.ceil(T / 10))
        out["efficiency"] = _ratio(rent.sum(axis=1), best.sum(axis=1))
        out["tail_efficiency"] = _ratio(rent[:, -tail:].sum(axis=1),
                                        best[:, -tail:].sum(axis=1))
    if rec.accumulate:
        out["equality"] = equality(rec.cum_payoff)
        out["sustainability"] = sustainability(rec.pos_t, rec.pos_n)
        out["peace"] = rec.active / T
    out["collapsed"] = collapsed
    out["time_to_collapse"] = np.where(collapsed, st.collapse_round + 1.0, np.inf)
    out["final_stock_ratio"] = _ratio(st.stock, ref)
    if "rent" in s:
        out["tragedy"] = collapsed | (out["tail_efficiency"] < model.tragedy_threshold)
    if "regulator_income" in s and "regulator_spending" in s:
        out["regulator_net"] = (s["regulator_income"] - s["regulator_spending"]).sum(axis=1)
    if "burned" in s:
        out["burned"] = s["burned"].sum(axis=1)
    return out


def _check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating) \
            or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    return float(level)


def mean_interval(x: np.ndarray, level: float = 0.95, axis: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Mean and t confidence interval along ``axis``, over the finite values.

    :math:`\bar x \pm t_{n-1,(1+\text{level})/2}\, s / \sqrt n` (Student 1908), with
    :math:`s` the sample standard deviation (ddof 1) and :math:`n` the number of finite
    values. The interval shrinks to the mean when n < 2 or the values are all equal; mean and
    bounds are NaN where n = 0.

    Parameters
    ----------
    x : array_like
        The values (e.g. a metric, shape (R,), or several, (R, M)); NaN and infinite values are
        left out.
    level : float, default 0.95
        The confidence level, in (0, 1).
    axis : int, default 0
        The axis to summarise (the replicates).

    Returns
    -------
    mean, low, high, n : arrays
        Shaped like ``x`` without ``axis``.
    """
    from scipy import stats
    level = _check_level(level)
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    fin = np.isfinite(x)
    n = fin.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(fin, x, 0.0).sum(axis=0) / n
        dev = np.where(fin, x - mean, 0.0)
        sd = np.sqrt((dev * dev).sum(axis=0) / (n - 1))
        lo_x = np.where(fin, x, np.inf).min(axis=0)
        hi_x = np.where(fin, x, -np.inf).max(axis=0)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where((n < 2) | (lo_x == hi_x), 0.0, half)
    mean = np.where(n > 0, mean, np.nan)
    return mean, mean - half, mean + half, n


def metric_variable(name: str, taken: Any) -> str:
    """The Dataset variable of metric ``name``: its name, or ``<name>_run`` when a per-round
    series already has that name."""
    return f"{name}_run" if name in taken else name


@dataclass(eq=False)
class RunResult:
    """The outcome of a run: series, metrics, final state and how it was made.

    Attributes
    ----------
    series : dict of (R, T) arrays
        mean_draw, total_granted, stock (after regeneration), rent (payoff above the outside
        option, summed over organisations), compliance, fines, costs, mean_trust,
        regulator_income, regulator_spending, burned, wrongful, excluded, and efficiency
        (each round's rent over that round's best sustainable rent, :func:`derived_series`).
    full : dict of (R, T, N) arrays or None
        draws, granted, payoffs (with ``record="full"``).
    metrics : dict of (R,) arrays
        See :func:`compute_metrics`.
    final : dict
        Final stock (R,), draws (R, N), trust (R, E) and cumulative rent (R, N) (not kept by
        a run that names its series).
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
        """Share of replicates that ended in tragedy (needs the ``rent`` series recorded)."""
        if "tragedy" not in self.metrics:
            raise KeyError("tragedy is made from the rent series, which this run did not "
                           f"record (record={self.provenance.get('record')!r})")
        return float(np.mean(self.metrics["tragedy"]))

    def summary(self, level: float = 0.95):
        r"""The mean of each metric over replicates with its t confidence interval.

        Returns a pandas DataFrame indexed by metric name (index name ``metric``) with the
        columns ``mean``, ``low``, ``high`` and ``n`` (the finite values used; an infinite
        ``time_to_collapse``, never collapsed, is left out). The interval is
        :math:`\bar x \pm t_{n-1} s / \sqrt n` (see :func:`mean_interval`).

        .. versionchanged:: 0.2
           A DataFrame; it was a dict of (mean, low, high) tuples.

        Parameters
        ----------
        level : float, default 0.95
            The confidence level, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            One row per metric; columns ``mean``, ``low``, ``high`` (float) and ``n`` (int).
        """
        pd = require("pandas", "results", "RunResult.summary")
        names = list(self.metrics)
        x = np.stack([np.asarray(self.metrics[k], dtype=np.float64) for k in names], axis=1)
        mean, lo, hi, n = mean_interval(x, level, axis=0)
        return pd.DataFrame({"mean": mean, "low": lo, "high": hi, "n": n.astype(np.int64)},
                            index=pd.Index(names, name="metric"))

    def __repr__(self) -> str:
        head = (f"RunResult(R={self.replicates}, T={self.rounds}, "
                f"engine={self.provenance['engine']!r}")
        if "efficiency" not in self.metrics:  # a run that recorded no rent
            return f"{head}, series={list(self.series)})"
        eff = np.asarray(self.metrics["efficiency"], dtype=np.float64)
        mean = float(eff[np.isfinite(eff)].mean()) if np.isfinite(eff).any() else math.nan
        return f"{head}, efficiency={mean:.3g}, tragedy_rate={self.tragedy_rate:.3g})"

    def to_pandas(self):
        """Per-replicate metrics as a pandas DataFrame indexed by replicate.

        Returns
        -------
        pandas.DataFrame
            One row per replicate (index ``replicate``, the replicate ids), one column per
            metric.
        """
        pd = require("pandas", "results", "RunResult.to_pandas")
        df = pd.DataFrame({k: np.asarray(v) for k, v in self.metrics.items()},
                          index=pd.Index(self.replicate_ids, name="replicate"))
        return df

    def to_xarray(self):
        """An xarray Dataset with dims (replicate, round, org) and provenance in ``attrs``.

        Series are (replicate, round) variables, full records (replicate, round, org), metrics
        (replicate,). A metric named like a series (``efficiency``: the run's, beside the
        per-round series) is stored as ``<name>_run``.

        Returns
        -------
        xarray.Dataset
            The series, full records and metrics as above, plus ``final_stock``
            (replicate,); ``attrs["provenance"]`` is the provenance as a JSON string.
        """
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
            data[metric_variable(k, data)] = (("replicate",), np.asarray(v))
        data["final_stock"] = (("replicate",), self.final["stock"])
        attrs = {"provenance": json.dumps(self.provenance, default=str)}
        return xr.Dataset(data, coords=coords, attrs=attrs)
