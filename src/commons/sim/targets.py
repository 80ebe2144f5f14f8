r"""Reference allocations and the rent benchmark: what the model's outcomes are measured against.

* :func:`nash_draws`: the stage game's Nash equilibrium draws (what myopic self-interest gives);
* :func:`optimum_draws`: the draws that give the group its best sustainable rent;
* :func:`max_rent`: the best sustainable group rent per round, the denominator of efficiency.

Each is registered per technology (``functools.singledispatch`` on its type) and reads only the
public views of the components: the technology's ``values(ctx)`` and the resource's public
methods (``sustainable_yield``, and for a renewable stock ``carrying_capacity`` and ``regrowth``,
for a lake ``steady_loading``). :func:`check` tells at construction whether a model has what
its plug-ins and metrics need.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

import numpy as np

from ..exact.equilibrium import nash_equilibrium, social_optimum
from . import _elementwise as ew
from .technologies import Fishery, LakeDamage, PrivateConcave, StageGame, Technology

__all__ = ["check", "max_rent", "nash_draws", "optimum_draws"]

#: Public resource methods each technology's rent benchmark needs.
_RENT_NEEDS: dict[type, tuple[str, ...]] = {
    Fishery: ("carrying_capacity", "regrowth"),
    LakeDamage: ("steady_loading",),
}


@singledispatch
def nash_draws(technology: Technology, ctx) -> np.ndarray:
    """Stage-game Nash draws, shape (R, N)."""
    raise NotImplementedError(f"{type(technology).__name__} has no stage Nash equilibrium")


@singledispatch
def optimum_draws(technology: Technology, ctx) -> np.ndarray:
    """Draws that give the group its best sustainable rent, shape (R, N)."""
    raise NotImplementedError(f"{type(technology).__name__} has no social optimum")


@singledispatch
def max_rent(technology: Technology, ctx) -> np.ndarray:
    """Best sustainable group rent per round, shape (R, T)."""
    raise NotImplementedError(f"{type(technology).__name__} has no rent benchmark")


# ---------------------------------------------------------------------- private concave
def _yield(ctx) -> np.ndarray:
    Y = np.asarray(ctx.resource.sustainable_yield(ctx), dtype=np.float64)
    return np.broadcast_to(Y[:, None] if Y.ndim == 1 else Y, (ctx.R, ctx.rounds))


def _rent_curve(P, t) -> tuple[np.ndarray, np.ndarray]:
    """rent(H) = A_t H**beta - c H for a total harvest H split proportional to
    a_i**(1/(1-beta)): returns A_t (R,) or (R, T) and the split (R, N)."""
    beta = P.beta[:, None]
    w = ew.power(P.a, 1.0 / (1.0 - beta))
    s = w.sum(axis=1)
    need = P.need(t)
    if need.ndim == 2:
        A = ew.power(s, 1.0 - P.beta)[:, None] * ew.power(need, 1.0 - P.beta[:, None])
    else:
        A = ew.power(s, 1.0 - P.beta) * ew.power(need, 1.0 - P.beta)
    return A, w / s[:, None]


@nash_draws.register
def _(technology: PrivateConcave, ctx) -> np.ndarray:
    """(a_i beta / c)**(1/(1-beta)): each organisation's private optimum (no interaction)."""
    P = ctx.params[technology]
    beta = P.beta[:, None]
    return ew.power(P.a * beta / P.c[:, None], 1.0 / (1.0 - beta))


@optimum_draws.register
def _(technology: PrivateConcave, ctx) -> np.ndarray:
    r"""H* = min(Y, (beta A / c)**(1/(1-beta))) split proportional to a_i**(1/(1-beta))."""
    P = ctx.params[technology]
    A, split = _rent_curve(P, 0)
    Y = _yield(ctx)[:, 0]
    free = ew.power(P.beta * A / P.c, 1.0 / (1.0 - P.beta))
    return np.minimum(Y, free)[:, None] * split


@max_rent.register
def _(technology: PrivateConcave, ctx) -> np.ndarray:
    r"""A_t H**beta - c H at H = min(Y_t, (beta A_t / c)**(1/(1-beta))), each round t.

    With no growth of need (gamma = 0) and the same yield every round, every round's value is
    round 0's: it is computed once per replicate (the same operations on the same numbers)."""
    P = ctx.params[technology]
    Y = _yield(ctx)
    steady = not np.any(P.gamma) and bool(np.all(Y == Y[:, :1]))
    A, _ = _rent_curve(P, np.arange(1 if steady else ctx.rounds))
    beta = P.beta[:, None]
    c = P.c[:, None]
    H = np.minimum(Y[:, :A.shape[1]], ew.power(beta * A / c, 1.0 / (1.0 - beta)))
    rent = A * ew.power(H, beta) - c * H
    return np.repeat(rent, ctx.rounds, axis=1) if steady else rent


