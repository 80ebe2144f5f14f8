r"""Best replies: what each organisation would draw to maximise this round's payoff.

The decision rules (best response, logit response, CPR-v1's revise-or-imitate) ask this module,
not the technology, for an organisation's myopic best reply to the state: the others' draws, the
quota in force and what drawing costs beyond the payoff (``unit_charge`` on every unit and the
expected ``penalty_rate`` on every unit over the quota: fines times detection, conscience).
Each technology's reply is registered with :func:`best_response` and :func:`evaluate`
(``functools.singledispatch`` on the technology's type); a user technology registers its own.

Compiled code asks :data:`best_reply` and :data:`draw_payoff` instead, chosen by the class of
the technology's compiled values; a rule whose technology registers neither runs its numpy form.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from ..exact.production import Quadratic
from . import _curves
from . import _elementwise as ew
from ._jit import HAVE_NUMBA, TypeDispatch, cpow, ipow, jitable
from ._roots import XATOL, XRTOL, bracketed_root
from .technologies import (
    ConcaveValues,
    CurveGameValues,
    Fishery,
    FisheryValues,
    LakeDamage,
    LakeValues,
    PrivateConcave,
    QuadraticGameValues,
    StageGame,
    Technology,
    _curve,
)

__all__ = ["REPLY_READS", "best_reply", "best_response", "draw_payoff", "evaluate",
           "piecewise_best", "prepare_replies"]

#: State fields a best reply reads (rules that use one declare these).
REPLY_READS = ("draws", "quota", "penalty_rate", "unit_charge", "motivation", "stock_start")


def piecewise_best(xs: np.ndarray, xss: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Best reply with an expected fine per unit above the quota q (CPR-v1, step 7).

    xs is the best draw without the fine and xss the best draw when every unit costs the fine
    too: if xs <= q the fine never bites (xs); else xss if it lies above q; else q.
    """
    return np.where(xs <= q, xs, np.where(xss >= q, xss, q))


def _concave_argmax(slope, lo, hi, args) -> np.ndarray:
    """Maximiser on [lo, hi] of a concave function with decreasing derivative ``slope``.

    lo if slope(lo) <= 0, hi if slope(hi) >= 0, else the root in between (Chandrupatla's
    bracketed root, ``scipy.optimize.elementwise.find_root``), elementwise.
    """
    from scipy.optimize import elementwise
    at_hi = slope(hi, *args)
    out = np.where(at_hi >= 0, hi, lo)
    inner = (slope(lo, *args) > 0) & (at_hi < 0) & (hi > lo)
    if np.any(inner):
        sub = tuple(a[inner] for a in args)
        out[inner] = elementwise.find_root(lambda z, *a: slope(z, *a), (lo[inner], hi[inner]),
                                           args=sub).x
    return out


def _expected_charges(st, z: np.ndarray) -> np.ndarray:
    """Expected charges for drawing z (R, N, G): fees on every unit, fines over the quota."""
    over = np.maximum(z - st.quota[..., None], 0.0)
    return st.unit_charge[..., None] * z + st.penalty_rate[..., None] * over


# ---------------------------------------------------------------------- best replies
@singledispatch
def best_response(technology: Technology, st, ctx) -> np.ndarray:
    """Myopic best reply of every organisation to the state, shape (R, N), before noise and
    the draw cap."""
    raise NotImplementedError(f"{type(technology).__name__} has no best reply registered: "
                              "register one with commons.sim.replies.best_response.register")


@best_response.register
def _(technology: PrivateConcave, st, ctx) -> np.ndarray:
    r"""xs = (a beta / (c + u))**(1/(1-beta)) n_t with u the fee per unit; if xs <= q, xs;
    else xss = (a beta / (c + u + f))**(1/(1-beta)) n_t if xss >= q, else q (f the expected
    charge per unit over the quota)."""
    P = ctx.params[technology]
    beta = P.beta[:, None]
    need = P.need(st.t)[:, None]

    def best(extra):
        return ew.power(P.a * beta / (P.c[:, None] + extra), 1.0 / (1.0 - beta)) * need

    xs = best(st.unit_charge)
    if not np.any(st.penalty_rate > 0):
        return xs
    return piecewise_best(xs, best(st.unit_charge + st.penalty_rate), st.quota)


