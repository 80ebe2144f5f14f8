"""The engine's own steps of a round, compiled, for one replicate r of a CState.

The same operations as the numpy path (the clip after ``decide``, the compliance judged after
``appropriate``, :meth:`commons.State.settle`, and the engine's recorder), so a fused kernel
gives the numpy path's results; :mod:`commons.sim.codegen` writes the start of the round
(:meth:`commons.State.begin_round`) for the fields a model writes. Each step takes a range of
organisations (or of blocks of them), so that threads sharing a replicate can split it.
"""

from __future__ import annotations

import numpy as np

from ._jit import jitable
from .state import KINDS, RECIPIENTS

__all__ = ["after_appropriate", "after_decide", "blocks", "clip_next", "finite_range",
           "finite_row", "in_rounds", "range_sum", "record_orgs", "record_total", "settle",
           "settle_share", "since"]

_NREC = len(RECIPIENTS)
_FINE_MEMBERS = 0 * _NREC + 2
_COST_MEMBERS = 1 * _NREC + 2
_NCH = len(KINDS) * _NREC


@jitable
def after_decide(r, S, max_draw, i0, i1):
    """Clip the draws of organisations i0..i1-1 to [0, max_draw] and zero the excluded."""
    for i in range(i0, i1):
        v = S.draws[r, i]
        if v < 0.0:
            v = 0.0
        if v > max_draw[r, i]:
            v = max_draw[r, i]
        if S.excluded[r, i]:
            v = 0.0
        S.draws[r, i] = v


@jitable
def after_appropriate(r, S, i0, i1):
    """Compliance of organisations i0..i1-1: granted <= quota."""
    for i in range(i0, i1):
        S.compliant[r, i] = S.granted[r, i] <= S.quota[r, i]


@jitable
def settle_share(r, S):
    """Each organisation's share of what is paid to the members (summed in order)."""
    N = S.draws.shape[1]
    shared = 0.0
    for i in range(N):
        shared += S.charges[r, _FINE_MEMBERS, i] + S.charges[r, _COST_MEMBERS, i]
    return shared / N


@jitable
def settle(r, S, share, i0, i1):
    """Total the charges of organisations i0..i1-1, give each ``share`` (see
    :func:`settle_share`), set their payoffs (State.settle)."""
    for i in range(i0, i1):
        f = S.charges[r, 0, i] + S.charges[r, 1, i] + S.charges[r, 2, i]
        c = S.charges[r, 3, i] + S.charges[r, 4, i] + S.charges[r, 5, i]
        S.fines[r, i] = f
        S.costs[r, i] = c
        S.transfers[r, i] = S.transfers[r, i] + share
        S.payoffs[r, i] = S.gross[r, i] - f - c + S.transfers[r, i]


@jitable
def clip_next(r, S, max_draw, i0, i1):
    """Clip the next draws of organisations i0..i1-1 to [0, max_draw]."""
    for i in range(i0, i1):
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
    return finite_range(a, r, 0, a.shape[1], nonneg)


@jitable
def finite_range(a, r, i0, i1, nonneg):
    """Whether a[r, i0:i1] is finite (and >= 0 with ``nonneg``).

    Every value is tested, with no early exit, so the loop vectorises: lo <= v and |v| < inf
    holds for a finite v >= lo, and fails for nan (every comparison with it is false) and for
    infinities."""
    lo = 0.0 if nonneg else -np.inf
    ok = True
    for i in range(i0, i1):
        v = a[r, i]
        ok &= (v >= lo) & (abs(v) < np.inf)
    return ok


#: Organisations per block of the recorder's sums: each block is summed in order, then the
#: blocks' sums in order, so threads that split a replicate's organisations at block
#: boundaries (:func:`commons.sim.compiled_run.run_orgs`) give the same bits as one thread.
RB = 256
#: Sums per block: draws, granted, rent, compliant, fines, costs, to the regulator, burned,
#: wrongful, excluded, trust.
NSUMS = 11


