"""The compiled fast path: one fused, parallel numba kernel for the CPR-v1 family of models.

Replicates are independent, so the kernel runs them in parallel (``numba.prange``) and each
replicate runs all its rounds without returning to Python. It draws the same counter-based
Philox numbers as the numpy reference (:mod:`commons.streams`) and performs the same operations
in the same order, so the two agree to floating-point rounding; the tests check it.

Supported composition (anything else runs on the numpy path):

* technology :class:`~commons.PrivateConcave`;
* resource :class:`~commons.LogisticStock` or :class:`~commons.CareBudget`;
* quota none, :class:`~commons.StockShareQuota` or :class:`~commons.FixedQuota`;
* monitoring none, :class:`~commons.PeerMonitoring` or :class:`~commons.CentralAudit`;
* sanctions none or one :class:`~commons.QuotaFine`;
* trust :class:`~commons.ComplianceTrust`;
* rule :class:`~commons.ReviseOrImitate`, :class:`~commons.BestResponse` or
  :class:`~commons.Imitation`; no further mechanisms.

numba is an optional dependency (the ``fast`` extra) and is imported only when a kernel runs.

Threading layer: unless the user has chosen one (``NUMBA_THREADING_LAYER`` or
``numba.config.THREADING_LAYER``), the first kernel build selects numba's ``"forksafe"`` layer
(TBB when installed, else numba's workqueue). The default GNU OpenMP layer aborts any process
forked after a parallel kernel ran ("fork() called from a process already using GNU OpenMP"),
which would break a user's default ``ProcessPoolExecutor``. Kernel launches are serialised by a
lock, since the workqueue layer does not accept concurrent launches from several threads.
"""

from __future__ import annotations

import importlib.util
import os
import threading

import numpy as np

__all__ = ["run", "supports", "why_not"]

_KERNEL = None
_LAUNCH = threading.Lock()


def why_not(model) -> str:
    """Why ``model`` cannot run on the compiled kernel ('' if it can)."""
    from .mechanisms import CentralAudit, FixedQuota, PeerMonitoring, QuotaFine, StockShareQuota
    from .resources import CareBudget, LogisticStock
    from .rules import BestResponse, Imitation, ReviseOrImitate
    from .technologies import PrivateConcave
    from .trust import ComplianceTrust

    if importlib.util.find_spec("numba") is None:
        return "numba is not installed (pip install 'commons-engine[fast]')"
    checks = [
        (type(model.technology) is PrivateConcave, "technology must be PrivateConcave"),
        (type(model.resource) in (LogisticStock, CareBudget),
         "resource must be LogisticStock or CareBudget"),
        (model.quota is None or type(model.quota) in (StockShareQuota, FixedQuota),
         "quota must be StockShareQuota or FixedQuota"),
        (model.monitoring is None or type(model.monitoring) in (PeerMonitoring, CentralAudit),
         "monitoring must be PeerMonitoring or CentralAudit"),
        (len(model.sanctions) == 0 or (len(model.sanctions) == 1
                                       and type(model.sanctions[0]) is QuotaFine),
         "sanctions must be empty or one QuotaFine"),
        (type(model.trust) is ComplianceTrust, "trust must be ComplianceTrust"),
        (type(model.rule) in (ReviseOrImitate, BestResponse, Imitation),
         "rule must be ReviseOrImitate, BestResponse or Imitation"),
        (len(model.mechanisms) == 0, "no further mechanisms"),
        (all(_zero(getattr(p, "noise", 0.0)) for p in (model.monitoring,) if p is not None),
         "observation must be noiseless"),
        (not isinstance(model.monitoring, PeerMonitoring)
         or (model.monitoring.by == "compliance" and _zero(model.monitoring.cost)),
         "peer monitoring must watch by compliance at no cost"),
        (all(getattr(s, "recipient", None) == "regulator" for s in model.sanctions),
         "fines must go to the regulator"),
    ]
    for ok, msg in checks:
        if not ok:
            return msg
    return ""


def _zero(value) -> bool:
    return bool(np.all(np.asarray(value, dtype=float) == 0))


def supports(model) -> bool:
    """Whether ``model`` can run on the compiled kernel."""
    return not why_not(model)