@best_response.register
def _(technology: StageGame, st, ctx) -> np.ndarray:
    r"""With a prosocial weight theta_i an organisation maximises (1 - theta_i) u_i +
    theta_i (1/N) sum_j u_j minus the expected charges on its draw, on each side of the quota:
    every unit pays the fee, each unit over the quota also the expected fine.

    For F(X) = a X - b X**2 the derivative is linear in the draw z,
    (1 - theta)(a - w - b Y - 2 b z) + (theta / N)(a - w - 2 b Y - 2 b z) - f, and the reply is
    its root clipped to [0, q] and [q, e] (the same closed form as the compiled path). For
    the power and exponential productions the reply is the compiled path's own bracketed root
    of the derivative (Chandrupatla 1997, :mod:`commons.sim._roots`); other productions take
    SciPy's (``scipy.optimize.elementwise.find_root``).
    """
    g = technology.game
    F, w = g.production, g.outside_return
    e = ctx.params[technology].e
    x = np.minimum(st.draws, e)
    Y = np.maximum(np.cumsum(x, axis=1)[:, -1:] - x, 0.0)  # the group total in org order
    theta = st.motivation
    N = ctx.N
    q = np.minimum(st.quota, e)
    fee = st.unit_charge
    if isinstance(F, Quadratic):
        den = 2 * F.b * (1 - theta) + 2 * F.b * theta / N
        base = (1 - theta) * (F.a - w - F.b * Y) + theta / N * (F.a - w - 2 * F.b * Y)
        low = np.minimum(np.maximum((base - fee) / den, 0.0), q)
        high = np.minimum(np.maximum((base - (fee + st.penalty_rate)) / den, q), e)
        return np.where(low < q, low, high)

    curve = _curve(F)
    if curve is not None:  # the compiled path's replies, element by element
        return _curve_replies(curve, w, e, st)

    def slope(z, Y, theta, f):
        """d/dz [(1 - theta) u_i + theta mean_j u_j] - f: decreasing in z."""
        X = z + Y
        safe = np.where(X > 0, X, 1.0)
        group = np.where(X > 0, F.derivative(safe), F.derivative(0.0)) - w
        return (1 - theta) * g.marginal_payoff(z, Y) + theta / N * group - f

    zero = np.zeros_like(x)
    low = _concave_argmax(slope, zero, q, (Y, theta, fee))
    high = _concave_argmax(slope, q, e, (Y, theta, fee + st.penalty_rate))
    return np.where(low < q, low, high)


@best_response.register
def _(technology: Fishery, st, ctx) -> np.ndarray:
    """All effort while a unit pays (p q S - c - fee > 0), else none."""
    P = ctx.params[technology]
    margin = (P.p * P.q * st.stock_start - P.c)[:, None] - st.unit_charge
    return np.where(margin > 0, np.inf, 0.0)


@best_response.register
def _(technology: LakeDamage, st, ctx) -> np.ndarray:
    """The largest release while a unit's benefit exceeds its charges; the quota while it
    exceeds the fee only; nothing otherwise."""
    P = ctx.params[technology]
    gain = P.alpha[:, None] - st.unit_charge
    free = np.full((ctx.R, ctx.N), np.inf)
    return np.where(gain > st.penalty_rate, free,
                    np.where(gain > 0, np.minimum(free, st.quota), 0.0))


# ---------------------------------------------------------------------- payoffs of alternatives
@singledispatch
def evaluate(technology: Technology, st, ctx, z: np.ndarray) -> np.ndarray:
    """Payoff of drawing z (R, N, G) against the others' current draws, minus the expected
    charges (what a logit or grid learner compares)."""
    raise NotImplementedError(f"{type(technology).__name__} cannot evaluate alternative draws: "
                              "register one with commons.sim.replies.evaluate.register")


@evaluate.register
def _(technology: PrivateConcave, st, ctx, z: np.ndarray) -> np.ndarray:
    P = ctx.params[technology]
    beta = P.beta[:, None, None]
    scale = ew.power(P.need(st.t), 1.0 - P.beta)[:, None, None]
    gross = P.a[..., None] * scale * ew.power(z, beta) - P.c[:, None, None] * z
    return gross - _expected_charges(st, z)


