"""Plug-ins: model components that fill the phases of a round and declare what they are.

A round has eight phases, in this order (DESIGN: communicate, decide, appropriate, pay, monitor,
sanction, learn, regenerate). A plug-in lists the phases it takes part in and implements a method
of the same name, ``phase(state, ctx)``, that reads and writes the :class:`~commons.state.State`.
Like Axelrod's strategy classifier, each plug-in declares metadata that property tests check:

* ``stochastic``: whether it draws random numbers;
* ``budget_balanced``: whether the money it moves sums to zero across organisations (a fine
  paid to a regulator or burned is not budget-balanced; a transfer between members is);
* ``payer``: who bears its cost (``"none"``, ``"violator"``, ``"monitor"``, ``"members"``,
  ``"regulator"``);
* ``external``: whether it is a control imposed from outside the group (a central target, an
  audit, a regulator's fine or fee); such plug-ins mark the rounds they act in
  (``state.external``), which crowding-out reads.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["PHASES", "Plugin"]

PHASES: tuple[str, ...] = ("communicate", "decide", "appropriate", "pay", "monitor",
                           "sanction", "learn", "regenerate")


class Plugin:
    """Base class of every model component.

    Subclasses set ``phases`` and the metadata class attributes, implement ``bind`` to validate
    and broadcast their parameters for R replicates and N organisations (returning a dict of
    arrays the engine keeps in ``ctx.params[self]``), and implement one method per phase.
    """

    phases: ClassVar[tuple[str, ...]] = ()
    stochastic: ClassVar[bool] = False
    budget_balanced: ClassVar[bool] = True
    payer: ClassVar[str] = "none"
    external: ClassVar[bool] = False

    def bind(self, ctx) -> dict[str, Any]:
        """Validate parameters for ``ctx.R`` replicates and ``ctx.N`` organisations."""
        return {}

    def setup(self, state, ctx) -> None:
        """Initialise this plug-in's part of the state before round 0."""

    def params(self) -> dict[str, Any]:
        """Parameters for provenance records."""
        out: dict[str, Any] = {}
        for k, v in vars(self).items():
            if k.startswith("_"):
                continue
            if hasattr(v, "tolist"):
                v = v.tolist()
            elif isinstance(v, Plugin):
                v = v.describe()
            out[k] = v if isinstance(v, (int, float, str, bool, list, dict, type(None))) \
                else repr(v)
        return out

    @property
    def memory_key(self) -> str:
        """Key of this plug-in's own memory in ``state.extra`` (unique per instance)."""
        return f"{type(self).__name__}:{id(self)}"

    def metadata(self) -> dict[str, Any]:
        """Declared phase membership and classifier."""
        return {"phases": list(self.phases), "stochastic": self.stochastic,
                "budget_balanced": self.budget_balanced, "payer": self.payer,
                "external": self.external}

    def describe(self) -> dict[str, Any]:
        """Name, parameters and metadata, for provenance."""
        return {"name": type(self).__name__, "params": self.params(), **self.metadata()}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({inner})"

    # identity semantics: a plug-in instance is a key of ctx.params
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other
