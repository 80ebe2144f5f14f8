"""The engine's own steps of a round, compiled, for one replicate r of a CState.

The same operations as the numpy path (the clip after ``decide``, the compliance judged after
``appropriate``, :meth:`commons.State.settle`, and the engine's recorder), so a fused kernel
gives the numpy path's results; :mod:`commons.sim.codegen` writes the start of the round
(:meth:`commons.State.begin_round`) for the fields a model writes. Each step takes a range of
organisations (or of blocks of them), so that threads sharing a replicate can split it.
"""

from __future__ import annotations

import numpy as np

from ._bitsets import as_bytes
from ._jit import inlined, jitable
from ._lanes import lane_sum, lane_terms, lane_terms_many
from .state import KINDS, RECIPIENTS

__all__ = ["after_appropriate", "after_decide", "blocks", "clip_next", "finite_range",
           "finite_row", "in_rounds", "range_sum", "record_orgs", "record_total", "settle",
           "settle_share", "share_out", "since"]

_NREC = len(RECIPIENTS)
_FINE_MEMBERS = 0 * _NREC + 2
_COST_MEMBERS = 1 * _NREC + 2
_NCH = len(KINDS) * _NREC


@jitable
def after_decide(r, S, max_draw, i0, i1):
    """Clip the draws of organisations i0..i1-1 to [0, max_draw] and zero the excluded.
    Returns what was wrong with the draws before (the decide act's check, in the same loop:
    :func:`finite_range` with ``nonneg``)."""
    fin = True
    pos = True
    for i in range(i0, i1):
        v = S.draws[r, i]
        fin &= v - v == 0.0
        pos &= v >= 0.0
        if v < 0.0:
            v = 0.0
        if v > max_draw[r, i]:
            v = max_draw[r, i]
        if S.excluded[r, i]:
            v = 0.0
        S.draws[r, i] = v
    return _fault(fin, pos)


@jitable
def after_appropriate(r, S, i0, i1):
    """Compliance of organisations i0..i1-1: granted <= quota. Returns what is wrong with the
    grants (the appropriate act's check, in the same loop: :func:`finite_range` with
    ``nonneg``)."""
    fin = True
    pos = True
    for i in range(i0, i1):
        h = S.granted[r, i]
        fin &= h - h == 0.0
        pos &= h >= 0.0
        S.compliant[r, i] = h <= S.quota[r, i]
    return _fault(fin, pos)


