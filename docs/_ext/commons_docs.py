"""Directives that render tables from the library itself, so the documentation cannot drift.

* ``commons-state-fields``: every State field (``commons.sim.state.FIELDS``);
* ``commons-charges``: the charge kinds and recipients and their rows of ``State.charges``;
* ``commons-phases``: the phases of a round and the built-in plug-ins acting in each;
* ``commons-roles``: the roles, the ``Model`` slot each fills and the built-ins that fill it;
* ``commons-public-names``: every name of the ``commons`` namespace and where it lives.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


def _list_table(header: list[str], rows: list[list[str]], widths: str = "auto") -> str:
    out = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header, *rows]:
        first, *rest = row
        out.append(f"   * - {first or ' '}")
        out.extend(f"     - {cell or ' '}" for cell in rest)
    return "\n".join(out) + "\n"


def _lit(s: str) -> str:
    return f"``{s}``"


class _Table(SphinxDirective):
    has_content = False

    def text(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        return list(self.parse_text_to_nodes(self.text()))


class StateFields(_Table):
    """The State fields, from ``FIELDS``."""

    def text(self) -> str:
        from commons.sim.state import FIELDS
        rows = []
        for s in FIELDS.values():
            reset = "" if s.reset is None else _lit(repr(s.reset))
            rows.append([_lit(s.name), s.shape, s.dtype.__name__, s.units,
                         s.initial or "*(needs a writer)*", reset,
                         "yes" if s.accumulate else "", ", ".join(s.engine), s.doc])
        return _list_table(["field", "shape", "type", "units", "initial", "reset each round",
                            "accumulating", "engine writes in", "meaning"], rows)


class Charges(_Table):
    """Charge kinds by recipient, with their row of ``State.charges``."""

    def text(self) -> str:
        from commons.sim.state import KINDS, RECIPIENTS, charge_index
        rows = [[_lit(k), _lit(r), str(charge_index(k, r))] for k in KINDS for r in RECIPIENTS]
        return _list_table(["kind", "recipient", "row of ``charges``"], rows)


class Phases(_Table):
    """The phases in order and the built-in plug-ins acting in each."""

    def text(self) -> str:
        import commons
        rows = []
        for i, ph in enumerate(commons.PHASES, 1):
            names = ", ".join(f":class:`~commons.{c.__name__}`"
                              if c.__name__ in commons._LAZY else _lit(c.__name__)
                              for c in commons.plugins(phase=ph))
            rows.append([str(i), _lit(ph), names])
        return _list_table(["#", "phase", "built-in plug-ins acting in it"], rows, "5 15 80")


class Roles(_Table):
    """The roles, their slots of ``Model`` and the built-ins filling each."""

    def text(self) -> str:
        import commons
        from commons.sim.model import SLOTS
        slot_of = {role: (slot + ("=[...]" if many else "=")) for slot, (role, many)
                   in SLOTS.items()}
        rows = []
        for role, what in commons.ROLES.items():
            names = ", ".join(f":class:`~commons.{c.__name__}`"
                              if c.__name__ in commons._LAZY else _lit(c.__name__)
                              for c in commons.plugins(role=role))
            rows.append([_lit(role), _lit(slot_of[role]), what, names])
        return _list_table(["role", "slot of ``Model``", "what it does", "built-ins"], rows,
                           "12 14 24 50")


class PublicNames(_Table):
    """Every public name of ``commons`` and the module it lives in."""

    def text(self) -> str:
        import commons
        rows = []
        for name, (module, attr) in sorted(commons._LAZY.items(), key=lambda kv: kv[0].lower()):
            where = module if attr is None else f"{module}.{attr}"
            rows.append([_lit(f"commons.{name}"), _lit(where)])
        return _list_table(["public name", "defined in"], rows)


def _skip_foreign_docstrings(app: Any, what: str, name: str, obj: Any, skip: bool,
                             options: Any) -> bool | None:
    """Skip a method of ours without a docstring whose inherited one is not ours (an
    executor's ``submit`` would show the standard library's text, in another markup)."""
    if skip or getattr(obj, "__doc__", None) or not callable(obj):
        return None
    module = getattr(obj, "__module__", "") or ""
    owner_name = getattr(obj, "__qualname__", "").rpartition(".")[0]
    if not module.startswith("commons") or not owner_name:
        return None
    import importlib
    owner: Any = importlib.import_module(module)
    for part in owner_name.split("."):
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    for klass in getattr(owner, "__mro__", ())[1:]:
        inherited = klass.__dict__.get(name)
        if inherited is not None and getattr(inherited, "__doc__", None):
            return True if not klass.__module__.startswith("commons") else None
    return None


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-skip-member", _skip_foreign_docstrings)
    app.add_directive("commons-state-fields", StateFields)
    app.add_directive("commons-charges", Charges)
    app.add_directive("commons-phases", Phases)
    app.add_directive("commons-roles", Roles)
    app.add_directive("commons-public-names", PublicNames)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
