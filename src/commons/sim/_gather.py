"""Loops over edges that gather a number through an index, in SIMD lanes.

Numba compiles a loop over edges that reads a number through an index, key[idx[e]], one
edge at a time (about 3 cycles an edge here) when the loop also stores: LLVM vectorises
it only when it can rule out that the stores overlap the loads, which it cannot through
an index. The functions here write such loops in LLVM's IR, eight edges at a time, the
eight numbers fetched by a gather (``llvm.masked.gather``: one instruction where the
machine has it, eight loads where it has not; about 1 cycle an edge):

* :func:`take` copies out[e] = src[idx[e]], so that the loops after it, over ``out``, are
  loops the compiler vectorises;
* :func:`ease_where_le` sets w[e] = keep w[e] + (yes if key[idx[e]] <= hi else no) over one
  organisation's edges: the number of each edge's neighbour compared with the
  organisation's, and a blend;
* :func:`ease_where_le_at` does the same over the edges of many organisations, each edge's
  bound his[src[e]] gathered too: for networks whose organisations have fewer edges than a
  vector holds, where a loop per organisation runs one edge at a time.

Each lane does what the scalar loop does for its edge (a copy; or a compare, an IEEE
multiply, then an IEEE add, never fused), so the results are those of :func:`take_py`,
:func:`ease_where_le_py` and :func:`ease_where_le_at_py`, to the bit, on any machine.
"""

from __future__ import annotations

from typing import Any

from ._jit import HAVE_NUMBA

__all__ = ["ease_where_le", "ease_where_le_at", "ease_where_le_at_py", "ease_where_le_py",
           "take", "take_py"]

#: Edges per vector.
LANES = 8


def ease_where_le_py(w: Any, key: Any, idx: Any, e0: int, e1: int, hi: float, keep: float,
                     yes: float, no: float) -> None:
    """For e = e0..e1-1: w[e] = keep * w[e] + (yes if key[idx[e]] <= hi else no).
    Plain Python: the definition :func:`ease_where_le` compiles."""
    for e in range(e0, e1):
        w[e] = keep * w[e] + (yes if key[idx[e]] <= hi else no)


def ease_where_le_at_py(w: Any, key: Any, idx: Any, his: Any, src: Any, e0: int, e1: int,
                        keep: float, yes: float, no: float) -> None:
    """For e = e0..e1-1: w[e] = keep * w[e] + (yes if key[idx[e]] <= his[src[e]] else no).
    Plain Python: the definition :func:`ease_where_le_at` compiles."""
    for e in range(e0, e1):
        w[e] = keep * w[e] + (yes if key[idx[e]] <= his[src[e]] else no)


def take_py(out: Any, src: Any, idx: Any, e0: int, e1: int) -> None:
    """For e = e0..e1-1: out[e] = src[idx[e]]. Plain Python: the definition :func:`take`
    compiles."""
    for e in range(e0, e1):
        out[e] = src[idx[e]]


def _rows(*arrays: Any) -> bool:
    """Whether each numba type is a contiguous 1-D array."""
    return all(isinstance(t, types.Array) and t.ndim == 1 and t.layout == "C" for t in arrays)


def _bounds(context: Any, builder: Any, signature: Any, args: Any, at: int) -> tuple:
    """The data pointers of the first ``at`` arguments and the next two as unsigned."""
    data = [context.make_array(t)(context, builder, v).data
            for v, t in zip(args[:at], signature.args[:at], strict=True)]
    lo, up = (context.cast(builder, v, t, types.uint64)
              for v, t in zip(args[at:at + 2], signature.args[at:at + 2], strict=True))
    return data, lo, up