@jitable
def settle(r, S, part, i0, i1):
    """Total the charges of organisations i0..i1-1 and set their payoffs as if nothing were
    paid to the members (State.settle with a share of +0.0); mark in ``part[r, k, PAID]``
    whether block k's organisations pay the members anything (1.0) or not (0.0).

    The marks let :func:`settle_share` test every organisation by reading one number a
    block: a thread that shares a replicate's organisations reads its own rows here, where a
    test of every organisation reads rows the other threads wrote, from their cores' caches.
    i0 is a block's first organisation (a multiple of :data:`RB`)."""
    a0 = i0
    while a0 < i1:
        a1 = min(i1, a0 + np.uint64(RB))
        paid = False
        for i in range(a0, a1):
            paid |= (S.charges[r, _FINE_MEMBERS, i] != 0.0) | \
                (S.charges[r, _COST_MEMBERS, i] != 0.0)
            f = S.charges[r, 0, i] + S.charges[r, 1, i] + S.charges[r, 2, i]
            c = S.charges[r, 3, i] + S.charges[r, 4, i] + S.charges[r, 5, i]
            S.fines[r, i] = f
            S.costs[r, i] = c
            tr = S.transfers[r, i] + 0.0
            S.transfers[r, i] = tr
            S.payoffs[r, i] = S.gross[r, i] - f - c + tr
        part[r, a0 // np.uint64(RB), PAID] = 1.0 if paid else 0.0
        a0 = a1


@jitable
def settle_share(r, S, part):
    """Each organisation's share of what is paid to the members, summed in organisation
    order: +0.0 without a sum when no block is marked paid by :func:`settle` (a sum from
    +0.0 of terms that are all zero is +0.0), so never -0.0."""
    paid = False
    for k in range(part.shape[1]):
        paid |= part[r, k, PAID] != 0.0
    if not paid:
        return 0.0
    N = S.draws.shape[1]
    shared = 0.0
    for i in range(N):
        shared += S.charges[r, _FINE_MEMBERS, i] + S.charges[r, _COST_MEMBERS, i]
    return shared / N


@jitable
def share_out(r, S, share, i0, i1):
    """Give organisations i0..i1-1 the members' ``share`` (:func:`settle_share`) after
    :func:`settle`: their transfers and payoffs become State.settle's. Nothing to do for a
    share of +0.0, which :func:`settle` has added; otherwise (t + 0.0) + share = t + share
    for any t, as share is not -0.0."""
    if share == 0.0:
        return
    for i in range(i0, i1):
        tr = S.transfers[r, i] + share
        S.transfers[r, i] = tr
        S.payoffs[r, i] = S.gross[r, i] - S.fines[r, i] - S.costs[r, i] + tr


@jitable
def clip_next(r, S, max_draw, i0, i1):
    """Clip the next draws of organisations i0..i1-1 to [0, max_draw]. Returns what was wrong
    with them before (a learn act's check, in the same loop: :func:`finite_range`)."""
    fin = True
    for i in range(i0, i1):
        v = S.next_draws[r, i]
        fin &= v - v == 0.0
        if v < 0.0:
            v = 0.0
        if v > max_draw[r, i]:
            v = max_draw[r, i]
        S.next_draws[r, i] = v
    return _fault(fin, True)


@jitable
def finite_row(a, r, nonneg):
    """What is wrong with row r of ``a`` (see :func:`finite_range`)."""
    if a.ndim == 1:
        v = a[r]
        return _fault(v - v == 0.0, not (nonneg and v < 0.0))
    return finite_range(a, r, 0, a.shape[1], nonneg)


@jitable
def _fault(finite, nonneg):
    """0 when all is well, 1 when a value is not finite, 2 when one is negative."""
    return 0 if finite and nonneg else (1 if not finite else 2)


@jitable
def finite_range(a, r, i0, i1, nonneg):
    """What is wrong with a[r, i0:i1]: 0 nothing, 1 a value not finite, 2 (with ``nonneg``)
    a finite value below 0 (what the numpy path calls "non-finite" and "negative").

    Every value is tested, with no early exit, so the loop vectorises: v - v == 0 holds for
    a finite v and fails for infinities (inf - inf is nan) and nan (every comparison with it
    is false), and v >= lo tests the lower bound; two float compares a value (half the cycles
    of testing |v| < inf, which the compiler turns into integer tests of the bits)."""
    lo = 0.0 if nonneg else -np.inf
    fin = True
    pos = True
    for i in range(i0, i1):
        v = a[r, i]
        fin &= v - v == 0.0
        pos &= v >= lo
    return _fault(fin, pos)


#: Organisations per block of the recorder's sums: each block is summed in order, then the
#: blocks' sums in order, so threads that split a replicate's organisations at block
#: boundaries (:func:`commons.sim.compiled_run.run_orgs`) give the same bits as one thread.
RB = 256
#: Sums per block: draws, granted, rent, compliant, fines, costs, to the regulator, burned,
#: wrongful, excluded, trust.
NSUMS = 11
#: The slot after the sums: whether the block's organisations pay the members anything this
#: round (:func:`settle`). ``part`` has NSUMS + 1 slots a block.
PAID = NSUMS
#: The block sum each series (:data:`commons.sim.engine.SERIES`, in order) is made from, and
#: -1 for the stock and the regulator's spending, which are read from the state.
SUM_OF_SERIES = (0, 1, -1, 2, 3, 4, 5, 10, 6, -1, 7, 8, 9)
#: :data:`SUM_OF_SERIES` as an array, for compiled code: a global array is a constant in
#: memory, one load per series, where a global tuple indexed by a variable is built and
#: searched at each use (about 800 cycles a round for the recorder's 13 series)
_SUM_OF = np.array(SUM_OF_SERIES, np.int64)
#: The series made from sums of numbers (not counts, not over edges), whose sums the recorder
#: adds in one loop when it keeps two or more of them.
_LANE_SERIES = np.array((0, 1, 3, 5, 6, 8, 10), np.int64)
#: Their slots in a block's sums; their terms are "00-00++" (see :func:`record_orgs`): the
#: draws, the grants, the rent (payoffs less the outside option), the fines, the costs,
#: charges of kinds 0 and 3 (fines and fees to the regulator) and of kinds 1 and 4 (burned).
_LANE_SLOT = np.array((0, 1, 2, 4, 5, 6, 7), np.int64)


def blocks(N: int) -> int:
    """Blocks of :data:`RB` organisations in N (the recorder's partial sums per replicate)."""
    return max(1, -(-N // RB))


@jitable
def record_orgs(r, t, S, full_x, full_h, full_p, record_full, baseline, cum, pos_t, pos_n,
                rows, part, net, k0, k1):
    """Per-organisation accumulators of round t for blocks k0..k1-1 of :data:`RB`
    organisations, and each block's sums into ``part[r, k]``: only the sums of the kept
    series (``rows[s] >= 0`` for series s, see :func:`record_total`), and the accumulators
    only when ``cum`` has rows.

    A loop over the block for each thing kept: the counts (integers: adding them in any
    order gives the same value, so the compiler may vectorise the loop); what is kept per
    organisation, in loops that each store to one or two arrays (the compiler vectorises a
    loop only when it can rule out that its stores overlap its loads, which it gives up on
    for many arrays); each sum of numbers in four running sums, the lanes of one vector
    (:func:`commons.sim._lanes.lane_terms`), in a fixed order whatever the machine and
    whatever else is kept. The fused kernel inlines this function
    (:func:`commons.sim.codegen._inlined`)."""
    N = S.draws.shape[1]
    acc = cum.shape[0] > 0
    kept = 0  # how many of the seven sums of numbers are kept: two or more in one loop
    for m in range(_LANE_SERIES.shape[0]):
        kept += np.int64(rows[_LANE_SERIES[m]] >= 0)
    many = kept > 1
    for k in range(k0, k1):
        a0 = np.uint64(k * RB)
        a1 = np.uint64(min(N, (k + 1) * RB))
        if rows[4] >= 0:
            part[r, k, 3] = _count(S.compliant[r], S.compliant[r], S.compliant[r], a0, a1)
        if rows[11] >= 0:  # wrongful: detected, compliant and sanctioned
            part[r, k, 8] = _count(S.detected[r], S.compliant[r], S.sanctioned[r], a0, a1)
        if acc or rows[12] >= 0:
            part[r, k, 9] = _count(S.excluded[r], S.excluded[r], S.excluded[r], a0, a1)
        if acc:
            _accumulate(S.payoffs[r], baseline[r], cum[r], pos_t[r], pos_n[r], float(t + 1),
                        a0, a1)
        if record_full:
            _keep_full(S.draws[r], S.granted[r], S.payoffs[r], full_x[r, t], full_h[r, t],
                       full_p[r, t], a0, a1)
        a = (S.draws[r], S.granted[r], S.payoffs[r], S.fines[r], S.costs[r], S.charges[r, 0],
             S.charges[r, 1])
        b = (S.draws[r], S.granted[r], baseline[r], S.fines[r], S.costs[r], S.charges[r, 3],
             S.charges[r, 4])
        if many:  # every sum of numbers in one loop, each in its own lanes (the same bits)
            s = lane_terms_many(a, b, "00-00++", a0, a1)
            for m in range(_LANE_SERIES.shape[0]):
                part[r, k, _LANE_SLOT[m]] = s[m]
        else:  # one sum (or none): a loop of its own
            for m in range(_LANE_SERIES.shape[0]):
                if rows[_LANE_SERIES[m]] >= 0:
                    part[r, k, _LANE_SLOT[m]] = _one_sum(a, b, m, a0, a1)
        if rows[7] >= 0:
            part[r, k, 10] = range_sum(S.trust, r, net.indptr[a0], net.indptr[a1])


@jitable
def _one_sum(a, b, m, a0, a1):
    """Sum m of ``lane_terms_many(a, b, "00-00++", a0, a1)`` alone, in a loop of its own (the
    same bits: each sum has its own lanes either way). The tuples' arrays differ in type (the
    outside option may be read-only), so each is taken by a constant index."""
    if m == 0:
        return lane_terms(a[0], b[0], 0, a0, a1)
    if m == 1:
        return lane_terms(a[1], b[1], 0, a0, a1)
    if m == 2:
        return lane_terms(a[2], b[2], -1, a0, a1)
    if m == 3:
        return lane_terms(a[3], b[3], 0, a0, a1)
    if m == 4:
        return lane_terms(a[4], b[4], 0, a0, a1)
    if m == 5:
        return lane_terms(a[5], b[5], 1, a0, a1)
    return lane_terms(a[6], b[6], 1, a0, a1)


@jitable
def _count(a, b, c, a0, a1):
    """How many i in a0..a1-1 have a[i], b[i] and c[i] all true, as a float: their bytes
    (0 or 1) and-ed and added as integers, which the compiler does in SIMD lanes."""
    x = as_bytes(a)
    y = as_bytes(b)
    z = as_bytes(c)
    n = 0
    for i in range(a0, a1):
        n += x[i] & y[i] & z[i]
    return float(n)


@jitable
def _accumulate(pay, base, cum, pos_t, pos_n, tt, a0, a1):
    """Each organisation's payoff above its outside option added to ``cum``; where it is
    positive, the round number ``tt`` (1-based) to ``pos_t`` and 1 to ``pos_n``."""
    for i in range(a0, a1):
        d = pay[i] - base[i]
        cum[i] += d
        # choices, not jumps (whether a round paid is as good as a coin toss to predict):
        # adding 0 leaves a sum of positive terms as it was
        up = d > 0.0
        pos_t[i] += tt if up else 0.0
        pos_n[i] += 1.0 if up else 0.0


@jitable
def _keep_full(x, h, p, out_x, out_h, out_p, a0, a1):
    """Draws, grants and payoffs of organisations a0..a1-1 into the round's full records."""
    for i in range(a0, a1):
        out_x[i] = x[i]
        out_h[i] = h[i]
        out_p[i] = p[i]


@jitable
def record_total(r, t, S, series, rows, active, part):
    """The kept series of round t from the blocks' sums, added in block order: series s
    (:data:`commons.sim.engine.SERIES`) into ``series[rows[s], r, t]`` where rows[s] >= 0,
    and the organisations not excluded into ``active[r]`` when ``active`` has rows."""
    N = S.draws.shape[1]
    E = S.trust.shape[1]
    for s in range(rows.shape[0]):
        row = rows[s]
        if row < 0:
            continue
        if s == 2:
            v = S.stock[r]
        elif s == 9:
            v = S.regulator_spending[r]
        else:
            v = _block_total(part, r, _SUM_OF[s])
            if s == 0 or s == 4:  # the mean draw, the compliance: over the organisations
                v /= N
            elif s == 7:  # the mean trust: over the edges
                v = v / E if E > 0 else np.nan
        series[row, r, t] = v
    if active.shape[0] > 0:
        active[r] += float(N) - _block_total(part, r, 9)


@inlined
def _block_total(part, r, m):
    """Sum m of replicate r over its blocks, in block order (compiled into the caller: a
    call per series cost more than its sum)."""
    v = 0.0
    for k in range(part.shape[1]):
        v += part[r, k, m]
    return v


@jitable
def range_sum(a, r, e0, e1):
    """The sum of a[r, e0:e1] in eight running sums, in SIMD lanes
    (:func:`commons.sim._lanes.lane_sum`): eight independent chains of adds, as numpy's
    pairwise sum has within a block, in one vector register (the mean trust of a recorded
    round, over every edge, was a chain of one add per edge, then eight scalar chains)."""
    return lane_sum(a[r], e0, e1)


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
