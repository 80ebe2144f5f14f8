"""CPR-v1 written the ways researchers write it today, for the engine benchmark.

* :func:`run_pure_python`: per-agent Python objects and loops, Python's ``random``.
* :func:`run_mesa`: Mesa 3 (``mesa.Model`` and ``mesa.Agent`` with an ``AgentSet``); Mesa is
  an optional extra (``pip install 'commons-engine[mesa]'``).

Both follow BENCHMARK_MODEL's round exactly (the same order of steps as the engine, trust
updated before learning) but draw from their own random generators, so they agree with the
engine statistically, not bit for bit. Each returns (mean draw per round, stock per round).
"""

from __future__ import annotations

import math
import random

import networkx as nx

PARAMS = {"g": 0.25, "qf": 0.05, "x_max": 2.0, "beta": 0.5, "c": 0.5, "phi": 2.0, "p0": 0.1,
          "p1": 0.4, "mu": 0.1, "sigma": 0.1, "s": 10.0, "lam": 0.1, "w0": 0.5}


def neighbour_lists(graph: nx.Graph) -> list[list[int]]:
    """Sorted neighbour lists of nodes 0..n-1 (canonical order)."""
    return [sorted(graph.neighbors(i)) for i in sorted(graph.nodes)]


def best_response(a: float, q: float, p: float, P=PARAMS) -> float:
    """BR(a, q, p) of BENCHMARK_MODEL step 7."""
    e = 1.0 / (1.0 - P["beta"])
    xs = (a * P["beta"] / P["c"]) ** e
    if xs <= q:
        return xs
    xss = (a * P["beta"] / (P["c"] + P["phi"] * p)) ** e
    return xss if xss >= q else q


class Organisation:
    """One organisation of the pure-Python model."""

    __slots__ = ("a", "comp", "fine", "h", "i", "nbrs", "p", "pi", "trust", "x", "x_next")

    def __init__(self, i: int, a: float, x: float, nbrs: list[int], w0: float) -> None:
        self.i, self.a, self.x, self.nbrs = i, a, x, nbrs
        self.trust = [w0] * len(nbrs)
        self.h = self.pi = self.p = self.fine = self.x_next = 0.0
        self.comp = True


def run_pure_python(graph: nx.Graph, T: int, seed: int, P=PARAMS) -> tuple[list, list]:
    """One replicate of CPR-v1 with per-agent objects."""
    rnd = random.Random(seed)
    nbrs = neighbour_lists(graph)
    N = len(nbrs)
    K = 10.0 * N
    orgs = [Organisation(i, rnd.uniform(0.5, 1.5), rnd.uniform(0, P["x_max"]), nbrs[i],
                         P["w0"]) for i in range(N)]
    S = K
    mean_x, stock = [], []
    for _ in range(T):
        D = sum(o.x for o in orgs)
        ratio = S / D if D > S else 1.0
        q = P["qf"] * S / N
        for o in orgs:
            o.h = ratio * o.x
            o.comp = o.h <= q
        for o in orgs:
            m = sum(orgs[j].comp for j in o.nbrs) / len(o.nbrs) if o.nbrs else 0.0
            o.p = P["p0"] + P["p1"] * m
            detected = o.h > q and rnd.random() < o.p
            o.fine = P["phi"] * (o.h - q) if detected else 0.0
            o.pi = o.a * o.h ** P["beta"] - P["c"] * o.x - o.fine
        Sp = max(S - ratio * D, 0.0)
        S = min(K, Sp + P["g"] * Sp * (1 - Sp / K))
        for o in orgs:
            for k, j in enumerate(o.nbrs):
                ok = orgs[j].h <= max(q, o.h)
                o.trust[k] = (1 - P["lam"]) * o.trust[k] + P["lam"] * ok
        for o in orgs:
            if rnd.random() < P["mu"]:
                br = best_response(o.a, q, o.p, P)
                o.x_next = min(max(br + P["sigma"] * rnd.gauss(0, 1), 0.0), P["x_max"])
            else:
                o.x_next = o.x
                if o.nbrs:
                    k = rnd.randrange(len(o.nbrs))
                    other = orgs[o.nbrs[k]]
                    ex = min(max(-P["s"] * (other.pi - o.pi), -50.0), 50.0)
                    if rnd.random() < o.trust[k] / (1 + math.exp(ex)):
                        o.x_next = other.x
        mean_x.append(sum(o.x for o in orgs) / N)
        stock.append(S)
        for o in orgs:
            o.x = o.x_next
    return mean_x, stock


