"""Sums in SIMD lanes with a fixed order of additions: the same bits on every machine.

A sum kept in k running sums (term j into sum j mod k), combined pairwise at the end, gives
the compiler k independent chains of adds. Written as k scalar variables it stays scalar:
numba has no vector types, and LLVM neither vectorises a floating-point reduction without
leave to reorder it (which would tie the bits to the machine's vector width) nor packs the
k chains into vector registers. The functions here write the loop in LLVM's IR with one
``<k x double>`` accumulator: lane j adds exactly the terms running sum j would, in the same
order, so the result is that of the scalar loop (:func:`lane_sum_py`), to the bit, whatever
width the machine's vectors have (LLVM splits a wider vector into the registers it has,
lane by lane; every add is an IEEE add of two doubles, with no fused multiply).
"""

from __future__ import annotations

from typing import Any

from ._jit import HAVE_NUMBA

__all__ = ["lane_sum", "lane_sum_py", "lane_terms", "lane_terms_many"]


def lane_sum_py(a: Any, b: Any, how: int, lanes: int, i0: int, i1: int) -> float:
    """The sum over i = i0..i1-1 (i0 <= i1) of the term a[i] (``how`` 0), a[i] - b[i] (-1)
    or a[i] + b[i] (1), in ``lanes`` running sums (a power of two): s_j adds the terms
    i0 + lanes m + j, m = 0, 1, ..., in order while a whole group of ``lanes`` remains; the
    running sums are combined pairwise, ((s0 + s1) + (s2 + s3)) + ... , and the last
    (i1 - i0) mod ``lanes`` terms added to that in order. Plain Python: the definition
    :func:`lane_sum` and :func:`lane_terms` compile."""
    def term(i: int) -> float:
        x = float(a[i])
        return x if how == 0 else x - float(b[i]) if how < 0 else x + float(b[i])

    s = [0.0] * lanes
    i = i0
    while i + lanes <= i1:
        for j in range(lanes):
            s[j] += term(i + j)
        i += lanes
    while len(s) > 1:
        s = [s[j] + s[j + 1] for j in range(0, len(s), 2)]
    total = s[0]
    while i < i1:
        total += term(i)
        i += 1
    return total


def _emit(context: Any, builder: Any, lanes: int, sums: list[tuple[int, list[Any]]], lo: Any,
          hi: Any) -> list[Any]:
    """The IR of :func:`lane_sum_py` for each of ``sums``, pairs (how, data pointers: one, or
    two for a term of two arrays), from ``lo`` to ``hi`` (unsigned 64-bit values), all in one
    loop: each sum keeps its own vector of running sums, so the loop carries one independent
    chain of adds per sum (a loop per sum waits on its one chain), and each sum is the one
    its own loop would give."""
    f64 = ir.DoubleType()
    i64 = ir.IntType(64)
    vec = ir.VectorType(f64, lanes)

    def term(how: int, rows: list[Any], at: Any, ty: Any) -> Any:
        x = [builder.load(builder.bitcast(builder.gep(p, [at]), ty.as_pointer()), align=8)
             for p in rows]
        return x[0] if how == 0 else builder.fsub(*x) if how < 0 else builder.fadd(*x)

    groups = builder.udiv(builder.sub(hi, lo), ir.Constant(i64, lanes))
    accs = [cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * lanes)) for _ in sums]
    with cgutils.for_range(builder, groups) as loop:
        at = builder.add(lo, builder.mul(loop.index, ir.Constant(i64, lanes)))
        for acc, (how, rows) in zip(accs, sums, strict=True):
            builder.store(builder.fadd(builder.load(acc), term(how, rows, at, vec)), acc)
    outs = []
    for acc in accs:
        total = builder.load(acc)
        s = [builder.extract_element(total, ir.Constant(ir.IntType(32), j))
             for j in range(lanes)]
        while len(s) > 1:
            s = [builder.fadd(s[j], s[j + 1]) for j in range(0, len(s), 2)]
        outs.append(cgutils.alloca_once_value(builder, s[0]))
    start = builder.add(lo, builder.mul(groups, ir.Constant(i64, lanes)))
    with cgutils.for_range(builder, builder.sub(hi, start)) as loop:
        at = builder.add(start, loop.index)
        for out, (how, rows) in zip(outs, sums, strict=True):
            builder.store(builder.fadd(builder.load(out), term(how, rows, at, f64)), out)
    return [builder.load(out) for out in outs]


def _row(ty: Any) -> bool:
    return (isinstance(ty, types.Array) and ty.ndim == 1 and ty.dtype == types.float64
            and ty.layout == "C")


