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
import math
import os
import threading

import numpy as np

__all__ = ["run", "supports", "why_not"]

_KERNEL = None
_LAUNCH = threading.Lock()


def why_not(model) -> str:
    """Why ``model`` cannot run on the compiled kernel ('' if it can)."""
    from .mechanisms import CentralAudit, FixedQuota, PeerMonitoring, QuotaFine, StockShareQuota
    from .payoffs import PrivateConcave
    from .resource import CareBudget, LogisticStock
    from .rules import BestResponse, Imitation, ReviseOrImitate
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


def _build():
    """Compile (or load from cache) the kernel; numba is imported here, lazily."""
    import numba as nb

    if nb.config.THREADING_LAYER == "default" and "NUMBA_THREADING_LAYER" not in os.environ:
        nb.config.THREADING_LAYER = "forksafe"

    from .streams import _INV32 as inv32
    from .streams import _M0 as m0
    from .streams import _M1 as m1
    from .streams import _MASK as mask
    from .streams import _SHIFT as s32
    from .streams import _W0 as w0
    from .streams import _W1 as w1

    two_pi = 2.0 * math.pi

    @nb.njit(inline="always", cache=True)
    def philox(c0, c1, c2, c3, k0, k1):
        for i in range(10):
            if i > 0:
                k0 = (k0 + w0) & mask
                k1 = (k1 + w1) & mask
            p0 = m0 * c0
            p1 = m1 * c2
            c0, c1, c2, c3 = (p1 >> s32) ^ c1 ^ k0, p1 & mask, (p0 >> s32) ^ c3 ^ k1, p0 & mask
        return c0, c1, c2, c3

    @nb.njit(parallel=True, cache=True, fastmath=False)
    def kernel(T, keys, sid_res, sid_mon, sid_rule,
               indptr, indices, src,
               res_kind, K, g, stock0, shock_p, shock_s, collapse_below,
               B, b_growth, carry,
               quota_kind, qpar,
               mon_kind, p0, p1, audit_cost,
               phi,
               lam, trust0,
               rule_kind, mu, sigma, sel,
               a, beta, cost, gamma, xmax, x0,
               series, full_x, full_h, full_pi, record_full,
               out_stock, out_x, out_trust, cum, pos_t, pos_n, collapsed, collapse_round):
        R = keys.shape[0]
        N = x0.shape[1]
        E = indices.shape[0]
        for r in nb.prange(R):
            k0 = keys[r, 0]
            k1 = keys[r, 1]
            x = np.empty(N)
            xn = np.empty(N)
            h = np.empty(N)
            pay = np.empty(N)
            pen = np.empty(N)
            comp = np.empty(N)
            w = np.empty(E)
            for i in range(N):
                xn[i] = x0[r, i]
            for e in range(E):
                w[e] = trust0[r]
            S = stock0[r]
            is_collapsed = False
            c_round = -1
            expo_b = 1.0 / (1.0 - beta[r])
            for t in range(T):
                tt = np.uint64(t + 1)
                # communicate: the quota in force
                if quota_kind == 1:
                    q = qpar[r] * S / N
                elif quota_kind == 2:
                    q = qpar[r]
                else:
                    q = np.inf
                # decide: carry the learned draws, clipped to [0, max_draw]
                D = 0.0
                for i in range(N):
                    v = xn[i]
                    if v < 0.0:
                        v = 0.0
                    if v > xmax[r, i]:
                        v = xmax[r, i]
                    x[i] = v
                    D += v
                # appropriate: proportional rationing
                ratio = S / D if D > S else 1.0
                Sp = 0.0 if D > S else S - D
                n_comp = 0.0
                for i in range(N):
                    h[i] = x[i] * ratio
                    comp[i] = 1.0 if h[i] <= q else 0.0
                    n_comp += comp[i]
                # pay
                need = (1.0 + gamma[r]) ** t
                scale = need ** (1.0 - beta[r])
                fines = 0.0
                rent = 0.0
                gsum = 0.0
                n_inspected = 0.0
                for i in range(N):
                    gross = a[r, i] * scale * h[i] ** beta[r] - cost[r] * x[i]
                    # monitor
                    if mon_kind == 2:
                        d0 = indptr[i]
                        d1 = indptr[i + 1]
                        if d1 > d0:
                            m = 0.0
                            for e in range(d0, d1):
                                m += comp[indices[e]]
                            m = m / (d1 - d0)
                        else:
                            m = 0.0
                        p = p0[r] + p1[r] * m
                    elif mon_kind == 1:
                        p = p0[r]
                    else:
                        p = 0.0
                    fine = 0.0
                    if mon_kind != 0:
                        u0, _, _, _ = philox(np.uint64(i), tt, np.uint64(sid_mon),
                                             np.uint64(0), k0, k1)
                        if (float(u0) + 0.5) * inv32 < p:
                            n_inspected += 1.0
                            over = h[i] - q
                            if over > 0.0:
                                fine = phi[r] * over
                    pen[i] = phi[r] * p
                    pay[i] = gross - fine
                    fines += fine
                    rent += pay[i]
                    gsum += h[i]
                # learn: trust on every edge i -> j
                lr = lam[r]
                for e in range(E):
                    hi = h[src[e]]
                    hj = h[indices[e]]
                    ok = 1.0 if hj <= (q if q > hi else hi) else 0.0
                    w[e] = (1.0 - lr) * w[e] + lr * ok
                # learn: the decision rule
                for i in range(N):
                    u0, u1, u2, _ = philox(np.uint64(i), tt, np.uint64(sid_rule), np.uint64(0),
                                           k0, k1)
                    f0 = (float(u0) + 0.5) * inv32
                    f1 = (float(u1) + 0.5) * inv32
                    f2 = (float(u2) + 0.5) * inv32
                    if rule_kind != 2 and f0 < mu[r]:
                        xs = (a[r, i] * beta[r] / cost[r]) ** expo_b * need
                        if xs <= q:
                            br = xs
                        else:
                            xss = (a[r, i] * beta[r] / (cost[r] + pen[i])) ** expo_b * need
                            br = xss if xss >= q else q
                        z = math.sqrt(-2.0 * math.log(f1)) * math.cos(two_pi * f2)
                        v = br + sigma[r] * z
                        if v < 0.0:
                            v = 0.0
                        if v > xmax[r, i]:
                            v = xmax[r, i]
                        xn[i] = v
                    elif rule_kind == 1:
                        xn[i] = x[i]
                    else:
                        d0 = indptr[i]
                        deg = indptr[i + 1] - d0
                        xn[i] = x[i]
                        if deg > 0:
                            k = int(f1 * deg)
                            if k > deg - 1:
                                k = deg - 1
                            e = d0 + k
                            j = indices[e]
                            ex = -sel[r] * (pay[j] - pay[i])
                            if ex < -50.0:
                                ex = -50.0
                            if ex > 50.0:
                                ex = 50.0
                            if f2 < w[e] / (1.0 + math.exp(ex)):
                                xn[i] = x[j]
                # regenerate
                if res_kind == 0:
                    Kr = K[r]
                    S = Sp + g[r] * Sp * (1.0 - Sp / Kr)
                    if S > Kr:
                        S = Kr
                    if shock_p[r] > 0.0:
                        v0, _, _, _ = philox(np.uint64(0), tt, np.uint64(sid_res),
                                             np.uint64(0), k0, k1)
                        if (float(v0) + 0.5) * inv32 < shock_p[r]:
                            S = S * (1.0 - shock_s[r])
                    if not is_collapsed and S <= collapse_below * Kr:
                        is_collapsed = True
                        c_round = t
                    if is_collapsed:
                        S = 0.0
                else:
                    S = B[r] * (1.0 + b_growth[r]) ** (t + 1) + carry[r] * Sp
                # record
                xsum = 0.0
                for i in range(N):
                    xsum += x[i]
                    cum[r, i] += pay[i]
                    if pay[i] > 0.0:
                        pos_t[r, i] += t + 1
                        pos_n[r, i] += 1.0
                    if record_full:
                        full_x[r, t, i] = x[i]
                        full_h[r, t, i] = h[i]
                        full_pi[r, t, i] = pay[i]
                wsum = 0.0
                for e in range(E):
                    wsum += w[e]
                series[0, r, t] = xsum / N
                series[1, r, t] = gsum
                series[2, r, t] = S
                series[3, r, t] = rent
                series[4, r, t] = n_comp / N
                series[5, r, t] = fines
                series[6, r, t] = 0.0
                series[7, r, t] = wsum / E if E > 0 else np.nan
                series[8, r, t] = fines
                series[9, r, t] = audit_cost[r] * n_inspected
            out_stock[r] = S
            for i in range(N):
                out_x[r, i] = x[i]
            for e in range(E):
                out_trust[r, e] = w[e]
            collapsed[r] = is_collapsed
            collapse_round[r] = c_round

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
    from .resource import LogisticStock
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
                 *rule_args, tech["a"], tech["beta"], tech["c"], tech["gamma"],
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
