"""Nash equilibrium, social optimum and open access of the CPR stage game, exact and checked.

The game is aggregative: each organisation's payoff depends on its own draw and the group total.
The Nash equilibrium is found by the share-function method (Cornes & Hartley 2005, "Asymmetric
contests with general technologies"; Cornes & Hartley 2007 for Cournot-type games): at a
candidate total X an uncapped organisation's first-order condition AP(X) + x AP'(X) = w gives
the common share

    s(X) = (AP(X) - w) / (AP(X) - F'(X)),

capped organisations take e_i / X, and the equilibrium total solves the scalar equation
sum_i min(e_i / X, s(X)) = 1, whose left side is decreasing in X. One bracketed scalar root and
O(n) work per evaluation: no n-dimensional optimiser.

Every result reports its regret, computed independently of the solver (each organisation's
best reply from its own first-order condition, :meth:`CPRGame.regret`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.optimize import brentq

from .._validation import as_real
from .._version import version as _lib_version
from .game import CPRGame

__all__ = ["EquilibriumResult", "nash_equilibrium", "open_access", "pigouvian_fee",
           "social_optimum"]

_EPS = np.finfo(np.float64).eps


@dataclass(frozen=True, eq=False)
class EquilibriumResult:
    """A profile of draws with what it is, how it was computed and how good it is.

    Attributes
    ----------
    concept : str
        ``"nash"``, ``"social_optimum"`` or ``"open_access"``.
    draws : ndarray, shape (n,)
        Each organisation's draw.
    total : float
        Group draw X.
    payoffs : ndarray, shape (n,)
        Stage payoffs u_i.
    regret : float
        Largest gain from a unilateral deviation (0 for an exact Nash equilibrium; for the
        optimum, the temptation to overdraw).
    rent : float
        Group rent F(X) - w X.
    efficiency : float
        rent / maximum rent: the "net yield" of Ostrom, Walker & Gardner (1992).
    method, tol, converged, iterations : provenance of the computation.
    game : dict
        The game's parameters.
    version : str
        Library version that computed it.
    """

    concept: str
    draws: np.ndarray
    total: float
    payoffs: np.ndarray
    regret: float
    rent: float
    efficiency: float
    method: str
    tol: float
    converged: bool
    iterations: int
    game: dict[str, Any] = field(repr=False)
    version: str = field(default=_lib_version, repr=False)

    def __repr__(self) -> str:
        d = self.draws
        draws = (f"[{d[0]:.6g}]*{d.size}" if d.size and np.all(d == d[0])
                 else f"array(n={d.size}, min={d.min():.6g}, max={d.max():.6g})")
        return (f"EquilibriumResult(concept={self.concept!r}, total={self.total:.10g}, "
                f"draws={draws}, rent={self.rent:.10g}, efficiency={self.efficiency:.6g}, "
                f"regret={self.regret:.3g}, converged={self.converged})")

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python record (arrays as lists) for JSON or tables.

        Returns
        -------
        dict
            Every attribute, the arrays as lists.
        """
        return {"concept": self.concept, "draws": self.draws.tolist(), "total": self.total,
                "payoffs": self.payoffs.tolist(), "regret": self.regret, "rent": self.rent,
                "efficiency": self.efficiency, "method": self.method, "tol": self.tol,
                "converged": self.converged, "iterations": self.iterations,
                "game": self.game, "version": self.version}


# ---------------------------------------------------------------------------- helpers
def _check_game(game: CPRGame) -> None:
    if not isinstance(game, CPRGame):
        raise TypeError(f"game must be a commons.CPRGame, got {type(game).__name__}")


def _check_tol(tol: float) -> float:
    return as_real("tol", tol, low=0.0, high=1e-3, low_open=True)


def share(game: CPRGame, total: np.ndarray | float) -> np.ndarray:
    r"""Equilibrium share of an uncapped organisation at group draw X > 0.

    s(X) = (AP(X) - w) / (AP(X) - F'(X)), from AP(X) + x AP'(X) = w and
    X AP'(X) = F'(X) - AP(X); clipped at 0 (Cornes & Hartley 2005).
    """
    X = np.asarray(total, dtype=np.float64)
    F = game.production
    ap = F.average(X)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (ap - game.outside_return) / (ap - F.derivative(X))
    return np.where(ap > game.outside_return, s, 0.0)


