"""Neighbour counts by bitsets: how many of i's neighbours hold a flag, in a few words' time.

A plug-in that counts, for every organisation, the neighbours holding a flag (the compliant
neighbours who watch, in :class:`~commons.sim.mechanisms.PeerMonitoring`) gathers one byte per
edge: about 2 cycles an edge, 40 for degree 19. When the network is small, each
organisation's neighbours fit in a row of W = ceil(N / 64) machine words, bit j set for
neighbour j (:func:`adjacency_rows`, built once per run); the flags of a round are packed
into W words the same way (:func:`pack`), and the count is the population count of their
intersection, word by word (:func:`count`): W popcounts instead of a gather per edge (about
3 ns an organisation against 18 for degree 19 and 8 for degree 4 here). The count is an
integer, so both ways give the same value.
"""

from __future__ import annotations

import numpy as np

from ._jit import HAVE_NUMBA, jitable

__all__ = ["MAX_BYTES", "adjacency_rows", "as_bytes", "count", "pack", "popcount"]

#: The most memory the rows may take (bytes): up to about N = 2900 organisations.
MAX_BYTES = 1 << 20

if HAVE_NUMBA:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def popcount(typingctx, x):
        """The number of bits set in a uint64 (LLVM's ``ctpop``: one instruction on x86-64
        with POPCNT)."""
        if x != types.uint64:
            return None

        def codegen(context, builder, sig, args):
            fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
            return builder.call(fn, args)

        return types.uint64(types.uint64), codegen

    @intrinsic
    def as_bytes(typingctx, a):
        """A 1-d array of flags (bool) as the array of their bytes (uint8, 0 or 1), sharing
        its memory: the same array with its data pointer's type changed, no instruction of
        its own. (``a.view(np.uint8)`` checks the sizes and builds the array each time, about
        30 cycles: a count of a hundred flags took three times as long.)"""
        if not (isinstance(a, types.Array) and a.dtype == types.boolean and a.ndim == 1):
            return None
        out = types.Array(types.uint8, 1, a.layout, readonly=not a.mutable)

        def codegen(context, builder, sig, args):
            src = context.make_array(sig.args[0])(context, builder, args[0])
            dst = context.make_array(sig.return_type)(context, builder)
            for name in ("meminfo", "parent", "nitems", "itemsize", "shape", "strides"):
                setattr(dst, name, getattr(src, name))
            dst.data = builder.bitcast(src.data, dst.data.type)
            value = dst._getvalue()
            if context.enable_nrt:
                context.nrt.incref(builder, sig.return_type, value)
            return value

        return out(a), codegen
else:  # pragma: no cover - numba is installed in the test environment
    def popcount(x):
        return bin(int(x)).count("1")

    def as_bytes(a):
        return a.view(np.uint8)


def adjacency_rows(indptr: np.ndarray, indices: np.ndarray, n: int) -> np.ndarray:
    """Each organisation's neighbours as a row of bits, or an empty (0, 0) array when a gather
    per edge is as cheap or the rows would not pay for their memory.

    Row i has bit j % 64 of word j // 64 set for each neighbour j in ``indices[indptr[i]:
    indptr[i + 1]]``. The rows are built when W = ceil(n / 64) words a row is at most the
    mean degree (a popcount a word against a gather an edge), they take at most
    :data:`MAX_BYTES`, and no organisation lists a neighbour twice (a bit cannot count twice).

    Parameters
    ----------
    indptr : ndarray of int, shape (n + 1,)
        CSR offsets of the neighbour lists.
    indices : ndarray of int, shape (E,)
        The neighbours, row by row.
    n : int
        Number of organisations.

    Returns
    -------
    ndarray of uint64, shape (n, W) or (0, 0)
        The rows, or an empty array where counting should gather.
    """
    words = -(-n // 64)
    E = int(indices.shape[0])
    if n == 0 or E == 0 or words > E / n or n * words * 8 > MAX_BYTES:
        return np.zeros((0, 0), np.uint64)
    src = np.repeat(np.arange(n), np.diff(indptr).astype(np.int64))
    dst = indices.astype(np.int64)
    if np.unique(src * n + dst).size != E:  # a neighbour listed twice
        return np.zeros((0, 0), np.uint64)
    rows = np.zeros((n, words), np.uint64)
    bit = np.left_shift(np.uint64(1), (dst % 64).astype(np.uint64))
    np.bitwise_or.at(rows, (src, dst // 64), bit)
    return rows


@jitable
def pack(words, flags):
    """``words[w]`` = the flags 64 w .. 64 w + 63 as bits (flag 64 w + k is bit k), for the
    first ceil(len(flags) / 64) entries of ``words``."""
    n = flags.shape[0]
    for w in range((n + 63) // 64):
        lo = 64 * w
        hi = min(lo + 64, n)
        x = np.uint64(0)
        for k in range(lo, hi):
            x |= np.uint64(flags[k]) << np.uint64(k - lo)
        words[w] = x


@jitable
def count(row, words):
    """The number of bits set in both ``row`` and ``words`` (over ``row``'s length)."""
    c = np.uint64(0)
    for w in range(row.shape[0]):
        c += popcount(row[w] & words[w])
    return c
