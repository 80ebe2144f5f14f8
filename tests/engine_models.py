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


# ---------------------------------------------------------------- small probe plug-ins
class EdgeTrust(commons.Plugin):
    """Trust set edge by edge before round 0 and never moved by the trust slot itself.

    ``weights`` maps directed edges (i, j) to i's trust in j; every other edge starts at
    ``default``. Only the mechanisms under test move trust afterwards.
    """

    role = "trust"
    phases = ()

    def __init__(self, weights=None, default=0.5):
        self.weights = dict(weights or {})
        self.default = default

    def setup(self, st, ctx):
        net = ctx.network
        w = np.full(net.n_edges, float(self.default))
        for (i, j), v in self.weights.items():
            e = edge(net, i, j)
            w[e] = v
        st.trust = np.broadcast_to(w, (ctx.R, net.n_edges)).copy()


def edge(net, i, j):
    """Index of the directed edge i -> j in the network's CSR order."""
    hit = np.flatnonzero((net.src == i) & (net.indices == j))
    assert hit.size == 1, f"no edge {i} -> {j}"
    return int(hit[0])


class Misread(commons.Plugin):
    """Monitoring that inspects everyone and sees organisations in ``misread`` ``excess``
    units over what they drew (a wrongful detection when they complied)."""

    role = "monitoring"
    phases = ("monitor",)
    reads = {"monitor": ("granted", "quota")}
    writes = {"monitor": ("detect_prob", "inspected", "observed", "detected")}

    def __init__(self, misread, excess=1.0):
        self.misread = list(misread)
        self.excess = excess

    def monitor(self, st, ctx):
        st.detect_prob = np.ones((ctx.R, ctx.N))
        st.inspected = np.ones((ctx.R, ctx.N), bool)
        seen = st.granted.copy()
        seen[:, self.misread] += self.excess
        st.observed = seen
        st.detected = seen > st.quota


class Snapshot(commons.Plugin):
    """Copies the named State fields in the phase it is given, every round."""

    role = "mechanism"

    def __init__(self, phase, *fields):
        self.phase, self.fields = phase, fields
        self.seen = {f: [] for f in fields}

    @property
    def phases(self):
        return (self.phase,)

    def access(self, phase):
        return (tuple(self.fields), ()) if phase == self.phase else ((), ())

    def _record(self, st, ctx):
        for f in self.fields:
            self.seen[f].append(np.array(getattr(st, f), copy=True))

    def communicate(self, st, ctx):
        self._record(st, ctx)

    def sanction(self, st, ctx):
        self._record(st, ctx)

    def learn(self, st, ctx):
        self._record(st, ctx)

    def stack(self, field):
        """(T, R, ...) array of what was seen."""
        return np.stack(self.seen[field])