def _gathered(builder: Any, src: Any, idx: Any, at: Any) -> Any:
    """The ``<LANES x double>`` src[idx[at]], ..., src[idx[at + LANES - 1]]: the indices
    loaded as a vector, the numbers by ``llvm.masked.gather`` with every lane on."""
    f64, i64, i32 = ir.DoubleType(), ir.IntType(64), ir.IntType(32)
    vf, vi = ir.VectorType(f64, LANES), ir.VectorType(i64, LANES)
    vp = ir.VectorType(f64.as_pointer(), LANES)
    mask = ir.VectorType(ir.IntType(1), LANES)
    gather = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vf, [vp, i32, mask, vf]),
        f"llvm.masked.gather.v{LANES}f64.v{LANES}p0")
    js = builder.load(builder.bitcast(builder.gep(idx, [at]), vi.as_pointer()), align=8)
    base = _splat(builder, builder.ptrtoint(src, i64), vi)
    offset = builder.shl(js, ir.Constant(vi, [3] * LANES))  # 8 bytes a number
    where = builder.inttoptr(builder.add(base, offset), vp)
    return builder.call(gather, [where, ir.Constant(i32, 8), ir.Constant(mask, [1] * LANES),
                                 ir.Constant(vf, ir.Undefined)])


def _through(builder: Any, src: Any, idx: Any, at: Any) -> Any:
    """The double src[idx[at]] (one edge: the tail of a loop of :func:`_gathered`)."""
    return builder.load(builder.gep(src, [builder.load(builder.gep(idx, [at]))]))


def _splat(builder: Any, x: Any, ty: Any) -> Any:
    """The vector of type ``ty`` with ``x`` in every lane."""
    v = ir.Constant(ty, ir.Undefined)
    for j in range(LANES):
        v = builder.insert_element(v, x, ir.Constant(ir.IntType(32), j))
    return v


def _groups(builder: Any, lo: Any, up: Any, body: Any, tail: Any) -> None:
    """``body(at)`` for at = lo, lo + LANES, ... while a whole group remains, then
    ``tail(at)`` for each edge left."""
    i64 = ir.IntType(64)
    groups = builder.udiv(builder.sub(up, lo), ir.Constant(i64, LANES))
    with cgutils.for_range(builder, groups) as loop:
        body(builder.add(lo, builder.mul(loop.index, ir.Constant(i64, LANES))))
    start = builder.add(lo, builder.mul(groups, ir.Constant(i64, LANES)))
    with cgutils.for_range(builder, builder.sub(up, start)) as loop:
        tail(builder.add(start, loop.index))


def _take(typingctx: Any, out: Any, src: Any, idx: Any, e0: Any, e1: Any) -> Any:
    """:func:`take_py` compiled, for contiguous 1-D float64 ``out`` and ``src``, a
    contiguous 1-D 64-bit integer ``idx`` (valid indices of ``src``) and e0 <= e1."""
    if not (_rows(out, src, idx) and out.dtype == src.dtype == types.float64
            and idx.dtype in (types.int64, types.uint64)
            and all(isinstance(t, types.Integer) for t in (e0, e1))):
        return None
    sig = types.void(out, src, idx, e0, e1)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (od, sd, xd), lo, up = _bounds(context, builder, signature, args, 3)
        vf = ir.VectorType(ir.DoubleType(), LANES)

        def body(at: Any) -> None:
            builder.store(_gathered(builder, sd, xd, at),
                          builder.bitcast(builder.gep(od, [at]), vf.as_pointer()), align=8)

        def tail(at: Any) -> None:
            builder.store(_through(builder, sd, xd, at), builder.gep(od, [at]))

        _groups(builder, lo, up, body, tail)
        return context.get_dummy_value()

    return sig, codegen


