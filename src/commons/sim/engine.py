"""The round loop: a model of organisations on a trust network, run for R replicates at once.

One round is the eight phases of :data:`commons.plugin.PHASES`, each filled by the model's
plug-ins in a fixed order. The state of all R replicates is held in arrays of shape (R, N) and
(R, E), so there is no Python loop over organisations or replicates. Where every component has
a compiled form (the CPR-v1 family: see :mod:`commons._kernel`), ``engine="auto"`` runs the
whole simulation in one fused, parallel numba kernel that draws the same random numbers and
gives the same results as this numpy reference.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import networkx as nx
import numpy as np

from .._validation import as_real, check_integer
from .._version import version as _version
from ..exact.game import CPRGame
from ..results import RunResult, compute_metrics
from ._params import Uniform, per_org
from .mechanisms.governance import no_quota
from .network import TrustNetwork
from .plugin import PHASES, Plugin
from .resources import NoStock, Resource
from .rules.base import Rule
from .rules.response import BestResponse
from .state import State
from .streams import Streams, replicate_keys, resolve_seed
from .technologies import StageGame, Technology
from .trust import ComplianceTrust

__all__ = ["Model", "PluginError", "simulate"]

RecordMode = Literal["summary", "full", "final"]
SERIES = ("mean_draw", "total_granted", "stock", "rent", "compliance", "fines", "costs",
          "mean_trust", "regulator_income", "regulator_spending", "burned", "wrongful",
          "excluded")


class PluginError(RuntimeError):
    """A plug-in produced an invalid state (NaN, infinity, a negative draw) during a run."""


class Context:
    """What the plug-ins see besides the state: sizes, parameters, network and random streams."""

    def __init__(self, model: Model, R: int, rounds: int, streams: Streams,
                 network: TrustNetwork) -> None:
        self.model = model
        self.R = R
        self.N = model.n
        self.rounds = rounds
        self.t = -1
        self.streams = streams
        self.network = network
        self.resource = model.resource
        self.technology = model.technology
        self.params: dict[Plugin, dict[str, Any]] = {}
        self.stream_ids = {p: k + 1 for k, p in enumerate(model.all_plugins())}
        self.max_draw = np.zeros((R, model.n))
        self.prosociality = np.zeros((R, model.n))

    def setup_uniforms(self, plugin: Plugin) -> np.ndarray:
        """Set-up uniforms (R, N, 4) of this plug-in's stream."""
        return self.streams.uniforms(-1, self.stream_ids[plugin], self.N)

    def uniforms(self, plugin: Plugin, n: int | None = None, block: int = 0) -> np.ndarray:
        """This round's uniforms (R, n, 4) of the plug-in's stream (n defaults to N)."""
        return self.streams.uniforms(self.t, self.stream_ids[plugin],
                                     self.N if n is None else n, block)


