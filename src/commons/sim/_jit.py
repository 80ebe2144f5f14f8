"""What compiled plug-in forms are written with: ``jitable`` and the random-number helpers.

A compiled form is a plain Python function in the subset of Python that numba compiles,
marked ``@jitable`` (numba's ``register_jitable``: callable from compiled code, and from
Python too, where it runs as ordinary, slow Python). Without numba, ``jitable`` is the
identity and the engine runs the plug-ins' numpy forms instead.

Random numbers in a compiled form come from :func:`u4` (the four uniforms of one Philox block)
or :func:`u1` (its first), addressed exactly as the numpy path's ``ctx.uniforms``: counter
(index, round + 1, stream, block) under the replicate's key, so both paths draw the same
numbers, and a compiled form draws only the blocks it uses. A plug-in that needs one number
per item (an edge, a pair, a path) packs four items to a block, and one that needs two
numbers two items (:func:`packed`, :func:`held`; the numpy path's ``ctx.packed_uniforms``).
"""

from __future__ import annotations

import math

import numpy as np

try:  # pragma: no branch
    from numba.extending import register_jitable as jitable
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba is a declared dependency of the fast path
    HAVE_NUMBA = False

    def jitable(fn=None, **options):
        return fn if fn is not None else (lambda f: f)


def inlined(fn):
    """A compiled function whose body numba copies into each caller before typing it, so
    that a loop calling it keeps no call: a call passes each array of its arguments word by
    word on the stack, and a view of the state is dozens of words. (Left to the compiler,
    peer monitoring's helper stayed a call per organisation in the kernel that splits a
    replicate among threads, three times slower; ``register_jitable(inline="always")``,
    which inlines after typing, did not remove it from every kernel.) Without numba, the
    function itself."""
    if not HAVE_NUMBA:
        return fn
    import numba
    return numba.njit(inline="always", nogil=True, _nrt=False)(fn)


__all__ = ["HAVE_NUMBA", "fill", "fill_items", "held", "in_centre", "jitable", "normal",
           "normal_centre", "normal_tail", "packed", "philox", "u1", "u4"]

_M0 = 0xD2511F53
_M1 = 0xCD9E8D57
_W0 = 0x9E3779B9
_W1 = 0xBB67AE85
_MASK = 0xFFFFFFFF
_INV32 = 1.0 / 4294967296.0


@jitable
def _round(c0, c1, c2, c3, k0, k1, i):
    """Philox round ``i`` (0-based): two 32x32 -> 64-bit products, their halves crossed and
    keyed with the round's key, k + i W (mod 2**32)."""
    mask = np.uint64(_MASK)
    s32 = np.uint64(32)
    r0 = np.uint32((k0 + np.uint64(i) * np.uint64(_W0)) & mask)
    r1 = np.uint32((k1 + np.uint64(i) * np.uint64(_W1)) & mask)
    p0 = np.uint64(_M0) * np.uint64(c0)
    p1 = np.uint64(_M1) * np.uint64(c2)
    return (np.uint32((p1 >> s32) ^ c1 ^ r0), np.uint32(p1 & mask),
            np.uint32((p0 >> s32) ^ c3 ^ r1), np.uint32(p0 & mask))


