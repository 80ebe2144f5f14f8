"""An update over a row of edges that gathers its neighbour's number in SIMD lanes.

:func:`ease_where_le` sets, for each edge e of e0..e1-1 (say organisation i's),
w[e] = keep w[e] + (yes if key[idx[e]] <= hi else no): one number gathered from the edge's
neighbour, compared with i's, and a blend. Numba compiles the loop one edge at a time
(about 3 cycles an edge here): LLVM does not vectorise a loop that stores to ``w`` and
loads ``key`` through an index, since it cannot rule out that they overlap. The function
writes the loop in LLVM's IR, eight edges at a time: the eight neighbours' numbers fetched
by a gather (``llvm.masked.gather``: one instruction where the machine has it, eight loads
where it has not), compared, blended, multiplied and added in ``<8 x double>`` vectors
(about 1 cycle an edge). Each lane does what the scalar loop does for its edge (an IEEE
multiply, then an IEEE add, never fused), so the result is that of
:func:`ease_where_le_py`, to the bit, on any machine.
"""

from __future__ import annotations

from typing import Any

from ._jit import HAVE_NUMBA

__all__ = ["ease_where_le", "ease_where_le_py"]

#: Edges per vector.
LANES = 8


def ease_where_le_py(w: Any, key: Any, idx: Any, e0: int, e1: int, hi: float, keep: float,
                     yes: float, no: float) -> None:
    """For e = e0..e1-1: w[e] = keep * w[e] + (yes if key[idx[e]] <= hi else no).
    Plain Python: the definition :func:`ease_where_le` compiles."""
    for e in range(e0, e1):
        w[e] = keep * w[e] + (yes if key[idx[e]] <= hi else no)


def _ease(typingctx: Any, w: Any, key: Any, idx: Any, e0: Any, e1: Any, hi: Any, keep: Any,
          yes: Any, no: Any) -> Any:
    """:func:`ease_where_le_py` compiled, for contiguous 1-D float64 ``w`` and ``key``,
    a contiguous 1-D 64-bit integer ``idx`` (valid indices of ``key``) and e0 <= e1."""
    rows = (isinstance(t, types.Array) and t.ndim == 1 and t.layout == "C" for t in (w, key, idx))
    if not (all(rows) and w.dtype == key.dtype == types.float64
            and idx.dtype in (types.int64, types.uint64)
            and all(isinstance(t, types.Integer) for t in (e0, e1))
            and all(t == types.float64 for t in (hi, keep, yes, no))):
        return None
    sig = types.void(w, key, idx, e0, e1, hi, keep, yes, no)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        f64, i64, i32 = ir.DoubleType(), ir.IntType(64), ir.IntType(32)
        vf, vi = ir.VectorType(f64, LANES), ir.VectorType(i64, LANES)
        vp = ir.VectorType(f64.as_pointer(), LANES)
        wd, kd, xd = (context.make_array(t)(context, builder, v).data
                      for v, t in zip(args[:3], signature.args[:3], strict=True))
        lo, up = (context.cast(builder, v, t, types.uint64)
                  for v, t in zip(args[3:5], signature.args[3:5], strict=True))
        h, kp, y, n = args[5:]

        def splat(x: Any, ty: Any) -> Any:
            v = ir.Constant(ty, ir.Undefined)
            for j in range(LANES):
                v = builder.insert_element(v, x, ir.Constant(i32, j))
            return v

        gather = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(vf, [vp, i32, ir.VectorType(ir.IntType(1), LANES), vf]),
            f"llvm.masked.gather.v{LANES}f64.v{LANES}p0")
        every = ir.Constant(ir.VectorType(ir.IntType(1), LANES), [1] * LANES)
        hv, kv, yv, nv = (splat(x, vf) for x in (h, kp, y, n))
        base = splat(builder.ptrtoint(kd, i64), vi)
        groups = builder.udiv(builder.sub(up, lo), ir.Constant(i64, LANES))
        with cgutils.for_range(builder, groups) as loop:
            at = builder.add(lo, builder.mul(loop.index, ir.Constant(i64, LANES)))
            js = builder.load(builder.bitcast(builder.gep(xd, [at]), vi.as_pointer()), align=8)
            offset = builder.shl(js, ir.Constant(vi, [3] * LANES))  # 8 bytes a number
            where = builder.inttoptr(builder.add(base, offset), vp)
            got = builder.call(gather, [where, ir.Constant(i32, 8), every,
                                        ir.Constant(vf, ir.Undefined)])
            add = builder.select(builder.fcmp_ordered("<=", got, hv), yv, nv)
            at_w = builder.bitcast(builder.gep(wd, [at]), vf.as_pointer())
            builder.store(builder.fadd(builder.fmul(kv, builder.load(at_w, align=8)), add), at_w,
                          align=8)
        start = builder.add(lo, builder.mul(groups, ir.Constant(i64, LANES)))
        with cgutils.for_range(builder, builder.sub(up, start)) as loop:
            at = builder.add(start, loop.index)
            got = builder.load(builder.gep(kd, [builder.load(builder.gep(xd, [at]))]))
            add = builder.select(builder.fcmp_ordered("<=", got, h), y, n)
            at_w = builder.gep(wd, [at])
            builder.store(builder.fadd(builder.fmul(kp, builder.load(at_w)), add), at_w)
        return context.get_dummy_value()

    return sig, codegen


if HAVE_NUMBA:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
    ease_where_le = intrinsic(_ease)
else:  # pragma: no cover - numba is a declared dependency of the fast path
    ease_where_le = ease_where_le_py
