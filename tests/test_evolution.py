"""Evolution of cooperation on graphs: the weak-selection threshold and the exact chain.

Oracles, each derived here: the regular-graph rule (N - 2)/(N/k - 2) (Ohtsuki et al. 2006;
Taylor, Day & Wild 2007; Chen 2013 for every regular graph), the exact chain at several small w
extrapolated to w -> 0 (Richardson), the coalescence recurrence solved as a dense linear system
on its N(N-1)/2 unknowns, and the weak-selection condition rebuilt from the death–birth process's
first-order frequency change, coefficient by coefficient.
"""

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from commons.exact.evolution import (
    coalescence_times,
    critical_benefit_cost,
    fixation_probabilities,
)


def regular_rule(N, k):
    """(N - 2)/(N/k - 2), or inf when the denominator is not positive (never favoured)."""
    return (N - 2) / (N / k - 2) if N / k > 2 else math.inf


def adjacency(graph):
    nodes = sorted(graph.nodes)
    A = nx.to_numpy_array(graph, nodelist=nodes, weight=None)
    np.fill_diagonal(A, 0.0)
    return A


def coalescence_by_dense_solve(graph):
    """tau_ij = 1 + (1/2) sum_k (p_ik tau_kj + p_jk tau_ik) for i < j, tau_ii = 0, as one dense
    system on the N(N-1)/2 unordered pairs."""
    A = adjacency(graph)
    N = A.shape[0]
    P = A / A.sum(axis=1, keepdims=True)
    pairs = list(itertools.combinations(range(N), 2))
    index = {pq: n for n, pq in enumerate(pairs)}

    def unknown(i, j):
        return None if i == j else index[(min(i, j), max(i, j))]

    M = np.eye(len(pairs))
    for n, (i, j) in enumerate(pairs):
        for k in range(N):
            for coef, (u, v) in ((P[i, k], (k, j)), (P[j, k], (i, k))):
                m = unknown(u, v)
                if coef and m is not None:
                    M[n, m] -= 0.5 * coef
    t = np.linalg.solve(M, np.ones(len(pairs)))
    T = np.zeros((N, N))
    for n, (i, j) in enumerate(pairs):
        T[i, j] = T[j, i] = t[n]
    return T


def threshold_from_the_process(graph, tau):
    """Weak-selection b/c from the death–birth process directly (Allen et al. 2017): the
    first-order change of the pi-weighted frequency of C is
    D(s) = sum_i pi_i [sum_j p_ij s_j f_j - (sum_j p_ij s_j)(sum_k p_ik f_k)], a quadratic form in s
    whose coefficients are read off by polarisation (a_ij = D(e_i + e_j) - D(e_i) - D(e_j));
    under weak selection sum_{i<j} a_ij s_i s_j averages to -sum_{i<j} a_ij tau_ij / 2 (the
    linear terms cancel because D vanishes at all-C)."""
    A = adjacency(graph)
    N = A.shape[0]
    d = A.sum(axis=1)
    P = A / d[:, None]
    pi = d / d.sum()

    def change(s, b, c):
        f = b * (A @ s) - c * d * s           # accumulated donation-game payoffs
        return float(pi @ (P @ (s * f) - (P @ s) * (P @ f)))

    def favour(b, c):
        total = 0.0
        for i, j in itertools.combinations(range(N), 2):
            ei, ej = np.eye(N)[i], np.eye(N)[j]
            a_ij = change(ei + ej, b, c) - change(ei, b, c) - change(ej, b, c)
            total -= a_ij * tau[i, j]
        return total

    gain, loss = favour(1.0, 0.0), -favour(0.0, 1.0)
    return loss / gain if gain > 1e-9 * abs(loss) else math.inf


def chain_limit(graph, w0, upper):
    """The exact chain's threshold at w0, w0/2, w0/4, extrapolated to w -> 0 (Richardson,
    assuming b*(w) = b0 + b1 w + b2 w^2 + ...)."""
    b1, b2, b4 = (critical_benefit_cost(graph, w=w0 / m, upper=upper) for m in (1, 2, 4))
    return (8 * b4 - 6 * b2 + b1) / 3, b1


# ---------------------------------------------------------------------------------------------
# weak selection


@pytest.mark.parametrize(("graph", "k"), [
    (nx.cycle_graph(5), 2), (nx.cycle_graph(10), 2), (nx.cycle_graph(200), 2),
    (nx.petersen_graph(), 3), (nx.hypercube_graph(3), 3), (nx.hypercube_graph(5), 5),
    (nx.circulant_graph(12, [1, 2]), 4), (nx.complete_bipartite_graph(4, 4), 4),
    (nx.complete_graph(8), 7), (nx.random_regular_graph(4, 200, seed=3), 4)])