def check_solver_conditions(game: CPRGame, upper: float, points: int = 513) -> None:
    """Check on (0, upper] that F is concave and the share function is non-increasing.

    These are the conditions under which the share equation has one root and each payoff is
    concave in the own draw. Raises ``ValueError`` naming ``production`` otherwise.
    """
    if not (upper > 0 and math.isfinite(upper)):
        return
    F = game.production
    X = upper * np.concatenate([np.geomspace(1e-9, 1e-2, 64), np.linspace(1e-2, 1.0, points)])
    f2 = F.second_derivative(X)
    scale = np.abs(F.derivative(X)) / X + 1.0
    if np.any(f2 > 1e-9 * scale) or not np.all(np.isfinite(F.value(X))):
        bad = float(X[np.argmax(f2 > 1e-9 * scale)])
        raise ValueError(f"production {F!r} is not concave on [0, {upper:.6g}] "
                         f"(F''({bad:.6g}) > 0): the equilibrium solvers need a concave F")
    s = share(game, X)
    rise = np.diff(s)
    if np.any(rise > 1e-9 * (np.abs(s[:-1]) + 1.0)):
        raise ValueError(f"production {F!r} gives an increasing equilibrium share "
                         "(AP - w)/(AP - F') on the solver's interval, so the Nash equilibrium "
                         "need not be unique; use a production whose share function decreases")


def water_fill(endowment: np.ndarray, total: float) -> np.ndarray:
    """Split ``total`` equally, capping each share at the endowment: x_i = min(e_i, lam).

    The level lam solves sum_i min(e_i, lam) = total; found exactly from the sorted
    endowments (O(n log n)).
    """
    e = endowment
    n = e.size
    if total <= 0 or n == 0:
        return np.zeros(n)
    if total >= e.sum():
        return e.copy()
    es = np.sort(e)
    below = np.concatenate([[0.0], np.cumsum(es)[:-1]])  # sum of the k smallest
    remaining = n - np.arange(n)
    lam = (total - below) / remaining  # level if the k smallest are capped
    k = int(np.argmax(lam <= es))  # first k where the level does not exceed the next cap
    return np.minimum(e, lam[k])


def _result(game: CPRGame, concept: str, draws: np.ndarray, *, method: str, tol: float,
            converged: bool, iterations: int) -> EquilibriumResult:
    draws = np.asarray(draws, dtype=np.float64)
    draws.setflags(write=False)
    total = float(draws.sum())
    payoffs = game.payoffs(draws)
    payoffs.setflags(write=False)
    rent = float(game.rent(total))
    best = float(game.rent(min(game.production.marginal_level(game.outside_return),
                               game.total_endowment)))
    efficiency = rent / best if best > 0 else (1.0 if rent == 0 else -math.inf)
    return EquilibriumResult(concept=concept, draws=draws, total=total, payoffs=payoffs,
                             regret=game.regret(draws), rent=rent, efficiency=efficiency,
                             method=method, tol=tol, converged=converged,
                             iterations=iterations, game=game.params())


# ---------------------------------------------------------------------------- solvers
def nash_equilibrium(game: CPRGame, *, method: Literal["share"] = "share",
                     tol: float = 4 * _EPS) -> EquilibriumResult:
    r"""The pure Nash equilibrium of the CPR game, in O(n).

    Parameters
    ----------
    game : CPRGame
    method : {"share"}
        ``"share"``: the share-function method (Cornes & Hartley 2005): solve
        sum_i min(e_i / X, s(X)) = 1 for the group draw X with a bracketed scalar root (Brent),
        then x_i = min(e_i, s(X) X).
    tol : float
        Relative tolerance on the group draw X (default 4 machine epsilon).

    Returns
    -------
    EquilibriumResult
        With ``regret`` computed independently from each organisation's best reply.

    Notes
    -----
    With symmetric interior play and F(X) = a X - b X**2, x_i = (a - w) / (b (n + 1))
    (Walker, Gardner & Ostrom 1990). With n = 1 the equation reduces to F'(X) = w: Nash and
    optimum coincide.

    Examples
    --------
    >>> import commons
    >>> game = commons.CPRGame(8, commons.Quadratic(23, 0.25), 5, 25)
    >>> eq = commons.nash_equilibrium(game)
    >>> round(eq.total, 9), eq.regret < 1e-9
    (64.0, True)
    """
    _check_game(game)
    tol = _check_tol(tol)
    if method != "share":
        raise ValueError(f"method must be 'share', got {method!r}")
    e = game.endowment
    w = game.outside_return
    F = game.production
    E = game.total_endowment
    if E == 0 or not float(F.derivative(0.0)) > w:
        return _result(game, "nash", np.zeros(game.n), method=method, tol=tol,
                       converged=True, iterations=0)
    upper = min(F.average_level(w), E)
    check_solver_conditions(game, upper)

    def excess_share(X: float) -> float:
        u = float(share(game, X)) * X
        return float(np.minimum(e, u).sum()) / X - 1.0

    iterations = 0
    if excess_share(upper) >= 0:  # every organisation draws its whole endowment
        X = upper
        converged = True
    else:
        lo = upper
        for _ in range(1100):
            lo *= 0.5
            if lo == 0 or excess_share(lo) > 0:
                break
        if lo == 0:  # pragma: no cover - would need a share function bounded below 1/n
            raise RuntimeError("could not bracket the Nash group draw")
        X, info = brentq(excess_share, lo, upper, xtol=1e-300, rtol=tol, maxiter=500,
                         full_output=True)
        iterations, converged = info.iterations, info.converged
    draws = np.minimum(e, float(share(game, X)) * X)
    return _result(game, "nash", draws, method=method, tol=tol, converged=converged,
                   iterations=iterations)


