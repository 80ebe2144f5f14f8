"""The Philox4x32-10 block function, compiled (numba; imported only when numba is installed).

The same function as :func:`commons.sim.streams.philox4x32`, one block at a time, for the
compiled kernels and for :func:`uniforms`, which fills a whole (R, n, 4) array of uniforms in
parallel over replicates with the bits of the numpy reference.
"""

import numba as nb
import numpy as np

from ._jit import fill_items, philox

__all__ = ["philox", "uniforms"]


@nb.njit(parallel=True, cache=True)
def uniforms(keys, t1, stream, n, block):
    """Uniforms (R, n, 4) in (0, 1) for counters (org, t1, stream, block), keys (R, 2).

    Row r is stream ``stream``'s numbers 0..4n-1 in round t1 - 1, packed four to a block
    (``out[r, i, j]`` is number 4 i + j), drawn by :func:`commons.sim._jit.fill_items` in
    one vectorised loop per replicate."""
    R = keys.shape[0]
    out = np.empty((R, n, 4))
    c2 = np.uint64(stream)
    for r in nb.prange(R):
        fill_items(out, r, 0, n, t1 - 1, (keys[r, 0], keys[r, 1], c2), block)
    return out
