"""The fused CPR-v1 kernel itself (numba; imported only when a compiled run starts).

Kept at module level so that numba can cache the compiled code on disk: a new process (a pool
worker, a test run) loads it instead of compiling again. See :mod:`commons._kernel`.
"""

import math

import numba as nb
import numpy as np

from ._philox import philox
from .streams import _INV32 as inv32

two_pi = 2.0 * math.pi


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