def run_mesa(graph: nx.Graph, T: int, seed: int, P=PARAMS) -> tuple[list, list]:
    """One replicate of CPR-v1 as a Mesa 3 model (agents in an AgentSet)."""
    import mesa

    nbrs = neighbour_lists(graph)
    N = len(nbrs)

    class Org(mesa.Agent):
        def __init__(self, model, a, x, nb):
            super().__init__(model)
            self.a, self.x, self.nb = a, x, nb
            self.trust = [P["w0"]] * len(nb)
            self.h = self.pi = self.p = 0.0
            self.x_next = x
            self.comp = True

        def appropriate(self):
            self.h = self.model.ratio * self.x
            self.comp = self.h <= self.model.q

        def pay(self):
            m = self.model
            peers = [m.orgs[j].comp for j in self.nb]
            self.p = P["p0"] + P["p1"] * (sum(peers) / len(peers) if peers else 0.0)
            detected = self.h > m.q and self.random.random() < self.p
            fine = P["phi"] * (self.h - m.q) if detected else 0.0
            self.pi = self.a * self.h ** P["beta"] - P["c"] * self.x - fine

        def update_trust(self):
            m = self.model
            for k, j in enumerate(self.nb):
                ok = m.orgs[j].h <= max(m.q, self.h)
                self.trust[k] = (1 - P["lam"]) * self.trust[k] + P["lam"] * ok

        def learn(self):
            m = self.model
            if self.random.random() < P["mu"]:
                br = best_response(self.a, m.q, self.p, P)
                self.x_next = min(max(br + P["sigma"] * self.random.gauss(0, 1), 0.0),
                                  P["x_max"])
            else:
                self.x_next = self.x
                if self.nb:
                    k = self.random.randrange(len(self.nb))
                    other = m.orgs[self.nb[k]]
                    ex = min(max(-P["s"] * (other.pi - self.pi), -50.0), 50.0)
                    if self.random.random() < self.trust[k] / (1 + math.exp(ex)):
                        self.x_next = other.x

        def commit(self):
            self.x = self.x_next

    class CPRModel(mesa.Model):
        def __init__(self):
            super().__init__(rng=seed)
            self.K = 10.0 * N
            self.S = self.K
            self.orgs = [Org(self, self.random.uniform(0.5, 1.5),
                             self.random.uniform(0, P["x_max"]), nbrs[i]) for i in range(N)]
            self.mean_x, self.stock = [], []

        def step(self):
            D = sum(o.x for o in self.orgs)
            self.ratio = self.S / D if D > self.S else 1.0
            self.q = P["qf"] * self.S / N
            self.agents.do("appropriate")
            self.agents.do("pay")
            Sp = max(self.S - self.ratio * D, 0.0)
            self.S = min(self.K, Sp + P["g"] * Sp * (1 - Sp / self.K))
            self.agents.do("update_trust")
            self.agents.do("learn")
            self.mean_x.append(sum(o.x for o in self.orgs) / N)
            self.stock.append(self.S)
            self.agents.do("commit")

    model = CPRModel()
    for _ in range(T):
        model.step()
    return model.mean_x, model.stock