def _lane_sum(typingctx: Any, row: Any, i0: Any, i1: Any) -> Any:
    """The sum of row[i0:i1] (a contiguous float64 array; i0 <= i1) in eight lanes:
    ``lane_sum_py(row, row, 0, 8, i0, i1)`` compiled."""
    if not (_row(row) and isinstance(i0, types.Integer) and isinstance(i1, types.Integer)):
        return None
    sig = types.float64(row, i0, i1)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        lo, hi = (context.cast(builder, v, t, types.uint64)
                  for v, t in zip(args[1:], signature.args[1:], strict=True))
        return _emit(context, builder, 8, [(0, [data])], lo, hi)[0]

    return sig, codegen


def _lane_terms(typingctx: Any, a: Any, b: Any, how: Any, i0: Any, i1: Any) -> Any:
    """The sum over i0..i1-1 of a[i] (``how`` 0), a[i] - b[i] (-1) or a[i] + b[i] (1), in
    four lanes, ``how`` a constant: ``lane_sum_py(a, b, how, 4, i0, i1)`` compiled."""
    if not (_row(a) and _row(b) and isinstance(how, types.IntegerLiteral)
            and isinstance(i0, types.Integer) and isinstance(i1, types.Integer)):
        return None
    sig = types.float64(a, b, how, i0, i1)
    kind = how.literal_value

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        data = [context.make_array(t)(context, builder, v).data
                for v, t in zip(args[:2], signature.args[:2], strict=True)]
        lo, hi = (context.cast(builder, v, t, types.uint64)
                  for v, t in zip(args[3:], signature.args[3:], strict=True))
        return _emit(context, builder, 4, [(kind, data)], lo, hi)[0]

    return sig, codegen


_HOW = {"0": 0, "-": -1, "+": 1}


def _lane_terms_many(typingctx: Any, a: Any, b: Any, how: Any, i0: Any, i1: Any) -> Any:
    """Several sums of :func:`_lane_terms` in one loop: sum k over i0..i1-1 of the term of
    ``a[k]`` and ``b[k]`` (tuples of contiguous float64 rows) that character k of ``how`` (a
    constant string) names: "0" a[k][i], "-" a[k][i] - b[k][i], "+" a[k][i] + b[k][i]; each
    in four lanes, ``lane_sum_py(a[k], b[k], how_k, 4, i0, i1)`` compiled. Returns the sums
    as a tuple."""
    if not (isinstance(a, types.BaseTuple) and isinstance(b, types.BaseTuple)
            and all(_row(t) for t in (*a.types, *b.types)) and len(a) == len(b)
            and isinstance(how, types.StringLiteral) and len(how.literal_value) == len(a)
            and set(how.literal_value) <= set(_HOW)
            and isinstance(i0, types.Integer) and isinstance(i1, types.Integer)):
        return None
    out = types.UniTuple(types.float64, len(a))
    sig = out(a, b, how, i0, i1)
    kinds = [_HOW[c] for c in how.literal_value]

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        rows = []
        for tup, ty in zip(args[:2], signature.args[:2], strict=True):
            rows.append([context.make_array(ty.types[k])(context, builder,
                                                          builder.extract_value(tup, k)).data
                         for k in range(len(ty))])
        lo, hi = (context.cast(builder, v, t, types.uint64)
                  for v, t in zip(args[3:], signature.args[3:], strict=True))
        sums = [(kind, [rows[0][k]] if kind == 0 else [rows[0][k], rows[1][k]])
                for k, kind in enumerate(kinds)]
        return context.make_tuple(builder, out, _emit(context, builder, 4, sums, lo, hi))

    return sig, codegen


if HAVE_NUMBA:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
    lane_sum = intrinsic(_lane_sum)
    lane_terms = intrinsic(_lane_terms)
    lane_terms_many = intrinsic(_lane_terms_many)
else:  # pragma: no cover - numba is a declared dependency of the fast path
    def lane_sum(row: Any, i0: int, i1: int) -> float:
        return lane_sum_py(row, row, 0, 8, i0, i1)

    def lane_terms(a: Any, b: Any, how: int, i0: int, i1: int) -> float:
        return lane_sum_py(a, b, how, 4, i0, i1)

    def lane_terms_many(a: Any, b: Any, how: str, i0: int, i1: int) -> tuple[float, ...]:
        return tuple(lane_sum_py(x, y, {"0": 0, "-": -1, "+": 1}[c], 4, i0, i1)
                     for x, y, c in zip(a, b, how, strict=True))
