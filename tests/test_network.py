"""The trust network: networkx in, CSR inside."""

import functools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commons.sim._bitsets import adjacency_rows
from commons.sim.network import TrustNetwork


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 25))
    p = draw(st.floats(0.0, 1.0))
    seed = draw(st.integers(0, 10**6))
    directed = draw(st.booleans())
    g = nx.gnp_random_graph(n, p, seed=seed, directed=directed)
    if draw(st.booleans()):
        rng = np.random.default_rng(seed)
        for u, v in g.edges:
            g[u][v]["weight"] = float(rng.uniform(0.1, 3.0))
    return g


@given(graphs(), st.integers(0, 2**32 - 1))
def test_csr_matches_the_graph_and_neighbour_means_match_a_loop(g, seed):
    n = g.number_of_nodes()
    net = TrustNetwork.from_graph(g, n)
    for i in range(n):
        nb = net.indices[net.indptr[i]:net.indptr[i + 1]]
        assert nb.tolist() == sorted(g.successors(i) if g.is_directed() else g.neighbors(i))
    rng = np.random.default_rng(seed)
    vals = rng.uniform(-1, 1, (3, n))
    w = rng.uniform(0, 1, (3, net.n_edges))
    m = net.neighbour_mean(vals, empty=-7.0)
    mw = net.neighbour_mean(vals, empty=-7.0, edge_weights=w)
    for r in range(3):
        for i in range(n):
            sl = slice(net.indptr[i], net.indptr[i + 1])
            nb = net.indices[sl]
            if nb.size == 0:
                assert m[r, i] == -7.0
                assert mw[r, i] == -7.0
            else:
                assert m[r, i] == pytest.approx(vals[r, nb].mean())
                if w[r, sl].sum() > 0:
                    assert mw[r, i] == pytest.approx(np.average(vals[r, nb], weights=w[r, sl]))
    rev = net.reverse
    for e in range(net.n_edges):
        i, j = net.src[e], net.indices[e]
        assert (rev[e] >= 0) == g.has_edge(j, i)
        if rev[e] >= 0:
            assert net.src[rev[e]] == j
            assert net.indices[rev[e]] == i


def test_trailing_isolated_nodes_do_not_cut_the_last_row():
    # found by hypothesis: reduceat with clipped row starts dropped the last edge of node 1
    g = nx.Graph([(0, 1), (1, 2)])
    g.add_nodes_from([3, 4])
    net = TrustNetwork.from_graph(g, 5)
    vals = np.array([[1.0, 10.0, 100.0, 0.0, 0.0]])
    np.testing.assert_allclose(net.neighbour_mean(vals, empty=-1.0), [[10, 50.5, 10, -1, -1]])
    w = np.array([[1.0, 1.0, 3.0, 1.0]])
    np.testing.assert_allclose(net.neighbour_mean(vals, empty=-1.0, edge_weights=w),
                               [[10, (1 + 300) / 4, 10, -1, -1]])


def test_labels_are_sorted_and_self_loops_dropped():
    g = nx.Graph([("b", "a"), ("c", "a"), ("c", "c")])
    net = TrustNetwork.from_graph(g, 3)
    assert net.nodes == ("a", "b", "c")
    assert net.n_edges == 4
    assert net.distance.tolist() == [1.0] * 4


def test_weights_give_distances():
    g = nx.Graph()
    g.add_edge(0, 1, weight=4.0)
    net = TrustNetwork.from_graph(g, 2)
    assert net.distance.tolist() == [0.25, 0.25]


def test_bad_networks():
    with pytest.raises(ValueError, match="network has 3 nodes but the model has n = 4"):
        TrustNetwork.from_graph(nx.path_graph(3), 4)
    with pytest.raises(TypeError, match="network must be a networkx graph"):
        TrustNetwork.from_graph([(0, 1)], 2)
    for bad in (-1.0, 0.0, float("nan"), "heavy"):
        g = nx.path_graph(2)
        g[0][1]["weight"] = bad
        with pytest.raises(ValueError, match=r"network: the edge \(0, 1\) has weight = .*"
                                             "weights must be finite and > 0"):
            TrustNetwork.from_graph(g, 2)


def test_no_graph_means_no_edges():
    net = TrustNetwork.from_graph(None, 5)
    assert net.n_edges == 0
    assert net.degree.tolist() == [0] * 5
    assert np.all(net.neighbour_mean(np.ones((2, 5)), empty=0.5) == 0.5)


@functools.cache
def _counter():
    import numba

    from commons.sim._bitsets import count, pack

    @numba.njit
    def counts(rows, flags):
        words = np.zeros(max(rows.shape[1], 1), np.uint64)
        pack(words, flags)
        out = np.zeros(rows.shape[0], np.int64)
        for i in range(rows.shape[0]):
            out[i] = count(rows[i], words)
        return out
    return counts


@settings(deadline=None)
@given(st.integers(1, 200), st.floats(0.0, 1.0), st.integers(0, 10**6), st.booleans())
def test_neighbours_counted_by_popcount_are_the_neighbours_flagged(n, p, seed, directed):
    # the oracle: each organisation's flagged neighbours counted one by one
    g = nx.gnp_random_graph(n, p, seed=seed, directed=directed)
    net = TrustNetwork.from_graph(g, n)
    rows = adjacency_rows(net.indptr, net.indices, n)
    words = -(-n // 64)
    wanted = net.n_edges > 0 and words <= net.n_edges / n
    assert rows.shape == ((n, words) if wanted else (0, 0))
    if not wanted:
        return
    flags = np.random.default_rng(seed).random(n) < 0.5
    got = _counter()(rows, flags)
    for i in range(n):
        nbrs = net.indices[net.indptr[i]:net.indptr[i + 1]]
        assert got[i] == int(flags[nbrs].sum())
        assert int(_counter()(rows[i:i + 1], np.ones(n, bool))[0]) == nbrs.size


def test_rows_of_bits_are_not_built_where_they_would_miscount_or_cost_too_much(monkeypatch):
    from commons.sim import _bitsets
    indptr = np.array([0, 2, 3, 4])
    twice = np.array([1, 1, 0, 0])  # organisation 0 lists neighbour 1 twice
    assert adjacency_rows(indptr, twice, 3).shape == (0, 0)
    ring = nx.cycle_graph(200)  # degree 2 < 4 words a row: a gather per edge is cheaper
    net = TrustNetwork.from_graph(ring, 200)
    assert adjacency_rows(net.indptr, net.indices, 200).shape == (0, 0)
    dense = TrustNetwork.from_graph(nx.complete_graph(200), 200)
    assert adjacency_rows(dense.indptr, dense.indices, 200).shape == (200, 4)
    monkeypatch.setattr(_bitsets, "MAX_BYTES", 200 * 4 * 8 - 1)
    assert adjacency_rows(dense.indptr, dense.indices, 200).shape == (0, 0)


@given(graphs())
def test_each_pair_is_numbered_by_its_first_edge_and_shared_by_both_edges(g):
    # oracle: the unordered pairs {i, j}, numbered in the order their first edge appears
    n = g.number_of_nodes()
    net = TrustNetwork.from_graph(g, n)
    src = np.repeat(np.arange(n), np.diff(net.indptr))
    edges = list(zip(src.tolist(), net.indices.tolist(), strict=True))
    first = {}
    for e, (i, j) in enumerate(edges):
        first.setdefault(frozenset((i, j)), e)
    numbers = {k: place for place, k in enumerate(sorted(first, key=first.get))}
    want = [numbers[frozenset(ij)] for ij in edges]
    assert net.pair_rank.tolist() == want
