"""The State: one dataclass of arrays, the only thing the phases of a round read and write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["State"]


@dataclass(eq=False)
class State:
    """Everything that changes during a run, for R replicates and N organisations.

    Shapes: (R,) per replicate, (R, N) per organisation, (R, E) per directed edge of the trust
    network. Money is accounted per round: ``payoffs = gross - fines - costs + transfers``.

    Attributes
    ----------
    t : int
        The current round (0-based).
    stock : (R,)
        The resource stock (or budget): at the start of the round, after appropriation, and
        after regeneration at the end of the round.
    stock_start : (R,)
        The stock at the start of the round (what the quota and catches were based on).
    draws : (R, N)
        Intended draws x chosen in the decide phase.
    next_draws : (R, N)
        Draws chosen in the learn phase for the next round.
    demand : (R, N)
        Claims on the stock implied by the draws (equal to draws unless the technology says
        otherwise, e.g. harvest q E S for fishing effort E).
    granted : (R, N)
        What the resource grants (demand, rationed proportionally when it exceeds the stock).
    quota : (R,)
        The per-organisation quota in force (``inf`` when there is none).
    compliant : (R, N) bool
        granted <= quota.
    gross : (R, N)
        Payoff before fines, costs and transfers.
    fines, costs, transfers : (R, N)
        Fines paid, costs borne (monitoring, punishing), transfers received (may be negative).
    detect_prob : (R, N)
        Probability that a violation by each organisation is detected this round.
    detected : (R, N) bool
        Violations detected this round.
    penalty_rate : (R, N)
        Expected fine per unit drawn over the quota (what a best response must weigh).
    payoffs : (R, N)
        Net payoffs of the round.
    trust : (R, E)
        Trust on each directed edge i -> j, in [0, 1].
    offences : (R, N) int
        Detected offences on record (graduated sanctions read it).
    excluded : (R, N) bool
        Organisations barred from drawing this round.
    collapsed : (R,) bool
        Whether the resource has collapsed (absorbing).
    collapse_round : (R,) int
        Round at which it collapsed, -1 if it has not.
    extra : dict
        Plug-in state (rule memories, pledges, ...), arrays with a leading R axis.
    """

    t: int
    stock: np.ndarray
    stock_start: np.ndarray
    draws: np.ndarray
    next_draws: np.ndarray
    demand: np.ndarray
    granted: np.ndarray
    quota: np.ndarray
    compliant: np.ndarray
    gross: np.ndarray
    fines: np.ndarray
    costs: np.ndarray
    transfers: np.ndarray
    detect_prob: np.ndarray
    detected: np.ndarray
    penalty_rate: np.ndarray
    payoffs: np.ndarray
    trust: np.ndarray
    offences: np.ndarray
    excluded: np.ndarray
    collapsed: np.ndarray
    collapse_round: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls, R: int, N: int, E: int) -> State:
        """A zeroed state for R replicates, N organisations and E directed edges."""
        z = np.zeros((R, N))
        return cls(
            t=0, stock=np.zeros(R), stock_start=np.zeros(R), draws=z.copy(),
            next_draws=z.copy(), demand=z.copy(),
            granted=z.copy(), quota=np.full(R, np.inf), compliant=np.ones((R, N), bool),
            gross=z.copy(), fines=z.copy(), costs=z.copy(), transfers=z.copy(),
            detect_prob=z.copy(), detected=np.zeros((R, N), bool), penalty_rate=z.copy(),
            payoffs=z.copy(), trust=np.zeros((R, E)), offences=np.zeros((R, N), np.int64),
            excluded=np.zeros((R, N), bool), collapsed=np.zeros(R, bool),
            collapse_round=np.full(R, -1, np.int64))

    @property
    def R(self) -> int:
        """Number of replicates."""
        return self.draws.shape[0]

    @property
    def N(self) -> int:
        """Number of organisations."""
        return self.draws.shape[1]

    def begin_round(self, t: int) -> None:
        """Reset the per-round accounts before round t."""
        self.t = t
        self.stock_start = self.stock.copy()
        for name in ("fines", "costs", "transfers", "penalty_rate", "detect_prob"):
            getattr(self, name).fill(0.0)
        self.detected.fill(False)