# ---------------------------------------------------------------------- the stage game
@nash_draws.register
def _(technology: StageGame, ctx) -> np.ndarray:
    return np.broadcast_to(nash_equilibrium(technology.game).draws, (ctx.R, ctx.N)).copy()


@optimum_draws.register
def _(technology: StageGame, ctx) -> np.ndarray:
    return np.broadcast_to(social_optimum(technology.game).draws, (ctx.R, ctx.N)).copy()


@max_rent.register
def _(technology: StageGame, ctx) -> np.ndarray:
    return np.full((ctx.R, ctx.rounds), social_optimum(technology.game).rent)


# ---------------------------------------------------------------------- fishery and lake
@max_rent.register
def _(technology: Fishery, ctx) -> np.ndarray:
    r"""The Gordon–Schaefer MEY rent on a logistic stock: X = K (1 + s) / 2 with
    s = c / (p q K), H = G(X), rent p H - c H / (q X) (Clark 1990, ch. 2)."""
    P = ctx.params[technology]
    res = ctx.resource
    K = res.carrying_capacity(ctx)
    s = P.c / (P.p * P.q * K)
    X = K * (1 + s) / 2
    H = res.regrowth(X, ctx)
    rent = P.p * H - P.c * H / (P.q * X)
    return np.broadcast_to(rent[:, None], (ctx.R, ctx.rounds))


@max_rent.register
def _(technology: LakeDamage, ctx) -> np.ndarray:
    r"""max over steady phosphorus levels P below the threshold of alpha A(P) - N d P**2,
    A(P) the total release that holds P (Mäler, Xepapadeas & de Zeeuw 2003)."""
    P = ctx.params[technology]
    load, level = ctx.resource.steady_loading()
    rent = P.alpha[:, None] * load[None, :] - ctx.N * P.d[:, None] * level[None, :] ** 2
    best = np.maximum(rent.max(axis=1), 0.0)
    return np.broadcast_to(best[:, None], (ctx.R, ctx.rounds))


# ---------------------------------------------------------------------- capability check
def _registered(fn: Any, cls: type) -> bool:
    return fn.dispatch(cls) is not fn.dispatch(object)


def capabilities(technology: Technology) -> set[str]:
    """What the library can compute for this technology: "best_response", "evaluate",
    "nash", "optimum", "rent"."""
    from .replies import best_response, evaluate
    cls = type(technology)
    out = set()
    for name, fn in (("best_response", best_response), ("evaluate", evaluate),
                     ("nash", nash_draws), ("optimum", optimum_draws), ("rent", max_rent)):
        if _registered(fn, cls):
            out.add(name)
    return out


def check(model) -> None:
    """Raise a clear error if the model's metrics or plug-ins need what its technology and
    resource cannot provide (a rent benchmark, a best reply, a Nash or optimum target, a
    network with edges)."""
    tech, res = model.technology, model.resource
    have = capabilities(tech)
    tname, rname = type(tech).__name__, type(res).__name__
    if "rent" not in have:
        raise ValueError(f"technology: {tname} has no rent benchmark (efficiency needs one); "
                         "register one with commons.sim.targets.max_rent.register")
    for cls, needs in _RENT_NEEDS.items():
        if isinstance(tech, cls):
            missing = [m for m in needs if not callable(getattr(res, m, None))]
            if missing:
                raise ValueError(f"resource: {tname}'s rent benchmark needs a resource with "
                                 f"{', '.join(missing)} (e.g. "
                                 f"{'LakeStock' if cls is LakeDamage else 'LogisticStock'}), "
                                 f"got {rname}")
    for p in model.all_plugins():
        for need in p.requires():
            if need == "edges":
                if model.network.n_edges == 0:
                    raise ValueError(f"{type(p).__name__} needs a network with edges: the "
                                     "model's network has none (pass network=...)")
            elif need not in have:
                raise ValueError(f"{type(p).__name__} needs the technology's {need} "
                                 f"({'stage Nash draws' if need == 'nash' else need}), which "
                                 f"{tname} does not provide")