@jitable
def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 (Salmon et al. 2011) of counter (c0, c1, c2, c3) under key (k0, k1).

    The same function as :func:`commons.sim.streams.philox4x32`. The words are carried as
    uint32 (the products in uint64), so the compiler keeps each in a 32-bit register: about
    12 ns a block one at a time here. The ten rounds are written out, not looped: a loop over
    blocks then vectorises (:func:`fill`, 4.5 ns a block), which it does not while the
    rounds are a loop of their own.
    """
    mask = np.uint64(_MASK)
    return _rounds(np.uint32(np.uint64(c0) & mask), np.uint32(np.uint64(c1) & mask),
                   np.uint32(np.uint64(c2) & mask), np.uint32(np.uint64(c3) & mask),
                   np.uint64(k0) & mask, np.uint64(k1) & mask)


@inlined
def _rounds(c0, c1, c2, c3, k0, k1):
    """The ten rounds of :func:`philox` on uint32 words, written out (see there), and inlined
    where called, so that a loop calling it has no call left in it and can vectorise."""
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 0)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 1)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 2)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 3)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 4)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 5)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 6)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 7)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1, 8)
    return _round(c0, c1, c2, c3, k0, k1, 9)


@jitable
def u4(index, t, rng, block=0):
    """The four uniforms in (0, 1) of block ``block`` at ``index`` in round ``t``.

    ``rng`` is (key0, key1, stream) of the replicate and plug-in (uint64 words).
    """
    a, b, c, d = philox(np.uint64(index), np.uint64(t + 1), rng[2], np.uint64(block),
                         rng[0], rng[1])
    return ((float(a) + 0.5) * _INV32, (float(b) + 0.5) * _INV32,
            (float(c) + 0.5) * _INV32, (float(d) + 0.5) * _INV32)


@jitable
def u1(index, t, rng, block=0):
    """The first uniform of :func:`u4` (the others are computed and dropped)."""
    return u4(index, t, rng, block)[0]


@jitable
def packed(k, t, rng, block=0):
    """Uniform ``k`` of a stream packed four to a block: ``u4(k // 4, t, rng, block)[k % 4]``.

    A loop over items in order draws each block once by holding the last (:func:`held`).
    """
    return u4(np.int64(k) >> 2, t, rng, block)[np.int64(k) & 3]


@jitable
def held(g, v, k, shift, t, rng, block=0):
    """The block of item ``k`` of a packed stream, ``k >> shift`` (2: four items of one number
    to a block, 1: two items of two numbers), and its number: the block held, ``(g, v)``, if
    it is that one, else the block drawn. A loop over items in order starts from
    ``g = -1`` and draws each block once, and only if one of its items needs a number::

        g, v = -1, (0.5, 0.5, 0.5, 0.5)
        for k in range(n):
            g, v = held(g, v, k, 2, t, rng)
            x = v[k & 3]
    """
    h = np.int64(k) >> shift
    if h != g:
        return h, u4(h, t, rng, block)
    return g, v


@jitable
def fill(row, k0, k1, t, rng, block=0, at=0):
    """``row[k - at] = packed(k, t, rng, block)`` for the numbers k0 <= k < k1 of a stream
    packed four to a block: the whole blocks drawn in one loop, which the compiler vectorises
    (about 4.5 ns a block here, against 12 ns drawn one at a time), for a plug-in that needs
    every number, e.g. one per edge, or two per organisation (k = 2 i, 2 i + 1, as
    :func:`held` with shift 1 gives them). ``row`` is one replicate's row of the plug-in's
    scratch memory, at least k1 - at long (an IndexError otherwise: compiled code does not
    check its writes); ``at`` <= k0 lets a short row hold a window of a long stream."""
    if k1 - at > row.shape[0] or at > k0:
        raise IndexError("fill: the row is shorter than k1 - at, or at > k0 (give the "
                         "plug-in's scratch memory room for every number drawn)")
    mask = np.uint64(_MASK)
    c1 = np.uint32(np.uint64(t + 1) & mask)
    c2 = np.uint32(rng[2] & mask)
    c3 = np.uint32(np.uint64(block) & mask)
    key0 = rng[0] & mask
    key1 = rng[1] & mask
    two = np.uint64(2)
    lo = np.uint64(k0)
    hi = np.uint64(k1)
    off = np.uint64(at)
    if hi <= lo:
        return
    first = (lo + np.uint64(3)) >> two  # the first and last whole blocks in [lo, hi)
    last = hi >> two
    if first > last:  # within one block
        _part(row, lo, hi, t, rng, block, off)
        return
    _part(row, lo, first << two, t, rng, block, off)
    for h in range(first, last):
        a, b, c, d = _rounds(np.uint32(h & mask), c1, c2, c3, key0, key1)
        j = (h << two) - off
        row[j] = (float(a) + 0.5) * _INV32
        row[j + np.uint64(1)] = (float(b) + 0.5) * _INV32
        row[j + two] = (float(c) + 0.5) * _INV32
        row[j + np.uint64(3)] = (float(d) + 0.5) * _INV32
    _part(row, last << np.uint64(2), hi, t, rng, block, off)


@jitable
def fill_items(u, r, i0, i1, t, rng, block=0, at=0):
    """Items i0..i1-1 of replicate r's scratch ``u``, shape (R, n, w): ``u[r, i - at, j]`` is
    number w i + j of the stream (:func:`fill`), so an item's w numbers are those of
    :func:`packed` at w i .. w i + w - 1 (w = 4: the block ``u4(i, t, rng)``; w = 2: two items
    to a block, as :func:`held` with shift 1 gives them). ``at`` <= i0 lets the first rows
    hold a window of the items (a batch that stays in the first-level cache)."""
    w = np.uint64(u.shape[2])
    fill(u[r].reshape(u.shape[1] * u.shape[2]), w * np.uint64(i0), w * np.uint64(i1), t, rng,
         block, w * np.uint64(at))


@jitable
def _part(row, lo, hi, t, rng, block, off):
    """``row[k - off] = packed(k, t, rng, block)`` for lo <= k < hi, all in one block (or
    none)."""
    if hi <= lo:
        return
    v = u4(lo >> np.uint64(2), t, rng, block)
    for k in range(lo, hi):
        row[k - off] = v[k & np.uint64(3)]


# Wichura's AS 241 (PPND16): the standard normal quantile to about 1e-16, as rational
# functions (numerator, then denominator, constant term first) of q**2 in the centre and of
# sqrt(-log(min(p, 1 - p))) in the tails. Module-level tuples: constants in compiled code.
_QA = (3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
       1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
       3.3430575583588128105e+4, 2.5090809287301226727e+3)
_QB = (1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
       2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
       5.2264952788528545610e+3)
_QC = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
       3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
       2.27238449892691845833e-2, 7.74545014278341407640e-4)
_QD = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
       1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
       1.05075007164441684324e-9)
_QE = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
       2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
       2.71155556874348757815e-5, 2.01033439929228813265e-7)
_QF = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
       7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
       2.04426310338993978564e-15)


@jitable
def _poly(c, x):
    """c[0] + c[1] x + ... + c[7] x**7 by Estrin's scheme: pairs, then pairs of pairs, in
    powers x**2 and x**4. Three dependent steps where Horner's rule takes seven, so a normal
    computed where it is used waits about half as long; the numpy path
    (:func:`commons.sim.streams.normal_quantile`) evaluates the same expression."""
    x2 = x * x
    x4 = x2 * x2
    return ((c[0] + c[1] * x) + (c[2] + c[3] * x) * x2) + \
        ((c[4] + c[5] * x) + (c[6] + c[7] * x) * x2) * x4


@jitable
def normal(p):
    """The standard normal quantile of a uniform p in (0, 1): a standard normal from one number.

    Wichura's algorithm AS 241 (Applied Statistics 37, 1988), accurate to about 1e-16: in the
    centre (|p - 1/2| <= 0.425, 85 % of draws) a ratio of polynomials, with no transcendental
    function (:func:`normal_centre`); in the tails one log and one square root
    (:func:`normal_tail`). About 10 ns against 24 for Box–Muller here. The numpy path computes
    the same operations in the same order (:func:`commons.sim.streams.normal_quantile`), so
    both give the same bits.
    """
    if in_centre(p):
        return normal_centre(p)
    return normal_tail(p)


@jitable
def in_centre(p):
    """Whether AS 241 takes p's quantile from its central ratio (|p - 1/2| <= 0.425), not
    from its tails."""
    return abs(p - 0.5) <= 0.425


@jitable(error_model="numpy")
def normal_centre(p):
    """AS 241's central ratio q A(r) / B(r), q = p - 1/2, r = 0.180625 - q**2: the normal
    quantile where |q| <= 0.425. Finite for every p in (0, 1) (B > 0 there) and without a
    branch (numpy's error model: no test for a zero divisor), so a loop of it over many
    numbers runs in SIMD lanes; :func:`normal_tail` mends the numbers in the tails."""
    q = p - 0.5
    r = 0.180625 - q * q
    return q * _poly(_QA, r) / _poly(_QB, r)


@jitable
def normal_tail(p):
    """AS 241's tails: the normal quantile where |p - 1/2| > 0.425, from r = sqrt(-log(min(p,
    1 - p)))."""
    q = p - 0.5
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        r = r - 1.6
        v = _poly(_QC, r) / _poly(_QD, r)
    else:
        r = r - 5.0
        v = _poly(_QE, r) / _poly(_QF, r)
    return -v if q < 0.0 else v


class TypeDispatch:
    """A function chosen by the class of its first argument, in Python and in compiled code.

    Technologies publish their bound parameters as a module-level named tuple class; a
    compiled helper such as the best reply is registered per class
    (``best_reply.register(ConcaveValues)(impl)``). In Python the call looks the class up; in
    compiled code a numba overload picks the implementation when the caller is compiled, so
    the call is direct (and inlined), and the caller can be cached on disk.
    """

    def __init__(self, name: str, doc: str = "", default: object = None) -> None:
        self.__name__ = name
        self.__doc__ = doc
        self.impls: dict[type, object] = {}
        self.default = default
        if HAVE_NUMBA:
            self._overload()

    def register(self, cls: type):
        def deco(fn):
            self.impls[cls] = fn
            return fn
        return deco

    def supports(self, value: object) -> bool:
        return type(value) in self.impls

    def __call__(self, first, *args):
        return self.impls.get(type(first), self.default)(first, *args)

    def _overload(self) -> None:
        from numba.extending import overload

        @overload(self)
        def _choose(first, *args):
            impl = self.impls.get(getattr(first, "instance_class", None), self.default)
            if impl is None:
                return None

            def call(first, *args):
                return impl(first, *args)
            return call


@jitable
def cpow(x, y):
    """x**y with the exact shortcuts the numpy path takes (commons.sim._elementwise.power):
    sqrt for y = 1/2, a product for y = 2, x for y = 1, the C library's pow otherwise."""
    if y == 0.5:
        return math.sqrt(x)
    if y == 2.0:
        return x * x
    if y == 1.0:
        return x
    return math.pow(x, y)


@jitable
def ipow(x, n):
    """x**n for an integer n >= 0 by repeated squaring; the numpy path computes the same
    products in the same order (commons.sim._elementwise.ipow), so both give the same bits."""
    result = 1.0
    base = x
    while n > 0:
        if n & 1:
            result = result * base
        base = base * base
        n >>= 1
    return result
