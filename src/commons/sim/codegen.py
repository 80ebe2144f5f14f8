"""Compiled compositions: one kernel per model, generated from its plug-ins' compiled forms.

For a model whose every act has a compiled form, :func:`kernel_for` writes the source of one
fused kernel: a loop over replicates, each running the round's acts in order (the plug-ins'
``@jitable`` forms, compiled into the kernel by numba, :func:`_inlined`) between the engine's
own steps (:mod:`commons.sim._steps`, compiled in the same way). For any model it also
writes one batch function per compiled act, so a model with a numpy plug-in runs act by act,
compiled where it can.

The source goes to a cache folder (``COMMONS_CACHE_DIR``, default
``~/.cache/commons-engine/kernels``) under a name that hashes the source, the library and numba
versions and the source files of every module it calls, and numba caches the compiled code
beside it: a new process (a pool worker, a dask task) loads the composition instead of
compiling it again, and any change to a plug-in's source gives a new name, never a stale
kernel.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from .plugin import Plugin

__all__ = ["CompiledPlan", "cache_dir", "compiled_forms", "kernel_for"]

_LOCK = threading.Lock()
_LOADED: dict[str, ModuleType] = {}

#: After which phases the engine checks which field, and whether it must be >= 0.
CHECKS = {"decide": ("draws", True), "appropriate": ("granted", True),
          "pay": ("gross", False), "regenerate": ("stock", False)}


def cache_dir() -> Path:
    """Where generated kernels and numba's cache of them live."""
    root = os.environ.get("COMMONS_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "commons-engine"
    path = base / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        path = Path(tempfile.gettempdir()) / f"commons-engine-kernels-{os.getuid()}"
        path.mkdir(parents=True, exist_ok=True)
    return path


class CompiledPlan:
    """What the engine needs to run a model's compiled acts.

    Attributes
    ----------
    fused : callable or None
        ``run(r0, r1, t0, t1, S, net, keys, max_draw, TP, *args, rec..., err)``: rounds t0..t1-1
        of replicates r0..r1-1, if every act is compiled (and :data:`FUSE` is on).
    orgs : callable or None
        ``orgs(b, nb, r0, r1, t0, t1, ..., err, sync)``: the same rounds in thread b of nb,
        which take chunks of each act's organisations in turn (:mod:`commons.sim._sync`).
    batch : dict
        Act index -> (``act(r0, r1, t, V, net, keys, P, M, sid, TP)``, its view class, the
        view's fields): one act of round t for replicates r0..r1-1 (one module per compiled
        form and view, shared by every model using it). A view holds only the State fields the
        plug-in declares it reads or writes: the form compiles against fewer arrays, and a
        form that touches an undeclared field does not compile.
    forms : list
        Per act, its compiled form or None.
    """

    def __init__(self, fused: Any, batch: dict[int, Any], forms: list[Any],
                 orgs: Any = None) -> None:
        self.fused = fused
        self.batch = batch
        self.forms = forms
        self.orgs = orgs


#: Fuse a model whose every act compiles into one kernel (tests turn it off to run the same
#: forms act by act, which compiles each form once for all models).
FUSE = os.environ.get("COMMONS_FUSE", "1") != "0"


def _form_name(fn: Any) -> tuple[str, str]:
    return fn.__module__, fn.__qualname__


def importable(fn: Any) -> bool:
    """Whether a compiled form can be imported by name from a module file (not a script, a
    notebook or an ``exec``), so that a kernel calling it can be cached on disk."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    return (module is not None and getattr(module, "__file__", None) is not None
            and module.__name__ != "__main__"
            and getattr(module, fn.__qualname__, None) is fn)


def _import_line(fn: Any, alias: str) -> str:
    """Import the form by name, or (a form defined in a script or notebook) take the one the
    loader places in the module, under ``alias``, to be inlined where it is called
    (:func:`_inlined`)."""
    if importable(fn):
        mod, name = _form_name(fn)
        return f"from {mod} import {name} as {alias}\n" + _inlined(alias, alias)
    return _inlined(alias, f"_INJECTED[{alias!r}]")


def _inlined(alias: str, fn: str) -> str:
    """``alias``: the function ``fn`` compiled into each caller rather than called.

    A call that is not inlined passes every array of its arguments word by word on the stack
    (an array is seven to eleven words; the state is 37 arrays): the recorder's call took
    516 words a round, peer monitoring's 272, about 1100 a round of CPR-v1 in all, a tenth
    of the round's time. Inlined, only what the form uses is read."""
    return f"{alias} = nb.njit(inline='always', nogil=True, _nrt=False)({fn})"


def _jit(cache: bool) -> str:
    return f"@nb.njit(cache={cache}, nogil=True, _nrt=False)"


#: The engine's steps that take the whole state, compiled into the kernel like the forms: a
#: call copies the state's 37 arrays onto the stack, as the kernel that splits a replicate
#: among threads did for the recorder's total of each round (LLVM had declined to inline it).
_ENGINE_STEPS = ("after_decide", "after_appropriate", "settle_share", "settle", "share_out",
                 "clip_next", "record_orgs", "record_total")

_HEADER = ["from collections import namedtuple", "", "import numba as nb", "import numpy as np", "",
           "from commons.sim import _steps as E", "from commons.sim import _sync as X", "",
           *(_inlined(name, f"E.{name}") for name in _ENGINE_STEPS), ""]


def view_fields(plugin: Plugin, phase: str) -> list[str]:
    """The State fields a plug-in's act declares it reads or writes, in FIELDS order."""
    from .state import FIELDS
    named = set(plugin.view(phase))
    return [f for f in FIELDS if f in named]


def _view(name: str, fields: list[str]) -> str:
    return f"{name} = namedtuple({name!r}, {fields!r})"


def _act_source(fn: Any, fields: list[str]) -> str:
    tail = (", np.uint64(0), np.uint64(net.indptr.shape[0] - 1))"
            if getattr(fn, "orgwise", False) else ")")
    call = "(r, t, V, P, M, (keys[r, 0], keys[r, 1], sid), net, TP" + tail
    calls = ([f"        q{call}"] if _prepare(fn) else []) + [f"        f{call}"]
    return "\n".join(["# generated by commons.sim.codegen: one compiled form, act by act", "",
                      *_HEADER, *_form_imports(fn, ""), _view("View", fields), "", "",
                      _jit(all(importable(f) for f in _flat([fn]))),
                      "def act(r0, r1, t, V, net, keys, P, M, sid, TP):",
                      "    for r in range(r0, r1):",
                      *calls, ""])


def _prepare(fn: Any) -> Any:
    """The per-organisation preparation a form registered (``compiled(prepare=...)``)."""
    return getattr(fn, "prepare", None)


def _form_imports(fn: Any, suffix: str) -> list[str]:
    """The lines that bring form ``fn`` in as ``f{suffix}`` and its preparation, if it has
    one, as ``q{suffix}``."""
    prep = _prepare(fn)
    return [_import_line(fn, f"f{suffix}")] + ([_import_line(prep, f"q{suffix}")] if prep
                                               else [])


def _make_view(name: str, fields: list[str]) -> str:
    """The expression building a view of the full state S inside the kernel."""
    return f"{name}(" + ", ".join(f"S.{f}" for f in fields) + ")"


def _source(acts: list[Any], forms: list[Any]) -> str:
    lines = ["# generated by commons.sim.codegen: one model's fused kernel", "", *_HEADER]
    names = []
    views: dict[str, str] = {}
    for k, (a, fn) in enumerate(zip(acts, forms, strict=True)):
        if isinstance(fn, Composite):
            for c, child in enumerate(fn.forms):
                lines += _form_imports(child, f"{k}_{c}")
                names.append(f"P{k}_{c}, M{k}_{c}, s{k}_{c}")
                fields = view_fields(fn.children[c], a.phase)
                lines.append(_view(f"V{k}_{c}", fields))
                views[f"{k}_{c}"] = _make_view(f"V{k}_{c}", fields)
        else:
            lines += _form_imports(fn, str(k))
            fields = view_fields(a.plugin, a.phase)
            lines.append(_view(f"V{k}", fields))
            views[str(k)] = _make_view(f"V{k}", fields)
    lines.append("")
    args = ", ".join([f"P{k}, M{k}, s{k}" for k in range(len(acts))] + names)
    sig = (f"t0, t1, S, net, keys, max_draw, TP, {args}, series, rows, full_x, full_h, "
           "full_p, record_full, baseline, cum, pos_t, pos_n, active, part, err")
    # replicates r0..r1-1, each running its rounds; the engine runs ranges of replicates in
    # threads (the functions release the GIL), which compiles far faster than numba's parallel
    # loops and gives the same bits for any number of threads
    cache = all(importable(f) for f in _flat(forms))
    steps = _steps(acts, forms, views)
    body = ["", _jit(cache),
            f"def run(r0, r1, {sig}):",
            "    for r in range(r0, r1):",
            f"        one(r, {sig})",
            "",
            "",
            _jit(cache),
            f"def one(r, {sig}):",
            "    if err[r, 0] != 0:",
            "        return",
            "    k0 = keys[r, 0]",
            "    k1 = keys[r, 1]",
            "    N = S.draws.shape[1]",
            "    z0 = np.uint64(0)  # organisation ranges are unsigned: no negative-index test",
            "    zN = np.uint64(N)",
            "    for t in range(t0, t1):"]
    for step in steps:
        body += _whole(step, "        ")
    # thread b of nb of a run with fewer replicates than threads: every thread runs each
    # step of a round, taking chunks of whole blocks of organisations (the recorder's blocks)
    # from shared counters: first those of its own share of the chunks (the same in every
    # step, so the rows it wrote in one step are still in its core's cache in the next), then
    # what is left of the others' shares, so a thread slowed by other work on the machine
    # takes fewer; a step without an organisation range runs in thread 0 only; the threads
    # meet at a barrier after each step, but go on without it to a step on the same chunk
    # that reads only its own organisations' rows
    body += ["", "", _jit(cache),
             f"def orgs(b, nb, r0, r1, {sig}, sync):",
             "    N = S.draws.shape[1]",
             "    z0 = np.uint64(0)",
             "    zN = np.uint64(N)",
             "    nblk = part.shape[1]",
             "    per = max(1, nblk // (16 * nb))  # blocks per chunk",
             "    nch = (nblk + per - 1) // per",
             "    u = 0  # steps split in chunks so far",
             "    ep = 0",
             "    for r in range(r0, r1):",
             "        if err[r, 0] != 0:  # before any check of this call on r",
             "            continue",
             "        k0 = keys[r, 0]",
             "        k1 = keys[r, 1]",
             "        for t in range(t0, t1):"]
    unit = [steps[0]]
    for step in steps[1:]:
        if _needs_no_barrier(unit[-1], step):
            unit.append(step)
        else:
            body += _split(unit, "            ")
            unit = [step]
    body += _split(unit, "            ")
    return "\n".join(lines + body) + "\n"


class _Step:
    """One step of a round: source lines ({lo} and {hi} bound the organisations), whether
    they may run for a range of organisations, and the check that follows (field, >= 0, act)."""

    def __init__(self, lines: list[str], ranged: bool,
                 check: tuple[str, bool, int] | None = None, *, own: tuple[str, ...] = (),
                 view: tuple[str, ...] = (), writes: tuple[str, ...] = (),
                 prologue: tuple[str, ...] = (), test_call: str | None = None) -> None:
        self.lines = lines
        self.prologue = prologue  # run once per thread before the chunks (a shared sum)
        self.ranged = ranged
        self.check = check
        self.own = own  # an engine step that reads and writes only its organisations' rows,
        # writing these fields
        self.view = view  # an act: the fields it reads or writes, and those it writes
        self.writes = writes
        self.test_call = test_call  # an engine step that is its own check: the call, which
        # returns what was wrong with the field (0: nothing) before the step changed it


#: Settling, in two steps: each organisation's charges and payoff, as if nothing were paid to
#: the members (its own rows: no barrier after a sanction act that reads none of them); then,
#: after the barrier, each thread tests the blocks' marks (and sums what is paid to the
#: members once, if anything is) and gives its chunks their share.
_SETTLE = (_Step(["settle(r, S, part, {lo}, {hi})"], True,
                 own=("fines", "costs", "transfers", "payoffs")),
           _Step(["share_out(r, S, share, {lo}, {hi})"], True,
                 prologue=("share = settle_share(r, S, part)",)))


#: Clipping the next draws to [0, max_draw] (the end of the round); it returns the learn act's
#: check of them, from the same loop.
_CLIP = "clip_next(r, S, max_draw, {lo}, {hi})"


def _needs_no_barrier(step: _Step, nxt: _Step) -> bool:
    """Whether a thread may go from ``step`` to ``nxt`` without waiting for the others: nxt
    is an engine step on the thread's own rows after an act on them, and writes no field
    the act only reads (which the act may read from other organisations' rows)."""
    return step.ranged and bool(nxt.own) and not set(nxt.own) & (set(step.view)
                                                                  - set(step.writes))


def _steps(acts: list[Any], forms: list[Any], views: dict[str, str]) -> list[_Step]:
    """The round as steps: the start of the round, each act, the engine's own steps."""
    steps = [_Step(_begin_round(acts), True)]
    phase_of = [a.phase for a in acts]
    # the last act that reads or writes the next draws: if it is a learn act checked on them,
    # its check is the clip's loop (no act after it sees whether they were clipped)
    touch = [k for k, a in enumerate(acts)
             if "next_draws" in (*a.plugin.view(a.phase), *a.writes)]
    clip_at = touch[-1] if touch else -1
    clipped = False
    for k, a in enumerate(acts):
        fn = forms[k]
        lines: list[str] = []
        if isinstance(fn, Composite):
            lines.append(f"E.copy_row(S.{fn.field}, M{k}[0], r)")
            for c in range(len(fn.forms)):
                kc = f"{k}_{c}"
                tail = ", z0, zN)" if getattr(fn.forms[c], "orgwise", False) else ")"
                call = f"(r, t, {views[kc]}, P{kc}, M{kc}, (k0, k1, s{kc}), net, TP" + tail
                lines += [f"E.copy_row(M{k}[0], S.{fn.field}, r)",
                          *([f"q{kc}{call}"] if _prepare(fn.forms[c]) else []),
                          f"f{kc}{call}",
                          f"E.keep_owned(S.{fn.field}, M{k}[1], P{k}[0], {c}, r)"]
            lines.append(f"E.copy_row(M{k}[1], S.{fn.field}, r)")
            ranged = False
        else:
            ranged = getattr(fn, "orgwise", False)
            tail = ", {lo}, {hi})" if ranged else ")"
            call = f"(r, t, {views[str(k)]}, P{k}, M{k}, (k0, k1, s{k}), net, TP" + tail
            if _prepare(fn):  # every organisation prepared, then (threads: a barrier) the act
                # (it writes only the plug-in's memory, no field of the state)
                steps.append(_Step([f"q{k}{call}"], ranged, view=tuple(a.plugin.view(a.phase))))
            lines.append(f"f{k}{call}")
        check = CHECKS.get(a.phase)
        field = check[0] if check is not None and check[0] in a.writes else (
            "next_draws" if a.phase == "learn" and "next_draws" in a.writes else None)
        test = None
        if field is not None:
            test = (field, check[1] if check is not None and field == check[0] else False, k)
        last = k + 1 == len(acts) or phase_of[k + 1] != a.phase
        # the last act of the decide (appropriate) phase is checked in the engine's step
        # after it, which reads every draw (grant) anyway: one pass over them, not two
        after = {"decide": ("draws", "after_decide(r, S, max_draw, {lo}, {hi})", "draws"),
                 "appropriate": ("granted", "after_appropriate(r, S, {lo}, {hi})",
                                 "compliant")}.get(a.phase) if last else None
        fused = after is not None and test is not None and test[0] == after[0]
        if k == clip_at and test is not None and test[0] == "next_draws":
            after, fused, clipped = ("next_draws", _CLIP, "next_draws"), True, True
        steps.append(_Step(lines, ranged, None if fused else test,
                           view=tuple(a.plugin.view(a.phase)), writes=tuple(a.writes)))
        if after is not None:
            steps.append(_Step([] if fused else [after[1]], True, test if fused else None,
                               own=(after[2],), test_call=after[1] if fused else None))
        if last and _next_after_sanction(phase_of, k):
            steps.extend(_SETTLE)
    if not any(_ORDER.index(p) > _ORDER.index("sanction") for p in phase_of) and \
            not any(_next_after_sanction(phase_of, k) for k in range(len(acts))):
        steps.extend(_SETTLE)
    if not clipped:
        steps.append(_Step([_CLIP], True, own=("next_draws",)))
    steps.append(_Step(["record_orgs(r, t, S, full_x, full_h, full_p, record_full, "
                        "baseline, cum, pos_t, pos_n, rows, part, net, {klo}, {khi})"], True))
    steps.append(_Step(["record_total(r, t, S, series, rows, active, part)"], False))
    return steps


def _bound(lines: list[str], lo: str, hi: str, pad: str) -> list[str]:
    """The lines for organisations lo..hi-1 (and blocks of the recorder's sums to match)."""
    klo, khi = ("kb0", "kb1") if lo == "i0" else ("0", "part.shape[1]")
    return [pad + ln.replace("{lo}", lo).replace("{hi}", hi).replace("{klo}", klo)
            .replace("{khi}", khi) for ln in lines]


def _field_test(check: tuple[str, bool, int], lo: str, hi: str) -> str:
    """The check's call: 0 when the field is finite (and >= 0), else what is wrong
    (:func:`commons.sim._steps.finite_range`)."""
    from .state import FIELDS
    field, nonneg, _ = check
    if FIELDS[field].shape == "org":
        return f"E.finite_range(S.{field}, r, {lo}, {hi}, {nonneg})"
    return f"(E.finite_row(S.{field}, r, {nonneg}) if {lo} == 0 else 0)"


def _checked(step: _Step, lo: str, hi: str, pad: str, on_fail: str) -> list[str]:
    """The step's lines for organisations lo..hi-1, then its check: a failure records the act,
    the round and what is wrong (1 a value not finite, 2 one negative) in ``err[r]`` and runs
    ``on_fail``."""
    out = _bound(step.lines, lo, hi, pad)
    if step.check is not None:
        test = (_field_test(step.check, lo, hi) if step.test_call is None
                else _bound([step.test_call], lo, hi, "")[0])
        out += [pad + f"fault = {test}",
                pad + "if fault != 0:",
                pad + f"    err[r, 0] = {step.check[2] + 1}",
                pad + "    err[r, 1] = t",
                pad + "    err[r, 2] = fault",
                pad + "    " + on_fail]
    return out


def _whole(step: _Step, pad: str) -> list[str]:
    """A step for every organisation of replicate r, returning at a failed check."""
    return [pad + line for line in step.prologue] + _checked(step, "z0", "zN", pad, "return")


def _split(unit: list[_Step], pad: str) -> list[str]:
    """Steps in thread b, then the barrier; every thread leaves replicate r after a failed
    check (all see the same error after the barrier). Steps with an organisation range run
    chunk by chunk. Thread h's share of the nch chunks is h nch / nb .. (h + 1) nch / nb - 1,
    handed out by counter h (:func:`commons.sim._sync.take`); thread b takes from counter b,
    then b + 1, ... (mod nb), each until its first ticket past the share, so each counter
    gives size + nb tickets a unit: chunk c of share h in the u-th unit split in chunks is
    ticket (u - 1) (size + nb) + c - lo."""
    out = [pad + line for step in unit for line in step.prologue]
    if unit[0].ranged:
        out += [pad + "u += 1",
                pad + "for hh in range(nb):",
                pad + "    h = b + hh if b + hh < nb else b + hh - nb",
                pad + "    lo = h * nch // nb",
                pad + "    hi = (h + 1) * nch // nb",
                pad + "    first = (u - 1) * (hi - lo + nb) - lo",
                pad + "    while True:",
                pad + "        c = X.take(sync, nb, h) - first",
                pad + "        if c >= hi:",
                pad + "            break",
                pad + "        kb0 = c * per",
                pad + "        kb1 = min(nblk, kb0 + per)",
                pad + "        i0 = np.uint64(min(N, kb0 * E.RB))",
                pad + "        i1 = np.uint64(min(N, kb1 * E.RB))"]
        inner, lo, hi = pad + "        ", "i0", "i1"
    else:
        out += [pad + "if b == 0:"]
        inner, lo, hi = pad + "    ", "z0", "zN"
    for step in unit:  # a failed check flags the barrier it precedes (commons.sim._sync)
        out += _checked(step, lo, hi, inner, "X.fail(sync, nb, ep + 1)")
    out += [pad + "ep += 1",
            pad + "if not X.barrier(sync, b, nb, ep):",
            pad + "    return",
            pad + "if X.failed(sync, nb, ep):",
            pad + "    break"]
    return out


def _begin_round(acts: list[Any]) -> list[str]:
    """The start of a round (State.begin_round) for organisations {lo}..{hi}-1, resetting only
    the fields this model writes: a field no act writes keeps the value it was reset to. The
    replicate's own fields are reset with the first organisations."""
    from .state import FIELDS
    written = {f for a in acts for f in a.writes} | {"transfers"}
    lines = ["if {lo} == 0:", "    S.stock_start[r] = S.stock[r]"]
    per_org: list[str] = []
    per_edge: list[str] = []
    for spec in FIELDS.values():
        if spec.reset is None or spec.name not in written:
            continue
        value = repr(spec.reset)
        if spec.shape == "replicate":
            lines.append(f"    S.{spec.name}[r] = {value}")
        elif spec.shape == "org":
            per_org.append(f"    S.{spec.name}[r, i] = {value}")
        elif spec.shape == "charges":
            per_org += [f"    S.charges[r, {k}, i] = 0.0" for k in range(6)]
        elif spec.shape == "edge":  # the edges leaving organisations {lo}..{hi}-1
            per_edge += ["for e in range(net.indptr[{lo}], net.indptr[{hi}]):",
                         f"    S.{spec.name}[r, e] = {value}"]
    lines += per_edge
    # one loop per field: a loop storing one constant is a memset, while one loop storing
    # to a dozen arrays stays scalar (the compiler would have to rule out their overlap)
    for store in per_org:
        lines += ["for i in range({lo}, {hi}):", store]
    if written & {"excluded", "exclusion_left"}:
        lines += ["for i in range({lo}, {hi}):",
                  "    left = S.exclusion_left[r, i]",
                  "    S.excluded[r, i] = left > 0",
                  "    S.exclusion_left[r, i] = left - 1 if left > 1 else 0"]
    return lines


_ORDER = ("communicate", "decide", "appropriate", "pay", "monitor", "sanction", "learn",
          "regenerate")


def _next_after_sanction(phases: list[str], k: int) -> bool:
    """Whether the round settles right after act k: k is the last act at or before the
    sanction phase."""
    here = _ORDER.index(phases[k])
    if here > _ORDER.index("sanction"):
        return False
    nxt = _ORDER.index(phases[k + 1]) if k + 1 < len(phases) else len(_ORDER)
    return nxt > _ORDER.index("sanction")


def _flat(forms: list[Any]) -> list[Any]:
    """Every function the forms bring: each form (a Composite's children) and its
    preparation."""
    out = []
    for f in forms:
        for part in (f.forms if isinstance(f, Composite) else [f] if f is not None else []):
            out += [part] + ([_prepare(part)] if _prepare(part) else [])
    return out


@functools.cache
def _engine_digest(root: Path = Path(__file__).parent) -> bytes:
    """A hash of every source file of the engine (``commons.sim`` and below), read once per
    process: a form's helpers may live in any of them, and a list of the modules kernels
    call would go stale as soon as a form calls a new one."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.digest()


def _fingerprint(source: str, forms: list[Any]) -> str:
    import numba

    from .._version import version
    h = hashlib.sha256(source.encode())
    h.update(f"{version}|{numba.__version__}|{sys.version}".encode())
    import importlib
    h.update(_engine_digest())
    modules = {f.__module__ for f in _flat(forms) if importable(f)}
    files = {importlib.import_module(m).__file__ for m in modules}
    for path in sorted(files):
        h.update(Path(path).read_bytes())
    for f in _flat(forms):  # a form from a script or notebook: its identity (never cached)
        if not importable(f):
            h.update(f"{id(f)}|{os.getpid()}".encode())
    return h.hexdigest()[:20]


_SCRATCH: list[Path] = []


def _scratch() -> Path:
    """A folder of this process for modules that cannot be cached (removed at exit)."""
    if not _SCRATCH:
        import atexit
        import shutil
        path = Path(tempfile.mkdtemp(prefix="commons-kernels-"))
        atexit.register(shutil.rmtree, path, True)
        _SCRATCH.append(path)
    return _SCRATCH[0]


def _load(name: str, path: Path, injected: dict[str, Any]) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module._INJECTED = injected
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _injected(forms: list[Any], kind: str) -> dict[str, Any]:
    """The forms a generated module takes from its loader, by the alias it uses."""
    if kind == "act":
        return {"f": forms[0], "q": _prepare(forms[0])}
    out = {}
    for k, fn in enumerate(forms):
        if isinstance(fn, Composite):
            out.update({f"f{k}_{c}": child for c, child in enumerate(fn.forms)})
            out.update({f"q{k}_{c}": _prepare(child) for c, child in enumerate(fn.forms)})
        else:
            out[f"f{k}"] = fn
            out[f"q{k}"] = _prepare(fn)
    return out


class Composite:
    """The compiled form of a plug-in that runs sub-plug-ins (a Mixed rule): each child's form
    acts on a copy of ``field``, and every organisation keeps its own child's value."""

    def __init__(self, children: list[Any], forms: list[Any], field: str) -> None:
        self.children = children
        self.forms = forms
        self.field = field
        self.__module__ = "commons.sim.codegen"
        self.__qualname__ = "Composite(" + ", ".join(f.__qualname__ for f in forms) + ")"


def _form(plugin: Any, phase: str, values: Any) -> Any:
    from .replies import best_reply, draw_payoff
    fn = plugin.compiled_form(phase)
    needs = plugin.requires()
    if fn is not None and (("best_response" in needs and values not in best_reply.impls)
                           or ("evaluate" in needs and values not in draw_payoff.impls)):
        return None
    return fn


def compiled_forms(model: Any) -> list[Any]:
    """Per act of ``model``, its compiled form, or None where there is none or where it needs
    a compiled best reply or payoff (``"best_response"``, ``"evaluate"``) that the technology
    does not register; a plug-in with children gets
    a :class:`Composite` when each child's act compiles."""
    values = getattr(model.technology, "values_class", None)
    out = []
    for a in model.acts:
        kids = a.plugin.children()
        if kids and a.phase in ("decide", "learn"):
            forms = [_form(c, a.phase, values) for c in kids]
            field = "draws" if a.phase == "decide" else "next_draws"
            out.append(Composite(kids, forms, field) if all(f is not None for f in forms)
                       else None)
        else:
            out.append(_form(a.plugin, a.phase, values))
    return out


def _module(kind: str, source: str, forms: list[Any]) -> ModuleType:
    """Write ``source`` under its fingerprint in the cache folder (atomically) and load it."""
    key = _fingerprint(source, forms)
    name = f"commons_{kind}_{key}"
    with _LOCK:
        module = _LOADED.get(name)
        if module is None:
            folder = cache_dir() if all(importable(f) for f in _flat(forms)) else _scratch()
            path = folder / f"{name}.py"
            if not path.exists() or path.read_text() != source:
                tmp = folder / f".{path.name}.{os.getpid()}.{threading.get_ident()}"
                tmp.write_text(source)
                os.replace(tmp, path)
            module = _load(name, path, _injected(forms, kind))
            _LOADED[name] = module
    return module


def kernel_for(model: Any) -> CompiledPlan | None:
    """The compiled plan of a model, generated and loaded (None if no act compiles)."""
    from ._kernel import ensure_threading_layer
    ensure_threading_layer()
    forms = compiled_forms(model)
    if all(f is None for f in forms):
        return None
    batch = {}
    for k, (a, fn) in enumerate(zip(model.acts, forms, strict=True)):
        if fn is not None and not isinstance(fn, Composite):
            fields = view_fields(a.plugin, a.phase)
            module = _module("act", _act_source(fn, fields), [fn])
            batch[k] = (module.act, module.View, fields)
    fused = orgs = None
    if FUSE and all(f is not None for f in forms):
        module = _module("kernel", _source(model.acts, forms), forms)
        fused, orgs = module.run, module.orgs
    return CompiledPlan(fused, batch, forms, orgs)


def plugin_args(plugin: Plugin, st: Any, ctx: Any) -> tuple[tuple, tuple]:
    """(P, M) of a plug-in for its compiled form."""
    from .layout import compiled_memory, compiled_params
    return compiled_params(plugin, ctx), compiled_memory(plugin, st, ctx)