def test_weak_selection_threshold_on_regular_graphs(graph, k):
    N = graph.number_of_nodes()
    assert critical_benefit_cost(graph) == pytest.approx(regular_rule(N, k), rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(6, 60), st.integers(3, 7), st.integers(0, 10**6))
def test_weak_selection_threshold_on_random_regular_graphs(N, k, seed):
    assume(N * k % 2 == 0 and k < N)
    g = nx.random_regular_graph(k, N, seed=seed)
    assume(nx.is_connected(g))
    assert critical_benefit_cost(g) == pytest.approx(regular_rule(N, k), rel=1e-9)


@pytest.mark.parametrize(("graph", "w0", "upper"), [
    (nx.wheel_graph(9), 2e-5, 200.0), (nx.path_graph(5), 1e-4, 50.0),
    (nx.path_graph(7), 1e-4, 50.0), (nx.lollipop_graph(4, 3), 1e-4, 100.0),
    (nx.gnp_random_graph(9, 0.4, seed=3), 1e-4, 100.0),
    (nx.random_labeled_tree(8, seed=4), 1e-4, 100.0)],
    ids=["wheel9", "path5", "path7", "lollipop", "gnp9", "tree8"])
def test_weak_selection_threshold_is_the_chains_limit(graph, w0, upper):
    assert nx.is_connected(graph)
    limit, _ = chain_limit(graph, w0, upper)
    assert critical_benefit_cost(graph) == pytest.approx(limit, rel=2e-6)


def test_wheel_of_nine_bias_at_finite_w():
    g = nx.wheel_graph(9)
    weak = critical_benefit_cost(g)
    assert weak == pytest.approx(43.8379, abs=1e-4)
    # the chain at w = 1e-4 is 2 % above the limit: w multiplies payoffs of size b k ~ 350
    at_w = critical_benefit_cost(g, w=1e-4)
    assert at_w == pytest.approx(44.735, abs=1e-3)
    assert at_w / weak - 1 > 0.02


@pytest.mark.parametrize("graph", [nx.complete_graph(8), nx.star_graph(5), nx.path_graph(2),
                                   nx.path_graph(3), nx.complete_bipartite_graph(3, 3)],
                         ids=["K8", "star6", "K2", "path3", "K33"])
