"""Imitation along trust edges (pairwise comparison, the Fermi rule)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .. import _elementwise as ew
from .._params import per_replicate
from ..replies import REPLY_READS, best_response
from ..streams import box_muller
from .base import Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Context
    from ..state import State

__all__ = ["Imitation", "ReviseOrImitate"]


def imitate(st, ctx, u_pick: np.ndarray, u_copy: np.ndarray, selection: np.ndarray
            ) -> np.ndarray:
    r"""Trust-weighted Fermi imitation (Szabó & Tőke 1998; Traulsen et al. 2006).

    Organisation i picks a neighbour j uniformly (edge e = i -> j) and copies x_j with
    probability w_e / (1 + exp(-s (pi_j - pi_i))), the exponent clipped to [-50, 50].
    Organisations without neighbours keep their draws.
    """
    net = ctx.network
    deg = net.degree
    out = st.draws.copy()
    if net.n_edges == 0:
        return out
    has = deg > 0
    k = np.minimum((u_pick * deg).astype(np.int64), np.maximum(deg - 1, 0))
    e = np.minimum(net.indptr[:-1] + k, net.n_edges - 1)  # (R, N) edge index
    j = net.indices[e]
    rows = np.arange(st.R)[:, None]
    diff = st.payoffs[rows, j] - st.payoffs
    expo = np.clip(-selection[:, None] * diff, -50.0, 50.0)
    prob = st.trust[rows, e] / (1.0 + ew.exp(expo))
    copy = has & (u_copy < prob)
    out[copy] = st.draws[rows, j][copy]
    return out


class Imitation(Rule):
    """Every organisation imitates a random neighbour by the trust-weighted Fermi rule."""

    reads: ClassVar[dict[str, tuple[str, ...]]] = {"decide": ("next_draws",),
                                                   "learn": ("draws", "payoffs", "trust")}
    stochastic: ClassVar[bool] = True

    def __init__(self, selection: Any = 10.0) -> None:
        self.selection = selection

    def bind(self, ctx: Context) -> dict[str, Any]:
        return {"s": per_replicate("selection", self.selection, ctx.R, low=0.0)}

    def learn(self, st: State, ctx: Context) -> None:
        u = ctx.uniforms(self)
        st.next_draws = imitate(st, ctx, u[..., 1], u[..., 2], ctx.params[self]["s"])


class ReviseOrImitate(Rule):
    r"""Noisy best response with probability mu, else trust-weighted Fermi imitation (CPR-v1).

    With probability mu (``revision_rate``): x' = clip(BR_i + sigma z, 0, max_draw), z ~ N(0, 1);
    otherwise pick a neighbour j at random and copy x_j with probability
    w_ij / (1 + exp(-s (pi_j - pi_i))). The rule of the CPR-v1 benchmark model.
    """

    reads: ClassVar[dict[str, tuple[str, ...]]] = {
        "decide": ("next_draws",), "learn": (*REPLY_READS, "payoffs", "trust")}
    stochastic: ClassVar[bool] = True

    def __init__(self, revision_rate: Any = 0.1, noise: Any = 0.1,
                 selection: Any = 10.0) -> None:
        self.revision_rate = revision_rate
        self.noise = noise
        self.selection = selection

    def requires(self) -> tuple[str, ...]:
        return ("best_response",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        return {"mu": per_replicate("revision_rate", self.revision_rate, R, low=0.0, high=1.0),
                "sigma": per_replicate("noise", self.noise, R, low=0.0),
                "s": per_replicate("selection", self.selection, R, low=0.0)}

    def learn(self, st: State, ctx: Context) -> None:
        P = ctx.params[self]
        u = ctx.uniforms(self)
        br = best_response(ctx.technology, st, ctx)
        noisy = np.clip(br + P["sigma"][:, None] * box_muller(u[..., 1], u[..., 2]),
                        0.0, ctx.max_draw)
        copied = imitate(st, ctx, u[..., 1], u[..., 2], P["s"])
        st.next_draws = np.where(u[..., 0] < P["mu"][:, None], noisy, copied)