class Model:
    r"""Organisations on a trust network drawing on a shared resource, round after round.

    Parameters
    ----------
    n : int
        Number of organisations N.
    technology : Technology
        How draws become claims and payoffs (:class:`~commons.PrivateConcave`,
        :class:`~commons.StageGame`, :class:`~commons.Fishery`, :class:`~commons.LakeDamage`).
    resource : Resource, optional
        The pool (:class:`~commons.LogisticStock`, :class:`~commons.CareBudget`,
        :class:`~commons.LakeStock`); default :class:`~commons.NoStock`.
    network : networkx.Graph, optional
        Trust network on exactly n nodes (default: no edges).
    rule : Rule, optional
        Decision rule (default :class:`~commons.BestResponse`); use :class:`~commons.Mixed`
        to give organisations different rules.
    quota : Plugin, optional
        The rule in use that sets the quota (default: none, quota = inf).
    monitoring : Plugin, optional
        Who is seen (default: nobody).
    sanctions : sequence of Plugin
        Sanction plug-ins, applied in order.
    trust : Plugin, optional
        Trust dynamics (default :class:`~commons.ComplianceTrust` with rate 0.1, initial 0.5).
    mechanisms : sequence of Plugin
        Further plug-ins (communication, governance, ...), in phase order.
    max_draw : float, (N,) or (R, N)
        The cap on each draw (default: the game's endowments for a StageGame; required
        otherwise).
    initial_draws : float, array or Uniform, optional
        Draws in round 0 (default Uniform(0, 1) times max_draw).
    prosociality : float, (N,) or (R, N)
        Intrinsic motivation theta_i in [0, 1]: the weight on the group's mean payoff in an
        organisation's objective (used by best-response rules).
    tragedy_threshold : float
        A replicate ends in tragedy if the resource collapsed or, over the last tenth of the
        rounds, the group earned less than this share of the best sustainable rent.
    """

    def __init__(self, n: int, *, technology: Technology, resource: Resource | None = None,
                 network: nx.Graph | None = None, rule: Rule | None = None,
                 quota: Plugin | None = None, monitoring: Plugin | None = None,
                 sanctions: Sequence[Plugin] = (), trust: Plugin | None = None,
                 mechanisms: Sequence[Plugin] = (), max_draw: Any = None,
                 initial_draws: Any = None, prosociality: Any = 0.0,
                 tragedy_threshold: float = 0.1, name: str | None = None) -> None:
        self.n = check_integer("n", n, low=1)
        _need("technology", technology, Technology)
        self.technology = technology
        self.resource = NoStock() if resource is None else _need("resource", resource, Resource)
        self.network = TrustNetwork.from_graph(network, self.n)
        self.rule = BestResponse() if rule is None else _need("rule", rule, Rule)
        self.quota = None if quota is None else _need("quota", quota, Plugin)
        self.monitoring = None if monitoring is None else _need("monitoring", monitoring, Plugin)
        self.sanctions = [_need("sanctions", s, Plugin) for s in sanctions]
        self.trust = ComplianceTrust() if trust is None else _need("trust", trust, Plugin)
        self.mechanisms = [_need("mechanisms", m, Plugin) for m in mechanisms]
        if max_draw is None:
            if not isinstance(technology, StageGame):
                raise ValueError("max_draw must be given (the cap on each organisation's draw) "
                                 "unless the technology is a StageGame")
            max_draw = technology.game.endowment
        self.max_draw = max_draw
        self.initial_draws = initial_draws
        self.prosociality = prosociality
        self.tragedy_threshold = as_real("tragedy_threshold", tragedy_threshold, low=0.0,
                                         high=1.0)
        self.name = name or "model"
        from .mechanisms.conflict import Appeal
        kinds = [isinstance(s, Appeal) for s in self.sanctions]
        if any(kinds) and not all(kinds[kinds.index(True):]):
            raise ValueError("sanctions: an Appeal reviews the sanctions before it, so it must "
                             "come after them in the list")
        seen: set[int] = set()
        for p in self.all_plugins():
            if id(p) in seen:
                raise ValueError(f"the plug-in {p!r} is used twice in one model; "
                                 "create a separate instance for each role")
            seen.add(id(p))

    # ------------------------------------------------------------------ structure
    def components(self) -> list[Plugin]:
        """Top-level plug-ins, in the order they act within a phase.

        The quota rule first (so that mechanisms which vote or override it come after it),
        then the resource, technology, monitoring and sanctions, then the further mechanisms
        (so that transfers see the round's fines), trust and the decision rule last.
        """
        parts: list[Plugin | None] = [self.quota, self.resource, self.technology,
                                      self.monitoring, *self.sanctions, *self.mechanisms,
                                      self.trust, self.rule]
        return [p for p in parts if p is not None]

    def all_plugins(self) -> list[Plugin]:
        """Every plug-in, sub-rules of a Mixed rule included (each gets its own stream)."""
        out: list[Plugin] = []
        for p in self.components():
            out.append(p)
            out.extend(getattr(p, "children", lambda: [])())
        return out

    def describe(self) -> dict[str, Any]:
        """The model's composition and parameters, for provenance."""
        return {"name": self.name, "n": self.n, "edges": self.network.n_edges,
                "components": {role: (p.describe() if p is not None else None)
                               for role, p in self._roles().items()},
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
            record: RecordMode = "summary", engine: str = "auto", point: Any = 0,
            replicate_ids: Any = None) -> RunResult:
        """Run the model; see :func:`simulate`."""
        return simulate(self, rounds=rounds, replicates=replicates, rng=rng, record=record,
                        engine=engine, point=point, replicate_ids=replicate_ids)


def _need(name: str, value: Any, cls: type) -> Any:
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a commons {cls.__name__}, got {type(value).__name__}")
    return value


def _summ(v: Any) -> Any:
    if isinstance(v, Uniform):
        return {"uniform": [v.low, v.high]}
    if v is None or np.ndim(v) == 0:
        return None if v is None else float(v)
    a = np.asarray(v, dtype=float)
    return {"shape": list(a.shape), "min": float(a.min()), "max": float(a.max())}


