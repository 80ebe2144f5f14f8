"""The State and the network as compiled code sees them: named tuples of arrays.

``CState`` holds every State field (:data:`~commons.sim.state.FIELDS`) as the same numpy
array the numpy path uses, so compiled and numpy plug-ins act on one state; ``CNet`` holds the
trust network's CSR arrays and what mechanisms derive from them. Both are module-level named
tuples, so compiled functions that take them can be cached on disk.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from ._bitsets import adjacency_rows
from .state import FIELDS, State

__all__ = ["CNet", "CState", "cnet", "compiled_memory", "compiled_params", "cstate"]

CState = namedtuple("CState", list(FIELDS))
CNet = namedtuple("CNet", ["indptr", "indices", "src", "reverse", "pair", "pairs", "in_ptr",
                           "in_edges", "overlap", "distance", "tri_ptr", "tri_ki",
                           "tri_ij", "tri_kj", "rows", "pair_rank"])


def cstate(st: State) -> CState:
    """The State's arrays as a CState; arrays rebound by numpy plug-ins are made contiguous
    and of the declared type first (and rebound, so writes land in the State)."""
    out = []
    for name, spec in FIELDS.items():
        arr = getattr(st, name)
        want = np.dtype(spec.dtype)
        if (not isinstance(arr, np.ndarray) or arr.dtype != want
                or not arr.flags.c_contiguous or not arr.flags.writeable):
            arr = np.ascontiguousarray(np.array(arr, dtype=want))
            setattr(st, name, arr)
        out.append(arr)
    return CState(*out)


def cnet(network: Any, *, triads: bool = False) -> CNet:
    """The network's arrays for compiled code.

    ``pair[e]`` is the smaller of e and its reverse edge (one shared draw per unordered pair),
    and ``pairs`` lists those first edges in order (its length is the number of pairs);
    ``pair_rank[e]`` is the place of e's pair in ``pairs`` (``TrustNetwork.pair_rank``:
    a loop over edges reads each pair's number there);
    ``in_ptr``/``in_edges`` list each organisation's incoming edges; ``tri_*`` (only with
    ``triads``) hold, for each edge k -> j, the paths k -> i -> j by which k hears about j
    (in the order of ``TrustNetwork.triads``: a path's place there is its random counter):
    ``tri_ptr`` each edge's first path, ``tri_ki``, ``tri_ij`` and ``tri_kj`` each path's
    three edges;
    ``rows`` holds each organisation's neighbours as bits, for counts by popcount, when the
    network is small and dense enough (:func:`commons.sim._bitsets.adjacency_rows`; else
    shape (0, 0)).

    The offsets and the organisation and edge numbers are uint64 (``reverse`` and ``pair``,
    which hold -1 for a missing reverse edge, are int64): numba indexes an array with an
    unsigned number without first testing it for a negative (wrap-around) index, so the
    loops over edges that gather through these arrays compile to tighter code (7-22 % on
    the plug-in models, the same bits). In numba, unlike numpy, a signed and an unsigned
    integer combine to a signed integer, so ``indptr[i] + k`` is still an integer index; a
    difference of two unsigned numbers stays unsigned (take ``int(...)`` of one that may be
    negative).
    """
    E = network.n_edges
    N = network.n
    rev = network.reverse
    pair = network.pair.astype(np.int64)
    order = np.argsort(network.indices, kind="stable")
    in_ptr = np.zeros(N + 1, np.int64)
    np.cumsum(np.bincount(network.indices, minlength=N), out=in_ptr[1:])
    if triads and E:
        e_kj, tri_ki, tri_ij = network.triads  # ordered by k -> j
        tri_ptr = np.zeros(E + 1, np.int64)
        np.cumsum(np.bincount(e_kj, minlength=E), out=tri_ptr[1:])
    else:
        tri_ptr = np.zeros(E + 1, np.int64)
        e_kj = tri_ki = tri_ij = np.zeros(0, np.int64)
    u = np.uint64
    return CNet(network.indptr.astype(u), network.indices.astype(u), network.src.astype(u),
                rev.astype(np.int64), pair, np.flatnonzero(pair == np.arange(E)).astype(u),
                in_ptr.astype(u), order.astype(u),
                np.ascontiguousarray(network.overlap, np.float64),
                np.ascontiguousarray(network.distance, np.float64), tri_ptr.astype(u),
                tri_ki.astype(u), tri_ij.astype(u), np.asarray(e_kj).astype(u),
                adjacency_rows(network.indptr, network.indices, N),
                network.pair_rank.astype(u))


def _c(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)


def compiled_params(plugin: Any, ctx: Any) -> tuple:
    """The plug-in's bound parameters named in its ``cparams``, as a tuple for compiled code."""
    P = ctx.params[plugin]
    get = P.__getitem__ if isinstance(P, dict) else (lambda k: getattr(P, k))
    return tuple(_c(get(k)) for k in plugin.cparams)


def compiled_memory(plugin: Any, st: State, ctx: Any) -> tuple:
    """The plug-in's memory arrays, in the order of its ``memory`` declaration."""
    mem = st.memory[ctx.names[plugin]]
    return tuple(mem[k] for k in plugin.memory)
