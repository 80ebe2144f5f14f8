"""Decision rules: how organisations choose their draws (the decide and learn phases).

A rule is a plug-in. In **decide** it sets ``state.draws`` for this round (by default the
draws it chose when it last learned); in **learn** it sets ``state.next_draws`` from what the
round revealed. Draws are always clipped to [0, max_draw] by the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .._jit import jitable
from .._params import org_mask, per_org
from ..plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["FixedDraw", "Mixed", "PlayNash", "PlayOptimum", "Rule"]


class Rule(Plugin):
    """Base class: carry the draws chosen in the previous learn phase into this round."""

    role: ClassVar[str] = "rule"
    registered: ClassVar[bool] = False  # a base class, not in commons.plugins()
    phases: ClassVar[tuple[str, ...]] = ("decide", "learn")
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("next_draws",),
                                                   "learn": ("draws",)}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("draws",),
                                                    "learn": ("next_draws",)}

    def decide(self, st: State, ctx: Context) -> None:
        """The decide phase: draw what the last learn phase chose, :math:`x_i(t) = x_i'`.

        Subclasses override it to choose the draws afresh each round.

        Parameters
        ----------
        st : State
            The state; reads ``next_draws`` (R, N); writes ``draws`` (R, N).
        ctx : Context
            The run's context.
        """
        st.draws = st.next_draws.copy()

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: keep this round's draws for the next, :math:`x_i' = x_i(t)`.

        Subclasses override it with their update rule.

        Parameters
        ----------
        st : State
            The state; reads ``draws`` (R, N); writes ``next_draws`` (R, N).
        ctx : Context
            The run's context.
        """
        st.next_draws = st.draws.copy()


class _DrawBound(Rule):
    """A rule that draws, every round, the (R, N) amounts ``x`` it computed when bound."""

    cparams: ClassVar[tuple[str, ...]] = ("x",)

    def decide(self, st: State, ctx: Context) -> None:
        """The decide phase: draw the amounts fixed when the model was bound.

        Parameters
        ----------
        st : State
            The state; writes ``draws`` (R, N).
        ctx : Context
            The run's context (the amounts, in draw units, in ``ctx.params[self]["x"]``).
        """
        st.draws = ctx.params[self]["x"].copy()


class FixedDraw(_DrawBound):
    """Always draw the same amount: :math:`x_i(t) = v_i` every round.

    Parameters
    ----------
    value : float, (N,) or (R, N) array, or Uniform
        :math:`v_i \\ge 0`, the draw of each organisation (draw units): one for all, one per
        organisation, one per replicate and organisation, or drawn once per replicate and
        organisation from a Uniform.
    """

    def __init__(self, value: Any) -> None:
        self.value = value

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"x": per_org("value", self.value, ctx.R, ctx.N,
                             uniforms=ctx.setup_uniforms(self)[:, :, 0], low=0.0)}


