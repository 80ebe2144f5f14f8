r"""Evolution of cooperation on graphs: the weak-selection threshold and the exact chain.

The donation game on a graph: a cooperator pays c for each neighbour, each of whom gains b;
payoffs accumulate over neighbours, f_i = sum_j w_ij (b s_j - c s_i) with w the 0/1 adjacency
(edge weights are ignored, self-loops dropped), and fitness is F_i = 1 - w + w f_i. Under
death–birth updating (Ohtsuki, Hauert, Lieberman & Nowak 2006) a uniformly random organisation
dies and its neighbours compete for the place in proportion to fitness. Cooperation is favoured
when rho_C > 1/N > rho_D; on large graphs that needs b/c > k, and on a vertex-transitive
k-regular graph of N nodes exactly b/c > (N - 2) / (N/k - 2) (Taylor, Day & Wild 2007).

Two computations, for two different things:

* :func:`critical_benefit_cost` with ``w=None``, the **weak-selection limit** w -> 0, on any
  connected graph: from the coalescence times (:func:`coalescence_times`) of Allen, Lippner,
  Chen, Fotouhi, Momeni, Yau & Nowak (2017, Nature 544:227, "Evolutionary dynamics on any
  population structure"), one linear system;
* :func:`fixation_probabilities` and :func:`critical_benefit_cost` with ``w > 0``, **finite
  selection**: the full Markov chain on the 2**N states, solved as one sparse linear system
  (N <= 16). Its threshold tends to the weak-selection one as w -> 0, but differs at any fixed
  w: w multiplies payoffs of size b k, so on a hub (wheel of 9: b k = 44 x 8) w = 1e-4 is
  already 2 % off.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq
from scipy.sparse.linalg import LinearOperator, cg, spsolve

from .._validation import as_real
from ..sim.network import TrustNetwork

__all__ = ["coalescence_times", "critical_benefit_cost", "fixation_probabilities"]

_MAX_CHAIN_N = 16
_MAX_COALESCENCE_N = 5000  # about 6 dense N x N arrays at the peak: 1.2 GB at 5000


def _network(graph: nx.Graph, max_n: int, what: str) -> TrustNetwork:
    """The graph's CSR network, after checking it is undirected, connected and small enough."""
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be an undirected networkx graph, got "
                        f"{type(graph).__name__}")
    if graph.is_directed():
        raise TypeError("graph must be undirected (death–birth here is on undirected graphs), "
                        "got a directed graph")
    n = graph.number_of_nodes()
    if not 2 <= n <= max_n:
        raise ValueError(f"graph must have 2 to {max_n} nodes for {what}, got {n}")
    net = TrustNetwork.from_graph(graph, n, weight=None)
    if np.any(net.degree == 0):
        raise ValueError("graph must have no isolated nodes (death–birth needs neighbours), "
                         f"got {int(np.sum(net.degree == 0))} isolated")
    parts = nx.number_connected_components(graph)
    if parts > 1:
        raise ValueError(f"graph must be connected (on separate components neither strategy "
                         f"can take over), got {parts} components")
    return net


# ---------------------------------------------------------------------------------------------
# weak selection: coalescence times


