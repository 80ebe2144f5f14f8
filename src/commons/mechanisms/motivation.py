"""Intrinsic motivation and its crowding-out by external control."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._params import per_replicate
from ..plugin import Plugin

__all__ = ["CrowdingOut"]


class CrowdingOut(Plugin):
    r"""External control crowds out intrinsic motivation; lifting it lets motivation recover.

    Frey (1997); Cardenas, Stranlund & Willis (2000): in a round in which an external control
    acted on the group (a central target, an audit, a regulator's fine or fee, an overriding
    regulator: plug-ins declaring ``external``), each organisation's motivation theta_i (its
    weight on the group's mean payoff) falls, theta <- (1 - down) theta; in a round without,
    it recovers toward its initial level theta0, theta <- theta + up (theta0 - theta).
    """

    phases: ClassVar[tuple[str, ...]] = ("learn",)

    def __init__(self, down: Any = 0.2, up: Any = 0.05) -> None:
        self.down = down
        self.up = up

    def bind(self, ctx) -> dict[str, Any]:
        return {"down": per_replicate("down", self.down, ctx.R, low=0.0, high=1.0),
                "up": per_replicate("up", self.up, ctx.R, low=0.0, high=1.0),
                "theta0": ctx.prosociality.copy()}

    def learn(self, st, ctx) -> None:
        P = ctx.params[self]
        ext = st.external[:, None]
        fallen = (1.0 - P["down"][:, None]) * st.motivation
        recovered = st.motivation + P["up"][:, None] * (P["theta0"] - st.motivation)
        st.motivation = np.where(ext, fallen, recovered)
