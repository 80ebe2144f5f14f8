"""Intrinsic motivation and its crowding-out by external control."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._jit import jitable
from .._params import per_replicate
from ..plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["CivicDuty", "CrowdingOut"]


class CrowdingOut(Plugin):
    r"""External control crowds out intrinsic motivation; lifting it lets motivation recover.

    Frey (1997); Cardenas, Stranlund & Willis (2000): in a round in which an external control
    acted on the group (a central target, an audit, a regulator's fine or fee, an overriding
    regulator: plug-ins declaring ``external``), each organisation's motivation theta_i (its
    weight on the group's mean payoff) falls, theta <- (1 - down) theta; in a round without,
    it recovers toward its initial level theta0, theta <- theta + up (theta0 - theta).

    Parameters
    ----------
    down : float or (R,)
        Fall of motivation in a round with external control, theta <- (1 - down) theta, in [0, 1].
    up : float or (R,)
        Recovery toward theta0 in a round without, in [0, 1].
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("learn",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"learn": ("external", "motivation")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"learn": ("motivation",)}
    cparams: ClassVar[tuple[str, ...]] = ("down", "up", "theta0")

    def __init__(self, down: Any = 0.2, up: Any = 0.05) -> None:
        self.down = down
        self.up = up

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"down": per_replicate("down", self.down, ctx.R, low=0.0, high=1.0),
                "up": per_replicate("up", self.up, ctx.R, low=0.0, high=1.0),
                "theta0": ctx.prosociality.copy()}

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: theta <- (1 - down) theta after a round with external control, else
        theta <- theta + up (theta0 - theta).

        Parameters
        ----------
        st : State
            The state; reads ``external``, ``motivation``; writes ``motivation``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        ext = st.external[:, None]
        fallen = (1.0 - P["down"][:, None]) * st.motivation
        recovered = st.motivation + P["up"][:, None] * (P["theta0"] - st.motivation)
        st.motivation = np.where(ext, fallen, recovered)


class CivicDuty(Plugin):
    r"""Intrinsically motivated organisations keep to the rules in force.

    An organisation with motivation theta_i (the State's ``motivation``, from the model's
    ``prosociality``) weighs every unit it draws over its quota at ``strength`` theta_i, as a
    cost of conscience rather than money (the "intrinsic motivation of staff to work together
    for the greater good" that Ham & Hall ask Integrated Care Systems to draw on; Frey 1997).
    Best replies weigh it like an expected fine; crowding-out erodes it by lowering theta.

    Parameters
    ----------
    strength : float or (R,)
        Cost of conscience per unit over the quota at full motivation, money per unit >= 0.
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("motivation",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("penalty_rate",)}
    cparams: ClassVar[tuple[str, ...]] = ("k",)

    def __init__(self, strength: Any = 1.0) -> None:
        self.strength = strength

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"k": per_replicate("strength", self.strength, ctx.R, low=0.0)}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: adds strength theta_i to each organisation's expected charge per
        unit over the quota (``penalty_rate``).

        Parameters
        ----------
        st : State
            The state; reads ``motivation``; writes ``penalty_rate``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        st.penalty_rate += ctx.params[self]["k"][:, None] * st.motivation


# ---------------------------------------------------------------------- compiled forms
@compiled(CrowdingOut, "learn")
@jitable
def _crowding_out(r, t, S, P, M, rng, net, TP):
    down, up, theta0 = P
    ext = S.external[r]
    for i in range(S.motivation.shape[1]):
        m = S.motivation[r, i]
        S.motivation[r, i] = (1.0 - down[r]) * m if ext else m + up[r] * (theta0[r, i] - m)


@compiled(CivicDuty, "communicate")
@jitable
def _civic_duty(r, t, S, P, M, rng, net, TP):
    (k,) = P
    for i in range(S.motivation.shape[1]):
        S.penalty_rate[r, i] += k[r] * S.motivation[r, i]
