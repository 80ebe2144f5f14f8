"""The engine's own steps of a round, compiled, for one replicate r of a CState.

The same operations as the numpy path (:meth:`commons.State.begin_round`, the clip after
``decide``, the compliance judged after ``appropriate``, :meth:`commons.State.settle`, and the
engine's recorder), so a fused kernel gives the numpy path's results.
"""

from __future__ import annotations

import numpy as np

from ._jit import jitable
from .state import KINDS, RECIPIENTS

__all__ = ["after_appropriate", "after_decide", "begin_round", "clip_next", "finite_row",
           "in_rounds", "record", "row_sum", "settle", "since"]

_NREC = len(RECIPIENTS)
_FINE_MEMBERS = 0 * _NREC + 2
_COST_MEMBERS = 1 * _NREC + 2
_NCH = len(KINDS) * _NREC


@jitable
def begin_round(r, S):
    """Reset the per-round fields and serve exclusions (State.begin_round)."""
    S.stock_start[r] = S.stock[r]
    S.ration[r] = 1.0
    S.regulator_spending[r] = 0.0
    S.external[r] = False
    N = S.draws.shape[1]
    for i in range(N):
        S.detect_prob[r, i] = 0.0
        S.inspected[r, i] = False
        S.detected[r, i] = False
        S.penalty_rate[r, i] = 0.0
        S.unit_charge[r, i] = 0.0
        S.transfers[r, i] = 0.0
        S.sanctioned[r, i] = False
        S.recorded[r, i] = False
        S.excluded_now[r, i] = False
        S.appealed[r, i] = False
        S.called_out[r, i] = 0.0
        left = S.exclusion_left[r, i]
        S.excluded[r, i] = left > 0
        S.exclusion_left[r, i] = left - 1 if left > 1 else 0
        for k in range(_NCH):
            S.charges[r, k, i] = 0.0
    for e in range(S.met.shape[1]):
        S.met[r, e] = False


@jitable
def after_decide(r, S, max_draw):
    """Clip draws to [0, max_draw] and zero the excluded."""
    for i in range(S.draws.shape[1]):
        v = S.draws[r, i]
        if v < 0.0:
            v = 0.0
        if v > max_draw[r, i]:
            v = max_draw[r, i]
        if S.excluded[r, i]:
            v = 0.0
        S.draws[r, i] = v


@jitable
def after_appropriate(r, S):
    """Compliance: granted <= quota."""
    for i in range(S.draws.shape[1]):
        S.compliant[r, i] = S.granted[r, i] <= S.quota[r, i]


@jitable
def settle(r, S):
    """Total the charges, share the members' part, set the payoffs (State.settle)."""
    N = S.draws.shape[1]
    shared = 0.0
    for i in range(N):
        shared += S.charges[r, _FINE_MEMBERS, i] + S.charges[r, _COST_MEMBERS, i]
    share = shared / N
    for i in range(N):
        f = S.charges[r, 0, i] + S.charges[r, 1, i] + S.charges[r, 2, i]
        c = S.charges[r, 3, i] + S.charges[r, 4, i] + S.charges[r, 5, i]
        S.fines[r, i] = f
        S.costs[r, i] = c
        S.transfers[r, i] = S.transfers[r, i] + share
        S.payoffs[r, i] = S.gross[r, i] - f - c + S.transfers[r, i]


@jitable
def clip_next(r, S, max_draw):
    """Clip the next draws to [0, max_draw]."""
    for i in range(S.next_draws.shape[1]):
        v = S.next_draws[r, i]
        if v < 0.0:
            v = 0.0
        if v > max_draw[r, i]:
            v = max_draw[r, i]
        S.next_draws[r, i] = v


@jitable
def finite_row(a, r, nonneg):
    """Whether row r of ``a`` is finite (and >= 0 with ``nonneg``)."""
    if a.ndim == 1:
        v = a[r]
        return np.isfinite(v) and not (nonneg and v < 0)
    for i in range(a.shape[1]):
        v = a[r, i]
        if not np.isfinite(v) or (nonneg and v < 0):
            return False
    return True