def ensure_threading_layer() -> None:
    """Select numba's fork-safe threading layer unless the user chose one (see above)."""
    import numba as nb

    if nb.config.THREADING_LAYER == "default" and "NUMBA_THREADING_LAYER" not in os.environ:
        nb.config.THREADING_LAYER = "forksafe"


def _build():
    """Compile (or load from numba's disk cache) the kernel; numba is imported here, lazily."""
    ensure_threading_layer()
    from ._kernel_impl import kernel
    return kernel


def kernel():
    """The compiled kernel (compiled on first use, cached on disk by numba)."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _build()
    return _KERNEL


def run(model, ctx, record, bind, recorder_cls):
    """Run ``model`` on the kernel; returns (state, recorder) like the numpy path."""
    from .engine import SERIES
    from .mechanisms import CentralAudit, FixedQuota, StockShareQuota
    from .resources import LogisticStock
    from .rules import BestResponse, Imitation

    st = bind(model, ctx)
    R, N, T = ctx.R, ctx.N, ctx.rounds
    net = ctx.network
    P = ctx.params
    sid = ctx.stream_ids
    zR = np.zeros(R)

    res = model.resource
    if isinstance(res, LogisticStock):
        rp = P[res]
        res_args = (0, rp["K"], rp["g"], st.stock.copy(), rp["shock_prob"], rp["shock_size"],
                    res.collapse_below, zR, zR, zR)
    else:
        rp = P[res]
        res_args = (1, zR, zR, st.stock.copy(), zR, zR, 0.0, rp["B"], rp["growth"], rp["carry"])
    if model.quota is None:
        quota_args = (0, zR)
    elif isinstance(model.quota, StockShareQuota):
        quota_args = (1, P[model.quota]["share"])
    else:
        assert isinstance(model.quota, FixedQuota)
        quota_args = (2, P[model.quota]["q"])
    mon = model.monitoring
    if mon is None:
        mon_args = (0, zR, zR, zR)
    elif isinstance(mon, CentralAudit):
        mon_args = (1, P[mon]["p"], zR, P[mon]["cost"])
    else:
        mon_args = (2, P[mon]["p0"], P[mon]["p1"], zR)
    phi = P[model.sanctions[0]]["phi"] if model.sanctions else zR
    tr = P[model.trust]
    rule = model.rule
    rp = P[rule]
    if isinstance(rule, Imitation):
        rule_args = (2, zR, zR, rp["s"])
    elif isinstance(rule, BestResponse):
        rule_args = (1, rp["mu"], rp["sigma"], zR)
    else:
        rule_args = (0, rp["mu"], rp["sigma"], rp["s"])
    tech = P[model.technology]

    rec = recorder_cls(R, N, T, record, np.zeros((R, N)))
    series = np.zeros((len(SERIES), R, T))
    full = record == "full"
    shape = (R, T, N) if full else (0, 0, 0)
    fx, fh, fp = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    out_trust = np.zeros((R, net.n_edges))
    collapsed = np.zeros(R, np.bool_)
    collapse_round = np.full(R, -1, np.int64)
    out_x = np.zeros((R, N))
    out_stock = np.zeros(R)

    compiled = kernel()
    with _LAUNCH:
        compiled(T, ctx.streams.keys, sid[res], sid.get(mon, 0), sid[rule],
                 net.indptr, net.indices, net.src,
                 *res_args, *quota_args, *mon_args, phi, tr["lam"], tr["w0"],
                 *rule_args, tech.a, tech.beta, tech.c, tech.gamma,
                 ctx.max_draw, np.minimum(st.next_draws, ctx.max_draw),
                 series, fx, fh, fp, full,
                 out_stock, out_x, out_trust, rec.cum_payoff, rec.pos_t, rec.pos_n,
                 collapsed, collapse_round)

    for k, name in enumerate(SERIES):
        rec.series[name] = series[k]
    if full:
        rec.full = {"draws": fx, "granted": fh, "payoffs": fp}
    rec.active = np.full(R, float(N * T))
    st.t = T - 1
    st.stock = out_stock
    st.draws = out_x
    st.trust = out_trust
    st.collapsed = collapsed
    st.collapse_round = collapse_round
    return st, rec
