"""The round loop: a model of organisations on a trust network, run for R replicates at once.

One round is the eight phases of :data:`commons.sim.plugin.PHASES`, each filled by the model's
plug-ins in slot order. The state of all R replicates is held in arrays of shape (R, N) and
(R, E), so there is no Python loop over organisations or replicates. With numba installed,
``engine="auto"`` runs the plug-ins' compiled forms: the whole simulation in one fused, parallel
kernel generated for the model when every act has one (:mod:`commons.sim.codegen`), else act by
act beside the numpy forms. Both draw the same random numbers as this numpy reference and agree
with it to rounding.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from .._validation import check_integer
from .._version import version as _version
from ..exact.game import CPRGame
from ..results import RunResult, compute_metrics, derived_series
from ._params import per_org
from .codegen import CHECKS
from .model import Model, stream_id
from .network import TrustNetwork
from .plugin import Plugin
from .state import State
from .streams import Streams, replicate_keys, resolve_seed

__all__ = ["SERIES", "Context", "PluginError", "simulate"]

RecordMode = Literal["summary", "full", "final"] | Sequence[str]
SERIES = ("mean_draw", "total_granted", "stock", "rent", "compliance", "fines", "costs",
          "mean_trust", "regulator_income", "regulator_spending", "burned", "wrongful",
          "excluded")


class PluginError(RuntimeError):
    """A plug-in produced an invalid state (NaN, infinity, a negative draw) during a run."""


class _Params(Mapping):
    """Bound parameters of each plug-in, bound on first use, so binding follows dependencies
    (a quota vote that reads the resource's reference stock binds the resource first)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._bound: dict[Plugin, dict[str, Any]] = {}
        self._binding: list[Plugin] = []

    def __getitem__(self, plugin: Plugin) -> dict[str, Any]:
        got = self._bound.get(plugin)
        if got is not None:
            return got
        if plugin not in self._ctx.names:
            raise KeyError(f"{type(plugin).__name__} is not part of this model")
        if plugin in self._binding:
            chain = " -> ".join(type(p).__name__ for p in (*self._binding, plugin))
            raise ValueError(f"plug-in parameters depend on each other in a cycle: {chain}")
        self._binding.append(plugin)
        try:
            got = plugin.bind(self._ctx)
        finally:
            self._binding.pop()
        self._bound[plugin] = got
        return got

    def __iter__(self) -> Iterator[Plugin]:
        return iter(self._bound)

    def __len__(self) -> int:
        return len(self._bound)


class Context:
    """What plug-ins see besides the state: sizes, parameters, network and random streams.

    The engine builds one per run and passes it as ``ctx`` to every plug-in's ``bind``,
    ``setup`` and phase methods.

    Parameters
    ----------
    model : Model
        The model run.
    R : int
        Number of replicates.
    rounds : int
        Number of rounds T.
    streams : Streams
        The replicates' random streams.
    network : TrustNetwork
        The model's trust network.

    Attributes
    ----------
    model : Model
        The model run (its slots, ``n``, ``max_draw``, ...).
    R, N : int
        Replicates and organisations.
    rounds : int
        Rounds T of the run.
    t : int
        The current round (-1 during set-up).
    network : TrustNetwork
        The trust network (CSR arrays: ``indptr``, ``indices``, ``src``, edge reductions).
    resource, technology : Plugin
        The model's resource and technology (e.g. ``ctx.technology.best_response``).
    params : mapping
        ``params[plugin]``: the plug-in's bound parameters (bound on first use).
    names : dict
        Each plug-in's stable stream name.
    stream_ids : dict
        Each plug-in's 32-bit stream word (:func:`commons.sim.model.stream_id`).
    streams : Streams
        The counter-based random streams of the R replicates.
    max_draw, prosociality : (R, N) arrays
        The cap on each draw (resource units per round) and each organisation's initial
        motivation in [0, 1].
    """

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
        self.names: dict[Plugin, str] = model.names
        self.stream_ids = {p: stream_id(n) for p, n in model.names.items()}
        self.params: _Params = _Params(self)
        self.max_draw = np.zeros((R, model.n))
        self.prosociality = np.zeros((R, model.n))

    def setup_uniforms(self, plugin: Plugin) -> np.ndarray:
        """Set-up uniforms (R, N, 4) of this plug-in's stream.

        Parameters
        ----------
        plugin : Plugin
            The plug-in drawing (a plug-in of this model).

        Returns
        -------
        ndarray, shape (R, N, 4)
            Uniforms in (0, 1) addressed by round 0 of the counter (set-up), the same whatever
            the other plug-ins of the model.
        """
        return self.streams.uniforms(-1, self.stream_ids[plugin], self.N)

    def uniforms(self, plugin: Plugin, n: int | None = None, block: int = 0) -> np.ndarray:
        """This round's uniforms (R, n, 4) of the plug-in's stream (n defaults to N).

        Philox4x32-10 (Salmon et al. 2011) at counter (organisation, t + 1, stream, block)
        under each replicate's key: four independent uniforms per organisation and round.

        Parameters
        ----------
        plugin : Plugin
            The plug-in drawing (a plug-in of this model).
        n : int, optional
            Number of rows (default N, one per organisation; E for one per edge).
        block : int
            Another block of four per row, for plug-ins that need more than four numbers.

        Returns
        -------
        ndarray, shape (R, n, 4)
            Uniforms in the open interval (0, 1).
        """
        return self.streams.uniforms(self.t, self.stream_ids[plugin],
                                     self.N if n is None else n, block)

    def packed_uniforms(self, plugin: Plugin, n: int, block: int = 0,
                        width: int = 1) -> np.ndarray:
        """This round's uniforms of the plug-in's stream for ``n`` items of ``width`` numbers
        (1 or 2), packed into Philox blocks of four: item k takes numbers
        ``width * (k % per)`` on of block ``k // per``, ``per = 4 // width`` (compiled forms:
        ``packed`` and ``held``).

        For plug-ins that need one or two numbers per organisation, edge, pair or path: a
        quarter or a half of the blocks of ``uniforms(plugin, n)``.

        Parameters
        ----------
        plugin : Plugin
            The plug-in drawing (a plug-in of this model).
        n : int
            Number of items.
        block : int
            Another packed stream of the same plug-in.
        width : {1, 2}
            Numbers per item.

        Returns
        -------
        ndarray, shape (R, n) for width 1, (R, n, 2) for width 2
            Uniforms in the open interval (0, 1).
        """
        if width not in (1, 2):
            raise ValueError(f"width must be 1 or 2, got {width!r}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n!r}")
        per = 4 // width
        u = self.uniforms(plugin, n=-(-n // per), block=block)
        u = u.reshape(u.shape[0], per * u.shape[1], width)[:, :n]
        return u[..., 0] if width == 1 else u


# ---------------------------------------------------------------------- set-up
def bind(model: Model, ctx: Context) -> State:
    """Bind every plug-in's parameters and build the state before round 0."""
    R, N = ctx.R, ctx.N
    setup = ctx.streams.uniforms(-1, 0, N)  # stream 0: the model's own set-up draws
    ctx.max_draw = per_org("max_draw", model.max_draw, R, N, uniforms=setup[..., 0], low=0.0)
    if not np.all(np.isfinite(ctx.max_draw)):
        raise ValueError("max_draw must be finite")
    ctx.prosociality = per_org("prosociality", model.prosociality, R, N,
                               uniforms=setup[..., 1], low=0.0, high=1.0)
    for p in model.all_plugins():
        ctx.params[p]
    st = State.empty(R, N, ctx.network.n_edges)
    init = model.initial_draws
    if init is None:
        x0 = setup[..., 2] * ctx.max_draw
    else:
        x0 = per_org("initial_draws", init, R, N, uniforms=setup[..., 2], low=0.0)
    st.next_draws = np.minimum(x0, ctx.max_draw)
    st.motivation = ctx.prosociality.copy()
    E = ctx.network.n_edges
    for p in model.all_plugins():
        st.memory[ctx.names[p]] = {k: np.zeros(shape, dtype)
                                   for k, (shape, dtype) in p.memory_shapes(R, N, E).items()}
    for p in model.components():
        p.setup(st, ctx)
    return st


def _check(arr: np.ndarray, what: str, plugin: Plugin, phase: str, t: int, *,
           nonneg: bool = False) -> None:
    if not np.all(np.isfinite(arr)):
        raise PluginError(f"{type(plugin).__name__} produced non-finite {what} in the {phase} "
                          f"phase of round {t}")
    if nonneg and np.any(arr < 0):
        raise PluginError(f"{type(plugin).__name__} produced negative {what} in the {phase} "
                          f"phase of round {t}")





# ---------------------------------------------------------------------- the round
def schedule(model: Model) -> list[tuple[str, list]]:
    """The round's acts grouped by phase, in phase order."""
    from .plugin import PHASES
    return [(ph, [a for a in model.acts if a.phase == ph]) for ph in PHASES]


def play_round(model: Model, st: State, ctx: Context, plan: list[tuple[str, list]],
               compiled_act: Any = None) -> None:
    """One round: every act in order, with the engine's own steps after some phases.

    After ``decide`` the draws are clipped to [0, max_draw] and zeroed for the excluded; after
    ``appropriate`` compliance is judged (granted <= quota); after ``sanction`` the money is
    settled; at the end the next draws are clipped.
    """
    t = st.t
    for phase, acts in plan:
        check = CHECKS.get(phase)
        for a in acts:
            if compiled_act is None or not compiled_act(a, st):
                getattr(a.plugin, phase)(st, ctx)
            if check is not None and check[0] in a.writes:
                _check(getattr(st, check[0]), check[0], a.plugin, phase, t, nonneg=check[1])
            elif phase == "learn" and "next_draws" in a.writes:
                _check(st.next_draws, "draws", a.plugin, phase, t)
        if phase == "decide":
            st.draws = np.clip(st.draws, 0.0, ctx.max_draw)
            st.draws[st.excluded] = 0.0
        elif phase == "appropriate":
            st.compliant = st.granted <= st.quota
        elif phase == "sanction":
            st.settle()
    st.next_draws = np.clip(st.next_draws, 0.0, ctx.max_draw)


#: The series the metrics are made from, kept by ``record="final"`` (and not returned).
METRIC_SERIES = ("rent", "regulator_income", "regulator_spending", "burned")


def record_plan(record: Any) -> tuple[tuple[str, ...], bool, bool]:
    """What a run records: the series kept, whether the per-organisation accumulators of the
    metrics are kept (cumulative payoff, rounds in profit, active organisations), and
    whether every draw, grant and payoff is kept.

    Parameters
    ----------
    record : {"summary", "full", "final"} or sequence of str
        The run's ``record`` (see :func:`simulate`); a sequence names series of
        :data:`SERIES`.

    Returns
    -------
    (tuple of str, bool, bool)
        The series in :data:`SERIES` order, the accumulators, the full records.

    Raises
    ------
    ValueError
        For any other mode, an empty sequence or a name not in :data:`SERIES`.
    """
    if isinstance(record, str) and record in ("summary", "full", "final"):
        if record == "final":
            return METRIC_SERIES, True, False
        return SERIES, True, record == "full"
    bad = ValueError("record must be 'summary', 'full', 'final' or a sequence of series "
                     f"names, got {record!r}")
    # another string, or bytes (iterable, but of numbers, not names)
    if isinstance(record, str | bytes | bytearray) or not isinstance(record, Iterable):
        raise bad
    names = list(record)
    unknown = [n for n in names if not isinstance(n, str) or n not in SERIES]
    if unknown or not names:
        what = f"unknown series {unknown}" if unknown else "no series"
        hint = (" (efficiency is derived from rent: name 'rent')" if "efficiency" in unknown
                else "")
        raise ValueError(f"record names {what}: choose from {', '.join(SERIES)}{hint}")
    return tuple(k for k in SERIES if k in names), False, False


#: Each series' value in a round, from the state and each organisation's payoff above its
#: outside option (R, N).
_SERIES_OF = {
    "mean_draw": lambda st, net: st.draws.mean(axis=1),
    "total_granted": lambda st, net: st.granted.sum(axis=1),
    "stock": lambda st, net: st.stock,
    "rent": lambda st, net: net.sum(axis=1),
    "compliance": lambda st, net: st.compliant.mean(axis=1),
    "fines": lambda st, net: st.fines.sum(axis=1),
    "costs": lambda st, net: st.costs.sum(axis=1),
    "mean_trust": lambda st, net: st.trust.mean(axis=1) if st.trust.shape[1] else np.nan,
    "regulator_income": lambda st, net: st.income("regulator"),
    "regulator_spending": lambda st, net: st.regulator_spending,
    "burned": lambda st, net: st.income("burned"),
    "wrongful": lambda st, net: (st.wrongful & st.sanctioned).sum(axis=1),
    "excluded": lambda st, net: st.excluded.sum(axis=1),
}


class Recorder:
    """Series (R, T), optional full (R, T, N) arrays, and the accumulators metrics need.

    Only what ``record`` keeps (:func:`record_plan`) is computed: the series named, and the
    accumulators (``cum_payoff``, ``pos_t``, ``pos_n``, ``active``, None without them)."""

    def __init__(self, R: int, N: int, T: int, record: Any, baseline: np.ndarray,
                 arrays: bool = True) -> None:
        self.record = record
        self.kept, self.accumulate, self.full_kept = record_plan(record)
        # without ``arrays`` the caller supplies the series and full arrays (the fused kernel
        # writes its own): a round's (R, T) zeros are not allocated only to be replaced
        self.series = {k: np.zeros((R, T)) for k in self.kept} if arrays else {}
        self.full = ({k: np.zeros((R, T, N)) for k in ("draws", "granted", "payoffs")}
                     if self.full_kept and arrays else None)
        self.baseline = baseline
        acc = self.accumulate
        self.cum_payoff = np.zeros((R, N)) if acc else None
        self.pos_t = np.zeros((R, N)) if acc else None
        self.pos_n = np.zeros((R, N)) if acc else None
        self.active = np.zeros(R) if acc else None

    def __call__(self, st: State, t: int) -> None:
        net = st.payoffs - self.baseline
        for k, values in self.series.items():
            values[:, t] = _SERIES_OF[k](st, net)
        if self.full is not None:
            self.full["draws"][:, t] = st.draws
            self.full["granted"][:, t] = st.granted
            self.full["payoffs"][:, t] = st.payoffs
        if self.accumulate:
            self.cum_payoff += net
            pos = net > 0
            self.pos_t += pos * (t + 1)
            self.pos_n += pos
            self.active += (~st.excluded).sum(axis=1)


def run_numpy(model: Model, ctx: Context, record: Any) -> tuple[State, Recorder]:
    """The readable reference: phases in numpy over (R, N) arrays, one Python call per act."""
    st = bind(model, ctx)
    rec = Recorder(ctx.R, ctx.N, ctx.rounds, record,
                   np.asarray(model.technology.baseline(ctx)))
    plan = schedule(model)
    for t in range(ctx.rounds):
        ctx.t = t
        st.begin_round(t)
        play_round(model, st, ctx, plan)
        rec(st, t)
    return st, rec


# ---------------------------------------------------------------------- public face
def _replicate_ids(replicates: Any, replicate_ids: Any) -> np.ndarray:
    if replicate_ids is None:
        return np.arange(check_integer("replicates", replicates, low=1))
    arr = np.atleast_1d(np.asarray(replicate_ids))
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError("replicate_ids must be integers (replicate indices), got "
                             f"{np.asarray(replicate_ids).tolist()!r}")
    if arr.ndim != 1 or arr.size == 0 or np.any(arr < 0):
        raise ValueError("replicate_ids must be a non-empty 1-d array of indices >= 0")
    if np.unique(arr).size != arr.size:
        raise ValueError("replicate_ids must not repeat an index")
    return arr.astype(np.int64)


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
    record : {"summary", "full", "final"} or sequence of str
        "summary": per-round series (R, T); "full": also draws, grants and payoffs (R, T, N);
        "final": metrics and final state only. A sequence of names of :data:`SERIES` keeps
        those series only, and the metrics made from them and the final state (see
        :func:`commons.results.compute_metrics`): a run that needs, say, the mean draw and
        the stock computes nothing else each round.
    engine : {"auto", "numba", "numpy"}
        "auto" and "numba" run the plug-ins' compiled forms (one fused kernel when every act
        has one, else act by act beside the numpy forms); "numba" insists on numba being
        installed; "numpy" runs the numpy forms. The provenance records which ran: "numba",
        "mixed" or "numpy".
    point : int or array of int
        Sweep-point index, part of every replicate's seed: one for all replicates, or one per
        replicate (shape (R,)) when a batch mixes sweep points.
    replicate_ids : array of int, optional
        Which replicate indices to run (default 0..replicates-1).

    Returns
    -------
    RunResult
    """
    from ..sim.technologies import StageGame

    if isinstance(model, CPRGame):
        model = Model(model.n, technology=StageGame(model))
    if not isinstance(model, Model):
        raise TypeError(f"model must be a commons.Model or CPRGame, got {type(model).__name__}")
    T = check_integer("rounds", rounds, low=1)
    ids = _replicate_ids(replicates, replicate_ids)
    R = ids.size
    kept = record_plan(record)[0]  # a bad request raises here, before any work
    if not isinstance(record, str):  # a sequence of series: as a tuple, in SERIES order
        record = kept
    if engine not in ("auto", "numba", "numpy"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'numpy', got {engine!r}")
    if np.ndim(point) == 0:
        point = check_integer("point", point, low=0)
        points = np.full(R, point)
    else:
        points = np.asarray(point)
        if points.shape != (R,) or points.dtype.kind not in "iu" or np.any(points < 0):
            raise ValueError(f"point must be an int >= 0 or an integer array of shape ({R},)")
    from .memory import check_memory
    check_memory(model, R, T, record)
    entropy, prefix = resolve_seed(rng)
    streams = Streams(replicate_keys(entropy, ids, points, prefix))
    ctx = Context(model, R, T, streams, model.network)

    from . import _kernel
    if engine == "numba" and not _kernel.have_numba():
        raise ValueError("engine='numba' needs numba: pip install 'commons-engine[fast]'")
    plan = _kernel.plan_for(model) if engine != "numpy" else None
    t0 = time.perf_counter()
    if plan is not None and plan.fused is not None:
        from .compiled_run import run_fused
        st, rec = run_fused(model, ctx, record, bind, Recorder, plan)
        used = "numba"
    elif plan is not None:
        from .compiled_run import run_mixed
        st, rec = run_mixed(model, ctx, record, bind, Recorder, plan)
        used = "mixed"
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
                  "engine": used,
                  "record": record if isinstance(record, str) else list(record),
                  "wall_seconds": wall,
                  "version": _version}
    series = {**rec.series, **derived_series(model, ctx, rec)} if record != "final" else {}
    final = {"stock": st.stock.copy(), "draws": st.draws.copy(), "trust": st.trust.copy()}
    if rec.cum_payoff is not None:
        final["cumulative_rent"] = rec.cum_payoff
    return RunResult(series=series, full=rec.full, metrics=metrics, final=final,
                     provenance=provenance, replicate_ids=ids)
