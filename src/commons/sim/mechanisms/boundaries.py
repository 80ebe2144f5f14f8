"""Boundaries: who may draw from the commons (Ostrom's principle 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .._jit import jitable, u1
from .._params import org_mask, per_replicate
from ..plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["Boundary"]


class Boundary(Plugin):
    r"""Members may draw; outsiders are refused entry with probability ``enforcement``.

    Each round (communicate phase) every outsider is turned away with probability
    ``enforcement`` (1: a closed boundary, 0: open access): a refused organisation draws
    nothing this round.

    Parameters
    ----------
    members : array_like of bool, shape (N,), or of int
        Who may draw: a mask, or the members' indices; the others are outsiders.
    enforcement : float or (R,)
        Probability in [0, 1] that an outsider is turned away each round.
    """

    role: ClassVar[str] = "mechanism"
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("excluded",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"communicate": ("excluded",)}
    cparams: ClassVar[tuple[str, ...]] = ("members", "p")
    stochastic: ClassVar[bool] = True

    def __init__(self, members: Any, *, enforcement: Any = 1.0) -> None:
        self.members = members
        self.enforcement = enforcement

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"members": org_mask("members", self.members, ctx.N, default=True),
                "p": per_replicate("enforcement", self.enforcement, ctx.R, low=0.0, high=1.0)}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: each outsider is excluded this round with probability
        ``enforcement``.

        Parameters
        ----------
        st : State
            The state; reads ``excluded``; writes ``excluded``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        u = ctx.uniforms(self)[..., 0]
        refused = ~P["members"][None, :] & (u < P["p"][:, None])
        st.excluded = st.excluded | refused


# ---------------------------------------------------------------------- compiled form
@compiled(Boundary, "communicate")
@jitable
def _boundary(r, t, S, P, M, rng, net, TP):
    members, p = P
    for i in range(S.excluded.shape[1]):
        if not members[i] and u1(i, t, rng) < p[r]:  # only outsiders can be refused
            S.excluded[r, i] = True
