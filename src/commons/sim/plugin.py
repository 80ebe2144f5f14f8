r"""Plug-ins: model components that fill the phases of a round and declare what they are.

A plug-in author's guide
========================

The round
---------
A round has eight phases, always in this order (:data:`PHASES`):

1. ``communicate``: meetings, pledges, votes, quotas, boundaries;
2. ``decide``: the decision rule sets ``draws``; the engine clips them to [0, max_draw] and
   zeroes the excluded;
3. ``appropriate``: the technology turns draws into claims (``demand``), the resource grants
   them (``granted``, rationed proportionally); the engine then sets ``compliant``;
4. ``pay``: the technology sets ``gross`` payoffs;
5. ``monitor``: who is inspected (``detect_prob``, ``inspected``), what is seen
   (``observed``), who is ``detected`` over the quota;
6. ``sanction``: fines, fees, punishment, appeals, gossip, transfers; the engine then settles
   the money (``fines``, ``costs``, ``transfers``, ``payoffs``);
7. ``learn``: trust and motivation update; the decision rule chooses ``next_draws``;
8. ``regenerate``: the resource regrows, shocks strike, collapse is recorded.

Within a phase, plug-ins act in the order of the model's slots: quota, technology, resource,
monitoring, sanctions (in list order), mechanisms (in list order), trust, rule.

The State
---------
Plug-ins read and write the :class:`~commons.sim.state.State`, arrays of shape (R,) per
replicate, (R, N) per organisation and (R, E) per directed edge, for all R replicates at once.
Every field is declared in :data:`commons.sim.state.FIELDS` with its shape, units and who may
write it (``commons.State.describe_fields()`` prints the table). Money moves only through
``state.charge(kind, amount, recipient)`` (kind "fine" or "cost"; recipient "regulator",
"burned" or "members") and ``state.transfer(amount)`` (between members, summing to zero).

What a plug-in declares
-----------------------
* ``role``: the slot it fills (:data:`ROLES`); ``Model`` accepts it in that slot only;
* ``phases`` and one method per phase, ``phase(self, state, ctx)``;
* ``reads`` and ``writes``: per phase, the State fields it reads and writes (``"charges"`` for
  ``charge``/``refund``, ``"transfers"`` for ``transfer``). ``Model`` checks the flow: every
  field read has a writer or an initial value; a field that is not accumulating has one
  writer. :func:`commons.testing.check_plugin` checks that the plug-in does what it declares;
* ``after``: per phase, fields whose every other writer in that phase must act before this
  plug-in (an appeal reviews the sanctions of the round, so it comes after them);
* ``memory``: private arrays it keeps between rounds, ``{key: (shape, dtype)}`` with shape
  "replicate", "org" or "edge" (optionally followed by names of its own integer attributes
  giving trailing axes); the engine allocates them as zeros in ``state.memory[name]``
  (``self.mem(state, ctx)``) and ``setup`` may fill them;
* its classifier: ``stochastic`` (draws random numbers), ``budget_balanced`` (the money it
  moves stays in the group), ``payer`` (who bears its cost) and ``external`` (a control from
  outside the group, which crowding-out reads).

Parameters are validated and broadcast over replicates in ``bind(ctx)``, which returns a dict
of arrays (``ctx.params[self]``); any scalar may be an (R,) array, so a sweep runs in one batch.
Random numbers come from ``ctx.uniforms(self, n)``: a counter-based stream keyed by the
plug-in's stable name (its role and class, or ``stream=`` given to any plug-in's constructor),
so adding, removing or reordering other plug-ins never changes them.

A worked example: a fine that grows with distrust
-------------------------------------------------
A detected violator pays ``rate`` per unit over the quota, times how little its watchers trust
it (1 - mean trust on the edges into it). Best replies weigh the expected rate::

    import numpy as np
    import commons

    class ReputationFine(commons.Plugin):
        '''rate (1 - trust in i) per unit seen over the quota, for detected violators.'''

        role = "sanction"
        phases = ("sanction",)
        reads = {"sanction": ("detected", "observed", "quota", "trust", "detect_prob")}
        writes = {"sanction": ("charges", "sanctioned", "penalty_rate")}
        budget_balanced = False
        payer = "violator"

        def __init__(self, rate):
            self.rate = rate

        def bind(self, ctx):
            return {"rate": commons.per_replicate("rate", self.rate, ctx.R, low=0.0)}

        def sanction(self, st, ctx):
            net = ctx.network
            watchers = np.maximum(np.bincount(net.indices, minlength=ctx.N), 1)
            distrust = 1.0 - net.in_edge_sums(st.trust) / watchers
            rate = ctx.params[self]["rate"][:, None] * distrust
            fine = np.where(st.detected, rate * np.maximum(st.observed - st.quota, 0.0), 0.0)
            st.charge("fine", fine, "regulator")
            st.sanctioned |= fine > 0
            st.penalty_rate += rate * st.detect_prob

    commons.testing.check_plugin(ReputationFine(5.0))   # the contract holds
    model = commons.scenarios.benchmark_cpr_v1(30)
    model = model.replace(sanctions=[ReputationFine(5.0)])
    print(model.run(50, 8, rng=1).metrics["efficiency"].mean())

A compiled form
---------------
A plug-in with only a numpy form runs in any model, act by act beside the compiled built-ins.
To run in the model's fused kernel, give a phase a compiled form: a function for one replicate,
in the subset of Python numba compiles, marked ``@jitable`` and registered with
:func:`compiled`::

    from commons.sim._jit import jitable
    from commons.sim.plugin import compiled

    ReputationFine.cparams = ("rate",)   # what P holds, in order

    @jitable
    def _fine_one(r, i, S, net, rate):  # organisation i of replicate r
        watchers = net.in_ptr[i + 1] - net.in_ptr[i]
        trust = 0.0
        for k in range(net.in_ptr[i], net.in_ptr[i + 1]):
            trust += S.trust[r, net.in_edges[k]]
        rate_i = rate[r] * (1.0 - trust / max(watchers, 1))
        if S.detected[r, i]:
            fine = rate_i * max(S.observed[r, i] - S.quota[r, i], 0.0)
            S.charges[r, 0, i] += fine     # row 0: fines to the regulator (charge_index)
            S.sanctioned[r, i] = S.sanctioned[r, i] or fine > 0.0
        S.penalty_rate[r, i] += rate_i * S.detect_prob[r, i]

    @compiled(ReputationFine, "sanction")
    @jitable
    def _reputation_fine(r, t, S, P, M, rng, net, TP):
        (rate,) = P
        for i in range(S.detected.shape[1]):
            _fine_one(r, i, S, net, rate)

    commons.testing.check_plugin(ReputationFine(5.0))   # now also: both forms, same bits
    print(model.run(50, 8, rng=1).provenance["engine"])  # "numba": fused with the built-ins

S holds only the fields the plug-in declares (a form that touches another does not compile);
P its ``cparams``, M its ``memory`` arrays, ``rng`` its stream for
:func:`commons.sim._jit.u4`, ``net`` the network's CSR arrays
(:class:`commons.sim.layout.CNet`; its offsets and organisation and edge numbers are
unsigned, so take ``int(...)`` of a difference that may go below zero) and TP the
technology's compiled values.
:func:`commons.testing.check_plugin` then also checks that the two forms give the same bits.

A form whose organisations are independent within the act (each one's outputs depend on its
own row and on what earlier acts wrote, as here) can say so, and a run of fewer replicates than
threads then shares each replicate's organisations among the threads::

    @compiled(ReputationFine, "sanction", orgs=True)
    @jitable
    def _reputation_fine_split(r, t, S, P, M, rng, net, TP, i0, i1):
        (rate,) = P
        for i in range(i0, i1):             # only organisations i0..i1-1
            _fine_one(r, i, S, net, rate)

It writes only the rows of organisations i0..i1-1 (and the edges leaving them), and a
replicate's own fields (``S.external[r]``) only when ``i0 == 0``. A form without ``orgs``
runs in one thread while the others wait, with the same bits. ``i0`` and ``i1`` are unsigned
(uint64), so a loop over them indexes without numba's negative-index test, as a loop over
``range(N)`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .state import FIELDS

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Context
    from .state import State

__all__ = ["PHASES", "ROLES", "Plugin", "compiled", "plugins"]

PHASES: tuple[str, ...] = ("communicate", "decide", "appropriate", "pay", "monitor",
                           "sanction", "learn", "regenerate")

#: Each role (the slot of ``Model`` it fills) and what fills it.
ROLES: dict[str, str] = {
    "technology": "how draws become claims and payoffs",
    "resource": "the pool: granting, regrowth, collapse",
    "quota": "the rule in use that sets each organisation's quota",
    "monitoring": "who is inspected and what is seen",
    "sanction": "fines, fees, punishment, appeals",
    "trust": "how trust on the network's edges moves",
    "rule": "how organisations choose their draws",
    "mechanism": "communication, self-governance and motivation",
}

#: Channels a plug-in may name besides State fields.
CHANNELS = frozenset(FIELDS) | {"memory"}

_REGISTRY: list[type[Plugin]] = []
_BUILT_INS = ("commons.sim.mechanisms", "commons.sim.rules", "commons.sim.resources",
              "commons.sim.technologies", "commons.sim.trust")


class Plugin:
    """Base class of every model component; see the module's plug-in author's guide.

    Every plug-in's constructor also accepts ``stream=``, a name for its random stream (default:
    its role and class name). Give one when a model holds two plug-ins of the same class and
    role, so that each keeps its numbers whatever the other does.

    Parameters
    ----------
    stream : str, optional
        The name of the plug-in's random stream (keyword only, accepted by every subclass).

    Attributes
    ----------
    role : str
        The slot it fills (:data:`ROLES`).
    phases : tuple of str
        The phases it acts in (:data:`PHASES`), with one method each.
    reads, writes : dict
        Per phase, the State fields read and written (``"charges"``, ``"transfers"``).
    after : dict
        Per phase, fields whose every other writer in that phase must act first.
    memory : dict
        Private arrays kept between rounds: ``{key: (shape, dtype, *axes)}``.
    cparams : tuple of str
        The bound parameters its compiled forms receive, in order.
    stochastic, budget_balanced, external : bool
        Its classifier: draws random numbers; the money it moves stays in the group; a control
        from outside the group.
    payer : str
        Who bears its cost ("none", "violator", "members", "monitor", "regulator", ...).
    """

    role: ClassVar[str] = ""
    phases: ClassVar[tuple[str, ...]] = ()
    reads: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    writes: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    after: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    memory: ClassVar[Mapping[str, tuple[Any, ...]]] = {}
    cparams: ClassVar[tuple[str, ...]] = ()
    stochastic: ClassVar[bool] = False
    budget_balanced: ClassVar[bool] = True
    payer: ClassVar[str] = "none"
    external: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _accept_stream(cls.__dict__["__init__"])
        if cls.__module__.startswith("commons.") and not cls.__name__.startswith("_") \
                and cls.role and cls.__dict__.get("registered", True):
            _REGISTRY.append(cls)

    def __init__(self, *, stream: str | None = None) -> None:
        _set_stream(self, stream)

    # ------------------------------------------------------------------ declarations
    @property
    def stream(self) -> str | None:
        """The random-stream name given by the user (None: the model names it)."""
        return getattr(self, "_stream", None)

    def access(self, phase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(reads, writes) of ``phase``: the class declarations, unless a plug-in whose
        access depends on its options overrides this.

        Parameters
        ----------
        phase : str
            One of :data:`PHASES`.

        Returns
        -------
        reads, writes : tuple of str
            The State fields (and channels) read and written in ``phase``.
        """
        return tuple(self.reads.get(phase, ())), tuple(self.writes.get(phase, ()))

    def view(self, phase: str) -> tuple[str, ...]:
        """The State fields the compiled form of ``phase`` may touch: its declared reads and
        writes (a plug-in whose one form serves several options, each declaring less, returns
        their union). Compiled code sees only these fields.

        Parameters
        ----------
        phase : str
            One of :data:`PHASES`.

        Returns
        -------
        tuple of str
            The declared reads, then the declared writes.
        """
        reads, writes = self.access(phase)
        return (*reads, *writes)

    def ordering(self, phase: str) -> tuple[str, ...]:
        """Fields whose every other writer in ``phase`` must act before this plug-in.

        Parameters
        ----------
        phase : str
            One of :data:`PHASES`.

        Returns
        -------
        tuple of str
            The fields named in ``after[phase]``.
        """
        return tuple(self.after.get(phase, ()))

    def memory_shapes(self, R: int, N: int, E: int) -> dict[str, tuple[tuple[int, ...], type]]:
        """Shapes and dtypes of the declared memory for R replicates, N organisations, E edges.

        Parameters
        ----------
        R, N, E : int
            Replicates, organisations and directed edges.

        Returns
        -------
        dict
            ``{key: (shape, dtype)}``: shape (R,), (R, N) or (R, E) for "replicate", "org" or
            "edge", followed by the values of any attributes named after the shape.
        """
        base = {"replicate": (R,), "org": (R, N), "edge": (R, E)}
        out = {}
        for key, (shape, dtype, *extra) in self.memory.items():
            dims = base[shape] + tuple(int(getattr(self, a)) for a in extra)
            out[key] = (dims, dtype)
        return out

    def requires(self) -> tuple[str, ...]:
        """What the plug-in needs of the model, checked at construction: "edges" (a network
        with edges), "best_response", "evaluate", "nash", "optimum" (from the technology).

        Returns
        -------
        tuple of str
            The requirements; empty by default.
        """
        return ()

    def compiled_form(self, phase: str) -> Callable[..., None] | None:
        """The compiled form of ``phase`` (see :func:`compiled`), or None.

        A form registered for a class serves its subclasses only while they keep the class's
        phase method; a subclass that overrides the method runs its numpy form until it
        registers a compiled form of its own. Plug-ins whose form supports only some options
        override this to return None for the others.

        Parameters
        ----------
        phase : str
            One of :data:`PHASES`.

        Returns
        -------
        callable or None
            The function registered with :func:`compiled`, or None.
        """
        method = getattr(type(self), phase, None)
        for klass in type(self).__mro__:
            forms = klass.__dict__.get("_compiled_forms", {})
            if phase in forms:
                registered, fn = forms[phase]
                return fn if registered is method else None
        return None

    def children(self) -> list[Plugin]:
        """Plug-ins this one runs itself (a Mixed rule's sub-rules); the engine binds them.

        Returns
        -------
        list of Plugin
            The sub-plug-ins, each with its own stream; empty by default.
        """
        return []

    # ------------------------------------------------------------------ life cycle
    def bind(self, ctx: Context) -> dict[str, Any]:
        """Validate parameters for ``ctx.R`` replicates and ``ctx.N`` organisations.

        Called once per run, on first use of ``ctx.params[self]``. Broadcast every scalar to
        (R,) with :func:`commons.per_replicate` and every per-organisation value to (R, N)
        with :func:`commons.per_org`, so that any parameter may vary over replicates.

        Parameters
        ----------
        ctx : Context
            The run's context (sizes, network, other plug-ins' parameters).

        Returns
        -------
        dict
            The bound parameters, kept as ``ctx.params[self]``; empty by default.
        """
        return {}

    def setup(self, state: State, ctx: Context) -> None:
        """Initialise this plug-in's part of the state before round 0.

        Parameters
        ----------
        state : State
            The state, every field at its initial value and memory allocated as zeros.
        ctx : Context
            The run's context; ``ctx.setup_uniforms(self)`` gives set-up random numbers.
        """

    def mem(self, state: State, ctx: Context) -> dict[str, Any]:
        """This plug-in's memory in ``state`` (declared by ``memory``).

        Parameters
        ----------
        state : State
            The run's state.
        ctx : Context
            The run's context, which knows the plug-in's stable name.

        Returns
        -------
        dict
            ``{key: array}`` with the shapes of :meth:`memory_shapes`.
        """
        return state.memory[ctx.names[self]]

    # ------------------------------------------------------------------ provenance
    def params(self) -> dict[str, Any]:
        """Parameters for provenance records.

        Returns
        -------
        dict
            The public attributes, arrays as lists, plug-ins described, others as their repr.
        """
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

    def metadata(self) -> dict[str, Any]:
        """Declared role, phases and classifier.

        Returns
        -------
        dict
            ``role``, ``phases``, ``stochastic``, ``budget_balanced``, ``payer``, ``external``.
        """
        return {"role": self.role, "phases": list(self.phases), "stochastic": self.stochastic,
                "budget_balanced": self.budget_balanced, "payer": self.payer,
                "external": self.external}

    def describe(self) -> dict[str, Any]:
        """Name, parameters and metadata, for provenance.

        Returns
        -------
        dict
            ``name`` (the class), ``params``, the :meth:`metadata` and ``stream`` if given.
        """
        out = {"name": type(self).__name__, "params": self.params(), **self.metadata()}
        if self.stream is not None:
            out["stream"] = self.stream
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({inner})"

    # identity semantics: a plug-in instance is a key of ctx.params
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