def _ease_loops(builder: Any, wd: Any, kd: Any, xd: Any, lo: Any, up: Any, kp: Any, y: Any,
                n: Any, bound: Any) -> None:
    """The loops of both eases: w[e] = keep w[e] + (yes if key[idx[e]] <= bound else no) for
    e = lo..up-1, eight edges at a time, then one at a time; ``bound(at, lanes)`` gives the
    bounds of the eight edges from ``at`` (``lanes`` true) or of edge ``at``."""
    vf = ir.VectorType(ir.DoubleType(), LANES)
    kv, yv, nv = (_splat(builder, x, vf) for x in (kp, y, n))

    def body(at: Any) -> None:
        le = builder.fcmp_ordered("<=", _gathered(builder, kd, xd, at), bound(at, True))
        at_w = builder.bitcast(builder.gep(wd, [at]), vf.as_pointer())
        builder.store(builder.fadd(builder.fmul(kv, builder.load(at_w, align=8)),
                                   builder.select(le, yv, nv)), at_w, align=8)

    def tail(at: Any) -> None:
        le = builder.fcmp_ordered("<=", _through(builder, kd, xd, at), bound(at, False))
        at_w = builder.gep(wd, [at])
        builder.store(builder.fadd(builder.fmul(kp, builder.load(at_w)),
                                   builder.select(le, y, n)), at_w)

    _groups(builder, lo, up, body, tail)


def _ease_types(w: Any, key: Any, idx: Any, e0: Any, e1: Any, *numbers: Any) -> bool:
    """Whether both eases take these: contiguous 1-D float64 ``w`` and ``key``, a contiguous
    1-D 64-bit integer ``idx``, integer bounds and float64 numbers."""
    return (_rows(w, key, idx) and w.dtype == key.dtype == types.float64
            and idx.dtype in (types.int64, types.uint64)
            and all(isinstance(t, types.Integer) for t in (e0, e1))
            and all(t == types.float64 for t in numbers))


def _ease(typingctx: Any, w: Any, key: Any, idx: Any, e0: Any, e1: Any, hi: Any, keep: Any,
          yes: Any, no: Any) -> Any:
    """:func:`ease_where_le_py` compiled, for contiguous 1-D float64 ``w`` and ``key``,
    a contiguous 1-D 64-bit integer ``idx`` (valid indices of ``key``) and e0 <= e1."""
    if not _ease_types(w, key, idx, e0, e1, hi, keep, yes, no):
        return None
    sig = types.void(w, key, idx, e0, e1, hi, keep, yes, no)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (wd, kd, xd), lo, up = _bounds(context, builder, signature, args, 3)
        h, kp, y, n = args[5:]
        hv = _splat(builder, h, ir.VectorType(ir.DoubleType(), LANES))
        _ease_loops(builder, wd, kd, xd, lo, up, kp, y, n,
                    lambda at, lanes: hv if lanes else h)
        return context.get_dummy_value()

    return sig, codegen


def _ease_at(typingctx: Any, w: Any, key: Any, idx: Any, his: Any, src: Any, e0: Any,
             e1: Any, keep: Any, yes: Any, no: Any) -> Any:
    """:func:`ease_where_le_at_py` compiled, for contiguous 1-D float64 ``w``, ``key`` and
    ``his``, contiguous 1-D 64-bit integer ``idx`` and ``src`` (valid indices of ``key`` and
    ``his``) and e0 <= e1."""
    if not (_ease_types(w, key, idx, e0, e1, keep, yes, no) and _ease_types(his, his, src, e0, e1)):
        return None
    sig = types.void(w, key, idx, his, src, e0, e1, keep, yes, no)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        (wd, kd, xd, hd, sd), lo, up = _bounds(context, builder, signature, args, 5)
        kp, y, n = args[7:]
        _ease_loops(builder, wd, kd, xd, lo, up, kp, y, n,
                    lambda at, lanes: (_gathered if lanes else _through)(builder, hd, sd, at))
        return context.get_dummy_value()

    return sig, codegen


if HAVE_NUMBA:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
    ease_where_le = intrinsic(_ease)
    ease_where_le_at = intrinsic(_ease_at)
    take = intrinsic(_take)
else:  # pragma: no cover - numba is a declared dependency of the fast path
    ease_where_le = ease_where_le_py
    ease_where_le_at = ease_where_le_at_py
    take = take_py