def test_never_favoured(graph):
    assert math.isinf(critical_benefit_cost(graph))
    assert math.isinf(critical_benefit_cost(graph, w=1e-4, upper=50.0))


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 11), st.floats(0.2, 0.9), st.integers(0, 10**6))
@example(4, 0.5, 1)
def test_coalescence_times_solve_their_recurrence(N, p, seed):
    g = nx.gnp_random_graph(N, p, seed=seed)
    assume(nx.is_connected(g))
    tau = coalescence_times(g)
    np.testing.assert_allclose(tau, coalescence_by_dense_solve(g), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("graph", [
    nx.karate_club_graph(), nx.barabasi_albert_graph(30, 2, seed=5),
    nx.random_labeled_tree(25, seed=6), nx.wheel_graph(20), nx.lollipop_graph(10, 12)],
    ids=["karate", "BA30", "tree25", "wheel20", "lollipop22"])
def test_weak_selection_threshold_from_the_process(graph):
    # beyond the chain's reach: the condition rebuilt from the process's own coefficients,
    # with coalescence times from the dense pair system
    tau = coalescence_by_dense_solve(graph)
    np.testing.assert_allclose(coalescence_times(graph), tau, rtol=1e-9)
    assert critical_benefit_cost(graph) == pytest.approx(
        threshold_from_the_process(graph, tau), rel=1e-8)


def test_the_process_oracle_knows_regular_graphs():
    g = nx.petersen_graph()
    assert threshold_from_the_process(g, coalescence_by_dense_solve(g)) == pytest.approx(6.0)


def test_coalescence_times_on_a_long_path():
    # slow mixing (tau ~ N^2): check the recurrence directly on a tree-like graph of 300 nodes
    g = nx.path_graph(300)
    tau = coalescence_times(g)
    A = adjacency(g)
    P = A / A.sum(axis=1, keepdims=True)
    res = tau - 0.5 * (P @ tau + tau @ P.T) - 1.0
    np.fill_diagonal(res, 0.0)
    assert np.abs(res).max() < 1e-9 * tau.max()
    assert np.all(np.diag(tau) == 0)
    np.testing.assert_array_equal(tau, tau.T)
    # on a path the two ends meet last
    assert tau[0, -1] == tau.max()


def test_node_order_is_sorted_labels():
    g = nx.relabel_nodes(nx.path_graph(4), {0: "d", 1: "a", 2: "c", 3: "b"})
    tau = coalescence_times(g)
    # path d-a-c-b: in sorted order a, b, c, d the ends are b and d
    assert tau[1, 3] == tau.max()


# ---------------------------------------------------------------------------------------------
# finite selection: the exact chain


@pytest.mark.parametrize(("graph", "k"), [
    (nx.cycle_graph(8), 2), (nx.cycle_graph(10), 2), (nx.petersen_graph(), 3),
    (nx.hypercube_graph(3), 3), (nx.circulant_graph(10, [1, 2]), 4)])
def test_chain_threshold_on_small_regular_graphs(graph, k):
    # the finite-w chain on a regular graph is within O(w k b) of the rule (b/c = 16 and k = 4
    # on the circulant: w = 1e-5 keeps the bias near 1e-4)
    N = graph.number_of_nodes()
    assert critical_benefit_cost(graph, w=1e-5) == pytest.approx(regular_rule(N, k), rel=1e-3)


def test_fixation_probabilities():
    g = nx.cycle_graph(10)
    assert fixation_probabilities(g, 5.0, 1.0, 0.0) == pytest.approx((0.1, 0.1))
    rc, rd = fixation_probabilities(g, 3.0, 1.0, 1e-3)
    assert 10 * rc > 1 > 10 * rd
    rc, rd = fixation_probabilities(g, 2.0, 1.0, 1e-3)
    assert 10 * rc < 1 < 10 * rd
    # on an irregular graph too, rho_C - 1/N is first order in w and rho_C + rho_D - 2/N
    # second order: halving w halves the one and quarters the other
    g = nx.wheel_graph(9)
    (c1, d1), (c2, d2) = (fixation_probabilities(g, 30.0, 1.0, w) for w in (1e-4, 5e-5))
    assert (c1 - 1 / 9) / (c2 - 1 / 9) == pytest.approx(2.0, rel=0.05)
    assert (c1 + d1 - 2 / 9) / (c2 + d2 - 2 / 9) == pytest.approx(4.0, rel=0.05)


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("call", [
    lambda g: critical_benefit_cost(g), lambda g: critical_benefit_cost(g, w=1e-3),
    lambda g: coalescence_times(g), lambda g: fixation_probabilities(g, 3.0)],
    ids=["weak", "chain", "tau", "rho"])
def test_graph_errors_name_the_graph(call):
    two_triangles = nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3))
    with pytest.raises(ValueError, match=r"graph must be connected .* got 2 components"):
        call(two_triangles)
    with pytest.raises(ValueError, match="graph must have no isolated nodes"):
        call(nx.empty_graph(4))
    lonely = nx.cycle_graph(4)
    lonely.add_node(9)
    with pytest.raises(ValueError, match="graph must have no isolated nodes"):
        call(lonely)
    with pytest.raises(ValueError, match="graph must have 2 to"):
        call(nx.empty_graph(1))
    with pytest.raises(TypeError, match="graph must be undirected"):
        call(nx.DiGraph(nx.cycle_graph(4)))
    with pytest.raises(TypeError, match="graph must be an undirected networkx graph"):
        call([(0, 1), (1, 2)])


def test_chain_limits_and_arguments():
    with pytest.raises(ValueError, match="2 to 16 nodes for the exact chain"):
        fixation_probabilities(nx.cycle_graph(20), 3.0)
    with pytest.raises(ValueError, match="2 to 16 nodes for the exact chain"):
        critical_benefit_cost(nx.cycle_graph(20), w=1e-3)
    assert critical_benefit_cost(nx.cycle_graph(20)) == pytest.approx(18 / 8)  # no limit
    with pytest.raises(ValueError, match="w=None gives the weak-selection limit"):
        critical_benefit_cost(nx.cycle_graph(6), w=0.0)
    with pytest.raises(ValueError, match=r"w must be in \[0, 1\]"):
        critical_benefit_cost(nx.cycle_graph(6), w=2.0)
    with pytest.raises(ValueError, match="upper must be > 1"):
        critical_benefit_cost(nx.cycle_graph(6), w=1e-3, upper=0.5)
    with pytest.raises(ValueError, match="rtol must be in"):
        coalescence_times(nx.cycle_graph(6), rtol=0.0)