def _coalescence(adj: sp.csr_array, rtol: float) -> np.ndarray:
    r"""tau for the CSR adjacency ``adj`` of a connected graph without self-loops.

    In the symmetrised variables Y = Pi^(1/2) T Pi^(1/2), with S = D^(-1/2) A D^(-1/2) =
    U diag(lambda) U^T, the operator L(Y) = Y - (S Y + Y S) / 2 is diagonal in the eigenbasis,
    (U^T L(Y) U)_ab = (nu_a + nu_b)/2 (U^T Y U)_ab with nu = 1 - lambda, and its kernel is
    r r^T, r = sqrt(pi). The recurrence holds off the diagonal only, so
    L(Y) = r r^T - diag(pi) + diag(z) for unknown diagonal sources z; solvability
    (orthogonality to r r^T) asks pi . (z - pi) = -1. Writing u = z - pi and G for the
    pseudo-inverse of L, Y = G(diag u) + alpha r r^T, and diag Y = 0 becomes
    Q u + alpha pi = 0 with Q u = diag G(diag u), a symmetric positive definite N x N matrix
    (the capacitance matrix). Hence u = -alpha Q^(-1) pi, alpha = 1 / (pi . Q^(-1) pi).
    Q^(-1) pi is found by preconditioned conjugate gradients, each product costing two dense
    N x N matrix products. The preconditioner U diag(nu^0.4) U^T (on a cycle Q is a function of
    S with symbol ~ nu^(-1/2)), rescaled to match Q's diagonal, keeps the iterations near 30
    at N = 2000 on paths, trees, lollipops, lattices and expanders alike.
    """
    d = np.asarray(adj.sum(axis=1)).ravel()
    pi = d / d.sum()
    r = np.sqrt(pi)
    U, nu = _walk_spectrum(adj, d, r)
    C = nu[:, None] + nu[None, :]
    C[0, 0] = 1.0
    np.divide(2.0, C, out=C)
    C[0, 0] = 0.0                        # pseudo-inverse: nothing along the kernel
    v = _solve_capacitance(U, C, nu, pi, rtol)
    alpha = 1.0 / float(pi @ v)
    T = (U.T * (-alpha * v)[None, :]) @ U
    T *= C
    del C
    T = U @ T
    T = T @ U.T                          # Y = G(diag u)
    del U
    T /= r[:, None]
    T /= r[None, :]
    T += alpha
    T += T.T.copy()
    T *= 0.5
    np.fill_diagonal(T, 0.0)
    # check the recurrence itself, T - (P T + T P^T)/2 = 1 off the diagonal
    res = adj @ T
    res /= d[:, None]
    res += res.T.copy()
    res *= -0.5
    res += T
    res -= 1.0
    np.fill_diagonal(res, 0.0)
    err = float(np.abs(res).max()) / max(float(T.max()), 1.0)
    if not err < 1e-7:
        raise RuntimeError(f"coalescence times: residual {err:.2e} after the solve")
    return T


