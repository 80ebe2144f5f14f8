"""The Gordon–Schaefer fishery and its steady states (Gordon 1954; Schaefer 1957; Clark 1990).

Stock X grows logistically and is harvested by effort E:

    dX/dt = r X (1 - X / K) - q E X,      rent = p q E X - c E.

Under constant effort the stock settles at X(E) = K (1 - q E / r), with sustainable yield
Y(E) = q K E (1 - q E / r). With s = c / (p q K) the cost-price ratio (s < 1 for a viable
fishery) the classic steady states have closed forms (Clark 1990, ch. 2 and 4).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .._validation import as_real, check_integer
from .equilibrium import nash_equilibrium
from .game import CPRGame
from .production import Quadratic

__all__ = ["GordonSchaefer", "SteadyState"]


@dataclass(frozen=True)
class SteadyState:
    """A steady state of the fishery: stock, total effort, harvest (= yield) and rent.

    Attributes
    ----------
    stock : float
        Stock X, in biomass units (0 < X <= K).
    effort : float
        Total fishing effort E >= 0.
    harvest : float
        Harvest q E X per unit time, equal to the sustainable yield.
    rent : float
        p q E X - c E per unit time.
    """

    stock: float
    effort: float
    harvest: float
    rent: float

    def to_dict(self) -> dict[str, float]:
        """The four numbers as a dict.

        Returns
        -------
        dict
            ``stock``, ``effort``, ``harvest`` and ``rent``.
        """
        return asdict(self)


class GordonSchaefer:
    r"""Gordon–Schaefer bioeconomic fishery.

    Parameters
    ----------
    r : float
        Intrinsic growth rate, r > 0.
    K : float
        Carrying capacity, K > 0.
    q : float
        Catchability, q > 0.
    price : float
        Price per unit harvest, p > 0.
    cost : float
        Cost per unit effort, 0 <= c < p q K (otherwise no effort is ever profitable).

    Examples
    --------
    >>> fish = GordonSchaefer(r=0.5, K=100, q=0.01, price=1, cost=0.3)
    >>> fish.mey().stock, fish.open_access().effort
    (65.0, 35.0)
    """

    def __init__(self, r: float, K: float, q: float, price: float, cost: float) -> None:
        self.r = as_real("r", r, low=0.0, low_open=True)
        self.K = as_real("K", K, low=0.0, low_open=True)
        self.q = as_real("q", q, low=0.0, low_open=True)
        self.price = as_real("price", price, low=0.0, low_open=True)
        self.cost = as_real("cost", cost, low=0.0)
        if self.cost >= self.price * self.q * self.K:
            raise ValueError(f"cost must be < price * q * K = {self.price * self.q * self.K:g} "
                             f"for a viable fishery (cost-price ratio s < 1), got {self.cost!r}")

    def __repr__(self) -> str:
        return (f"GordonSchaefer(r={self.r:g}, K={self.K:g}, q={self.q:g}, "
                f"price={self.price:g}, cost={self.cost:g})")

    def params(self) -> dict[str, float]:
        """Parameters for provenance records.

        Returns
        -------
        dict
            ``r``, ``K``, ``q``, ``price`` and ``cost``.
        """
        return {"r": self.r, "K": self.K, "q": self.q, "price": self.price, "cost": self.cost}

    @property
    def cost_price_ratio(self) -> float:
        """s = c / (p q K): the open-access stock as a fraction of K."""
        return self.cost / (self.price * self.q * self.K)

    # ------------------------------------------------------------ steady states
    def stock_at_effort(self, effort: float) -> float:
        """Steady stock under constant effort: X(E) = K (1 - q E / r), floored at 0.

        Parameters
        ----------
        effort : float
            Total effort E >= 0.

        Returns
        -------
        float
            The steady stock X(E), in biomass units (Schaefer 1957).
        """
        return max(0.0, self.K * (1.0 - self.q * effort / self.r))

    def at_effort(self, effort: float) -> SteadyState:
        """The steady state reached under constant total effort E >= 0.

        X = K (1 - q E / r), harvest q E X, rent p q E X - c E (Gordon 1954; Schaefer 1957).

        Parameters
        ----------
        effort : float
            Total effort E >= 0.

        Returns
        -------
        SteadyState
            Stock, total effort, harvest (= sustainable yield) and rent per unit time.
        """
        E = as_real("effort", effort, low=0.0)
        X = self.stock_at_effort(E)
        h = self.q * E * X
        return SteadyState(stock=X, effort=E, harvest=h, rent=self.price * h - self.cost * E)

    def at_stock(self, stock: float) -> SteadyState:
        """The steady state that holds the stock at X in (0, K]: E = r (1 - X/K) / q.

        Parameters
        ----------
        stock : float
            Target stock X in (0, K].

        Returns
        -------
        SteadyState
            Stock, total effort, harvest (= sustainable yield) and rent per unit time.
        """
        X = as_real("stock", stock, low=0.0, high=self.K, low_open=True)
        return self.at_effort(self.r * (1.0 - X / self.K) / self.q)

    def msy(self) -> SteadyState:
        """Maximum sustainable yield: X = K/2, E = r/(2q), harvest r K / 4 (Schaefer 1957).

        Returns
        -------
        SteadyState
            Stock, total effort, harvest (= sustainable yield) and rent per unit time.
        """
        return self.at_effort(self.r / (2.0 * self.q))

    def mey(self) -> SteadyState:
        """Maximum economic yield (static, undiscounted): E = (r / (2q)) (1 - s), X = K (1+s)/2.

        The sole owner's steady state (Gordon 1954; Clark 1990, ch. 2), s = c / (p q K).

        Returns
        -------
        SteadyState
            Stock, total effort, harvest (= sustainable yield) and rent per unit time.
        """
        return self.at_effort(self.r * (1.0 - self.cost_price_ratio) / (2.0 * self.q))

    def open_access(self) -> SteadyState:
        """Bionomic equilibrium, rent zero: X = c / (p q) = s K, E = (r / q)(1 - s).

        Open access: effort enters until the rent is dissipated (Gordon 1954).

        Returns
        -------
        SteadyState
            Stock, total effort, harvest (= sustainable yield) and rent per unit time.
        """
        return self.at_effort(self.r * (1.0 - self.cost_price_ratio) / self.q)

    def game(self, n_firms: int) -> CPRGame:
        r"""The static n-firm steady-state game as a :class:`CPRGame`.

        Firm i's steady-state rent is E_i (A - B E) with A = p q K - c and B = p q**2 K / r:
        the CPR game with F(E) = p q K E - B E**2, outside return w = c and effort as the
        draw, each firm capped at r / q (the effort that exhausts the stock alone).

        Parameters
        ----------
        n_firms : int
            Number of firms n >= 1.

        Returns
        -------
        CPRGame
            The steady-state effort game.
        """
        n = check_integer("n_firms", n_firms, low=1)
        p, q, K, r = self.price, self.q, self.K, self.r
        return CPRGame(n, Quadratic(p * q * K, p * q * q * K / r), self.cost, r / q)

    def nash(self, n_firms: int) -> SteadyState:
        r"""Steady state of the n-firm Nash equilibrium in effort.

        E_N = (r / q)(1 - s) n / (n + 1); its rent is 4 n / (n + 1)**2 of the MEY rent.
        Solved through :meth:`game` and :func:`commons.nash_equilibrium`.

        Parameters
        ----------
        n_firms : int
            Number of firms n >= 1.

        Returns
        -------
        SteadyState
            Stock, total effort, harvest (= sustainable yield) and rent per unit time.
        """
        eq = nash_equilibrium(self.game(n_firms))
        return self.at_effort(eq.total)

    def clark(self, discount_rate: float) -> SteadyState:
        r"""Optimal steady state under continuous discount rate delta >= 0 (Clark 1990).

        The golden rule F'(X) - c'(X) F(X) / (p - c(X)) = delta with c(X) = c / (q X) gives

            X*_delta = (K/4) [ (s + 1 - delta/r) + sqrt((s + 1 - delta/r)**2 + 8 s delta / r) ].

        delta = 0 gives MEY; delta -> infinity gives the open-access stock s K.

        Parameters
        ----------
        discount_rate : float
            Continuous discount rate delta >= 0, per unit time.

        Returns
        -------
        SteadyState
            Stock, total effort, harvest (= sustainable yield) and rent per unit time.
        """
        d = as_real("discount_rate", discount_rate, low=0.0)
        s = self.cost_price_ratio
        z = s + 1.0 - d / self.r
        X = 0.25 * self.K * (z + math.sqrt(z * z + 8.0 * s * d / self.r))
        return self.at_stock(min(X, self.K))
