"""The Model: plug-ins in their slots, checked at construction."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import networkx as nx
import numpy as np

from .._validation import as_real, check_integer
from ._params import Uniform
from .flow import Act, check_flow
from .network import TrustNetwork
from .plugin import Plugin

if TYPE_CHECKING:  # pragma: no cover
    from ..results import RunResult

__all__ = ["SLOTS", "Model", "stream_id"]

#: Each slot of a Model, the role it takes and whether it holds a list.
SLOTS: dict[str, tuple[str, bool]] = {
    "quota": ("quota", False),
    "technology": ("technology", False),
    "resource": ("resource", False),
    "monitoring": ("monitoring", False),
    "sanctions": ("sanction", True),
    "mechanisms": ("mechanism", True),
    "trust": ("trust", False),
    "rule": ("rule", False),
}


def stream_id(name: str) -> int:
    """The 32-bit Philox stream word of a plug-in's stream name (0 is the model's own).

    The first four bytes of SHA-256(name), little-endian: a function of the name alone, so a
    plug-in's random numbers do not depend on the other plug-ins of the model (the
    counter-based streams of Salmon et al. 2011, keyed like JAX's ``fold_in``).

    Parameters
    ----------
    name : str
        The plug-in's stable stream name, e.g. ``"sanction:PeerPunishment"``.

    Returns
    -------
    int
        The stream word, in [0, 2**32).
    """
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def _plugin_in(slot: str, value: Any) -> Plugin:
    role, many = SLOTS[slot]
    where = f"{slot}[...]" if many else slot
    if not isinstance(value, Plugin):
        raise TypeError(f"{where} takes a commons plug-in with role {role!r}, got "
                        f"{type(value).__name__}")
    if value.role != role:
        from .plugin import plugins
        names = ", ".join(c.__name__ for c in plugins(role=role)) or "none"
        hint = ""
        for other, (r, lst) in SLOTS.items():
            if r == value.role:
                hint = (f": pass it in {other}=[...]" if lst else f": pass it as {other}=")
        raise TypeError(f"{where} takes a plug-in with role {role!r} ({names}, or your own "
                        f"with role = {role!r}); got {type(value).__name__}, whose role is "
                        f"{value.role!r}{hint}")
    return value


class Model:
    r"""Organisations on a trust network drawing on a shared resource, round after round.

    Parameters
    ----------
    n : int
        Number of organisations N.
    technology : Plugin (role "technology")
        How draws become claims and payoffs (:class:`~commons.PrivateConcave`,
        :class:`~commons.StageGame`, :class:`~commons.Fishery`, :class:`~commons.LakeDamage`).
    resource : Plugin (role "resource"), optional
        The pool (:class:`~commons.LogisticStock`, :class:`~commons.CareBudget`,
        :class:`~commons.LakeStock`); default :class:`~commons.NoStock`.
    network : networkx.Graph, optional
        Trust network on exactly n nodes (default: no edges).
    rule : Plugin (role "rule"), optional
        Decision rule (default :class:`~commons.BestResponse`); :class:`~commons.Mixed` gives
        organisations different rules.
    quota : Plugin (role "quota"), optional
        The rule in use that sets the quota (default: none, quota = inf).
    monitoring : Plugin (role "monitoring"), optional
        Who is seen (default: nobody).
    sanctions : list of Plugin (role "sanction")
        Sanctions, appeals included, acting in list order.
    trust : Plugin (role "trust"), optional
        Trust dynamics (default :class:`~commons.ComplianceTrust` with rate 0.1, initial 0.5).
    mechanisms : list of Plugin (role "mechanism")
        Communication, self-governance and motivation, acting in list order.
    max_draw : float, (N,) or (R, N)
        The cap on each draw, in resource units per round (default: the game's endowments
        for a StageGame; required otherwise).
    initial_draws : float, array or Uniform, optional
        Draws in round 0 (default Uniform(0, 1) times max_draw).
    prosociality : float, (N,) or (R, N)
        Intrinsic motivation theta_i in [0, 1]: the weight on the group's mean payoff in an
        organisation's objective (used by best-response rules).
    tragedy_threshold : float
        A replicate ends in tragedy if the resource collapsed or, over the last tenth of the
        rounds, the group earned less than this share of the best sustainable rent.
    name : str, optional

    Raises
    ------
    TypeError
        A plug-in in a slot that does not take its role (naming the slot and what it takes).
    commons.sim.flow.FlowError
        Plug-ins whose declared reads and writes do not fit together (a fine with nothing to
        detect violators, two writers of one field, an appeal before the sanctions it reviews).

    Notes
    -----
    Within a phase the plug-ins act in slot order: quota, technology, resource, monitoring,
    sanctions, mechanisms, trust, rule. Each plug-in's random stream is keyed by its stable
    name (role and class, or the ``stream=`` it was given), so adding, removing or
    reordering other plug-ins leaves its random numbers unchanged.
    """

    def __init__(self, n: int, *, technology: Plugin, resource: Plugin | None = None,
                 network: nx.Graph | None = None, rule: Plugin | None = None,
                 quota: Plugin | None = None, monitoring: Plugin | None = None,
                 sanctions: Sequence[Plugin] = (), trust: Plugin | None = None,
                 mechanisms: Sequence[Plugin] = (), max_draw: Any = None,
                 initial_draws: Any = None, prosociality: Any = 0.0,
                 tragedy_threshold: float = 0.1, name: str | None = None) -> None:
        from .resources import NoStock
        from .rules.response import BestResponse
        from .technologies import StageGame
        from .trust import ComplianceTrust

        self.n = check_integer("n", n, low=1)
        self.network = TrustNetwork.from_graph(network, self.n)
        self.graph = network
        self.technology = _plugin_in("technology", technology)
        self.resource = NoStock() if resource is None else _plugin_in("resource", resource)
        self.rule = BestResponse() if rule is None else _plugin_in("rule", rule)
        self.quota = None if quota is None else _plugin_in("quota", quota)
        self.monitoring = None if monitoring is None else _plugin_in("monitoring", monitoring)
        self.sanctions = [_plugin_in("sanctions", s) for s in _as_list("sanctions", sanctions)]
        self.trust = ComplianceTrust() if trust is None else _plugin_in("trust", trust)
        self.mechanisms = [_plugin_in("mechanisms", m)
                           for m in _as_list("mechanisms", mechanisms)]
        if max_draw is None:
            if not isinstance(technology, StageGame):
                raise ValueError("max_draw must be given (the cap on each organisation's draw) "
                                 "unless the technology is a StageGame")
            max_draw = technology.game.endowment
        _check_values("max_draw", max_draw)
        if initial_draws is not None:
            _check_values("initial_draws", initial_draws)
        _check_values("prosociality", prosociality)
        self.max_draw = max_draw
        self.initial_draws = initial_draws
        self.prosociality = prosociality
        self.tragedy_threshold = as_real("tragedy_threshold", tragedy_threshold, low=0.0,
                                         high=1.0)
        self.name = name or "model"
        seen: set[int] = set()
        for p in self.all_plugins():
            if id(p) in seen:
                raise ValueError(f"the plug-in {p!r} is used twice in one model; "
                                 "create a separate instance for each role")
            seen.add(id(p))
        self.names = _stream_names(self.slotted(), self.all_plugins)
        self.acts: list[Act] = check_flow(self.slotted())
        from . import targets
        targets.check(self)

    # ------------------------------------------------------------------ structure
    def slotted(self) -> list[tuple[str, Plugin]]:
        """(slot, plug-in) pairs in the order they act within a phase.

        Returns
        -------
        list of (str, Plugin)
            Slots quota, technology, resource, monitoring, sanctions, mechanisms, trust, rule.
        """
        out: list[tuple[str, Plugin]] = []
        for slot, (_, many) in SLOTS.items():
            value = getattr(self, slot)
            if many:
                out.extend((slot, p) for p in value)
            elif value is not None:
                out.append((slot, value))
        return out

    def components(self) -> list[Plugin]:
        """Top-level plug-ins, in the order they act within a phase.

        Returns
        -------
        list of Plugin
            The plug-ins of :meth:`slotted`.
        """
        return [p for _, p in self.slotted()]

    def all_plugins(self) -> list[Plugin]:
        """Every plug-in, sub-rules of a Mixed rule included (each gets its own stream).

        Returns
        -------
        list of Plugin
            Each top-level plug-in followed by its children.
        """
        out: list[Plugin] = []
        for p in self.components():
            out.append(p)
            out.extend(p.children())
        return out

    def replace(self, **changes: Any) -> Model:
        """A new model with some slots or settings changed, e.g. ``replace(sanctions=[])``.

        Plug-ins are shared with this model (they hold no run state).

        Parameters
        ----------
        **changes
            New values of any of the constructor's keyword arguments (slots, ``network``,
            ``max_draw``, ``initial_draws``, ``prosociality``, ``tragedy_threshold``,
            ``name``).

        Returns
        -------
        Model
            The new model, checked as at construction.

        Raises
        ------
        TypeError
            An unknown setting.
        """
        keys = ("technology", "resource", "rule", "quota", "monitoring", "sanctions", "trust",
                "mechanisms", "max_draw", "initial_draws", "prosociality",
                "tragedy_threshold", "name")
        unknown = set(changes) - set(keys) - {"network"}
        if unknown:
            raise TypeError(f"replace: unknown settings {sorted(unknown)}; use {keys}")
        kw = {k: getattr(self, k) for k in keys}
        kw["network"] = self.graph
        kw.update(changes)
        return Model(self.n, **kw)

    def describe(self) -> dict[str, Any]:
        """The model's composition and parameters, for provenance.

        Returns
        -------
        dict
            ``name``, ``n``, ``edges``, ``components`` (each slot's plug-in described),
            ``streams`` (stream name -> class), and summaries of ``max_draw``,
            ``initial_draws``, ``prosociality`` and ``tragedy_threshold``.
        """
        return {"name": self.name, "n": self.n, "edges": self.network.n_edges,
                "components": {role: (p.describe() if p is not None else None)
                               for role, p in self._roles().items()},
                "streams": {self.names[p]: type(p).__name__ for p in self.all_plugins()},
                "max_draw": _summ(self.max_draw), "initial_draws": _summ(self.initial_draws),
                "prosociality": _summ(self.prosociality),
                "tragedy_threshold": self.tragedy_threshold}

    def _roles(self) -> dict[str, Any]:
        roles: dict[str, Any] = {"technology": self.technology, "resource": self.resource,
                                 "rule": self.rule, "quota": self.quota,
                                 "monitoring": self.monitoring, "trust": self.trust}
        for k, s in enumerate(self.sanctions):
            roles[f"sanction{k}"] = s
        for k, m in enumerate(self.mechanisms):
            roles[f"mechanism{k}"] = m
        return roles

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={type(v).__name__}" for k, v in self._roles().items()
                          if v is not None)
        return f"Model(n={self.n}, {parts})"

    # ------------------------------------------------------------------ running
    def run(self, rounds: int, replicates: int = 1, *, rng: Any = None,
            record: Literal["summary", "full", "final"] | Sequence[str] = "summary",
            engine: str = "auto",
            point: Any = 0, replicate_ids: Any = None) -> RunResult:
        """Run the model for ``rounds`` rounds in ``replicates`` replicates at once.

        Parameters
        ----------
        rounds : int
            Number of rounds T >= 1.
        replicates : int
            Number of replicates R >= 1.
        rng : None, int, SeedSequence or Generator
            The seed (see :func:`commons.simulate`).
        record : {"summary", "full", "final"} or sequence of str
            What to keep: per-round series, also per-organisation arrays, the end only, or
            only the named series (see :func:`commons.simulate`).
        engine : {"auto", "numba", "numpy"}
            Compiled forms where available, compiled forms required, or numpy throughout.
        point : int or (R,) array of int
            Sweep-point index, part of every replicate's seed.
        replicate_ids : array of int, optional
            Which replicate indices to run.

        Returns
        -------
        RunResult
            Series, metrics, final state and provenance (:func:`commons.simulate`).
        """
        from .engine import simulate
        return simulate(self, rounds=rounds, replicates=replicates, rng=rng, record=record,
                        engine=engine, point=point, replicate_ids=replicate_ids)


def _as_list(slot: str, value: Any) -> list[Plugin]:
    if isinstance(value, Plugin):
        raise TypeError(f"{slot} takes a list of plug-ins, got a single "
                        f"{type(value).__name__}: use {slot}=[{type(value).__name__}(...)]")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{slot} takes a list of plug-ins, got {type(value).__name__}") \
            from None


def _check_values(name: str, value: Any) -> None:
    if isinstance(value, Uniform):
        return
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, an array of numbers or a Uniform, got "
                        f"{value!r}") from None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def _stream_names(slotted: list[tuple[str, Plugin]], all_plugins) -> dict[Plugin, str]:
    names: dict[Plugin, str] = {}
    counts: dict[str, int] = {}

    def base(p: Plugin) -> str:
        return f"{p.role}:{type(p).__name__}"

    def add(p: Plugin, default: str) -> None:
        if p.stream is not None:
            name = p.stream
        else:
            counts[default] = counts.get(default, 0) + 1
            name = default if counts[default] == 1 else f"{default}#{counts[default]}"
        names[p] = name

    for _, p in slotted:
        add(p, base(p))
        for k, child in enumerate(p.children()):
            add(child, f"{base(p)}/{k}:{type(child).__name__}")
    by_name: dict[str, Plugin] = {}
    by_sid: dict[int, str] = {}
    for p, name in names.items():
        if name in by_name:
            raise ValueError(f"two plug-ins have the stream name {name!r} "
                             f"({type(by_name[name]).__name__} and {type(p).__name__}); "
                             "give each its own stream=")
        by_name[name] = p
        sid = stream_id(name)
        if sid == 0 or sid in by_sid:
            raise ValueError(f"the stream names {name!r} and {by_sid.get(sid, 'the model')!r} "
                             "hash to one stream; rename one with stream=")
        by_sid[sid] = name
    return names


def _summ(v: Any) -> Any:
    if isinstance(v, Uniform):
        return {"uniform": [v.low, v.high]}
    if v is None or np.ndim(v) == 0:
        return None if v is None else float(v)
    a = np.asarray(v, dtype=float)
    return {"shape": list(a.shape), "min": float(a.min()), "max": float(a.max())}