class PlayNash(_DrawBound):
    """Draw the stage game's Nash equilibrium every round (``targets.nash_draws``)."""

    def requires(self) -> tuple[str, ...]:
        return ("nash",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import nash_draws
        return {"x": nash_draws(ctx.technology, ctx)}


class PlayOptimum(_DrawBound):
    """Draw the group's best sustainable allocation every round (``optimum_draws``)."""

    def requires(self) -> tuple[str, ...]:
        return ("optimum",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        from ..targets import optimum_draws
        return {"x": optimum_draws(ctx.technology, ctx)}


class Mixed(Rule):
    """Different organisations follow different rules.

    Parameters
    ----------
    assignment : sequence of (Rule, organisations)
        Each rule with the organisations (indices or a boolean mask of length N) that follow
        it; together they must cover every organisation exactly once.

    Every sub-rule runs vectorised over all organisations and the draws of each organisation
    are taken from its own rule.
    """

    memory: ClassVar[dict[str, tuple]] = {"base": ("org", float), "out": ("org", float)}
    cparams: ClassVar[tuple[str, ...]] = ("owner",)

    def __init__(self, assignment) -> None:
        try:
            self.assignment = [(r, o) for r, o in assignment]
        except (TypeError, ValueError):
            raise TypeError("assignment must be a list of (rule, organisations) pairs, e.g. "
                            "[(BestResponse(), [0, 1]), (FixedDraw(2.0), [2])]") from None
        if not self.assignment:
            raise ValueError("assignment must give at least one (rule, organisations) pair")
        for r, _ in self.assignment:
            if not isinstance(r, Rule):
                raise TypeError("assignment: every pair needs a decision rule (a commons "
                                f"Rule) first, got {type(r).__name__}")

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return any(r.stochastic for r, _ in self.assignment)

    def params(self) -> dict[str, Any]:
        return {"rules": [r.describe() for r, _ in self.assignment]}

    def children(self) -> list[Plugin]:
        """The sub-rules (the engine binds them too).

        Returns
        -------
        list of Plugin
            The rules of ``assignment``, in its order.
        """
        return [r for r, _ in self.assignment]

    def access(self, phase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        reads: list[str] = []
        writes: list[str] = []
        for r, _ in self.assignment:
            if phase in r.phases:
                rr, ww = r.access(phase)
                reads += [f for f in rr if f not in reads]
                writes += [f for f in ww if f not in writes]
        return tuple(reads), tuple(writes)

    def requires(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for r, _ in self.assignment for n in r.requires()))

    def bind(self, ctx: Context) -> dict[str, Any]:
        owner = np.full(ctx.N, -1)
        for k, (_, orgs) in enumerate(self.assignment):
            idx = np.flatnonzero(org_mask("Mixed organisations", orgs, ctx.N, default=False))
            if np.any(owner[idx] >= 0):
                raise ValueError("Mixed: an organisation is assigned to two rules")
            owner[idx] = k
        if np.any(owner < 0):
            raise ValueError(f"Mixed: organisations {np.flatnonzero(owner < 0)[:5].tolist()} "
                             "have no rule")
        return {"owner": owner}

    def setup(self, st: State, ctx: Context) -> None:
        for r, _ in self.assignment:
            r.setup(st, ctx)

    def _combine(self, st, ctx, phase: str, field: str) -> None:
        owner = ctx.params[self]["owner"]
        base = getattr(st, field).copy()
        out = base.copy()
        for k, (r, _) in enumerate(self.assignment):
            setattr(st, field, base.copy())
            getattr(r, phase)(st, ctx)
            cols = owner == k
            out[:, cols] = getattr(st, field)[:, cols]
        setattr(st, field, out)

    def decide(self, st: State, ctx: Context) -> None:
        """The decide phase: run every sub-rule's decide, each organisation keeping its own.

        Each sub-rule starts from the same ``draws``; organisation i takes the ``draws`` that
        its own rule wrote.

        Parameters
        ----------
        st : State
            The state; reads and writes what the sub-rules read and write in this phase
            (``draws`` (R, N) at least).
        ctx : Context
            The run's context.
        """
        self._combine(st, ctx, "decide", "draws")

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: run every sub-rule's learn, each organisation keeping its own.

        Each sub-rule starts from the same ``next_draws``; organisation i takes the
        ``next_draws`` that its own rule wrote.

        Parameters
        ----------
        st : State
            The state; reads and writes what the sub-rules read and write in this phase
            (``next_draws`` (R, N) at least).
        ctx : Context
            The run's context.
        """
        self._combine(st, ctx, "learn", "next_draws")


# ---------------------------------------------------------------------- compiled forms
@compiled(Rule, "decide", orgs=True)
@jitable
def _carry_draws(r, t, S, P, M, rng, net, TP, i0, i1):
    for i in range(i0, i1):
        S.draws[r, i] = S.next_draws[r, i]


@compiled(Rule, "learn", orgs=True)
@jitable
def _keep_draws(r, t, S, P, M, rng, net, TP, i0, i1):
    for i in range(i0, i1):
        S.next_draws[r, i] = S.draws[r, i]


@compiled(FixedDraw, "decide", orgs=True)
@compiled(PlayNash, "decide", orgs=True)
@compiled(PlayOptimum, "decide", orgs=True)
@jitable
def _draw_bound(r, t, S, P, M, rng, net, TP, i0, i1):
    (x,) = P
    for i in range(i0, i1):
        S.draws[r, i] = x[r, i]