def _walk_spectrum(adj: sp.csr_array, d: np.ndarray, r: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """U and nu = 1 - lambda for S = D^(-1/2) A D^(-1/2) = U diag(lambda) U^T, lambda falling;
    the Perron column set to r = sqrt(pi) exactly, nu_1 = 0 and nu_2.. floored at nu_2 > 0."""
    inv_sqrt_d = 1.0 / np.sqrt(d)
    S = adj.toarray()
    S *= inv_sqrt_d[:, None]
    S *= inv_sqrt_d[None, :]
    lam, U = np.linalg.eigh(S)
    del S
    lam, U = lam[::-1], np.ascontiguousarray(U[:, ::-1])
    U[:, 0] = r
    nu = np.maximum(1.0 - lam, 0.0)
    nu[0] = 0.0
    if nu.size > 1:
        nu[1:] = np.maximum(nu[1:], max(float(nu[1]), 1e-300))
    return U, nu


def _solve_capacitance(U: np.ndarray, C: np.ndarray, nu: np.ndarray, pi: np.ndarray,
                       rtol: float) -> np.ndarray:
    """Q^(-1) pi, Q u = diag(U ((U^T diag(u) U) * C) U^T), by preconditioned CG."""
    N = pi.size

    def capacitance(u: np.ndarray) -> np.ndarray:
        Z = (U.T * u[None, :]) @ U
        Z *= C
        return np.einsum("ia,ia->i", U @ Z, U)

    # preconditioner: the symbol nu**0.4 (a cycle's Q is ~ (I - S)**(-1/2)), rescaled so its
    # diagonal is Q's inverse diagonal (trees and hubs need the local scale)
    V = U * U
    q_diag = np.einsum("ia,ia->i", V @ C, V)
    del V
    nu_pre = nu.copy()
    nu_pre[0] = nu[1] if N > 1 else 1.0
    M = (U * nu_pre[None, :] ** 0.4) @ U.T
    scale = 1.0 / np.sqrt(q_diag * np.diag(M))
    M *= scale[:, None]
    M *= scale[None, :]
    v, info = cg(LinearOperator((N, N), matvec=capacitance, dtype=np.float64), pi,
                 M=LinearOperator((N, N), matvec=lambda x: M @ x, dtype=np.float64),
                 rtol=rtol, atol=0.0, maxiter=20 * N + 100)
    if info != 0:
        raise RuntimeError(f"coalescence times: conjugate gradients did not converge ({info})")
    return v


def coalescence_times(graph: nx.Graph, *, rtol: float = 1e-12) -> np.ndarray:
    r"""Expected coalescence times tau_ij of two lineages under death–birth updating.

    The unique solution of (Allen et al. 2017, Nature 544:227, Methods)

    .. math:: \tau_{ij} = 1 + \tfrac12 \sum_k (p_{ik} \tau_{kj} + p_{jk} \tau_{ik})
              \quad (i \ne j), \qquad \tau_{ii} = 0,

    with p_ij = w_ij / w_i the random-walk step on the 0/1 adjacency w: one lineage, chosen
    with probability 1/2, steps back to a random neighbour each time step, until the two meet.

    The N(N-1)/2 equations are not solved as such: a full eigendecomposition of the walk turns
    them into N equations for the sources on the diagonal (the capacitance matrix), solved by
    preconditioned conjugate gradients. The cost is O(N**3) with an iteration count that stays
    near 30 whatever the mixing time of the graph (paths, trees, lollipops and expanders of 2000
    nodes alike; about 15-50 s each on two busy cores), and the memory about 6 dense N x N
    arrays (0.25 GB at N = 2000).

    Parameters
    ----------
    graph : networkx.Graph
        Undirected and connected, 2 to 5000 nodes, no isolated node.
    rtol : float
        Relative tolerance of the conjugate-gradient solve, in (0, 1e-3].

    Returns
    -------
    (N, N) ndarray
        tau, symmetric with a zero diagonal; rows and columns in the order of the sorted node
        labels (the graph's own order when the labels do not sort), as
        :class:`commons.TrustNetwork` orders them.

    Raises
    ------
    RuntimeError
        If the residual of the recurrence exceeds 1e-7 relative to max tau.
    """
    rtol = as_real("rtol", rtol, low=0.0, high=1e-3, low_open=True)
    net = _network(graph, _MAX_COALESCENCE_N, "the coalescence times")
    return _coalescence(net.adjacency(), rtol)


def _weak_selection_threshold(adj: sp.csr_array, rtol: float) -> float:
    T = _coalescence(adj, rtol)
    d = np.asarray(adj.sum(axis=1)).ravel()
    rows = np.repeat(np.arange(adj.shape[0]), np.diff(adj.indptr))
    cols = adj.indices
    AT = adj @ T                                   # (A T)_ik = sum_j w_ij tau_jk
    ATA = adj @ AT.T                               # A T A (T, A symmetric)
    # W times: sum_jk pi_j w_j p_jk tau_jk, sum_ijk pi_i p_ij p_ik w_k tau_jk and
    # sum_ijkl pi_i p_ij p_ik w_k p_kl tau_jl, with pi_i p_ij = w_ij / W
    loss = float(np.sum(d[rows] * T[rows, cols]))
    cost = float(np.sum(AT[rows, cols] * d[cols] / d[rows]))
    gain = float(np.sum(ATA[rows, cols] / d[rows]))
    margin = gain - loss
    if margin <= 1e-9 * abs(loss):
        return float("inf")
    return cost / margin


# ---------------------------------------------------------------------------------------------
# finite selection: the exact chain


def fixation_probabilities(graph: nx.Graph, b: float, c: float = 1.0, w: float = 1e-2
                           ) -> tuple[float, float]:
    r"""(rho_C, rho_D) under death–birth updating at selection strength w, from the exact chain.

    rho_C: probability that one cooperator, placed uniformly at random among defectors, takes
    over; rho_D the same for one defector among cooperators. Selection is neutral at w = 0,
    where both equal 1/N. The 2**N states are enumerated, so the graph must have at most 16
    nodes; it must be connected with no isolated node. Death–birth updating and the donation
    game as in Ohtsuki, Hauert, Lieberman & Nowak (2006): each node's payoff sums
    b s_j - c s_i over its edges, fitness is 1 - w + w payoff.

    Parameters
    ----------
    graph : networkx.Graph
        Undirected and connected, at most 16 nodes, no isolated node.
    b : float
        Benefit b >= 0 a cooperator gives each neighbour.
    c : float
        Cost c >= 0 a cooperator pays per neighbour.
    w : float
        Selection strength in [0, 1].

    Returns
    -------
    rho_C, rho_D : float
        The fixation probabilities of one cooperator and of one defector.
    """
    b = as_real("b", b, low=0.0)
    c = as_real("c", c, low=0.0)
    w = as_real("w", w, low=0.0, high=1.0)
    net = _network(graph, _MAX_CHAIN_N, "the exact chain")
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


def critical_benefit_cost(graph: nx.Graph, w: float | None = None, *, upper: float = 200.0,
                          rtol: float = 1e-12) -> float:
    r"""The b/c above which death–birth updating favours cooperation.

    **w = None (default): the weak-selection limit** w -> 0, on any connected graph up to
    5000 nodes. With the coalescence times tau (:func:`coalescence_times`), the 0/1 adjacency
    w_ij (not to be confused with the selection strength w), degrees w_i, W = sum_i w_i,
    p_ij = w_ij / w_i, pi_i = w_i / W and accumulated payoffs f_i = sum_j w_ij (b s_j - c s_i),
    cooperation is favoured iff

    .. math:: b \Big( \sum_{ijkl} \pi_i p_{ij} p_{ik} w_k p_{kl} \tau_{jl}
                     - \sum_{jk} \pi_j w_j p_{jk} \tau_{jk} \Big)
              > c \sum_{ijk} \pi_i p_{ij} p_{ik} w_k \tau_{jk}.

    This is Allen et al.'s (2017, Nature 544:227) condition for any payoffs linear in the
    strategies: the first-order change of the reproductive-value-weighted frequency of C,
    sum_i pi_i [sum_j p_ij s_j f_j - (sum_j p_ij s_j)(sum_k p_ik f_k)], is a quadratic form in s
    whose coefficients sum to zero, and under weak selection each s_j s_l in it counts as
    -tau_jl / 2. Dividing the payoffs by w_i (averaged payoffs) gives their
    (b/c)* = tau^(2) / (tau^(3) - tau^(1)); on a k-regular graph both are (N - 2) / (N/k - 2).
    Their criterion rho_C > rho_D is the same as rho_C > 1/N > rho_D here: rho_C + rho_D - 2/N
    is second order in w (exchanging C and D turns the donation game into its negative plus
    w_i (b - c) at each node, a strategy-blind term that leaves the average over uniform starts
    at 1/N). Returns ``inf`` when the bracket on the left is
    not positive (to 1e-9 relative): cooperation is then favoured for no b/c (complete
    graphs, stars, two nodes).

    **w > 0: finite selection**, from the exact 2**N-state chain (graphs of at most 16 nodes):
    the root of N rho_C(b) = 1 (c = 1) found by Brent's method on [1, ``upper``]; ``inf`` if
    N rho_C <= 1 at ``upper``, 1 if N rho_C > 1 already at b/c = 1. This is the threshold at
    that w, not the limit: it approaches the value for w = None as w -> 0 with an error of
    order w times the largest payoff (about 2 % on a wheel of 9 nodes at w = 1e-4).

    Parameters
    ----------
    graph : networkx.Graph
        Undirected and connected, with no isolated node (edge weights are ignored).
    w : float or None
        Selection strength in (0, 1], or None for the weak-selection limit.
    upper : float
        Upper end of the search for the chain (finite w only), > 1.
    rtol : float
        Tolerance of the coalescence-time solve, in (0, 1e-3] (w = None only).

    Returns
    -------
    float
        The critical benefit-to-cost ratio (b/c)*, or ``inf`` when no b/c favours cooperation.

    Examples
    --------
    Weak-selection thresholds: cycle of 10, 8/3; Petersen graph, 6; wheel of 9 nodes, 43.838
    (the chain gives 44.735 at w = 1e-4 and tends to 43.838 as w -> 0).
    """
    if w is None:
        rtol = as_real("rtol", rtol, low=0.0, high=1e-3, low_open=True)
        net = _network(graph, _MAX_COALESCENCE_N, "the weak-selection threshold")
        return _weak_selection_threshold(net.adjacency(), rtol)
    w = as_real("w", w, low=0.0, high=1.0)
    if w == 0:
        raise ValueError("w must be in (0, 1] for the exact chain, got 0.0 (selection is "
                         "neutral there; w=None gives the weak-selection limit)")
    upper = as_real("upper", upper, low=1.0, low_open=True)
    N = _network(graph, _MAX_CHAIN_N, "the exact chain").n

    def excess(b):
        return N * fixation_probabilities(graph, b, 1.0, w)[0] - 1.0

    lo = 1.0 + 1e-9
    if excess(upper) <= 0:
        return float("inf")
    if excess(lo) > 0:
        return lo
    return float(brentq(excess, lo, upper, xtol=1e-10, rtol=1e-10))
