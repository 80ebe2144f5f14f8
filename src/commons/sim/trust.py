"""Trust dynamics on the edges of the network (learn phase)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ._gather import LANES, ease_where_le, ease_where_le_at
from ._jit import jitable
from ._params import per_replicate
from .plugin import Plugin, compiled

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Context
    from .state import State

__all__ = ["ComplianceTrust"]


class ComplianceTrust(Plugin):
    r"""Exponential smoothing of observed compliance (the CPR-v1 trust rule).

    On every directed edge e = i -> j:

        w_e <- (1 - lam) w_e + lam [h_j <= max(q, h_i)],

    i.e. i's trust in j moves toward 1 when j drew no more than the quota (or than i itself)
    and toward 0 otherwise. Starting in [0, 1] it stays in [0, 1].

    Parameters
    ----------
    rate : float or (R,)
        lam in [0, 1].
    initial : float or (R,)
        Initial trust w0 in [0, 1] on every edge.
    """

    role: ClassVar[str] = "trust"
    phases: ClassVar[tuple[str, ...]] = ("learn",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"learn": ("granted", "quota", "trust")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"learn": ("trust",)}
    cparams: ClassVar[tuple[str, ...]] = ("lam",)
    # scratch of the compiled form: each organisation's draw as its partners judge it, -inf
    # if within its quota (see _compliance_keys)
    memory: ClassVar[dict[str, tuple]] = {"key": ("org", float)}

    def __init__(self, rate: Any = 0.1, initial: Any = 0.5) -> None:
        self.rate = rate
        self.initial = initial

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"lam": per_replicate("rate", self.rate, ctx.R, low=0.0, high=1.0),
                "w0": per_replicate("initial", self.initial, ctx.R, low=0.0, high=1.0)}

    def setup(self, st: State, ctx: Context) -> None:
        st.trust = np.broadcast_to(ctx.params[self]["w0"][:, None],
                                   (ctx.R, ctx.network.n_edges)).copy()

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: on every edge i -> j, w <- (1 - lam) w + lam [h_j <= max(q_j, h_i)].

        Parameters
        ----------
        st : State
            The state; reads ``granted``, ``quota``, ``trust``; writes ``trust``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        net = ctx.network
        if net.n_edges == 0:
            return
        lam = ctx.params[self]["lam"][:, None]
        h = st.granted
        hi = h[:, net.src]
        hj = h[:, net.indices]
        ok = hj <= np.maximum(st.quota[:, net.indices], hi)
        st.trust = (1.0 - lam) * st.trust + lam * ok


# ---------------------------------------------------------------------- compiled form
@jitable
def _compliance_keys(r, t, S, P, M, rng, net, TP, i0, i1):
    """Organisation j's draw as its partners judge it: j complies with i's standard when
    g_j <= max(q_j, h_i), which is key_j <= h_i for key_j = -inf where g_j <= q_j and g_j
    elsewhere (NaNs included: a NaN h_i or g_j fails both, a NaN q_j leaves g_j <= h_i)."""
    (key,) = M
    for j in range(i0, i1):
        g = S.granted[r, j]
        key[r, j] = -np.inf if g <= S.quota[r, j] else g


@compiled(ComplianceTrust, "learn", orgs=True, prepare=_compliance_keys)
@jitable
def _compliance_trust(r, t, S, P, M, rng, net, TP, i0, i1):
    (lam,) = P
    (key,) = M
    lr = lam[r]
    # lam * ok, for ok 1 or 0, is lam or lam * 0 (the numpy form's product, to the bit), so
    # a choice between two numbers read once replaces a product per edge
    keep = 1.0 - lr
    nil = lr * 0.0
    # w[e] = keep w[e] + (lr if k[j] <= h_i else nil) on every edge e = i -> j, eight edges at
    # a time, k[j] gathered (every key set, see prepare): organisation by organisation, h_i
    # read once, where the mean degree fills the vectors; else every edge of i0..i1-1 in one
    # loop, h_i gathered too (a loop per organisation of degree 4 ran one edge at a time)
    w = S.trust[r]
    k = key[r]
    if net.indices.shape[0] >= LANES * S.granted.shape[1]:
        for i in range(i0, i1):
            ease_where_le(w, k, net.indices, net.indptr[i], net.indptr[i + 1], S.granted[r, i],
                          keep, lr, nil)
    else:
        ease_where_le_at(w, k, net.indices, S.granted[r], net.src, net.indptr[i0],
                         net.indptr[i1], keep, lr, nil)
