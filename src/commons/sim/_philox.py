"""The Philox4x32-10 block function, compiled (numba; imported only when numba is installed).

The same function as :func:`commons.sim.streams.philox4x32`, one block at a time, for the
compiled kernels and for :func:`uniforms`, which fills a whole (R, n, 4) array of uniforms in
parallel over replicates with the bits of the numpy reference.
"""

import numba as nb
import numpy as np

from .streams import _INV32 as inv32
from .streams import _M0 as m0
from .streams import _M1 as m1
from .streams import _MASK as mask
from .streams import _SHIFT as s32
from .streams import _W0 as w0
from .streams import _W1 as w1


@nb.njit(inline="always", cache=True)
def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on one counter (c0, c1, c2, c3) with key (k0, k1), all uint64 words."""
    for i in range(10):
        if i > 0:
            k0 = (k0 + w0) & mask
            k1 = (k1 + w1) & mask
        p0 = m0 * c0
        p1 = m1 * c2
        c0, c1, c2, c3 = (p1 >> s32) ^ c1 ^ k0, p1 & mask, (p0 >> s32) ^ c3 ^ k1, p0 & mask
    return c0, c1, c2, c3


@nb.njit(parallel=True, cache=True)
def uniforms(keys, t1, stream, n, block):
    """Uniforms (R, n, 4) in (0, 1) for counters (org, t1, stream, block), keys (R, 2)."""
    R = keys.shape[0]
    out = np.empty((R, n, 4))
    c1 = np.uint64(t1)
    c2 = np.uint64(stream)
    c3 = np.uint64(block)
    for r in nb.prange(R):
        k0 = keys[r, 0]
        k1 = keys[r, 1]
        for i in range(n):
            a, b, c, d = philox(np.uint64(i), c1, c2, c3, k0, k1)
            out[r, i, 0] = (float(a) + 0.5) * inv32
            out[r, i, 1] = (float(b) + 0.5) * inv32
            out[r, i, 2] = (float(c) + 0.5) * inv32
            out[r, i, 3] = (float(d) + 0.5) * inv32
    return out
