"""Sanctions: fines and punishments (sanction phase)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_integer
from .._jit import jitable
from .._params import org_mask, per_replicate
from ..plugin import Plugin, compiled
from ..state import RECIPIENTS, charge_index

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["GraduatedSanction", "PoolPunishment", "QuotaFine", "UnitFee"]


def check_recipient(recipient: str) -> str:
    """Validate where fines go."""
    if recipient not in RECIPIENTS:
        raise ValueError(f"recipient must be one of {RECIPIENTS}, got {recipient!r}")
    return recipient


class _Charging(Plugin):
    """A plug-in whose charges go to ``recipient``: budget-balanced iff the members get them."""

    recipient: str

    @property
    def budget_balanced(self) -> bool:  # type: ignore[override]
        return self.recipient == "members"


class _RegulatorCharging(_Charging):
    """Charges that go to the regulator are a control from outside the group."""

    @property
    def external(self) -> bool:  # type: ignore[override]
        return self.recipient == "regulator"


_DETECTION = ("detected", "observed", "quota", "detect_prob")


class QuotaFine(_RegulatorCharging):
    r"""A fine per unit seen over the quota, levied when monitoring detects the violation.

    fine_i = phi (o_i - q) if i was detected (inspected, and its observed draw o_i exceeded the
    quota q), else 0; o_i = h_i unless observation is noisy. The fine goes to ``recipient``:
    the regulator (default), burned, or the members in equal shares (then the plug-in is
    budget-balanced: it only moves money inside the group). It also posts the expected fine per
    unit over the quota, phi p_i, which best-response rules weigh (deterrence, Ostrom, Gardner &
    Walker 1994: phi p >= the marginal gain from overdrawing at the quota).

    Parameters
    ----------
    rate : float or (R,)
        The fine phi per unit seen over the quota, money per resource unit >= 0.
    recipient : {"regulator", "burned", "members"}
        Who receives the fines.
    """

    role: ClassVar[str] = "sanction"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"sanction": _DETECTION}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("charges", "sanctioned", "penalty_rate", "external")}
    cparams: ClassVar[tuple[str, ...]] = ("phi", "row", "external")
    payer: ClassVar[str] = "violator"

    def __init__(self, rate: Any, *, recipient: str = "regulator") -> None:
        self.rate = rate
        self.recipient = check_recipient(recipient)

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"phi": per_replicate("rate", self.rate, ctx.R, low=0.0),
                "row": charge_index("fine", self.recipient), "external": self.external}

    def sanction(self, st: State, ctx: Context) -> None:
        """The sanction phase: fine_i = phi (o_i - q_i) for detected organisations, and the expected
        rate phi p_i posted for best replies.

        Parameters
        ----------
        st : State
            The state; reads ``detected``, ``observed``, ``quota``, ``detect_prob``; writes
            ``charges``, ``sanctioned``, ``penalty_rate``, ``external``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        phi = ctx.params[self]["phi"][:, None]
        over = np.maximum(st.observed - st.quota, 0.0)
        fine = np.where(st.detected, phi * over, 0.0)
        st.charge("fine", fine, self.recipient)
        st.sanctioned |= fine > 0
        st.penalty_rate += phi * st.detect_prob
        if self.external:
            st.external |= phi[:, 0] > 0


def check_schedule(schedule: Any) -> np.ndarray:
    """A sanction schedule: a non-empty sequence of non-negative finite numbers."""
    try:
        arr = np.asarray(schedule, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"schedule must be a sequence of non-negative numbers, got "
                         f"{schedule!r}") from exc
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"schedule must be a sequence of non-negative numbers, got {schedule!r}")
    return arr


