"""Evolution of cooperation on graphs, exactly: the full Markov chain on small networks.

The donation game on a graph: a cooperator pays c for each neighbour, each of whom gains b;
payoffs accumulate over neighbours, fitness is f = 1 - w + w payoff. Under death–birth updating
(Ohtsuki, Hauert, Lieberman & Nowak 2006) a random organisation dies and its neighbours compete
for the place in proportion to fitness. For weak selection cooperation is favoured
(rho_C > 1/N > rho_D) iff b/c > k on large graphs; on a small vertex-transitive k-regular graph of
N nodes the exact threshold is (N - 2) / (N/k - 2) (Taylor, Day & Wild 2007).

Here the 2**N states of the chain are enumerated and the absorption probabilities solved as one
sparse linear system (scipy.sparse.linalg.spsolve), on the library's CSR trust network: exact for
N up to about 16.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq
from scipy.sparse.linalg import spsolve

from .._validation import as_real
from ..sim.network import TrustNetwork

__all__ = ["critical_benefit_cost", "fixation_probabilities"]

_MAX_N = 16


def _network(graph: nx.Graph) -> TrustNetwork:
    if not isinstance(graph, nx.Graph) or graph.is_directed():
        raise TypeError("graph must be an undirected networkx graph")
    n = graph.number_of_nodes()
    if not 2 <= n <= _MAX_N:
        raise ValueError(f"graph must have 2 to {_MAX_N} nodes for the exact chain, got {n}")
    net = TrustNetwork.from_graph(graph, n, weight=None)
    if np.any(net.degree == 0):
        raise ValueError("graph must have no isolated nodes (death–birth needs neighbours)")
    return net


def fixation_probabilities(graph: nx.Graph, b: float, c: float = 1.0, w: float = 1e-2
                           ) -> tuple[float, float]:
    r"""(rho_C, rho_D) under death–birth updating, from the exact Markov chain.

    rho_C: probability that one cooperator, placed uniformly at random among defectors, takes
    over; rho_D the same for one defector among cooperators. Selection is neutral at w = 0,
    where both equal 1/N.
    """
    b = as_real("b", b, low=0.0)
    c = as_real("c", c, low=0.0)
    w = as_real("w", w, low=0.0, high=1.0)
    net = _network(graph)
    N = net.n
    S = 1 << N
    states = np.arange(S)
    C = ((states[:, None] >> np.arange(N)) & 1).astype(np.float64)  # (S, N)
    A = net.adjacency().toarray()
    payoff = b * (C @ A.T) - c * C * net.degree[None, :]
    f = 1.0 - w + w * payoff
    if np.any(f <= 0):
        raise ValueError("w too large for these payoffs: some fitness is not positive")
    to_c = ((f * C) @ A.T) / (f @ A.T)  # P(the dead organisation's place goes to C)
    rows, cols, vals = [], [], []
    for i in range(N):
        bit = 1 << i
        is_c = C[:, i] > 0
        p = np.where(is_c, 1.0 - to_c[:, i], to_c[:, i]) / N
        rows.append(states)
        cols.append(states ^ bit)
        vals.append(p)
    P = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                     shape=(S, S))
    stay = 1.0 - np.asarray(P.sum(axis=1)).ravel()
    P = P + sp.diags_array(stay)
    transient = states[1:-1]
    Q = P[transient][:, transient]
    r = P[transient][:, [S - 1]].toarray().ravel()
    phi = np.zeros(S)
    phi[-1] = 1.0
    phi[transient] = spsolve(sp.eye(transient.size, format="csc") - Q.tocsc(), r)
    singles = 1 << np.arange(N)
    rho_c = float(phi[singles].mean())
    rho_d = float((1.0 - phi[(S - 1) ^ singles]).mean())
    return rho_c, rho_d


def critical_benefit_cost(graph: nx.Graph, w: float = 1e-4, *, upper: float = 200.0) -> float:
    r"""The b/c at which N rho_C = 1 under death–birth updating (c = 1), by Brent's method.

    For weak selection this is the threshold above which cooperation is favoured; compare
    (N - 2) / (N/k - 2) on vertex-transitive k-regular graphs. ``inf`` if cooperation is not
    favoured for any b/c up to ``upper`` (e.g. on a complete graph).
    """
    N = _network(graph).n

    def excess(b):
        return N * fixation_probabilities(graph, b, 1.0, w)[0] - 1.0

    lo = 1.0 + 1e-9
    if excess(upper) <= 0:
        return float("inf")
    if excess(lo) > 0:
        return lo
    return float(brentq(excess, lo, upper, xtol=1e-10, rtol=1e-10))