def social_optimum(game: CPRGame, *, allocation: Literal["equal", "proportional"] = "equal"
                   ) -> EquilibriumResult:
    r"""The draws that maximise the group's total payoff.

    Total payoff is w sum_i e_i - w X + F(X), maximised where F'(X*) = w (capped at the total
    endowment). Any split of X* is optimal; ``allocation`` picks one:

    * ``"equal"``: x_i = min(e_i, lam), equal shares capped by endowments (water filling);
    * ``"proportional"``: x_i = X* e_i / sum_j e_j.

    For the quadratic F(X) = a X - b X**2, X* = (a - w) / (2 b) (Walker, Gardner & Ostrom 1990).

    Parameters
    ----------
    game : CPRGame
        The stage game.
    allocation : {"equal", "proportional"}
        How the group draw is split: equal shares capped by endowments, or in proportion to
        endowments.

    Returns
    -------
    EquilibriumResult
        ``concept="social_optimum"``; its ``regret`` is the temptation to overdraw.
    """
    _check_game(game)
    return _allocate(game, "social_optimum",
                     game.production.marginal_level(game.outside_return), allocation)


def open_access(game: CPRGame, *, allocation: Literal["equal", "proportional"] = "equal"
                ) -> EquilibriumResult:
    r"""Open access: the group draw X0 where the average product falls to w (Gordon 1954).

    There the rent F(X0) - w X0 is fully dissipated, Hardin's (1968) "ruin": for the quadratic
    X0 = (a - w) / b, twice the optimum. X0 is capped at the total endowment; the split is
    chosen as in :func:`social_optimum`.

    Parameters
    ----------
    game : CPRGame
        The stage game.
    allocation : {"equal", "proportional"}
        How the group draw is split: equal shares capped by endowments, or in proportion to
        endowments.

    Returns
    -------
    EquilibriumResult
        ``concept="open_access"``, with rent 0 (efficiency 0) when X0 is feasible.
    """
    _check_game(game)
    return _allocate(game, "open_access",
                     game.production.average_level(game.outside_return), allocation)


def _allocate(game: CPRGame, concept: str, level: float, allocation: str) -> EquilibriumResult:
    if allocation not in ("equal", "proportional"):
        raise ValueError(f"allocation must be 'equal' or 'proportional', got {allocation!r}")
    X = min(level, game.total_endowment)
    check_solver_conditions(game, X)
    if allocation == "equal":
        draws = water_fill(game.endowment, X)
    else:
        E = game.total_endowment
        draws = game.endowment * (X / E) if E > 0 else np.zeros(game.n)
    return _result(game, concept, draws, method=f"level/{allocation}", tol=4 * _EPS,
                   converged=True, iterations=0)


def pigouvian_fee(game: CPRGame, *, allocation: Literal["equal", "proportional"] = "equal"
                  ) -> np.ndarray:
    r"""Per-unit fee for each organisation that makes the social optimum a Nash equilibrium.

    t_i = du_i/dx_i at the optimum (each organisation's marginal private gain from one more unit
    while all draw their optimal shares), floored at 0. Charging t_i per unit drawn sets every
    first-order condition at the optimum to zero, and with concave payoffs the optimum becomes
    each organisation's best reply. Symmetric quadratic game (Ostrom, Gardner & Walker 1994):
    t = (a - w)(N - 1) / (2N) = b (N - 1) x*; 7.875 in the laboratory game.

    Parameters
    ----------
    game : CPRGame
        The stage game.
    allocation : {"equal", "proportional"}
        How the optimum is split: equal shares capped by endowments, or in proportion to
        endowments.

    Returns
    -------
    ndarray, shape (n,)
        The fee t_i >= 0 per unit drawn, in payoff units per resource unit.
    """
    _check_game(game)
    x = np.asarray(social_optimum(game, allocation=allocation).draws)
    return np.maximum(game.marginal_payoff(x, x.sum() - x), 0.0)