def blocks(N: int) -> int:
    """Blocks of :data:`RB` organisations in N (the recorder's partial sums per replicate)."""
    return max(1, -(-N // RB))


@jitable
def record_orgs(r, t, S, full_x, full_h, full_p, record_full, baseline, cum, pos_t, pos_n,
                part, net, k0, k1):
    """Per-organisation accumulators of round t for blocks k0..k1-1 of :data:`RB`
    organisations, and each block's sums into ``part[r, k]``.

    Loops over a block: the counts (integers: adding them in any order gives the same value,
    so the compiler may vectorise the loop); what is kept per organisation, in loops that
    each store to one or two arrays (the compiler vectorises a loop only when it can rule out
    that its stores overlap its loads, which it gives up on for many arrays); and the sums,
    in four running sums (organisations i = 0, 1, 2, 3 mod 4 of the block) combined
    pairwise, then the block's last N mod 4 organisations in order: four chains of adds side
    by side instead of one, in a fixed order whatever the machine."""
    N = S.draws.shape[1]
    tt = float(t + 1)
    for k in range(k0, k1):
        a0 = np.uint64(k * RB)
        a1 = np.uint64(min(N, (k + 1) * RB))
        comp = 0
        wrong = 0
        excl = 0
        for i in range(a0, a1):
            comp += np.int64(S.compliant[r, i])
            wrong += np.int64(S.detected[r, i] & S.compliant[r, i] & S.sanctioned[r, i])
            excl += np.int64(S.excluded[r, i])
        for i in range(a0, a1):
            cum[r, i] += S.payoffs[r, i] - baseline[r, i]
        for i in range(a0, a1):
            # choices, not jumps (whether a round paid is as good as a coin toss to predict):
            # adding 0 leaves a sum of positive terms as it was
            up = S.payoffs[r, i] - baseline[r, i] > 0.0
            pos_t[r, i] += tt if up else 0.0
            pos_n[r, i] += 1.0 if up else 0.0
        if record_full:
            for i in range(a0, a1):
                full_x[r, t, i] = S.draws[r, i]
                full_h[r, t, i] = S.granted[r, i]
                full_p[r, t, i] = S.payoffs[r, i]
        four = np.uint64(4)
        s0 = s1 = s2 = s3 = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        i = a0
        while i + four <= a1:
            s0 = _plus(s0, _terms(r, i, S, baseline))
            s1 = _plus(s1, _terms(r, i + np.uint64(1), S, baseline))
            s2 = _plus(s2, _terms(r, i + np.uint64(2), S, baseline))
            s3 = _plus(s3, _terms(r, i + np.uint64(3), S, baseline))
            i += four
        total = _plus(_plus(s0, s1), _plus(s2, s3))
        while i < a1:
            total = _plus(total, _terms(r, i, S, baseline))
            i += np.uint64(1)
        ws = range_sum(S.trust, r, np.int64(net.indptr[a0]), np.int64(net.indptr[a1]))
        for m in range(7):  # draws, granted, rent, then fines, costs, regulator, burned
            part[r, k, m if m < 3 else m + 1] = total[m]
        part[r, k, 3] = float(comp)
        part[r, k, 8] = float(wrong)
        part[r, k, 9] = float(excl)
        part[r, k, 10] = ws


@jitable
def _terms(r, i, S, baseline):
    """What organisation i adds to the round's sums: its draw, grant, rent (payoff less
    baseline), fines, costs, charges to the regulator and charges burned."""
    return (S.draws[r, i], S.granted[r, i], S.payoffs[r, i] - baseline[r, i], S.fines[r, i],
            S.costs[r, i], S.charges[r, 0, i] + S.charges[r, 3, i],
            S.charges[r, 1, i] + S.charges[r, 4, i])


@jitable
def _plus(a, b):
    """Two tuples of seven sums added element by element."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5],
            a[6] + b[6])


@jitable
def record_total(r, t, S, series, active, part):
    """The series of round t from the blocks' sums, added in block order."""
    N = S.draws.shape[1]
    E = S.trust.shape[1]
    xs = hs = rent = comp = fines = costs = reg = burned = wrong = excl = ws = 0.0
    for k in range(part.shape[1]):
        xs += part[r, k, 0]
        hs += part[r, k, 1]
        rent += part[r, k, 2]
        comp += part[r, k, 3]
        fines += part[r, k, 4]
        costs += part[r, k, 5]
        reg += part[r, k, 6]
        burned += part[r, k, 7]
        wrong += part[r, k, 8]
        excl += part[r, k, 9]
        ws += part[r, k, 10]
    active[r] += float(N) - excl
    series[0, r, t] = xs / N
    series[1, r, t] = hs
    series[2, r, t] = S.stock[r]
    series[3, r, t] = rent
    series[4, r, t] = comp / N
    series[5, r, t] = fines
    series[6, r, t] = costs
    series[7, r, t] = ws / E if E > 0 else np.nan
    series[8, r, t] = reg
    series[9, r, t] = S.regulator_spending[r]
    series[10, r, t] = burned
    series[11, r, t] = wrong
    series[12, r, t] = excl


@jitable
def range_sum(a, r, e0, e1):
    """The sum of a[r, e0:e1], in eight running sums combined pairwise at the end (as
    numpy's pairwise sum does within a block): eight independent chains of adds instead of
    one, which the compiler runs side by side (the mean trust of a recorded round, over every
    edge, was a chain of one add per edge)."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    row = a[r]
    e = np.uint64(e0)  # unsigned: no negative-index test on each load (half the time)
    end = np.uint64(e1)
    one = np.uint64(1)
    while e + np.uint64(8) <= end:
        s0 += row[e]
        s1 += row[e + one]
        s2 += row[e + np.uint64(2)]
        s3 += row[e + np.uint64(3)]
        s4 += row[e + np.uint64(4)]
        s5 += row[e + np.uint64(5)]
        s6 += row[e + np.uint64(6)]
        s7 += row[e + np.uint64(7)]
        e += np.uint64(8)
    total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while e < end:
        total += row[e]
        e += one
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
