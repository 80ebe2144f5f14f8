"""Conflict resolution: appeals against sanctions (Ostrom's principle 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._jit import jitable, u1
from .._params import per_replicate
from ..plugin import Plugin, compiled
from ..state import charge_index
from .sanctions import check_recipient

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["Appeal"]


class Appeal(Plugin):
    r"""A sanctioned organisation may appeal; the appeal overturns wrongful sanctions.

    After the other sanctions of the round, every organisation that was sanctioned although it
    complied (a wrongful sanction, from noisy observation or antisocial punishment) appeals when
    what it was charged exceeds the appeal ``cost``; the appeal succeeds with probability
    ``accuracy``, refunding the round's fines, striking the offence from its record and lifting
    an exclusion imposed this round. Guilty organisations do not appeal (they would lose). The
    appellant pays ``cost`` (to ``recipient``). Cheap appeals leave fewer wrongful sanctions
    standing; expensive ones leave the small ones. Place it after the sanctions it reviews.

    Parameters
    ----------
    cost : float or (R,)
        What an appeal costs the appellant, money >= 0.
    accuracy : float or (R,)
        Probability in [0, 1] that an appeal against a wrongful sanction succeeds.
    recipient : {"burned", "regulator", "members"}
        Who receives the appeal costs.
    """

    role: ClassVar[str] = "sanction"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("charges", "sanctioned", "compliant", "recorded", "excluded_now",
                     "offences", "exclusion_left")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("charges", "offences", "exclusion_left", "sanctioned", "appealed")}
    #: an appeal reviews the round's sanctions (every plug-in that sanctions marks
    #: ``sanctioned``), so it acts after each of them
    after: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("sanctioned", "recorded", "excluded_now")}
    cparams: ClassVar[tuple[str, ...]] = ("cost", "accuracy", "row")
    stochastic: ClassVar[bool] = True
    budget_balanced: ClassVar[bool] = False
    payer: ClassVar[str] = "violator"

    def __init__(self, cost: Any, *, accuracy: Any = 1.0, recipient: str = "burned") -> None:
        self.cost = cost
        self.accuracy = accuracy
        self.recipient = check_recipient(recipient)

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"cost": per_replicate("cost", self.cost, ctx.R, low=0.0),
                "accuracy": per_replicate("accuracy", self.accuracy, ctx.R, low=0.0,
                                          high=1.0),
                "row": charge_index("cost", self.recipient)}

    def sanction(self, st: State, ctx: Context) -> None:
        """The sanction phase, after the other sanctions: wrongly sanctioned organisations whose
        charges exceed ``cost`` appeal, and with probability ``accuracy`` their fines, offence
        and new exclusion are struck.

        Parameters
        ----------
        st : State
            The state; reads ``charges``, ``sanctioned``, ``compliant``, ``recorded``,
            ``excluded_now``, ``offences``, ``exclusion_left``; writes ``charges``,
            ``offences``, ``exclusion_left``, ``sanctioned``, ``appealed``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        charged = st.charged("fine")
        cost = P["cost"][:, None]
        appeal = st.sanctioned & st.compliant & (charged > cost)
        won = appeal & (ctx.uniforms(self)[..., 0] < P["accuracy"][:, None])
        st.charge("cost", np.where(appeal, cost, 0.0), self.recipient)
        st.refund("fine", won)
        st.offences = np.where(won & st.recorded, np.maximum(st.offences - 1, 0), st.offences)
        st.exclusion_left = np.where(won & st.excluded_now, 0, st.exclusion_left)
        st.sanctioned &= ~won
        st.appealed = appeal


# ---------------------------------------------------------------------- compiled form
@compiled(Appeal, "sanction")
@jitable
def _appeal(r, t, S, P, M, rng, net, TP):
    cost, accuracy, row = P
    c = cost[r]
    N = S.compliant.shape[1]
    # who appeals, in a loop that runs in SIMD lanes (it stores to one field, and without a
    # jump); then, if anyone does, the appeals (few: only the wrongly sanctioned)
    n = 0
    for i in range(N):
        charged = S.charges[r, 0, i] + S.charges[r, 1, i] + S.charges[r, 2, i]
        appeal = S.sanctioned[r, i] & S.compliant[r, i] & (charged > c)
        S.appealed[r, i] = appeal
        n += np.int64(appeal)
    if n == 0:
        return
    for i in range(N):
        if not S.appealed[r, i]:
            continue
        S.charges[r, row, i] += c
        if u1(i, t, rng) < accuracy[r]:  # won: the fines refunded, the record struck
            S.charges[r, 0, i] = 0.0
            S.charges[r, 1, i] = 0.0
            S.charges[r, 2, i] = 0.0
            if S.recorded[r, i]:
                S.offences[r, i] = max(S.offences[r, i] - 1, 0)
            if S.excluded_now[r, i]:
                S.exclusion_left[r, i] = 0
            S.sanctioned[r, i] = False