@jitable
def record(r, t, S, series, full_x, full_h, full_p, record_full, baseline, cum, pos_t,
           pos_n, active):
    """The recorder's series (see commons.sim.engine.SERIES) and accumulators for round t."""
    N = S.draws.shape[1]
    E = S.trust.shape[1]
    xs = 0.0
    hs = 0.0
    rent = 0.0
    fines = 0.0
    costs = 0.0
    reg = 0.0
    burned = 0.0
    # counts in integers: the same values as adding 1.0s, without a chain of float adds
    comp = 0
    wrong = 0
    excl = 0
    for i in range(N):
        xs += S.draws[r, i]
        hs += S.granted[r, i]
        net = S.payoffs[r, i] - baseline[r, i]
        rent += net
        if S.compliant[r, i]:
            comp += 1
        fines += S.fines[r, i]
        costs += S.costs[r, i]
        reg += S.charges[r, 0, i] + S.charges[r, 3, i]
        burned += S.charges[r, 1, i] + S.charges[r, 4, i]
        if S.detected[r, i] and S.compliant[r, i] and S.sanctioned[r, i]:
            wrong += 1
        if S.excluded[r, i]:
            excl += 1
        cum[r, i] += net
        if net > 0.0:
            pos_t[r, i] += t + 1
            pos_n[r, i] += 1.0
        if record_full:
            full_x[r, t, i] = S.draws[r, i]
            full_h[r, t, i] = S.granted[r, i]
            full_p[r, t, i] = S.payoffs[r, i]
    ws = row_sum(S.trust, r)
    active[r] += float(N - excl)
    series[0, r, t] = xs / N
    series[1, r, t] = hs
    series[2, r, t] = S.stock[r]
    series[3, r, t] = rent
    series[4, r, t] = float(comp) / N
    series[5, r, t] = fines
    series[6, r, t] = costs
    series[7, r, t] = ws / E if E > 0 else np.nan
    series[8, r, t] = reg
    series[9, r, t] = S.regulator_spending[r]
    series[10, r, t] = burned
    series[11, r, t] = float(wrong)
    series[12, r, t] = float(excl)


@jitable
def row_sum(a, r):
    """The sum of row r of ``a``, in eight running sums combined pairwise at the end (as
    numpy's pairwise sum does within a block): eight independent chains of adds instead of
    one, which the compiler runs side by side (the mean trust of a recorded round, over every
    edge, was a chain of one add per edge)."""
    n = a.shape[1]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    e = 0
    while e + 8 <= n:
        s0 += a[r, e]
        s1 += a[r, e + 1]
        s2 += a[r, e + 2]
        s3 += a[r, e + 3]
        s4 += a[r, e + 4]
        s5 += a[r, e + 5]
        s6 += a[r, e + 6]
        s7 += a[r, e + 7]
        e += 8
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while e < n:
        total += a[r, e]
        e += 1
    return total


@jitable
def in_rounds(t, rounds):
    """Whether round t is among ``rounds`` (a sorted int array; [-1] means every round)."""
    if rounds.shape[0] == 1 and rounds[0] == -1:
        return True
    for k in range(rounds.shape[0]):  # noqa: SIM110 - numba compiles no generator expressions
        if rounds[k] == t:
            return True
    return False


@jitable
def since(t, rounds):
    """Whether a round of ``rounds`` has come by round t ([-1]: every round)."""
    if rounds.shape[0] == 1 and rounds[0] == -1:
        return True
    return rounds.shape[0] > 0 and rounds[0] <= t


@jitable
def copy_row(src, dst, r):
    """dst[r] = src[r]."""
    for i in range(src.shape[1]):
        dst[r, i] = src[r, i]


@jitable
def keep_owned(field, out, owner, c, r):
    """out[r, i] = field[r, i] for the organisations i whose owner is c."""
    for i in range(field.shape[1]):
        if owner[i] == c:
            out[r, i] = field[r, i]