def compiled(plugin_cls: type[Plugin], *phases: str, orgs: bool = False,
             prepare: Callable | None = None) -> Callable[[Callable], Callable]:
    """Register a function as the compiled form of ``plugin_cls``'s ``phases``.

    The function is written once, for one replicate, in the subset of Python numba compiles
    (mark it ``@jitable``), with the signature ``fn(r, t, S, P, M, rng, net, TP)``: replicate
    r, round t, the state S (:class:`~commons.sim.layout.CState`, arrays with a leading
    replicate axis), the plug-in's parameters P (the values named by its ``cparams``, in that
    order), its memory M (its ``memory`` arrays, in declared order), rng = (key0, key1,
    stream) for :func:`~commons.sim._jit.u4`, the network (:class:`~commons.sim.layout.CNet`)
    and the technology's compiled values TP. The engine composes the forms of a model into
    one kernel; a model with any plug-in lacking a form runs act by act, compiled where it can.

    Parameters
    ----------
    plugin_cls : type
        The plug-in class.
    *phases : str
        The phases the function is the compiled form of.
    orgs : bool
        The form takes two more arguments, ``fn(r, t, S, P, M, rng, net, TP, i0, i1)``
        (uint64), and acts for organisations i0..i1-1 only: it writes their rows (and the
        edges leaving them) from what earlier acts wrote, and a replicate's own fields
        (``S.external[r]``) only when ``i0 == 0``. A replicate of many organisations is then
        shared among threads when a run has fewer replicates than threads; a form without it
        runs in one thread while the others wait. The engine calls it with (0, N) otherwise.
    prepare : callable, optional
        With ``orgs``: a ``@jitable`` function of the same signature, run for every
        organisation before the form, which may then read what it wrote for any
        organisation. Threads sharing a replicate each prepare their organisations and meet
        at a barrier before the form; a replicate in one thread is prepared whole. It writes
        only its organisations' rows of the plug-in's memory (e.g. each organisation's
        compliance as its partners judge it, gathered once per edge by the form).

    Returns
    -------
    callable
        A decorator that registers the function and returns it unchanged.

    Raises
    ------
    ValueError
        ``prepare`` without ``orgs``.
    """
    if prepare is not None and not orgs:
        raise ValueError("prepare= runs per organisation range: it needs orgs=True")

    def deco(fn: Callable) -> Callable:
        if orgs:
            fn.orgwise = True
        if prepare is not None:
            fn.prepare = prepare
        forms = dict(plugin_cls.__dict__.get("_compiled_forms", {}))
        for ph in phases:
            forms[ph] = (getattr(plugin_cls, ph), fn)
        plugin_cls._compiled_forms = forms
        return fn
    return deco


