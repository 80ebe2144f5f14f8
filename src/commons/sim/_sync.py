"""A barrier for compiled code: threads that split one replicate's organisations meet here.

When a run has fewer replicates than threads, every thread runs the whole round, act by act,
taking chunks of the organisations from a shared counter (:func:`take`) and meeting the others
at a barrier after each act (:mod:`commons.sim.codegen` writes that kernel). A Python barrier
would cost the GIL and tens of microseconds per act; this one costs about a microsecond.

The barrier needs no atomic read-modify-write: thread b publishes how many barriers it has
reached in its own slot of a shared int64 array (a release store) and waits until every slot
has reached the same count (acquire loads), so everything a thread wrote before the barrier
is seen by every thread after it (the C++ / LLVM memory model's release-acquire order). A
waiting thread spins briefly, then yields its core (``sched_yield``), so that more threads
than cores still make progress. The slot after the threads' slots is an abort flag: the
Python side sets it when a thread fails, and the others return instead of waiting for ever.

A check that fails in one thread (a NaN) must make every thread leave the replicate after the
same barrier. Its flag (:func:`fail`) names the barrier it precedes and lives in one of two
slots by the barrier's parity: a thread already past the barrier can flag only the next one,
in the other slot, so every thread reads the same answer from :func:`failed`.
"""

from __future__ import annotations

from ._jit import HAVE_NUMBA, jitable

__all__ = ["barrier", "fail", "failed", "slots", "take"]

#: Spins before a waiting thread starts yielding its core.
SPINS = 256

if HAVE_NUMBA:  # pragma: no branch
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    def _item_pointer(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        return cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])

    @intrinsic
    def load_acquire(typingctx, arr, i):
        """``arr[i]`` of an int64 array, as an atomic load with acquire order."""
        def codegen(context, builder, signature, args):
            return builder.load_atomic(_item_pointer(context, builder, signature, args),
                                       "acquire", 8)
        return types.int64(arr, types.intp), codegen

    @intrinsic
    def store_release(typingctx, arr, i, v):
        """``arr[i] = v`` of an int64 array, as an atomic store with release order."""
        def codegen(context, builder, signature, args):
            builder.store_atomic(args[2], _item_pointer(context, builder, signature, args),
                                 "release", 8)
            return context.get_dummy_value()
        return types.void(arr, types.intp, types.int64), codegen

    @intrinsic
    def fetch_add(typingctx, arr, i, v):
        """``arr[i] += v`` of an int64 array as one atomic step; the value before."""
        def codegen(context, builder, signature, args):
            return builder.atomic_rmw("add", _item_pointer(context, builder, signature, args),
                                      args[2], "monotonic")
        return types.int64(arr, types.intp, types.int64), codegen

    @intrinsic
    def yield_core(typingctx):
        """POSIX ``sched_yield()``: let another thread have this core."""
        def codegen(context, builder, signature, args):
            fnty = ir.FunctionType(ir.IntType(32), [])
            builder.call(cgutils.get_or_insert_function(builder.module, fnty, "sched_yield"),
                         [])
            return context.get_dummy_value()
        return types.void(), codegen


@jitable
def barrier(sync, b, n, epoch):
    """Thread ``b`` of ``n`` reaches barrier number ``epoch`` (1, 2, ...) and waits for all.

    Parameters
    ----------
    sync : ndarray of int64, shape (n + 1,) or more
        Zeros before the threads' first barrier: slot j counts the barriers thread j has
        reached; slot n is the abort flag (then the two error flags of :func:`fail`).
    b, n : int
        This thread's number and the number of threads.
    epoch : int
        How many barriers this thread has reached, this one included.

    Returns
    -------
    bool
        True when every thread has arrived; False if the run was aborted.
    """
    store_release(sync, b, epoch)
    for j in range(n):
        spins = 0
        while load_acquire(sync, j) < epoch:
            if load_acquire(sync, n) != 0:
                return False
            spins += 1
            if spins > SPINS:
                yield_core()
    return True


@jitable
def fail(sync, n, epoch):
    """Flag an error found before barrier number ``epoch`` (``sync`` of shape (n + 3,))."""
    store_release(sync, n + 1 + epoch % 2, epoch)


@jitable
def failed(sync, n, epoch):
    """Whether any thread flagged an error before barrier ``epoch`` (read after it)."""
    return load_acquire(sync, n + 1 + epoch % 2) == epoch


def slots(n: int) -> int:
    """The length of ``sync`` for n threads: n barrier counts, the abort flag, two error
    flags, then counters 0..n-1 of :func:`take`, each on its own 64-byte cache line."""
    return n + 3 + 8 * (n + 1)


@jitable
def take(sync, n, h):
    """The next ticket of counter h (0 <= h < n; ``sync`` of length :func:`slots` (n))."""
    return fetch_add(sync, n + 3 + 8 * (h + 1), 1)
