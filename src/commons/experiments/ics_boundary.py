r"""The deterrence boundary of the Integrated Care System, derived for the bundle in force.

Where the rules of :func:`commons.experiments.ics.integrated_care_system` deter its
organisations from claiming over their quotas, and where the tragedy verdict is expected once
they do not: :func:`deterrence_boundary` (derivation in its docstring), drawn over the main
job's map and compared with the simulated boundary by :mod:`commons.experiments.studies`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_real, check_array, check_integer
from ..sim.engine import Model
from .ics import integrated_care_system

__all__ = ["DeterrenceBoundary", "deterrence_boundary"]


@dataclass(frozen=True)
class DeterrenceBoundary:
    """The sanctions that deter each organisation, and the one below which the tragedy
    verdict is expected, over levels of communication (:func:`deterrence_boundary`).

    Attributes
    ----------
    governance : str
    communication : (C,) array
    sanction : (C, N) array
        s*_i(c): organisation i keeps to its quota when the sanction is at least this, while
        everyone complies (a negative value: it does so with no sanction at all).
    ruin : (C,) array
        s_ruin(c): once deterrence has failed, over-claiming costs more than the verdict's
        share of the value when the sanction is below this.
    marginal_gain : (N,) array
        MG_i at the round the boundary is derived for.
    round : int
        That round: the first of the last tenth (on which the tragedy verdict is taken), less
        the organisations' mean re-planning delay.
    demand_growth : float
        The growth of need the boundary is derived at (the median by default).
    """

    governance: str
    communication: np.ndarray
    sanction: np.ndarray
    ruin: np.ndarray
    marginal_gain: np.ndarray
    round: int
    demand_growth: float

    @property
    def everyone(self) -> np.ndarray:
        """(C,): the sanction at which every organisation is deterred (max over i)."""
        return self.sanction.max(axis=1)

    @property
    def median(self) -> np.ndarray:
        """(C,): the sanction at which half of the organisations are deterred."""
        return np.median(self.sanction, axis=1)

    @property
    def verdict(self) -> np.ndarray:
        """(C,): the sanction below which the tragedy verdict is expected: half of the
        organisations undeterred, and their over-claiming ruinous, min(median, ruin)."""
        return np.minimum(self.median, self.ruin)


def _steady_trust(p: np.ndarray, boost: float, decay: float, floor: float,
                  betrayal: float = 0.0) -> np.ndarray:
    """Expected trust on a tie after the round's meetings, in steady state (ContactTrust):
    with everyone complying (``betrayal`` 0), or with the partner over its quota every
    round (trust kept by the share 1 - betrayal after each year's decay)."""
    keep = 1.0 - betrayal
    bp = boost * p
    den = 1.0 - keep * (1.0 - decay) * (1.0 - bp)
    m = keep * ((1.0 - decay) * bp + decay * floor) / den
    return m + bp * (1.0 - m)


def _posted_rates(model: Model, t: int, *, failed: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(f0, f1), each (N,): the expected cost of a unit over the quota is f0 + s f1 at round
    t (the model built with sanction 1), while everyone complies or, ``failed``, once
    everyone over-claims (no neighbour complying, trust betrayed every year)."""
    from ..sim.mechanisms import (
        CentralAudit,
        CivicDuty,
        Covenant,
        CrowdingOut,
        GraduatedSanction,
        Meetings,
        PeerMonitoring,
        QuotaFine,
    )

    net = model.network
    N = model.n
    mech = model.mechanisms
    theta = float(np.asarray(model.prosociality))
    if any(p.external for p in model.all_plugins()):
        for m in mech:
            if isinstance(m, CrowdingOut):
                theta *= (1.0 - float(m.down)) ** t
    f0 = np.zeros(N)
    for m in mech:
        if isinstance(m, CivicDuty):
            f0 += float(m.strength) * theta
    meet = next((m for m in mech if isinstance(m, Meetings)), None)
    p_meet = np.zeros(net.n_edges)
    if meet is not None:
        p_meet = np.clip(float(meet.base) + float(meet.slope) * net.overlap, 0.0, 1.0)
    trust = model.trust
    u = _steady_trust(p_meet, float(meet.boost) if meet is not None else 0.0,
                      float(trust.decay), float(trust.floor),
                      float(trust.betrayal) if failed else 0.0)
    mean_out = np.where(net.degree > 0, np.bincount(net.src, weights=u, minlength=N)
                        / np.maximum(net.degree, 1), 1.0)
    for m in mech:
        if isinstance(m, Covenant):
            f0 += float(m.strength) * mean_out
    mon = model.monitoring
    if isinstance(mon, PeerMonitoring):
        detect = float(mon.base) + float(mon.slope) * (net.degree > 0) * (not failed)
    elif isinstance(mon, CentralAudit):
        detect = np.full(N, float(mon.probability))
    else:
        detect = np.zeros(N)
    f1 = np.zeros(N)
    for s in model.sanctions:
        if isinstance(s, GraduatedSanction):
            f1 += float(s.scale) * float(s.schedule[-1]) * detect
        elif isinstance(s, QuotaFine):
            f1 += float(s.rate) * detect
    return f0, f1


def _threshold_sanction(target: np.ndarray, f0: np.ndarray, f1: np.ndarray) -> np.ndarray:
    """s with f0 + s f1 = target, elementwise (+-inf where the sanction cannot move f)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f1 > 0, (target - f0) / np.where(f1 > 0, f1, 1.0),
                        np.where(target > f0, np.inf, -np.inf))


def deterrence_boundary(communication: Any = (0.0, 0.05, 0.1, 0.15, 0.25, 0.5), *,
                        rounds: int = 100, demand_quantile: float = 0.5,
                        **scenario: Any) -> DeterrenceBoundary:
    r"""The sanction at which the rules in force deter overdrawing, derived for each organisation.

    **Deterrence.** An organisation's myopic best reply (:mod:`commons.sim.replies`) to an
    expected cost f per unit over its quota q is q itself when the first unit over q gains no
    more than it costs: with gross a n**(1 - beta) x**beta - c x,

        f >= MG = beta a n_t**(1 - beta) q**(beta - 1) - c,

    and with q = v w_i B_t / sum_j w_j = v a_i**2 B_t / B_0 (B_0 = sum_j a_j**2, beta = 1/2)
    every organisation has the same MG = (n_t / (v b_t))**(1/2) / 2 - 1/2, b_t = (1 + g_B)**t.
    It is taken at the ``demand_quantile`` of the replicates' need growth, g = max(0, g_D +
    sigma_D Phi^{-1}(quantile)) (the median g_D by default: half the replicates face more),
    and at t = T - ceil(T / 10) - round(1 / mu): the verdict is taken on the last tenth of the
    run, and an organisation re-plans its claim with probability mu a year (0.3), so the
    claims of the window's first year answer, on average, the incentives of 1 / mu years
    before.

    The expected cost of a unit over the quota, while everyone complies, is

    * self-governance: f_i = k theta + S_cov u_i + s r_top p_i, with civic duty k theta
      (0.5 x 0.3, nothing crowds it out), the covenant's strength S_cov = 6 c times the mean
      trust u_i on i's ties after the year's meetings (:class:`ContactTrust`: u = m + b p
      (1 - m), m = ((1 - delta) b p + delta w_f) / (delta + b p - delta b p), meeting
      probability p_e = 0.8 c O_e on a tie of overlap O_e), and the graduated schedule's top
      rate r_top = 1 (a persistent violator expects it) times the peer detection p_i = 0.2 +
      0.6 (every neighbour complying);
    * central control: f_i = k theta_t + 2 s p_a, the flat fine 2 s per unit and the audit
      probability p_a = 0.3, civic duty crowded out, theta_t = theta (1 - 0.2)**t.

    So f_i = f0_i + s f1_i and organisation i is deterred at s >= s*_i = (MG - f0_i) / f1_i
    (``sanction``; ``everyone`` is the largest, ``median`` the middle one).

    **Ruin.** Below the boundary each organisation claims r q with r = ((MG + c) / (c +
    f))**(1/(1 - beta)); claims r v B_t beyond the budget are rationed back to each one's
    share, so the value is the best the budget can buy, A B**beta, and the claims waste
    c r v B: the efficiency is E(r) = (y - c r v) / (y - c), y = (n_t / b_t)**(1 - beta) (for
    r v >= 1, with the weights w_i proportional to a_i**(1/(1 - beta)), the optimum's split;
    fines left out). The verdict (E below the threshold theta_T = 0.8) needs
    r v >= r_T v = (y - theta_T (y - c)) / c, that is f <= f_T = (MG + c) r_T**(beta - 1) - c,
    with f now the expected cost once everyone over-claims: no neighbour complying (peer
    detection 0.2) and trust betrayed every year (u from m = (1 - lambda)((1 - delta) b p +
    delta w_f) / (1 - (1 - lambda)(1 - delta)(1 - b p))); audits and fines do not change.
    ``ruin`` is the s at which that f equals f_T, and ``verdict`` = min(median, ruin): under
    self-governance the first violations tip the rest (detection and trust fall with
    compliance), so the verdict follows deterrence; under central control nothing tips, and it
    waits for ruin.

    The parameters are read from the model :func:`integrated_care_system` builds, so the
    boundary is that of the bundle in force. It is a steady-state, mean-field account: trust
    fluctuates around u_i, the verdict averages a window over which need keeps growing, and
    demand growth varies between replicates (``demand_quantile`` moves the curves).

    Parameters
    ----------
    communication : float or 1-d array in [0, 1]
    rounds : int
        The horizon T of the runs (t = T - ceil(T / 10) - round(1 / mu), at least 0).
    demand_quantile : float in (0, 1)
        Which replicates' need growth to derive the boundary for.
    **scenario
        Further scalar arguments of :func:`integrated_care_system` (``governance``,
        ``network``, ``places``, ``demand_growth``, ``budget_growth``, ``demand_volatility``,
        ``seed``); not ``sanction`` or ``communication``.

    Returns
    -------
    DeterrenceBoundary
    """
    from scipy import special

    comm = np.atleast_1d(check_array("communication", communication, low=0.0, high=1.0))
    if comm.ndim != 1 or comm.size == 0:
        raise ValueError(f"communication must be a number or a non-empty 1-d array, got shape "
                         f"{comm.shape}")
    T = check_integer("rounds", rounds, low=1)
    q = as_real("demand_quantile", demand_quantile, low=0.0, high=1.0, low_open=True,
                high_open=True)
    for key in ("sanction", "communication"):
        if key in scenario:
            raise TypeError(f"deterrence_boundary: {key} is not a scenario setting here (the "
                            "boundary is a sanction, over communication)")
    for key, value in scenario.items():
        if key in ("demand_growth", "budget_growth", "demand_volatility"):
            scenario[key] = as_real(key, value)
    rows, ruin, mg = [], [], np.zeros(0)
    t = 0
    gamma = 0.0
    for c in comm:
        model = integrated_care_system(sanction=1.0, communication=float(c), **scenario)
        mu = float(model.rule.revision_rate)
        t = max(0, T - max(1, math.ceil(T / 10)) - (round(1 / mu) if mu > 0 else 0))
        tech, res, quota = model.technology, model.resource, model.quota
        beta, cost = float(tech.elasticity), float(tech.cost)
        a = np.broadcast_to(np.asarray(tech.productivity, dtype=np.float64), (model.n,))
        gamma = max(0.0, float(tech.need_growth)
                    + float(tech.volatility) * float(special.ndtri(q)))
        v = float(quota.share)
        b_t = (1.0 + float(res.growth)) ** t
        q_t = v * quota.weights / quota.weights.sum() * float(res.amount) * b_t
        n_t = (1.0 + gamma) ** t
        mg = beta * a * n_t ** (1 - beta) * q_t ** (beta - 1) - cost
        rows.append(_threshold_sanction(mg, *_posted_rates(model, t)))
        y = (n_t / b_t) ** (1 - beta)
        r_ruin = max(1.0, (y - model.tragedy_threshold * (y - cost)) / (cost * v))
        f_ruin = (mg + cost) * r_ruin ** (beta - 1) - cost
        low = _threshold_sanction(f_ruin, *_posted_rates(model, t, failed=True))
        ruin.append(float(np.median(low)))
    governance = scenario.get("governance", "self")
    return DeterrenceBoundary(governance, comm, np.array(rows), np.array(ruin), mg, t, gamma)