@evaluate.register
def _(technology: StageGame, st, ctx, z: np.ndarray) -> np.ndarray:
    g = technology.game
    F, w = g.production, g.outside_return
    e2 = ctx.params[technology].e
    e = e2[..., None]
    x = np.minimum(st.draws, e2)
    # the group total in organisation order, as the compiled path adds it
    Y = np.maximum(np.cumsum(x, axis=1)[:, -1:] - x, 0.0)[..., None]
    z = np.minimum(z, e)
    X = z + Y
    safe = np.where(X > 0, X, 1.0)
    curve = _curve(F)
    if curve is None:
        ap, value = F.average(safe), F.value(safe)
    else:  # the compiled path's scalar functions
        ap, value = (_curves.on_arrays(name, *curve, safe) for name in ("average", "value"))
    own = w * (e - z) + np.where(z > 0, z * ap, 0.0)
    group = (w * (g.total_endowment - X) + np.where(X > 0, value, 0.0)) / ctx.N
    theta = st.motivation[..., None]
    return (1 - theta) * own + theta * group - _expected_charges(st, z)


@evaluate.register
def _(technology: Fishery, st, ctx, z: np.ndarray) -> np.ndarray:
    P = ctx.params[technology]
    catch = P.q[:, None, None] * z * st.stock_start[:, None, None]
    return P.p[:, None, None] * catch - P.c[:, None, None] * z - _expected_charges(st, z)


@evaluate.register
def _(technology: LakeDamage, st, ctx, z: np.ndarray) -> np.ndarray:
    P = ctx.params[technology]
    return P.alpha[:, None, None] * z - _expected_charges(st, z)


# ---------------------------------------------------------------------- compiled best replies
#: The compiled best reply of organisation i: ``best_reply(TP, r, i, t, S)``, chosen by the
#: class of the technology's compiled values TP (register one per technology); a rule calls
#: ``prepare_replies`` first in the round.
best_reply = TypeDispatch("best_reply", "Compiled myopic best reply of organisation i.")


@jitable
def _nothing_to_prepare(TP, r, t, S):
    return


#: ``prepare_replies(TP, r, t, S)``: work a technology's best replies share within a round
#: (the group's total draw of the stage game, the need of a concave technology), done once
#: before a rule's loop over organisations; nothing unless registered.
prepare_replies = TypeDispatch("prepare_replies", "Round-level work before best replies.",
                               default=_nothing_to_prepare)


@best_reply.register(ConcaveValues)
@jitable
def _best_reply_concave(TP, r, i, t, S):
    beta = TP.beta[r]
    e = 1.0 / (1.0 - beta)
    need = TP.n[r]  # set by prepare_replies this round
    base = TP.a[r, i] * beta
    xs = cpow(base / (TP.c[r] + S.unit_charge[r, i]), e) * need
    q = S.quota[r, i]
    f = S.penalty_rate[r, i]
    if xs <= q or f <= 0.0:
        return xs
    xss = cpow(base / (TP.c[r] + (S.unit_charge[r, i] + f)), e) * need
    return xss if xss >= q else q


@prepare_replies.register(ConcaveValues)
@jitable
def _concave_need(TP, r, t, S):
    """The need of round t, (1 + gamma)**t (both paths' repeated squaring), for the round's
    best replies: a loop of squarings per replicate, not per reviser."""
    g = TP.gamma[r]
    TP.n[r] = ipow(1.0 + g, t) if g != 0.0 else 1.0  # 1**t is 1, to the bit: no loop


@prepare_replies.register(QuadraticGameValues)
@prepare_replies.register(CurveGameValues)
@jitable
def _group_draw(TP, r, t, S):
    """The group draw of the stage game, each draw capped by its endowment (both games)."""
    X = 0.0
    for k in range(S.draws.shape[1]):
        X += min(S.draws[r, k], TP.e[r, k])
    TP.total[r] = X