# ---------------------------------------------------------------------- set-up
def _bind(model: Model, ctx: Context) -> State:
    R, N = ctx.R, ctx.N
    setup = ctx.streams.uniforms(-1, 0, N)  # stream 0: the model's own set-up draws
    ctx.max_draw = per_org("max_draw", model.max_draw, R, N, uniforms=setup[..., 0], low=0.0)
    if not np.all(np.isfinite(ctx.max_draw)):
        raise ValueError("max_draw must be finite")
    ctx.prosociality = per_org("prosociality", model.prosociality, R, N,
                               uniforms=setup[..., 1], low=0.0, high=1.0)
    for p in model.all_plugins():
        ctx.params[p] = p.bind(ctx)
    st = State.empty(R, N, ctx.network.n_edges)
    init = model.initial_draws
    if init is None:
        x0 = setup[..., 2] * ctx.max_draw
    else:
        x0 = per_org("initial_draws", init, R, N, uniforms=setup[..., 2], low=0.0)
    st.next_draws = np.minimum(x0, ctx.max_draw)
    st.quota = no_quota(R, N)
    st.motivation = ctx.prosociality.copy()
    for p in model.components():
        p.setup(st, ctx)
    return st


def _check(arr: np.ndarray, what: str, plugin: Plugin, t: int, *, nonneg: bool = False) -> None:
    if not np.all(np.isfinite(arr)):
        raise PluginError(f"{type(plugin).__name__} produced non-finite {what} in round {t}")
    if nonneg and np.any(arr < 0):
        raise PluginError(f"{type(plugin).__name__} produced negative {what} in round {t}")


# ---------------------------------------------------------------------- the round
def _round(model: Model, st: State, ctx: Context, order: dict[str, list[Plugin]]) -> None:
    t = st.t
    for p in order["communicate"]:
        p.communicate(st, ctx)
    for p in order["decide"]:
        p.decide(st, ctx)
        _check(st.draws, "draws", p, t)
    st.draws = np.clip(st.draws, 0.0, ctx.max_draw)
    st.draws[st.excluded] = 0.0
    st.demand = model.technology.demand(st, ctx)
    for p in order["appropriate"]:
        p.appropriate(st, ctx)
    st.compliant = st.granted <= st.quota
    for p in order["pay"]:
        p.pay(st, ctx)
        _check(st.gross, "payoffs", p, t)
    for p in order["monitor"]:
        p.monitor(st, ctx)
    for p in order["sanction"]:
        p.sanction(st, ctx)
    st.settle()
    for p in order["learn"]:
        p.learn(st, ctx)
        if p is model.rule:
            _check(st.next_draws, "draws", p, t)
    for p in order["regenerate"]:
        p.regenerate(st, ctx)
        _check(st.stock, "stock", p, t)
    st.next_draws = np.clip(st.next_draws, 0.0, ctx.max_draw)


class _Recorder:
    """Series (R, T), optional full (R, T, N) arrays, and the accumulators metrics need."""

    def __init__(self, R: int, N: int, T: int, record: str, baseline: np.ndarray) -> None:
        self.record = record
        self.series = {k: np.zeros((R, T)) for k in SERIES}
        self.full = ({k: np.zeros((R, T, N)) for k in ("draws", "granted", "payoffs")}
                     if record == "full" else None)
        self.baseline = baseline
        self.cum_payoff = np.zeros((R, N))
        self.pos_t = np.zeros((R, N))
        self.pos_n = np.zeros((R, N))
        self.active = np.zeros(R)

    def __call__(self, st: State, t: int) -> None:
        s = self.series
        net = st.payoffs - self.baseline
        s["mean_draw"][:, t] = st.draws.mean(axis=1)
        s["total_granted"][:, t] = st.granted.sum(axis=1)
        s["stock"][:, t] = st.stock
        s["rent"][:, t] = net.sum(axis=1)
        s["compliance"][:, t] = st.compliant.mean(axis=1)
        s["fines"][:, t] = st.fines.sum(axis=1)
        s["costs"][:, t] = st.costs.sum(axis=1)
        s["mean_trust"][:, t] = st.trust.mean(axis=1) if st.trust.shape[1] else np.nan
        s["regulator_income"][:, t] = st.income("regulator")
        s["regulator_spending"][:, t] = st.regulator_spending
        s["burned"][:, t] = st.income("burned")
        s["wrongful"][:, t] = (st.wrongful & st.sanctioned).sum(axis=1)
        s["excluded"][:, t] = st.excluded.sum(axis=1)
        if self.full is not None:
            self.full["draws"][:, t] = st.draws
            self.full["granted"][:, t] = st.granted
            self.full["payoffs"][:, t] = st.payoffs
        self.cum_payoff += net
        pos = net > 0
        self.pos_t += pos * (t + 1)
        self.pos_n += pos
        self.active += (~st.excluded).sum(axis=1)


def run_numpy(model: Model, ctx: Context, record: str) -> tuple[State, _Recorder]:
    """The readable reference: phases in numpy over (R, N) arrays, one Python call per phase."""
    st = _bind(model, ctx)
    order = {ph: [p for p in model.components() if ph in p.phases] for ph in PHASES}
    rec = _Recorder(ctx.R, ctx.N, ctx.rounds, record,
                    np.asarray(model.technology.baseline(ctx)))
    for t in range(ctx.rounds):
        ctx.t = t
        st.begin_round(t)
        _round(model, st, ctx, order)
        rec(st, t)
    return st, rec


