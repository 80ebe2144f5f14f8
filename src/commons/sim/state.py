"""The State: one dataclass of arrays, the only thing the phases of a round read and write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["KINDS", "RECIPIENTS", "State"]

#: What an organisation pays: a fine (for an offence) or a cost (a fee, an effort).
KINDS = ("fine", "cost")
#: Where money paid goes: the regulator, nowhere (burned), or back to the members equally.
RECIPIENTS = ("regulator", "burned", "members")


@dataclass(eq=False)
class State:
    """Everything that changes during a run, for R replicates and N organisations.

    Shapes: (R,) per replicate, (R, N) per organisation, (R, E) per directed edge of the trust
    network.

    Money. Plug-ins never edit payoffs directly: they ``charge`` an organisation a fine or a cost
    with a recipient (the regulator, burned, or the members, who share it equally), and
    ``transfer`` money between members. After the sanction phase the engine settles the round:

        payoffs = gross - fines - costs + transfers,

    and, summed over organisations, payoffs + regulator income + burned = gross (production and
    outside option): nothing is created or lost unaccounted.

    Attributes
    ----------
    t : int
        The current round (0-based).
    stock, stock_start : (R,)
        The pool now (after appropriation, then after regeneration) and at the round's start.
    draws, next_draws : (R, N)
        Intended draws this round; draws chosen in the learn phase for the next round.
    demand, granted : (R, N)
        Claims on the pool, and what the pool granted (rationed proportionally).
    quota : (R, N)
        Each organisation's quota in force (``inf`` when there is none).
    compliant : (R, N) bool
        granted <= quota (the truth).
    inspected : (R, N) bool
        Whether monitoring looked at the organisation this round.
    observed : (R, N)
        The draw monitoring saw (equal to granted unless observation is noisy).
    detected : (R, N) bool
        Inspected and seen over the quota: the sanctions' target. Wrong when a compliant
        organisation is seen over the quota through noise (``wrongful``).
    detect_prob : (R, N)
        Probability of being inspected this round.
    penalty_rate, unit_charge : (R, N)
        Expected charge per unit over the quota, and per unit drawn (fees): what best
        responses weigh.
    gross, payoffs : (R, N)
        Payoffs before and after the round's money moved.
    fines, costs, transfers : (R, N)
        Settled totals of the round (set by :meth:`settle`).
    ledger : dict
        "kind:recipient" -> (R, N) amounts charged this round.
    regulator_spending : (R,)
        What the regulator spent this round (audits), from outside the group.
    external : (R,) bool
        Whether an external control acted on the group this round.
    sanctioned : (R, N) bool
        Organisations fined or punished this round.
    recorded, excluded_now : (R, N) bool
        Offences put on record, and exclusions imposed, this round (appeals undo them).
    trust : (R, E)
        Trust on each directed edge i -> j, in [0, 1].
    motivation : (R, N)
        Intrinsic motivation theta_i in [0, 1], the weight on the group's mean payoff (starts
        at the model's ``prosociality``; crowding-out plug-ins move it).
    offences : (R, N) int
        Offences on record (graduated sanctions read and forgive them).
    excluded : (R, N) bool
        Organisations barred from drawing this round.
    exclusion_left : (R, N) int
        Rounds of exclusion still to serve after this one.
    collapsed, collapse_round : (R,)
        Whether the resource collapsed (absorbing), and when (-1 if not).
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
    inspected: np.ndarray
    observed: np.ndarray
    detected: np.ndarray
    detect_prob: np.ndarray
    penalty_rate: np.ndarray
    unit_charge: np.ndarray
    gross: np.ndarray
    fines: np.ndarray
    costs: np.ndarray
    transfers: np.ndarray
    ledger: dict[str, np.ndarray]
    regulator_spending: np.ndarray
    external: np.ndarray
    sanctioned: np.ndarray
    recorded: np.ndarray
    excluded_now: np.ndarray
    payoffs: np.ndarray
    trust: np.ndarray
    motivation: np.ndarray
    offences: np.ndarray
    excluded: np.ndarray
    exclusion_left: np.ndarray
    collapsed: np.ndarray
    collapse_round: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls, R: int, N: int, E: int) -> State:
        """A zeroed state for R replicates, N organisations and E directed edges."""
        z = np.zeros((R, N))
        no = np.zeros((R, N), bool)
        return cls(
            t=0, stock=np.zeros(R), stock_start=np.zeros(R), draws=z.copy(),
            next_draws=z.copy(), demand=z.copy(), granted=z.copy(), quota=np.full((R, N), np.inf),
            compliant=np.ones((R, N), bool), inspected=no.copy(), observed=z.copy(),
            detected=no.copy(), detect_prob=z.copy(), penalty_rate=z.copy(),
            unit_charge=z.copy(), gross=z.copy(), fines=z.copy(), costs=z.copy(),
            transfers=z.copy(),
            ledger={f"{k}:{r}": z.copy() for k in KINDS for r in RECIPIENTS},
            regulator_spending=np.zeros(R), external=np.zeros(R, bool), sanctioned=no.copy(),
            recorded=no.copy(),
            excluded_now=no.copy(), payoffs=z.copy(),
            trust=np.zeros((R, E)), motivation=z.copy(),
            offences=np.zeros((R, N), np.int64), excluded=no.copy(),
            exclusion_left=np.zeros((R, N), np.int64), collapsed=np.zeros(R, bool),
            collapse_round=np.full(R, -1, np.int64))

    @property
    def R(self) -> int:
        """Number of replicates."""
        return self.draws.shape[0]

    @property
    def N(self) -> int:
        """Number of organisations."""
        return self.draws.shape[1]

    @property
    def wrongful(self) -> np.ndarray:
        """Detected although compliant (noisy observation), (R, N) bool."""
        return self.detected & self.compliant

    def begin_round(self, t: int) -> None:
        """Reset the per-round accounts before round t and serve exclusions."""
        self.t = t
        self.stock_start = self.stock.copy()
        for name in ("fines", "costs", "transfers", "penalty_rate", "unit_charge",
                     "detect_prob", "regulator_spending"):
            getattr(self, name).fill(0.0)
        for arr in self.ledger.values():
            arr.fill(0.0)
        self.detected.fill(False)
        self.inspected.fill(False)
        for name in ("sanctioned", "recorded", "excluded_now", "external"):
            getattr(self, name).fill(False)
        self.excluded = self.exclusion_left > 0
        self.exclusion_left = np.maximum(self.exclusion_left - 1, 0)

    # ------------------------------------------------------------------ money
    def charge(self, kind: str, amount: np.ndarray, recipient: str) -> None:
        """Charge organisations ``amount`` (R, N) >= 0 as a ``kind`` paid to ``recipient``."""
        self.ledger[f"{kind}:{recipient}"] += amount

    def refund(self, kind: str, mask: np.ndarray) -> None:
        """Cancel this round's charges of ``kind`` to the organisations in ``mask``."""
        for r in RECIPIENTS:
            self.ledger[f"{kind}:{r}"][mask] = 0.0

    def transfer(self, amount: np.ndarray) -> None:
        """Move money between members: ``amount`` (R, N) received (negative: given).

        Each replicate's amounts must sum to zero.
        """
        self.transfers += amount

    def settle(self) -> None:
        """Total the round's charges; share what goes to the members; set the payoffs."""
        led = self.ledger
        self.fines = sum(led[f"fine:{r}"] for r in RECIPIENTS)
        self.costs = sum(led[f"cost:{r}"] for r in RECIPIENTS)
        shared = (led["fine:members"] + led["cost:members"]).sum(axis=1, keepdims=True)
        self.transfers = self.transfers + shared / self.N
        self.payoffs = self.gross - self.fines - self.costs + self.transfers

    def income(self, recipient: str) -> np.ndarray:
        """Money received this round by ``recipient`` ("regulator" or "burned"), (R,)."""
        return (self.ledger[f"fine:{recipient}"] + self.ledger[f"cost:{recipient}"]).sum(axis=1)