@best_reply.register(QuadraticGameValues)
@jitable
def _best_reply_quadratic_game(TP, r, i, t, S):
    N = S.draws.shape[1]
    X = TP.total[r]  # set by prepare_replies this round
    x = min(S.draws[r, i], TP.e[r, i])
    Y = max(X - x, 0.0)
    theta = S.motivation[r, i]
    a, b, w = TP.a, TP.b, TP.w
    e = TP.e[r, i]
    q = min(S.quota[r, i], e)
    den = 2 * b * (1 - theta) + 2 * b * theta / N
    base = (1 - theta) * (a - w - b * Y) + theta / N * (a - w - 2 * b * Y)
    low = min(max((base - S.unit_charge[r, i]) / den, 0.0), q)
    if low < q:
        return low
    return min(max((base - (S.unit_charge[r, i] + S.penalty_rate[r, i])) / den, q), e)


@best_reply.register(FisheryValues)
@jitable
def _best_reply_fishery(TP, r, i, t, S):
    margin = TP.p[r] * TP.q[r] * S.stock_start[r] - TP.c[r] - S.unit_charge[r, i]
    return np.inf if margin > 0 else 0.0


@best_reply.register(LakeValues)
@jitable
def _best_reply_lake(TP, r, i, t, S):
    gain = TP.alpha[r] - S.unit_charge[r, i]
    if gain > S.penalty_rate[r, i]:
        return np.inf
    return min(np.inf, S.quota[r, i]) if gain > 0 else 0.0


@jitable
def _curve_slope(z, args):
    """d/dz [(1 - theta) u_i + theta mean_j u_j] - f at own draw z, others' total Y: for
    X = z + Y > 0, (1 - theta) (AP(X) + (z / X) (F'(X) - AP(X)) - w) + (theta / N) (F'(X) - w)
    - f, the own marginal (Y AP(X) + z F'(X)) / X written with the share z / X in [0, 1]
    (Y AP(X) rounds to a multiple of the least subnormal where Y is one, which made the
    slope at z = 0 positive where it is negative); at X = 0 both marginal payoffs are
    F'(0) - w. Decreasing in z for a concave F."""
    kind, A, s, w, Y, theta, f, N = args
    X = z + Y
    if X > 0.0:
        ap = _curves.average(kind, A, s, X)
        fp = _curves.derivative(kind, A, s, X)
        own = ap + (z / X) * (fp - ap) - w
        group = fp - w
    else:
        own = _curves.at_zero(kind, A, s) - w
        if own == np.inf:
            return np.inf
        group = own
    return (1.0 - theta) * own + theta / N * group - f


_slope_root = bracketed_root(_curve_slope)


@jitable
def _curve_argmax(lo, hi, args):
    """Maximiser on [lo, hi] of the concave objective whose derivative is _curve_slope: lo if
    the slope at lo is <= 0, hi if the slope at hi is >= 0, else its root in between."""
    at_hi = _curve_slope(hi, args)
    if at_hi >= 0.0:
        return hi
    if at_hi < 0.0 and hi > lo and _curve_slope(lo, args) > 0.0:
        return _slope_root(lo, hi, args, XATOL, XRTOL, 2000)
    return lo


@jitable
def _curve_reply(kind, A, s, w, Y, theta, q, fee, penalty, e, N):
    """The best reply on [0, q] paying the fee on every unit; if that reaches q, the best on
    [q, e] paying the expected fine too on every unit."""
    low = _curve_argmax(0.0, q, (kind, A, s, w, Y, theta, fee, N))
    if low < q:
        return low
    return _curve_argmax(q, e, (kind, A, s, w, Y, theta, fee + penalty, N))


@best_reply.register(CurveGameValues)
@jitable
def _best_reply_curve_game(TP, r, i, t, S):
    e = TP.e[r, i]
    x = min(S.draws[r, i], e)
    Y = max(TP.total[r] - x, 0.0)  # set by prepare_replies this round
    return _curve_reply(TP.kind, TP.A, TP.s, TP.w, Y, S.motivation[r, i],
                        min(S.quota[r, i], e), S.unit_charge[r, i], S.penalty_rate[r, i], e,
                        S.draws.shape[1])


def _curve_replies_loop(kind, A, s, w, e, draws, quota, fee, penalty, theta, out):
    R, N = draws.shape
    for r in range(R):
        X = 0.0
        for k in range(N):
            X += min(draws[r, k], e[r, k])
        for i in range(N):
            x = min(draws[r, i], e[r, i])
            out[r, i] = _curve_reply(kind, A, s, w, max(X - x, 0.0), theta[r, i],
                                     min(quota[r, i], e[r, i]), fee[r, i], penalty[r, i],
                                     e[r, i], N)


