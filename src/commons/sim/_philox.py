"""The Philox4x32-10 block function, compiled (numba; imported only when numba is installed).

The same function as :func:`commons.sim.streams.philox4x32`, one block at a time, for the
compiled kernels and for :func:`uniforms`, which fills a whole (R, n, 4) array of uniforms in
parallel over replicates with the bits of the numpy reference.
"""

import numba as nb
import numpy as np

from ._jit import philox
from .streams import _INV32 as inv32

__all__ = ["philox", "uniforms"]


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