class UnitFee(_RegulatorCharging):
    r"""A fee per unit drawn, charged by the regulator on every unit (a Pigouvian tax).

    fee_i = t h_i, paid to ``recipient``. With t the Pigouvian fee of the stage game
    (:func:`commons.pigouvian_fee`; (a - w)(N - 1) / (2N) for the symmetric quadratic game,
    Ostrom, Gardner & Walker 1994) the social optimum becomes the Nash equilibrium.

    Parameters
    ----------
    rate : float or (R,)
        The fee t per unit drawn, money per resource unit >= 0.
    recipient : {"regulator", "burned", "members"}
        Who receives the fees.
    """

    role: ClassVar[str] = "sanction"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"sanction": ("granted",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("charges", "unit_charge", "external")}
    cparams: ClassVar[tuple[str, ...]] = ("t", "row", "external")
    payer: ClassVar[str] = "members"

    def __init__(self, rate: Any, *, recipient: str = "regulator") -> None:
        self.rate = rate
        self.recipient = check_recipient(recipient)

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"t": per_replicate("rate", self.rate, ctx.R, low=0.0),
                "row": charge_index("cost", self.recipient), "external": self.external}

    def sanction(self, st: State, ctx: Context) -> None:
        """The sanction phase: fee_i = t h_i on every unit drawn, and t posted as a charge per unit
        for best replies.

        Parameters
        ----------
        st : State
            The state; reads ``granted``; writes ``charges``, ``unit_charge``, ``external``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        t = ctx.params[self]["t"][:, None]
        st.charge("cost", t * st.granted, self.recipient)
        st.unit_charge += t
        if self.external:
            st.external |= t[:, 0] > 0


class GraduatedSanction(_Charging):
    r"""Sanctions that escalate with an organisation's record (Ostrom's principle 5).

    On its k-th detected offence on record (k = 1, 2, ...) an organisation pays
    ``schedule[min(k, len) - 1]`` per unit seen over the quota (a 0 is a warning); with
    ``exclude_after`` = m, the m-th offence on record also excludes it from the commons for
    ``exclusion_rounds`` rounds (it draws nothing). The record is forgiven one offence after
    every ``forgive_after`` consecutive rounds without detection (None: never).

    What best responses weigh (``anticipate``): with "top" (default) an organisation expects a
    deliberate, persistent violation to climb to the top of the schedule, so the posted rate is
    schedule[-1] p_i: the mild first steps then only catch accidents and wrongful detections
    (Ostrom 1990, ch. 3). With "next" it sees only the rate of its next fine,
    schedule[k] p_i (a myopic violator, who cycles between offending and complying).

    ``scale`` (a float or an (R,) array) multiplies the whole schedule, so the severity of
    sanctions can be swept in one batch.

    Examples: ``schedule=(0, 1, 3)`` warns first, then fines 1 and 3 per unit.

    Parameters
    ----------
    schedule : sequence of float
        Fine per unit over the quota for the 1st, 2nd, ... offence on record (the last repeats).
    exclude_after : int, optional
        The offence on record that also excludes the offender (None: never).
    exclusion_rounds : int
        Rounds an exclusion lasts.
    forgive_after : int, optional
        Clean rounds after which one offence is struck from the record (None: never).
    recipient : {"regulator", "burned", "members"}
        Who receives the fines.
    anticipate : {"top", "next"}
        The rate best replies weigh: the top of the schedule, or the next fine.
    scale : float or (R,)
        Multiplier of the whole schedule, >= 0.
    """

    role: ClassVar[str] = "sanction"
    phases: ClassVar[tuple[str, ...]] = ("sanction",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": (*_DETECTION, "offences", "exclusion_left", "memory")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "sanction": ("charges", "sanctioned", "offences", "recorded", "exclusion_left",
                     "excluded_now", "penalty_rate", "memory")}
    memory: ClassVar[dict[str, tuple]] = {"clean": ("org", int)}
    cparams: ClassVar[tuple[str, ...]] = ("scale", "schedule", "row", "exclude_after",
                                          "exclusion_rounds", "forgive_after", "top")
    payer: ClassVar[str] = "violator"

    def __init__(self, schedule: Any = (0.0, 1.0, 3.0), *, exclude_after: int | None = None,
                 exclusion_rounds: int = 1, forgive_after: int | None = None,
                 recipient: str = "regulator", anticipate: str = "top",
                 scale: Any = 1.0) -> None:
        if anticipate not in ("top", "next"):
            raise ValueError(f"anticipate must be 'top' or 'next', got {anticipate!r}")
        self.anticipate = anticipate
        self.scale = scale
        self.schedule = check_schedule(schedule)
        self.exclude_after = (None if exclude_after is None
                              else check_integer("exclude_after", exclude_after, low=1))
        self.exclusion_rounds = check_integer("exclusion_rounds", exclusion_rounds, low=0)
        self.forgive_after = (None if forgive_after is None
                              else check_integer("forgive_after", forgive_after, low=1))
        self.recipient = check_recipient(recipient)

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"scale": per_replicate("scale", self.scale, ctx.R, low=0.0),
                "schedule": self.schedule, "row": charge_index("fine", self.recipient),
                "exclude_after": -1 if self.exclude_after is None else self.exclude_after,
                "exclusion_rounds": self.exclusion_rounds,
                "forgive_after": -1 if self.forgive_after is None else self.forgive_after,
                "top": self.anticipate == "top"}

    def rate_for(self, offences: np.ndarray) -> np.ndarray:
        """Rate per unit for the next offence given the offences already on record.

        Parameters
        ----------
        offences : ndarray of int
            Offences on record k >= 0, any shape.

        Returns
        -------
        ndarray
            schedule[min(k, len(schedule) - 1)], money per unit over the quota (before
            ``scale``).
        """
        idx = np.minimum(offences, self.schedule.size - 1)
        return self.schedule[idx]

    def sanction(self, st: State, ctx: Context) -> None:
        """The sanction phase: a detected organisation pays scale times the schedule's rate for its
        record per unit seen over the quota, the offence is recorded (and may exclude it), the
        record is forgiven after clean rounds, and the anticipated rate is posted for best
        replies.

        Parameters
        ----------
        st : State
            The state; reads ``detected``, ``observed``, ``quota``, ``detect_prob``,
            ``offences``, ``exclusion_left``, ``memory``; writes ``charges``, ``sanctioned``,
            ``offences``, ``recorded``, ``exclusion_left``, ``excluded_now``, ``penalty_rate``,
            ``memory``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        mem = self.mem(st, ctx)
        clean = mem["clean"]  # clean rounds in a row
        scale = ctx.params[self]["scale"][:, None]
        hit = st.detected
        rate = scale * self.rate_for(st.offences)
        over = np.maximum(st.observed - st.quota, 0.0)
        fine = np.where(hit, rate * over, 0.0)
        st.charge("fine", fine, self.recipient)
        st.sanctioned |= hit
        st.offences = st.offences + hit
        st.recorded |= hit
        if self.exclude_after is not None and self.exclusion_rounds > 0:
            out = hit & (st.offences >= self.exclude_after)
            st.exclusion_left = np.where(out, np.maximum(st.exclusion_left,
                                                         self.exclusion_rounds),
                                         st.exclusion_left)
            st.excluded_now |= out
        clean = np.where(hit, 0, clean + 1)
        if self.forgive_after is not None:
            forgive = clean >= self.forgive_after
            st.offences = np.where(forgive, np.maximum(st.offences - 1, 0), st.offences)
            clean = np.where(forgive, 0, clean)
        mem["clean"] = clean
        rate = (self.schedule[-1] if self.anticipate == "top" else self.rate_for(st.offences))
        st.penalty_rate += scale * rate * st.detect_prob