_LOOP: list = []


def _curve_replies(curve, w, e, st) -> np.ndarray:
    """Every organisation's best reply on a power or exponential stage game, with the compiled
    path's functions (compiled here too when numba is installed)."""
    if not _LOOP:
        if HAVE_NUMBA:
            import numba as nb
            _LOOP.append(nb.njit(cache=True, nogil=True)(_curve_replies_loop))
        else:  # pragma: no cover - numba is installed in the test environment
            _LOOP.append(_curve_replies_loop)

    def c(a):
        return np.ascontiguousarray(np.broadcast_to(a, st.draws.shape), np.float64)

    out = np.empty(st.draws.shape)
    _LOOP[0](int(curve[0]), float(curve[1]), float(curve[2]), float(w), c(e), c(st.draws),
             c(st.quota), c(st.unit_charge), c(st.penalty_rate), c(st.motivation), out)
    return out


# ---------------------------------------------------------------------- compiled payoffs
#: The compiled payoff of organisation i drawing z against the others' current draws, minus
#: the expected charges: ``draw_payoff(TP, r, i, t, S, z)``, chosen by the class of the
#: technology's compiled values (what :func:`evaluate` gives on the numpy path; a rule calls
#: ``prepare_replies`` first in the round).
draw_payoff = TypeDispatch("draw_payoff", "Compiled payoff of drawing z, minus charges.")


@jitable
def _charges(S, r, i, z):
    over = max(z - S.quota[r, i], 0.0)
    return S.unit_charge[r, i] * z + S.penalty_rate[r, i] * over


@draw_payoff.register(ConcaveValues)
@jitable
def _payoff_concave(TP, r, i, t, S, z):
    beta = TP.beta[r]
    scale = cpow(TP.n[r], 1.0 - beta)  # the need, set by prepare_replies this round
    gross = TP.a[r, i] * scale * cpow(z, beta) - TP.c[r] * z
    return gross - _charges(S, r, i, z)


@jitable
def _payoff_game(TP, r, i, S, z, ap, value, X):
    e = TP.e[r, i]
    own = TP.w * (e - z) + (z * ap if z > 0 else 0.0)
    group = (TP.w * (TP.supply - X) + (value if X > 0 else 0.0)) / S.draws.shape[1]
    theta = S.motivation[r, i]
    return (1 - theta) * own + theta * group - _charges(S, r, i, z)


@jitable
def _with_draw(TP, r, i, S, z):
    """(z, X, X or 1): organisation i's alternative draw z, capped by its endowment, the
    group draw with it in place of its own (the others' from ``TP.total``), and X made safe to
    divide by."""
    e = TP.e[r, i]
    Y = max(TP.total[r] - min(S.draws[r, i], e), 0.0)
    z = min(z, e)
    X = z + Y
    return z, X, (X if X > 0 else 1.0)


@draw_payoff.register(QuadraticGameValues)
@jitable
def _payoff_quadratic_game(TP, r, i, t, S, z):
    z, X, safe = _with_draw(TP, r, i, S, z)
    return _payoff_game(TP, r, i, S, z, TP.a - TP.b * safe, safe * (TP.a - TP.b * safe), X)


@draw_payoff.register(CurveGameValues)
@jitable
def _payoff_curve_game(TP, r, i, t, S, z):
    z, X, safe = _with_draw(TP, r, i, S, z)
    return _payoff_game(TP, r, i, S, z, _curves.average(TP.kind, TP.A, TP.s, safe),
                        _curves.value(TP.kind, TP.A, TP.s, safe), X)


@draw_payoff.register(FisheryValues)
@jitable
def _payoff_fishery(TP, r, i, t, S, z):
    catch = TP.q[r] * z * S.stock_start[r]
    return TP.p[r] * catch - TP.c[r] * z - _charges(S, r, i, z)


@draw_payoff.register(LakeValues)
@jitable
def _payoff_lake(TP, r, i, t, S, z):
    return TP.alpha[r] * z - _charges(S, r, i, z)
