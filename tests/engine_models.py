"""Model factories and hypothesis strategies shared by the engine tests."""

import networkx as nx
import numpy as np
from hypothesis import strategies as st

import commons


def cpr_like(n, graph, *, capacity=None, growth=0.25, share=0.05, base=0.1, slope=0.4,
             fine=2.0, lam=0.1, w0=0.5, mu=0.1, sigma=0.1, sel=10.0, x_max=2.0,
             monitoring="peer", rule="mix", resource="logistic", beta=0.5, gamma=0.0,
             shock=0.0, mechanisms=()):
    """A model of the compiled family with every knob exposed."""
    mon = {"peer": commons.PeerMonitoring(base, slope), "central": commons.CentralAudit(base),
           "none": None}[monitoring]
    rules = {"mix": lambda: commons.ReviseOrImitate(mu, sigma, sel),
             "br": lambda: commons.BestResponse(mu, sigma),
             "imitate": lambda: commons.Imitation(sel)}
    res = (commons.LogisticStock(capacity if capacity is not None else 10.0 * n, growth,
                                 shock_prob=shock, shock_size=0.3)
           if resource == "logistic" else commons.CareBudget(0.8 * n, growth=0.01))
    return commons.Model(
        n, network=graph, resource=res,
        technology=commons.PrivateConcave(commons.Uniform(0.5, 1.5), beta, 0.5,
                                          need_growth=gamma),
        quota=commons.StockShareQuota(share), monitoring=mon,
        sanctions=[commons.QuotaFine(fine)] if mon is not None else [],
        trust=commons.ComplianceTrust(lam, w0), rule=rules[rule](), max_draw=x_max,
        mechanisms=list(mechanisms))


@st.composite
def small_graphs(draw, n):
    kind = draw(st.sampled_from(["ws", "gnp", "empty", "star", "directed"]))
    seed = draw(st.integers(0, 1000))
    if kind == "ws" and n > 4:
        return nx.connected_watts_strogatz_graph(n, 4, 0.1, seed=seed)
    if kind == "gnp" or kind == "ws":
        return nx.gnp_random_graph(n, 0.3, seed=seed)
    if kind == "empty":
        return nx.empty_graph(n)
    if kind == "star":
        return nx.star_graph(n - 1)
    return nx.gnp_random_graph(n, 0.3, seed=seed, directed=True)


@st.composite
def cpr_models(draw, max_n=20, mechanisms=()):
    n = draw(st.integers(1, max_n))
    graph = draw(small_graphs(n))
    kw = {
        "growth": draw(st.floats(0.05, 1.0)), "share": draw(st.floats(0.0, 0.5)),
        "base": draw(st.floats(0.0, 0.5)), "slope": draw(st.floats(0.0, 0.5)),
        "fine": draw(st.floats(0.0, 10.0)), "lam": draw(st.floats(0.0, 1.0)),
        "w0": draw(st.floats(0.0, 1.0)), "mu": draw(st.floats(0.0, 1.0)),
        "sigma": draw(st.floats(0.0, 0.5)), "sel": draw(st.floats(0.0, 50.0)),
        "x_max": draw(st.floats(0.1, 5.0)),
        "monitoring": draw(st.sampled_from(["peer", "central", "none"])),
        "rule": draw(st.sampled_from(["mix", "br", "imitate"])),
        "resource": draw(st.sampled_from(["logistic", "logistic", "budget"])),
        "beta": draw(st.sampled_from([0.5, 0.3, 0.8])),
        "gamma": draw(st.sampled_from([0.0, 0.01])),
        "shock": draw(st.sampled_from([0.0, 0.2]))}
    return cpr_like(n, graph, mechanisms=mechanisms, **kw)


class Probe(commons.Plugin):
    """A test plug-in: checks the round's invariants in the learn phase, every round."""

    role = "mechanism"
    phases = ("communicate", "learn")
    reads = {"communicate": ("stock",),
             "learn": ("draws", "granted", "gross", "payoffs", "fines", "costs", "transfers",
                       "trust", "stock", "charges", "memory")}
    writes = {"communicate": ("memory",)}
    memory = {"stock": ("replicate", float)}

    def __init__(self):
        self.rounds_checked = 0

    def communicate(self, st, ctx):
        self.mem(st, ctx)["stock"] = st.stock.copy()

    def learn(self, st, ctx):
        start = self.mem(st, ctx)["stock"]
        arrays = [st.draws, st.granted, st.gross, st.payoffs, st.fines, st.trust, st.stock]
        assert all(np.all(np.isfinite(a)) for a in arrays), "non-finite state"
        assert np.all(st.granted >= 0)
        assert np.all(st.draws >= 0)
        assert np.all(st.draws <= ctx.max_draw)
        if ctx.resource.kind in ("stock", "budget"):
            assert np.all(st.granted.sum(1) <= start * (1 + 1e-12) + 1e-12), "granted > stock"
        assert np.all((st.trust >= 0) & (st.trust <= 1)), "trust outside [0, 1]"
        assert np.all(st.fines >= 0)
        np.testing.assert_array_equal(st.payoffs,
                                      st.gross - st.fines - st.costs + st.transfers)
        # money is conserved: what organisations keep, the regulator receives and is burned
        # add up to what was produced (plus the outside option)
        np.testing.assert_allclose(
            st.payoffs.sum(1) + st.income("regulator") + st.income("burned"), st.gross.sum(1),
            rtol=1e-12, atol=1e-9)
        self.rounds_checked += 1
