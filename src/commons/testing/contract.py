r"""The plug-in contract test: a plug-in does what it declares.

:func:`check_plugin` runs a plug-in inside a small host model (or one you give) and watches
every call of its phase methods. It checks that:

1. its role and phases are valid and each phase has a method (the model's construction checks
   this and the declared flow);
2. it writes only the State fields it declares (every field and its memory are compared
   before and after each call), and reads only fields it declares it reads or writes (reads
   are recorded through a proxy of the state);
3. a plug-in declared non-stochastic gives the same result with any seed (each call is
   repeated on a copy of the state with other random streams), and a stochastic one gives the
   same result with the same seed;
4. a plug-in declared budget-balanced moves no money out of the group (its charges to the
   regulator or burned are zero and its transfers sum to zero in each replicate);
5. no NaN or infinity appears in the fields it writes;
6. its random numbers stay the same when other plug-ins are added: the host model run with a
   stochastic no-op plug-in inserted before and after it gives bit-identical results;
7. where it has a compiled form (numba installed), the host model gives the same draws, grants
   and payoffs, bit for bit, on the compiled path as on the numpy path.

Every violation is collected; :class:`ContractError` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from ..sim.plugin import PHASES, ROLES, Plugin
from ..sim.state import FIELDS, RECIPIENTS, State, charge_index
from ..sim.streams import Streams

__all__ = ["ContractError", "ContractReport", "check_plugin", "host_model"]

#: State attributes that are derived from fields, and the fields they read.
_DERIVED = {"wrongful": ("detected", "compliant"), "ledger": ("charges",),
            "charge": ("charges",), "charged": ("charges",), "refund": ("charges",),
            "income": ("charges",), "transfer": ("transfers",), "memory": ("memory",)}


class ContractError(AssertionError):
    """A plug-in that does not do what it declares; ``violations`` lists every finding.

    Parameters
    ----------
    plugin : Plugin
        The plug-in checked.
    violations : list of str
        Every breach found, each naming the phase and the field or guarantee.
    """

    def __init__(self, plugin: Plugin, violations: list[str]) -> None:
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{type(plugin).__name__} breaks its contract:\n{lines}")


@dataclass
class ContractReport:
    """What :func:`check_plugin` saw: the calls made and the fields read and written.

    Attributes
    ----------
    plugin : str
        The plug-in's class name.
    calls : dict of str to int
        Calls of each phase method.
    read, written : dict of str to set of str
        Per phase, the State fields read and written.
    """

    plugin: str
    calls: dict[str, int] = field(default_factory=dict)
    read: dict[str, set[str]] = field(default_factory=dict)
    written: dict[str, set[str]] = field(default_factory=dict)


class _NoOp(Plugin):
    """A stochastic plug-in that draws random numbers and writes nothing."""

    role = "mechanism"
    phases = ("communicate", "sanction")
    stochastic = True

    def communicate(self, st, ctx) -> None:
        ctx.uniforms(self)

    def sanction(self, st, ctx) -> None:
        ctx.uniforms(self, n=max(ctx.network.n_edges, 1))


class _ReadProxy:
    """Forwards to a State and records the fields read."""

    def __init__(self, st: State, seen: set[str]) -> None:
        object.__setattr__(self, "_st", st)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> Any:
        if name in FIELDS:
            self._seen.add(name)
        elif name in _DERIVED:
            self._seen.update(_DERIVED[name])
        return getattr(self._st, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._st, name, value)


# ---------------------------------------------------------------------- host models
def host_model(plugin: Plugin, n: int = 12) -> Any:
    """A small model that holds ``plugin`` in its slot, with the parts it needs.

    n organisations on a connected Watts–Strogatz graph (k = 4); private concave returns from a
    logistic stock; a quota tracking the stock; peer monitoring with noise; a fine; trust
    following compliance; noisy best response; plus meetings or a covenant when the plug-in
    reads ``met`` or ``pledge``. The plug-in replaces the default of its slot (or joins the
    list of sanctions or mechanisms).

    Parameters
    ----------
    plugin : Plugin
        The plug-in to host.
    n : int
        Number of organisations (a stage game's own n for a :class:`commons.StageGame`).

    Returns
    -------
    Model
        The host model.
    """
    import commons as c

    max_draw: Any = 2.0
    if isinstance(plugin, c.StageGame):
        n, max_draw = plugin.game.n, None
    graph = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=1) if n > 4 \
        else nx.complete_graph(n)
    slots: dict[str, Any] = {
        "technology": c.PrivateConcave(c.Uniform(0.5, 1.5), 0.5, 0.5),
        "resource": c.LogisticStock(10.0 * n, 0.25),
        "quota": c.StockShareQuota(0.05),
        "monitoring": c.PeerMonitoring(0.2, 0.4, noise=0.1),
        "sanctions": [c.QuotaFine(2.0)],
        "trust": c.ComplianceTrust(0.1, 0.5),
        "rule": c.BestResponse(0.5, noise=0.1),
        "mechanisms": [],
    }
    reads = {f for ph in plugin.phases for f in plugin.access(ph)[0]}
    if isinstance(plugin, c.LakeDamage):
        slots["resource"], max_draw = c.LakeStock(), 0.1
    if "met" in reads:
        slots["mechanisms"].append(c.Meetings(0.2, 0.5))
    if "pledge" in reads and not isinstance(plugin, c.Covenant):
        slots["mechanisms"].append(c.Covenant())
    if "called_out" in reads:
        slots["mechanisms"].append(c.Gossip())
    if "appealed" in reads:
        slots["sanctions"].append(c.Appeal(0.1))
    role = plugin.role
    slot = {"sanction": "sanctions", "mechanism": "mechanisms"}.get(role, role)
    if slot in ("sanctions", "mechanisms"):
        later = [p for p in slots[slot] if p.ordering("sanction")]
        slots[slot] = [p for p in slots[slot] if p not in later] + [plugin] + later
    else:
        slots[slot] = plugin
    return c.Model(n, network=graph, max_draw=max_draw, name="contract host", **slots)


# ---------------------------------------------------------------------- the checks
def _changed(before: State, after: State) -> set[str]:
    out = {f for f in FIELDS
           if not np.array_equal(getattr(before, f), getattr(after, f), equal_nan=True)}
    if set(before.memory) != set(after.memory):
        out.add("memory")
    else:
        for key, mem in before.memory.items():
            other = after.memory[key]
            if set(mem) != set(other) or any(
                    not np.array_equal(np.asarray(mem[k]), np.asarray(other[k]),
                                       equal_nan=True) for k in mem):
                out.add("memory")
    return out


def _same_outcome(a: State, b: State) -> bool:
    return not _changed(a, b)


def _money_out(before: State, after: State) -> np.ndarray:
    """Money that left the group in a call, per replicate: charges to the regulator or burned."""
    out = np.zeros(before.R)
    for kind in ("fine", "cost"):
        for r in RECIPIENTS:
            if r == "members":
                continue
            k = charge_index(kind, r)
            out += (after.charges[:, k] - before.charges[:, k]).sum(axis=1)
    return out


def check_plugin(plugin: Plugin, *, model: Any = None, rounds: int = 6, replicates: int = 3,
                 seed: int = 0) -> ContractReport:
    """Run the contract test on ``plugin`` (see the module docstring for what is checked).

    Parameters
    ----------
    plugin : Plugin
        The plug-in to check (its phase methods are watched during the run, then restored).
    model : Model, optional
        A model that contains ``plugin``; default :func:`host_model`.
    rounds, replicates : int
        Size of the runs.
    seed : int
        Seed of the runs.

    Returns
    -------
    ContractReport
        The calls seen and the fields read and written, per phase.

    Raises
    ------
    ContractError
        Listing every violation found.
    """
    from ..sim.engine import Context, bind, play_round, schedule
    from ..sim.model import Model
    from ..sim.streams import replicate_keys

    if not isinstance(plugin, Plugin):
        raise TypeError(f"plugin must be a commons Plugin, got {type(plugin).__name__}")
    problems: list[str] = []
    if plugin.role not in ROLES:
        raise ContractError(plugin, [f"role {plugin.role!r} is not one of {sorted(ROLES)}"])
    for ph in plugin.phases:
        if ph not in PHASES:
            problems.append(f"phase {ph!r} is not one of {PHASES}")
        elif not callable(getattr(plugin, ph, None)):
            problems.append(f"declares the phase {ph!r} but has no method {ph}(state, ctx)")
    if problems:
        raise ContractError(plugin, problems)
    host = host_model(plugin) if model is None else model
    if not isinstance(host, Model) or plugin not in host.all_plugins():
        raise ValueError("model must be a commons Model that contains the plug-in")
    report = ContractReport(type(plugin).__name__)
    other_keys = Streams(replicate_keys(seed + 1_000_003, np.arange(replicates)))

    def watch(phase: str):
        original = getattr(plugin, phase)

        def watched(st: State, ctx: Any) -> None:
            before = st.copy()
            seen: set[str] = set()
            original(_ReadProxy(st, seen), ctx)
            after = st
            reads, writes = plugin.access(phase)
            report.calls[phase] = report.calls.get(phase, 0) + 1
            report.read.setdefault(phase, set()).update(seen)
            changed = _changed(before, after)
            report.written.setdefault(phase, set()).update(changed)
            undeclared = changed - set(writes)
            if undeclared:
                problems.append(f"{phase}: writes {sorted(undeclared)}, not declared in "
                                f"writes {sorted(writes)}")
            unread = seen - set(reads) - set(writes)
            if unread:
                problems.append(f"{phase}: reads {sorted(unread)}, not declared in reads "
                                f"{sorted(reads)}")
            for f in changed & set(FIELDS):
                arr = getattr(after, f)
                if arr.dtype.kind == "f" and f != "quota" and f != "pledge" \
                        and not np.all(np.isfinite(arr)):
                    problems.append(f"{phase}: left non-finite values in {f!r}")
                elif f in ("quota", "pledge") and np.any(np.isnan(arr)):
                    problems.append(f"{phase}: left NaN in {f!r}")
            if plugin.budget_balanced:
                out = _money_out(before, after)
                moved = (after.transfers - before.transfers).sum(axis=1)
                if np.any(np.abs(out) > 1e-9) or np.any(np.abs(moved) > 1e-9 * (
                        1 + np.abs(after.transfers).sum(axis=1))):
                    problems.append(f"{phase}: declared budget-balanced but moved money out "
                                    f"of the group ({float(np.max(np.abs(out))):.3g} charged "
                                    f"to the regulator or burned, transfers summing to "
                                    f"{float(np.max(np.abs(moved))):.3g})")
            # the same call again, on the state before it, with other or the same streams
            again = before.copy()
            saved = ctx.streams
            ctx.streams = saved if plugin.stochastic else other_keys
            try:
                original(again, ctx)
            finally:
                ctx.streams = saved
            if not _same_outcome(again, after):
                what = ("gives different results with the same seed" if plugin.stochastic
                        else "is declared non-stochastic but its result depends on the seed")
                if what not in " ".join(problems):
                    problems.append(f"{phase}: {what}")

        return watched

    for ph in plugin.phases:
        setattr(plugin, ph, watch(ph))
    try:
        ctx = Context(host, replicates, rounds,
                      Streams(replicate_keys(seed, np.arange(replicates))), host.network)
        st = bind(host, ctx)
        plan = schedule(host)
        for t in range(rounds):
            ctx.t = t
            st.begin_round(t)
            play_round(host, st, ctx, plan)
    finally:
        for ph in plugin.phases:
            plugin.__dict__.pop(ph, None)
    for ph in plugin.phases:
        if report.calls.get(ph, 0) == 0:
            problems.append(f"{ph}: never called in a run of the host model")
    # stream stability: other plug-ins inserted before and after it change nothing
    base = host.run(rounds, replicates, rng=seed, engine="numpy", record="full")
    noisy = host.replace(mechanisms=[_NoOp(stream="contract:noop-1"), *host.mechanisms,
                                     _NoOp(stream="contract:noop-2")])
    other = noisy.run(rounds, replicates, rng=seed, engine="numpy", record="full")
    for k in base.full:
        if not np.array_equal(base.full[k], other.full[k]):
            problems.append(f"random numbers move when other plug-ins are added: {k} differ")
            break
    from ..sim import _kernel
    if _kernel.have_numba() and any(plugin.compiled_form(ph) is not None
                                    for ph in plugin.phases):
        fast = host.run(rounds, replicates, rng=seed, engine="numba", record="full")
        for k in base.full:
            if not np.array_equal(base.full[k], fast.full[k]):
                gap = float(np.max(np.abs(base.full[k] - fast.full[k])))
                problems.append(f"its compiled form gives other {k} than its numpy form "
                                f"(largest difference {gap:.3g})")
                break
    if problems:
        raise ContractError(plugin, list(dict.fromkeys(problems)))
    return report