# ---------------------------------------------------------------------- public face
def simulate(model: Model | CPRGame, *, rounds: int, replicates: int = 1, rng: Any = None,
             record: RecordMode = "summary", engine: str = "auto", point: Any = 0,
             replicate_ids: Any = None) -> RunResult:
    r"""Run ``model`` for ``rounds`` rounds in ``replicates`` independent replicates at once.

    Parameters
    ----------
    model : Model or CPRGame
        A model, or a stage game, which is repeated with myopic best response
        (``Model(game.n, technology=StageGame(game))``).
    rounds : int
        Number of rounds T >= 1.
    replicates : int
        Number of replicates R >= 1 (ignored when ``replicate_ids`` is given).
    rng : None, int, SeedSequence or Generator
        Seed. Replicate r of sweep point p draws from
        ``SeedSequence(entropy, spawn_key=(p, r))``, so any split of the replicates into
        batches gives the same bits.
    record : {"summary", "full", "final"}
        "summary": per-round series (R, T); "full": also draws, grants and payoffs (R, T, N);
        "final": metrics and final state only.
    engine : {"auto", "numba", "numpy"}
        "auto" uses the compiled kernel when numba is installed and every component has a
        compiled form, else numpy; "numba" insists on the kernel.
    point : int or array of int
        Sweep-point index, part of every replicate's seed: one for all replicates, or one per
        replicate (shape (R,)) when a batch mixes sweep points.
    replicate_ids : array of int, optional
        Which replicate indices to run (default 0..replicates-1).

    Returns
    -------
    RunResult
    """
    if isinstance(model, CPRGame):
        model = Model(model.n, technology=StageGame(model))
    if not isinstance(model, Model):
        raise TypeError(f"model must be a commons.Model or CPRGame, got {type(model).__name__}")
    T = check_integer("rounds", rounds, low=1)
    if replicate_ids is None:
        R = check_integer("replicates", replicates, low=1)
        ids = np.arange(R)
    else:
        ids = np.atleast_1d(np.asarray(replicate_ids, dtype=np.int64))
        if ids.ndim != 1 or ids.size == 0 or np.any(ids < 0):
            raise ValueError("replicate_ids must be a non-empty 1-d array of indices >= 0")
        R = ids.size
    if record not in ("summary", "full", "final"):
        raise ValueError(f"record must be 'summary', 'full' or 'final', got {record!r}")
    if engine not in ("auto", "numba", "numpy"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'numpy', got {engine!r}")
    if np.ndim(point) == 0:
        point = check_integer("point", point, low=0)
        points = np.full(R, point)
    else:
        points = np.asarray(point)
        if points.shape != (R,) or points.dtype.kind not in "iu" or np.any(points < 0):
            raise ValueError(f"point must be an int >= 0 or an integer array of shape ({R},)")
    entropy, prefix = resolve_seed(rng)
    streams = Streams(replicate_keys(entropy, ids, points, prefix))
    ctx = Context(model, R, T, streams, model.network)

    from . import _kernel
    use_kernel = engine != "numpy" and _kernel.supports(model)
    if engine == "numba" and not use_kernel:
        raise ValueError(f"engine='numba' needs numba and a model of the compiled family: "
                         f"{_kernel.why_not(model)}")
    t0 = time.perf_counter()
    if use_kernel:
        st, rec = _kernel.run(model, ctx, record, _bind, _Recorder)
        used = "numba"
    else:
        st, rec = run_numpy(model, ctx, record)
        used = "numpy"
    wall = time.perf_counter() - t0
    metrics = compute_metrics(model, ctx, st, rec)
    provenance = {"model": model.describe(), "rounds": T, "replicates": R,
                  "replicate_ids": (ids.tolist() if R <= 10_000 else
                                    {"count": R, "min": int(ids.min()), "max": int(ids.max())}),
                  "point": (int(point) if np.ndim(point) == 0 else
                            {"min": int(points.min()), "max": int(points.max())}),
                  "entropy": entropy, "spawn_prefix": list(prefix),
                  "engine": used, "record": record, "wall_seconds": wall,
                  "version": _version}
    series = rec.series if record != "final" else {}
    return RunResult(series=series, full=rec.full, metrics=metrics,
                     final={"stock": st.stock.copy(), "draws": st.draws.copy(),
                            "trust": st.trust.copy(), "cumulative_rent": rec.cum_payoff},
                     provenance=provenance, replicate_ids=ids)