def run_plain_numpy(graph: nx.Graph, R: int, T: int, seed: int, P=PARAMS):
    """R replicates of CPR-v1 as a researcher would vectorise it by hand over (R, N) arrays.

    Returns (mean draw per round, stock per round), each of shape (R, T).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    nbrs = neighbour_lists(graph)
    N = len(nbrs)
    deg = np.array([len(n) for n in nbrs])
    indptr = np.concatenate([[0], np.cumsum(deg)])
    indices = np.array([j for n in nbrs for j in n], dtype=np.int64)
    src = np.repeat(np.arange(N), deg)
    E = indices.size
    K = 10.0 * N
    a = rng.uniform(0.5, 1.5, (R, N))
    x = rng.uniform(0, P["x_max"], (R, N))
    w = np.full((R, E), P["w0"])
    S = np.full(R, K)
    rows = np.arange(R)[:, None]
    e_br = 1.0 / (1.0 - P["beta"])
    mean_x, stock = np.zeros((R, T)), np.zeros((R, T))
    for t in range(T):
        D = x.sum(axis=1)
        ratio = np.where(D > S, S / np.where(D > 0, D, 1.0), 1.0)
        q = (P["qf"] * S / N)[:, None]
        h = ratio[:, None] * x
        comp = (h <= q).astype(float)
        padded = np.concatenate([comp[:, indices], np.zeros((R, 1))], axis=1)
        m = np.where(deg > 0, np.add.reduceat(padded, indptr[:-1], axis=1)
                     / np.maximum(deg, 1), 0.0)
        p = P["p0"] + P["p1"] * m
        detected = (h > q) & (rng.random((R, N)) < p)
        pi = a * h ** P["beta"] - P["c"] * x - np.where(detected, P["phi"] * (h - q), 0.0)
        Sp = np.maximum(S - ratio * D, 0.0)
        S = np.minimum(K, Sp + P["g"] * Sp * (1 - Sp / K))
        w = (1 - P["lam"]) * w + P["lam"] * (h[:, indices] <= np.maximum(q, h[:, src]))
        xs = (a * P["beta"] / P["c"]) ** e_br
        xss = (a * P["beta"] / (P["c"] + P["phi"] * p)) ** e_br
        br = np.where(xs <= q, xs, np.where(xss >= q, xss, q))
        noisy = np.clip(br + P["sigma"] * rng.standard_normal((R, N)), 0.0, P["x_max"])
        k = (rng.random((R, N)) * deg).astype(np.int64)
        e = np.minimum(indptr[:-1] + np.minimum(k, np.maximum(deg - 1, 0)), max(E - 1, 0))
        j = indices[e]
        ex = np.clip(-P["s"] * (pi[rows, j] - pi), -50, 50)
        copy = (deg > 0) & (rng.random((R, N)) < w[rows, e] / (1 + np.exp(ex)))
        imitated = np.where(copy, x[rows, j], x)
        mean_x[:, t] = x.mean(axis=1)
        stock[:, t] = S
        x = np.where(rng.random((R, N)) < P["mu"], noisy, imitated)
    return mean_x, stock


_PLAIN_NUMBA = None


def plain_numba_kernel():
    """A hand-written numba kernel of CPR-v1 (the compiled reference), built on first use.

    Written the direct way: one parallel loop over replicates, numba's own per-thread random
    generator, no plug-ins. It is the practical ceiling the engine is compared with.
    """
    global _PLAIN_NUMBA
    if _PLAIN_NUMBA is not None:
        return _PLAIN_NUMBA
    import numba as nb
    import numpy as np

    @nb.njit(parallel=True)
    def run(T, indptr, indices, a, x0, out_x, out_s):
        R, N = a.shape
        E = indices.shape[0]
        K = 10.0 * N
        g, qf, xmax, beta, c, phi = 0.25, 0.05, 2.0, 0.5, 0.5, 2.0
        p0, p1, mu, sigma, s, lam = 0.1, 0.4, 0.1, 0.1, 10.0, 0.1
        for r in nb.prange(R):
            np.random.seed(r)
            x = x0[r].copy()
            xn = np.empty(N)
            h = np.empty(N)
            pi = np.empty(N)
            comp = np.empty(N)
            p = np.empty(N)
            w = np.full(E, 0.5)
            S = K
            for t in range(T):
                D = x.sum()
                ratio = S / D if D > S else 1.0
                q = qf * S / N
                for i in range(N):
                    h[i] = ratio * x[i]
                    comp[i] = 1.0 if h[i] <= q else 0.0
                for i in range(N):
                    m = 0.0
                    d0, d1 = indptr[i], indptr[i + 1]
                    for e in range(d0, d1):
                        m += comp[indices[e]]
                    if d1 > d0:
                        m /= d1 - d0
                    p[i] = p0 + p1 * m
                    fine = 0.0
                    if h[i] > q and np.random.random() < p[i]:
                        fine = phi * (h[i] - q)
                    pi[i] = a[r, i] * h[i] ** beta - c * x[i] - fine
                Sp = max(S - ratio * D, 0.0)
                S = min(K, Sp + g * Sp * (1 - Sp / K))
                for i in range(N):
                    for e in range(indptr[i], indptr[i + 1]):
                        ok = 1.0 if h[indices[e]] <= max(q, h[i]) else 0.0
                        w[e] = (1 - lam) * w[e] + lam * ok
                for i in range(N):
                    if np.random.random() < mu:
                        xs = (a[r, i] * beta / c) ** (1 / (1 - beta))
                        if xs <= q:
                            br = xs
                        else:
                            xss = (a[r, i] * beta / (c + phi * p[i])) ** (1 / (1 - beta))
                            br = xss if xss >= q else q
                        xn[i] = min(max(br + sigma * np.random.standard_normal(), 0.0), xmax)
                    else:
                        d0 = indptr[i]
                        deg = indptr[i + 1] - d0
                        xn[i] = x[i]
                        if deg > 0:
                            e = d0 + int(np.random.random() * deg)
                            j = indices[e]
                            ex = min(max(-s * (pi[j] - pi[i]), -50.0), 50.0)
                            if np.random.random() < w[e] / (1 + math.exp(ex)):
                                xn[i] = x[j]
                out_x[r, t] = x.mean()
                out_s[r, t] = S
                x, xn = xn, x

    _PLAIN_NUMBA = run
    return run


def run_plain_numba(graph: nx.Graph, R: int, T: int, seed: int):
    """R replicates with the hand-written numba kernel; (mean draw, stock), each (R, T)."""
    import numpy as np

    nbrs = neighbour_lists(graph)
    N = len(nbrs)
    deg = np.array([len(n) for n in nbrs])
    indptr = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
    indices = np.array([j for n in nbrs for j in n], dtype=np.int64)
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.5, (R, N))
    x0 = rng.uniform(0, PARAMS["x_max"], (R, N))
    out_x, out_s = np.zeros((R, T)), np.zeros((R, T))
    plain_numba_kernel()(T, indptr, indices, a, x0, out_x, out_s)
    return out_x, out_s
