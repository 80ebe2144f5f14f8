"""Repeated-game thresholds: when grim trigger sustains the social optimum.

Folk-theorem reasoning for the infinitely repeated CPR game with discount factor delta
(Friedman 1971): every organisation draws its share of the optimum while all have done so,
and reverts to the stage Nash equilibrium forever after a deviation. Organisation i does not
deviate iff

    pi_o / (1 - delta) >= pi_d + delta pi_N / (1 - delta),

i.e. delta >= delta_i = (pi_d - pi_o) / (pi_d - pi_N), where pi_o, pi_N are its stage payoffs
on the cooperative path and in the Nash equilibrium, and pi_d its payoff from the best one-shot
deviation against the others at the optimum, capped by its endowment. For the symmetric
quadratic game with interior deviation this gives delta* = (N + 1)**2 / (N**2 + 6 N + 1),
independent of a, b and w; a binding endowment caps the temptation and lowers delta*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .._validation import as_real
from .equilibrium import EquilibriumResult, _check_game, nash_equilibrium, social_optimum
from .game import CPRGame, _own_excess

__all__ = ["TriggerResult", "critical_discount_factor", "grim_trigger_sustains"]


@dataclass(frozen=True, eq=False)
class TriggerResult:
    """The critical discount factor of grim trigger with Nash reversion.

    Attributes
    ----------
    delta : float
        max_i delta_i, the smallest discount factor at which no organisation gains by
        deviating; ``math.inf`` when the optimum cannot be sustained at any delta < 1 (some
        organisation earns less on the cooperative path than in the Nash equilibrium).
    sustainable : bool
        Whether delta < 1.
    per_organisation : ndarray
        delta_i for each organisation (0 where the optimum share is already a best reply).
    cooperative, punishment : EquilibriumResult
        The social optimum followed and the Nash equilibrium reverted to.
    deviation_draws, deviation_payoffs : ndarray
        Each organisation's best one-shot deviation against the optimum and its stage payoff.
    """

    delta: float
    sustainable: bool
    per_organisation: np.ndarray
    cooperative: EquilibriumResult
    punishment: EquilibriumResult
    deviation_draws: np.ndarray
    deviation_payoffs: np.ndarray

    def __float__(self) -> float:
        return self.delta

    def __repr__(self) -> str:
        return (f"TriggerResult(delta={self.delta:.10g}, sustainable={self.sustainable}, "
                f"n={self.per_organisation.size})")


def critical_discount_factor(game: CPRGame, *,
                             allocation: Literal["equal", "proportional"] = "equal"
                             ) -> TriggerResult:
    r"""Smallest discount factor at which grim trigger sustains the social optimum.

    Parameters
    ----------
    game : CPRGame
        The stage game.
    allocation : {"equal", "proportional"}
        How the optimal group draw is split (see :func:`commons.social_optimum`).

    Returns
    -------
    TriggerResult
        ``float(result)`` is delta* = max_i (pi_d,i - pi_o,i) / (pi_d,i - pi_N,i).

    Notes
    -----
    Symmetric quadratic game, interior deviation: delta* = (N+1)**2 / (N**2 + 6N + 1). With the
    endowment cap binding on the deviation, pi_d = e (a - w - b (Y + e)) with Y the others'
    optimal total. With per-round continuation probability beta and discount rho use
    delta = beta rho.

    Examples
    --------
    >>> import commons
    >>> game = commons.CPRGame(8, commons.Quadratic(23, 0.25), 5, 25)
    >>> round(float(commons.critical_discount_factor(game)), 9)  # 81/113
    0.716814159
    """
    _check_game(game)
    opt = social_optimum(game, allocation=allocation)
    nash = nash_equilibrium(game)
    x = np.asarray(opt.draws)
    Y = x.sum() - x
    dev = game.best_response(x)
    pi_o = _own_excess(game, x, Y)
    pi_d = _own_excess(game, dev, Y)
    pi_n = np.asarray(nash.payoffs) - game.outside_return * game.endowment
    scale = np.maximum.reduce([np.abs(pi_o), np.abs(pi_d), np.abs(pi_n), np.ones_like(pi_o)])
    temptation = pi_d - pi_o
    tempted = temptation > 1e-10 * scale
    margin = pi_d - pi_n
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(margin > 0, temptation / margin, math.inf)
    per = np.where(tempted, d, 0.0)
    per = np.where(per >= 1.0, math.inf, per)
    delta = float(per.max()) if per.size else 0.0
    per.setflags(write=False)
    return TriggerResult(delta=delta, sustainable=delta < 1.0, per_organisation=per,
                         cooperative=opt, punishment=nash, deviation_draws=dev,
                         deviation_payoffs=game.outside_return * game.endowment + pi_d)


def grim_trigger_sustains(game: CPRGame, discount_factor: float, **kwargs) -> bool:
    """Whether grim trigger with Nash reversion sustains the optimum at ``discount_factor``.

    ``discount_factor`` must lie in (0, 1); keyword arguments go to
    :func:`critical_discount_factor`. The folk-theorem condition (Friedman 1971): grim trigger
    sustains the optimum iff delta >= max_i (pi_d,i - pi_o,i) / (pi_d,i - pi_N,i), with
    pi_o,i, pi_d,i and pi_N,i organisation i's stage payoffs at the optimum, at its best
    deviation and at the Nash equilibrium.

    Parameters
    ----------
    game : CPRGame
        The stage game.
    discount_factor : float
        Discount factor delta in (0, 1).
    **kwargs
        ``allocation`` of the optimum, as in :func:`critical_discount_factor`.

    Returns
    -------
    bool
        Whether delta is at least the critical discount factor.
    """
    delta = as_real("discount_factor", discount_factor, low=0.0, high=1.0,
                    low_open=True, high_open=True)
    return delta >= critical_discount_factor(game, **kwargs).delta
