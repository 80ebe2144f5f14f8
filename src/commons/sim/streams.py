"""Counter-based random streams: same seed, same bits, however a run is split.

Every random number the engine uses is a pure function of (replicate key, round, organisation,
stream, block), computed with the Philox4x32-10 generator of Salmon, Moraes, Dror & Shaw (2011),
"Parallel random numbers: as easy as 1, 2, 3" (the generator of Random123, cuRAND and JAX).
Because nothing depends on a sequential state, replicates can run in any order, in any chunk,
on any executor or thread, and a compiled kernel can generate the same numbers in parallel as
this numpy reference.

The replicate key is the first two 32-bit words of
``SeedSequence(entropy, spawn_key=prefix + (point, replicate)).generate_state(2)`` (numpy SPEC 7
seeding), so replicate r of sweep point p has its own independent stream.

Counter layout: (organisation, round + 1, stream, block); round 0 is set-up.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Streams", "philox4x32", "replicate_keys", "resolve_seed", "to_uniform"]

_MASK = np.uint64(0xFFFFFFFF)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_SHIFT = np.uint64(32)
_INV32 = 1.0 / 4294967296.0


def philox4x32(c0, c1, c2, c3, k0, k1, rounds: int = 10):
    """Philox4x32 block function on broadcastable uint64 arrays holding 32-bit words.

    Returns the four output words. Follows Random123's ``philox4x32_R``: each round maps
    (c0, c1, c2, c3) to (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0)), and the
    key is bumped by the Weyl constants (W0, W1) before every round but the first (Salmon,
    Moraes, Dror & Shaw 2011).

    Parameters
    ----------
    c0, c1, c2, c3 : array_like of uint64
        The counter's four 32-bit words, broadcastable.
    k0, k1 : array_like of uint64
        The key's two 32-bit words, broadcastable.
    rounds : int
        Number of rounds (10 for Philox4x32-10).

    Returns
    -------
    tuple of four ndarray of uint64
        The output words, each < 2**32.
    """
    c0, c1, c2, c3, k0, k1 = (np.asarray(v, dtype=np.uint64) for v in (c0, c1, c2, c3, k0, k1))
    for i in range(rounds):
        if i:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = ((p1 >> _SHIFT) ^ c1 ^ k0, p1 & _MASK,
                          (p0 >> _SHIFT) ^ c3 ^ k1, p0 & _MASK)
    return c0, c1, c2, c3


def to_uniform(word):
    """Map a 32-bit word to a uniform in the open interval (0, 1): (x + 1/2) / 2**32.

    Parameters
    ----------
    word : array_like
        32-bit words, any shape.

    Returns
    -------
    ndarray of float64
        Uniforms in (0, 1), same shape (never exactly 0 or 1).
    """
    return (np.asarray(word, dtype=np.float64) + 0.5) * _INV32


def resolve_seed(rng) -> tuple[int, tuple[int, ...]]:
    """Turn ``rng`` (None, int, SeedSequence or Generator) into (entropy, spawn-key prefix).

    * None: fresh entropy from the operating system (recorded in the result's provenance);
    * int: the entropy itself;
    * SeedSequence: its entropy and spawn key;
    * Generator: 128 bits drawn from it (so a Generator gives a reproducible run if it was
      seeded, and consumes its state like any other draw).

    Parameters
    ----------
    rng : None, int, SeedSequence or Generator
        The seed; an int must be >= 0, a SeedSequence must have integer entropy.

    Returns
    -------
    entropy : int
        The seed entropy (recorded in a result's provenance).
    prefix : tuple of int
        The spawn-key prefix (a SeedSequence's own spawn key, else empty).

    Raises
    ------
    TypeError
        Another type, or a SeedSequence with sequence entropy.
    ValueError
        A negative int.
    """
    if rng is None:
        ss = np.random.SeedSequence()
        return int(ss.entropy), ()
    if isinstance(rng, np.random.SeedSequence):
        ent = rng.entropy
        if not isinstance(ent, numbers.Integral):
            raise TypeError("rng: a SeedSequence with sequence entropy is not supported; "
                            "use an integer entropy")
        return int(ent), tuple(int(k) for k in rng.spawn_key)
    if isinstance(rng, np.random.Generator):
        hi, lo = (int(v) for v in rng.integers(0, 2**64, size=2, dtype=np.uint64))
        return (hi << 64) | lo, ()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed, got {rng}")
        return int(rng), ()
    raise TypeError("rng must be None, an int, a numpy SeedSequence or a numpy Generator, "
                    f"got {type(rng).__name__}")


def replicate_keys(entropy: int, replicates, point: int = 0,
                   prefix: tuple[int, ...] = ()) -> np.ndarray:
    """Philox keys, shape (R, 2) uint64, for the given replicate indices of one sweep point.

    Key of replicate r = SeedSequence(entropy, spawn_key=prefix + (point, r)).generate_state(2).

    Parameters
    ----------
    entropy : int
        The seed entropy.
    replicates : array_like of int
        Replicate indices r.
    point : int or array_like of int
        Sweep-point index p, one for all or one per replicate.
    prefix : tuple of int
        Spawn-key prefix.

    Returns
    -------
    ndarray, shape (R, 2), uint64
        One Philox key per replicate.
    """
    reps = np.atleast_1d(np.asarray(replicates, dtype=np.int64))
    points = np.broadcast_to(np.asarray(point, dtype=np.int64), reps.shape)
    out = np.empty((reps.size, 2), dtype=np.uint64)
    for k, (p, r) in enumerate(zip(points.tolist(), reps.tolist(), strict=True)):
        ss = np.random.SeedSequence(entropy, spawn_key=(*prefix, p, r))
        out[k] = ss.generate_state(2, np.uint32)
    return out


@dataclass(frozen=True)
class Streams:
    """The random numbers of R replicates, addressed by (round, stream, block).

    Attributes
    ----------
    keys : ndarray, shape (R, 2), uint64
        One Philox key per replicate.
    """

    keys: np.ndarray

    @property
    def replicates(self) -> int:
        """Number of replicates R."""
        return self.keys.shape[0]

    def words(self, t: int, stream: int, n: int, block: int = 0):
        """Four uint64 arrays of shape (R, n) holding 32-bit words for round ``t``.

        ``t = -1`` addresses the set-up draws.

        Parameters
        ----------
        t : int
            The round (-1: set-up).
        stream : int
            The 32-bit stream word (:func:`commons.sim.model.stream_id`).
        n : int
            Number of rows (organisations or edges).
        block : int
            The block, for more than four words per row.

        Returns
        -------
        tuple of four ndarray, shape (R, n)
            Philox output words at counter (row, t + 1, stream, block).
        """
        org = np.arange(n, dtype=np.uint64)[None, :]
        k0 = self.keys[:, 0:1]
        k1 = self.keys[:, 1:2]
        return philox4x32(org, np.uint64(t + 1), np.uint64(stream), np.uint64(block), k0, k1)

    def uniforms(self, t: int, stream: int, n: int, block: int = 0) -> np.ndarray:
        """Uniforms in (0, 1), shape (R, n, 4), for round ``t`` and the given stream.

        Computed by the compiled generator (:mod:`commons.sim._philox`, parallel over
        replicates) when numba is installed, else by the numpy reference; the bits are the same.

        Parameters
        ----------
        t : int
            The round (-1: set-up).
        stream : int
            The 32-bit stream word.
        n : int
            Number of rows (organisations or edges).
        block : int
            The block, for more than four numbers per row.

        Returns
        -------
        ndarray, shape (R, n, 4)
            Uniforms in (0, 1).
        """
        fast = _compiled_uniforms()
        if fast is not None and n > 0:
            return fast(self.keys, t + 1, stream, n, block)
        return self.reference_uniforms(t, stream, n, block)

    def reference_uniforms(self, t: int, stream: int, n: int, block: int = 0) -> np.ndarray:
        """The numpy reference of :meth:`uniforms` (same bits, about 20 times slower).

        Parameters
        ----------
        t, stream, n, block : int
            As for :meth:`uniforms`.

        Returns
        -------
        ndarray, shape (R, n, 4)
            Uniforms in (0, 1).
        """
        return to_uniform(np.stack(self.words(t, stream, n, block), axis=-1))

    def subset(self, rows) -> Streams:
        """The streams of a subset of replicates (same numbers as in the full set).

        Parameters
        ----------
        rows : array_like of int or bool
            The replicates kept.

        Returns
        -------
        Streams
            Their keys only.
        """
        return Streams(self.keys[rows])


_FAST: list = []


def _compiled_uniforms():
    """The compiled uniform generator, or None without numba (looked up once)."""
    if not _FAST:
        import importlib.util
        if importlib.util.find_spec("numba") is None:  # pragma: no cover
            _FAST.append(None)
        else:
            from ._kernel import ensure_threading_layer
            ensure_threading_layer()
            from ._philox import uniforms
            _FAST.append(uniforms)
    return _FAST[0]


def normal_quantile(p):
    """Standard normals from uniforms in (0, 1): the normal quantile of each (Wichura's AS 241).

    The numpy form of :func:`commons.sim._jit.normal`: the same operations in the same order
    (each branch computed where it applies), so compiled and numpy plug-ins draw the same bits.

    Parameters
    ----------
    p : ndarray
        Uniforms in the open interval (0, 1).

    Returns
    -------
    ndarray
        z with Phi(z) = p, of p's shape.
    """
    from . import _elementwise as ew
    from ._jit import _QA, _QB, _QC, _QD, _QE, _QF
    from ._jit import _poly as poly  # the compiled form's polynomial, run on arrays

    shape = np.shape(p)
    p = np.asarray(p, dtype=np.float64).reshape(-1)
    q = p - 0.5
    centre = np.abs(q) <= 0.425
    r = 0.180625 - q * q
    z = q * poly(_QA, r) / poly(_QB, r)
    if not np.all(centre):
        tail = ~centre
        qt = q[tail]
        pt = p[tail]
        rt = np.sqrt(-ew.log(np.where(qt < 0.0, pt, 1.0 - pt)))
        near = rt <= 5.0
        v = np.where(near, poly(_QC, rt - 1.6) / poly(_QD, rt - 1.6),
                     poly(_QE, rt - 5.0) / poly(_QF, rt - 5.0))
        z[tail] = np.where(qt < 0.0, -v, v)
    return z.reshape(shape)