class PoolPunishment(Plugin):
    r"""Pool punishment (Sigmund, De Silva, Traulsen & Hauert 2010).

    Before the round (communicate phase) every contributor pays ``fee`` into a sanctioning
    institution; after monitoring, the institution fines each detected violator ``rate`` per unit
    seen over the quota. With ``second_order`` > 0 it also fines each non-contributor that much
    per round (punishing those who do not pay for punishment). Fees and fines are burned (they
    run the institution), so it is not budget-balanced.

    Parameters
    ----------
    fee, rate, second_order : float or (R,)
    contributors : indices or bool mask of length N, optional
        Who pays into the pool (default: everyone).
    """

    role: ClassVar[str] = "sanction"
    phases: ClassVar[tuple[str, ...]] = ("communicate", "sanction")
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"sanction": _DETECTION}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {
        "communicate": ("charges",), "sanction": ("charges", "sanctioned", "penalty_rate")}
    cparams: ClassVar[tuple[str, ...]] = ("fee", "rate", "second", "members")
    budget_balanced: ClassVar[bool] = False
    payer: ClassVar[str] = "members"

    def __init__(self, fee: Any, rate: Any, *, contributors: Any = None,
                 second_order: Any = 0.0) -> None:
        self.fee = fee
        self.rate = rate
        self.contributors = contributors
        self.second_order = second_order

    def bind(self, ctx: Context) -> dict[str, Any]:
        R, N = ctx.R, ctx.N
        members = org_mask("contributors", self.contributors, N, default=True)
        return {"fee": per_replicate("fee", self.fee, R, low=0.0),
                "rate": per_replicate("rate", self.rate, R, low=0.0),
                "second": per_replicate("second_order", self.second_order, R, low=0.0),
                "members": members}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: contributors pay the fee into the punishment pool before drawing.

        Parameters
        ----------
        st : State
            The state; writes ``charges``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        st.charge("cost", P["fee"][:, None] * P["members"][None, :], "burned")

    def sanction(self, st: State, ctx: Context) -> None:
        """The sanction phase: the pool fines detected violators ``rate`` per unit over the quota
        (and, with second-order punishment, those who did not contribute).

        Parameters
        ----------
        st : State
            The state; reads ``detected``, ``observed``, ``quota``, ``detect_prob``; writes
            ``charges``, ``sanctioned``, ``penalty_rate``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        over = np.maximum(st.observed - st.quota, 0.0)
        fine = np.where(st.detected, P["rate"][:, None] * over, 0.0)
        fine = fine + P["second"][:, None] * ~P["members"][None, :]
        st.charge("fine", fine, "burned")
        st.sanctioned |= st.detected
        st.penalty_rate += P["rate"][:, None] * st.detect_prob


# ---------------------------------------------------------------------- compiled forms
@compiled(QuotaFine, "sanction", orgs=True)
@jitable
def _quota_fine(r, t, S, P, M, rng, net, TP, i0, i1):
    phi, row, external = P
    f = phi[r]
    for i in range(i0, i1):
        if S.detected[r, i]:
            over = S.observed[r, i] - S.quota[r, i]
            fine = f * over if over > 0.0 else 0.0
            S.charges[r, row, i] += fine
            if fine > 0.0:
                S.sanctioned[r, i] = True
        S.penalty_rate[r, i] += f * S.detect_prob[r, i]
    if i0 == 0 and external and f > 0.0:
        S.external[r] = True


@compiled(UnitFee, "sanction", orgs=True)
@jitable
def _unit_fee(r, t, S, P, M, rng, net, TP, i0, i1):
    fee, row, external = P
    f = fee[r]
    for i in range(i0, i1):
        S.charges[r, row, i] += f * S.granted[r, i]
        S.unit_charge[r, i] += f
    if i0 == 0 and external and f > 0.0:
        S.external[r] = True


@compiled(GraduatedSanction, "sanction", orgs=True)
@jitable
def _graduated_sanction(r, t, S, P, M, rng, net, TP, i0, i1):
    scale, schedule, row, exclude_after, exclusion_rounds, forgive_after, top = P
    (clean,) = M
    last = schedule.shape[0] - 1
    sc = scale[r]
    fa = forgive_after
    # a loop per field written, each storing to that field only, so that each runs in SIMD
    # lanes (a loop storing to several arrays stays scalar: the compiler would have to rule
    # out that they overlap); choices of values, not jumps: whether an organisation was
    # detected is as hard to predict as a coin toss (a fine of 0 added leaves the
    # non-negative charges as they were, to the bit). The fine by the record before this
    # round's offence:
    for i in range(i0, i1):
        hit = S.detected[r, i]
        rate = sc * schedule[min(S.offences[r, i], last)]
        over = S.observed[r, i] - S.quota[r, i]
        S.charges[r, row, i] += rate * (over if over > 0.0 else 0.0) if hit else 0.0
    for i in range(i0, i1):
        S.sanctioned[r, i] |= S.detected[r, i]
    for i in range(i0, i1):
        S.recorded[r, i] |= S.detected[r, i]
    if exclude_after > 0 and exclusion_rounds > 0:  # excluded at exclude_after offences
        for i in range(i0, i1):
            if S.detected[r, i] and S.offences[r, i] + 1 >= exclude_after:
                S.exclusion_left[r, i] = max(S.exclusion_left[r, i], exclusion_rounds)
                S.excluded_now[r, i] = True
    # the record: one more offence when detected; forgiven one after forgive_after clean
    # rounds (the streak read before it is updated)
    for i in range(i0, i1):
        hit = S.detected[r, i]
        record = S.offences[r, i] + np.int64(hit)
        streak = 0 if hit else clean[r, i] + 1
        forgive = fa > 0 and streak >= fa
        S.offences[r, i] = max(record - 1, 0) if forgive else record
    for i in range(i0, i1):
        streak = 0 if S.detected[r, i] else clean[r, i] + 1
        clean[r, i] = 0 if fa > 0 and streak >= fa else streak
    for i in range(i0, i1):  # the expected rate, by the record after this round
        expect = schedule[last] if top else schedule[min(S.offences[r, i], last)]
        S.penalty_rate[r, i] += sc * expect * S.detect_prob[r, i]


@compiled(PoolPunishment, "communicate")
@jitable
def _pool_fees(r, t, S, P, M, rng, net, TP):
    fee, _rate, _second, members = P
    for i in range(S.charges.shape[2]):
        S.charges[r, 4, i] += fee[r] * members[i]


@compiled(PoolPunishment, "sanction")
@jitable
def _pool_fines(r, t, S, P, M, rng, net, TP):
    _fee, rate, second, members = P
    for i in range(S.detected.shape[1]):
        over = S.observed[r, i] - S.quota[r, i]
        fine = rate[r] * (over if over > 0.0 else 0.0) if S.detected[r, i] else 0.0
        S.charges[r, 1, i] += fine + second[r] * (not members[i])
        if S.detected[r, i]:
            S.sanctioned[r, i] = True
        S.penalty_rate[r, i] += rate[r] * S.detect_prob[r, i]
