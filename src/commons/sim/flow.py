"""The data-flow check: what a model's plug-ins declare they read and write must fit together.

Run by :class:`commons.Model` at construction, so that a model that cannot work fails before it
runs, with an error that names the plug-in, the slot and the field:

* every phase a plug-in declares is one of :data:`~commons.sim.plugin.PHASES` and has a method;
* every field it names is a State field (:data:`~commons.sim.state.FIELDS`);
* a field read that has no value until a plug-in writes it (``detected`` without monitoring,
  ``met`` without meetings, ``pledge`` without a covenant) has a writer in the model, and a
  writer earlier in the round when the field is reset every round;
* a field that is not accumulating has at most one writer;
* a plug-in's ordering constraints (``after``) hold: every other writer of those fields in the
  phase acts before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .plugin import CHANNELS, PHASES, Plugin
from .state import FIELDS

__all__ = ["Act", "FlowError", "acts", "check_flow"]

#: What to add when a field has no writer.
_HINTS = {
    "detected": "add monitoring (e.g. monitoring=CentralAudit(...) or PeerMonitoring(...))",
    "inspected": "add monitoring (e.g. monitoring=CentralAudit(...) or PeerMonitoring(...))",
    "observed": "add monitoring (e.g. monitoring=CentralAudit(...) or PeerMonitoring(...))",
    "detect_prob": "add monitoring (e.g. monitoring=CentralAudit(...) or PeerMonitoring(...))",
    "met": "add Meetings(...) to mechanisms, before this plug-in",
    "pledge": "add a Covenant(...) to mechanisms",
    "called_out": "add Gossip(...) to mechanisms",
    "appealed": "add an Appeal(...) to sanctions",
}

#: Fields the engine itself writes, by phase (before the phase's plug-ins: "begin";
#: after them: the phase name).
_ENGINE_WRITES = {
    "begin": ("stock_start", "excluded", "exclusion_left"),
    "decide": ("draws",),
    "appropriate": ("compliant",),
    "sanction": ("fines", "costs", "transfers", "payoffs"),
    "regenerate": ("next_draws",),
}


class FlowError(ValueError):
    """A model whose plug-ins' declared reads and writes do not fit together."""


@dataclass(frozen=True)
class Act:
    """One plug-in acting in one phase, with what it reads and writes there.

    Attributes
    ----------
    phase : str
        One of :data:`commons.PHASES`.
    plugin : Plugin
        The plug-in acting.
    slot : str
        The model slot it fills.
    reads, writes : tuple of str
        The State fields (and channels) it reads and writes in this phase.
    """

    phase: str
    plugin: Plugin
    slot: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    def who(self) -> str:
        """The plug-in and its slot, as error messages name them.

        Returns
        -------
        str
            E.g. ``"QuotaFine (sanctions)"``.
        """
        return f"{type(self.plugin).__name__} ({self.slot})"


def acts(components: Sequence[tuple[str, Plugin]]) -> list[Act]:
    """The round's acts in order: by phase, then by the order of ``components``.

    Parameters
    ----------
    components : sequence of (str, Plugin)
        (slot, plug-in) pairs in acting order (:meth:`commons.Model.slotted`).

    Returns
    -------
    list of Act
        One act per plug-in and phase it declares.
    """
    out = []
    for phase in PHASES:
        for slot, p in components:
            if phase in p.phases:
                r, w = p.access(phase)
                out.append(Act(phase, p, slot, r, w))
    return out


def _check_declarations(slot: str, p: Plugin) -> None:
    name = f"{type(p).__name__} ({slot})"
    for ph in p.phases:
        if ph not in PHASES:
            raise FlowError(f"{name} declares the phase {ph!r}, which is not one of {PHASES}")
        if not callable(getattr(p, ph, None)):
            raise FlowError(f"{name} declares the phase {ph!r} but has no method {ph}(state, "
                            "ctx)")
    for ph in p.phases:
        reads, writes = p.access(ph)
        for f in (*reads, *writes, *p.ordering(ph)):
            if f not in CHANNELS:
                raise FlowError(f"{name} names {f!r} in phase {ph!r}, which is not a State "
                                f"field; fields are: {', '.join(sorted(FIELDS))}")
    for ph in set(p.reads) | set(p.writes) | set(p.after):
        if ph not in p.phases:
            raise FlowError(f"{name} declares reads or writes for the phase {ph!r}, which is "
                            f"not among its phases {p.phases}")


def check_flow(components: Sequence[tuple[str, Plugin]]) -> list[Act]:
    """Check the declared flow of ``components`` ((slot, plug-in) in acting order).

    Every field read has a writer earlier in the round or an initial value; a field that is
    not accumulating has at most one writer in a phase; ``after`` constraints hold; phases
    and fields are spelt right.

    Parameters
    ----------
    components : sequence of (str, Plugin)
        (slot, plug-in) pairs in acting order (:meth:`commons.Model.slotted`).

    Returns
    -------
    list of Act
        The round's acts (:func:`acts`).

    Raises
    ------
    FlowError
        On the first problem, naming the plug-in, the field and what to do.
    """
    for slot, p in components:
        _check_declarations(slot, p)
    seq = acts(components)
    writers: dict[str, list[Act]] = {}
    for a in seq:
        for f in a.writes:
            if f == "memory":
                continue
            writers.setdefault(f, []).append(a)
    for f, ws in writers.items():
        owners = {id(a.plugin): a for a in ws}
        if len(owners) > 1 and not FIELDS[f].accumulate:
            a, b = list(owners.values())[:2]
            raise FlowError(f"{a.who()} and {b.who()} both write {f!r}, which takes one "
                            "writer (it is not an accumulating field); give each its own "
                            "model, or keep one")
    position = {id(a): k for k, a in enumerate(seq)}
    for k, a in enumerate(seq):
        for f in a.reads:
            if f == "memory":
                continue
            spec = FIELDS[f]
            if not spec.needs_writer:
                continue
            ws = [w for w in writers.get(f, ()) if w.plugin is not a.plugin]
            own = [w for w in writers.get(f, ()) if w.plugin is a.plugin]
            if not ws and not own:
                hint = _HINTS.get(f, "add a plug-in that writes it")
                raise FlowError(f"{a.who()} reads {f!r}, which no plug-in of this model "
                                f"writes: {hint}")
            if spec.reset is not None and not own and \
                    all(position[id(w)] > k for w in ws):
                names = ", ".join(w.who() for w in ws)
                raise FlowError(f"{a.who()} reads {f!r} in the {a.phase} phase, before its "
                                f"writers act ({names}); {f!r} is reset every round")
    for k, a in enumerate(seq):
        for f in a.plugin.ordering(a.phase):
            for w in writers.get(f, ()):
                if w.plugin is not a.plugin and w.phase == a.phase and position[id(w)] > k:
                    raise FlowError(f"{a.who()} must act after every plug-in that writes "
                                    f"{f!r} in the {a.phase} phase, but {w.who()} comes after "
                                    "it: place it later in its list")
    return seq