def _accept_stream(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def __init__(self, *args: Any, stream: str | None = None, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        _set_stream(self, stream)
    return __init__


def _set_stream(plugin: Plugin, stream: str | None) -> None:
    if stream is not None:
        if not isinstance(stream, str) or not stream:
            raise TypeError(f"stream must be a non-empty string, got {stream!r}")
        plugin._stream = stream


def _classifier(cls: type[Plugin], key: str) -> Any:
    value = getattr(cls, key)
    return "varies" if isinstance(value, property) else value


def plugins(**filters: Any) -> list[type[Plugin]]:
    """The library's plug-in classes, filtered by what they declare.

    Filters: ``role`` (see :data:`ROLES`), ``phase`` (one of :data:`PHASES`), and the
    classifier: ``stochastic``, ``budget_balanced``, ``payer``, ``external``. A classifier that
    depends on the plug-in's parameters (e.g. a fine is budget-balanced when it goes to the
    members) is "varies" and matches only ``"varies"``.

    Parameters
    ----------
    **filters
        ``role``, ``phase``, ``stochastic``, ``budget_balanced``, ``payer`` or ``external``,
        each matched for equality.

    Returns
    -------
    list of type
        The matching plug-in classes, sorted by name.

    Raises
    ------
    TypeError
        An unknown filter.

    Examples
    --------
    >>> import commons
    >>> [c.__name__ for c in commons.plugins(phase="monitor")]
    ['CentralAudit', 'PeerMonitoring']
    """
    import importlib
    for module in _BUILT_INS:  # the library's plug-ins register when their modules load
        importlib.import_module(module)
    allowed = {"role", "phase", "stochastic", "budget_balanced", "payer", "external"}
    unknown = set(filters) - allowed
    if unknown:
        raise TypeError(f"plugins: unknown filter {sorted(unknown)}; use {sorted(allowed)}")
    out = []
    for cls in _REGISTRY:
        ok = True
        for key, want in filters.items():
            if key == "phase":
                ok &= want in cls.phases
            else:
                ok &= _classifier(cls, key) == want
        if ok:
            out.append(cls)
    return sorted(out, key=lambda c: c.__name__)
