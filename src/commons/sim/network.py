"""The trust network: any networkx graph in, CSR arrays inside.

Organisations are the graph's nodes, ordered canonically (sorted labels when they sort, else the
graph's own order). A directed edge i -> j means i watches, trusts and may imitate j; an
undirected edge counts in both directions. Inside the engine the network is a CSR structure:
``indptr`` (N + 1,), ``indices`` (E,) with each row's neighbours sorted, ``src`` (E,) the row of
each edge, ``weight`` (E,) the graph's edge weight (1 if unweighted) and ``distance`` (E,)
its proximity as a path length (1 / weight by default, so heavier ties are closer).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

__all__ = ["TrustNetwork"]


@dataclass(frozen=True, eq=False)
class TrustNetwork:
    """A directed trust network in CSR form over organisations 0..N-1.

    Build one with :meth:`from_graph`; ``Model`` does. Edge e = i -> j has source
    ``src[e] = i`` and target ``indices[e] = j``; edge-valued State fields such as ``trust``
    have shape (R, E) in this order.

    Attributes
    ----------
    indptr : ndarray of int, shape (N + 1,)
        Row pointers: the edges out of i are ``indptr[i]:indptr[i + 1]``.
    indices : ndarray of int, shape (E,)
        The target of each edge, sorted within each row.
    weight : ndarray of float, shape (E,)
        The graph's edge weight (1 if unweighted), > 0.
    nodes : tuple
        The graph's node labels, in the order of organisations 0..N-1.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray
    nodes: tuple[Any, ...]

    @classmethod
    def from_graph(cls, graph: nx.Graph | None, n: int, *, weight: str | None = "weight"
                   ) -> TrustNetwork:
        """Build from a networkx graph with exactly ``n`` nodes (``None``: no edges).

        Self-loops are dropped. Edge weights must be finite and > 0. Nodes are ordered by
        sorted label when labels sort, else in the graph's order.

        Parameters
        ----------
        graph : networkx.Graph or None
            The trust network; an undirected edge gives an edge in each direction.
        n : int
            The number of organisations, which must equal the graph's number of nodes.
        weight : str or None
            The edge attribute read as weight (None: every edge weighs 1).

        Returns
        -------
        TrustNetwork

        Raises
        ------
        TypeError
            ``graph`` is not a networkx graph.
        ValueError
            The node count differs from ``n``, or a weight is not finite and > 0.
        """
        if graph is None:
            return cls(np.zeros(n + 1, np.int64), np.zeros(0, np.int64), np.zeros(0),
                       tuple(range(n)))
        if not isinstance(graph, nx.Graph):
            raise TypeError(f"network must be a networkx graph, got {type(graph).__name__}")
        if graph.number_of_nodes() != n:
            raise ValueError(f"network has {graph.number_of_nodes()} nodes but the model has "
                             f"n = {n} organisations")
        nodes = list(graph.nodes)
        with contextlib.suppress(TypeError):
            nodes = sorted(nodes)
        if weight is not None:
            for u, v, w in graph.edges(data=weight):
                if w is not None and not (isinstance(w, (int, float, np.number))
                                          and np.isfinite(w) and w > 0):
                    raise ValueError(f"network: the edge ({u!r}, {v!r}) has {weight} = {w!r}; "
                                     "edge weights must be finite and > 0 (drop the edge to "
                                     "remove a tie)")
        A = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=weight, format="csr",
                                     dtype=np.float64)
        A.setdiag(0)
        A.eliminate_zeros()
        A.sort_indices()
        if A.nnz and (not np.all(np.isfinite(A.data)) or np.any(A.data <= 0)):
            raise ValueError("network edge weights must be finite and > 0")
        return cls(A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data.copy(),
                   tuple(nodes))

    @property
    def n(self) -> int:
        """Number of organisations."""
        return self.indptr.size - 1

    @property
    def n_edges(self) -> int:
        """Number of directed edges E."""
        return self.indices.size

    @property
    def degree(self) -> np.ndarray:
        """Out-degree of each organisation (number of neighbours it watches)."""
        return np.diff(self.indptr)

    @property
    def src(self) -> np.ndarray:
        """Source organisation of each directed edge, shape (E,)."""
        return np.repeat(np.arange(self.n), self.degree)

    @property
    def distance(self) -> np.ndarray:
        """Proximity of each edge as a distance, 1 / weight (1 for an unweighted graph)."""
        return 1.0 / self.weight

    @property
    def reverse(self) -> np.ndarray:
        """For each edge i -> j, the index of j -> i (or -1 if the graph lacks it)."""
        key = self.src * self.n + self.indices
        rkey = self.indices * self.n + self.src
        order = np.argsort(key)
        pos = np.searchsorted(key[order], rkey)
        pos = np.minimum(pos, key.size - 1)
        found = key[order][pos] == rkey if key.size else np.zeros(0, bool)
        return np.where(found, order[pos], -1)

    @cached_property
    def pair(self) -> np.ndarray:
        """For each edge, the first edge of its unordered pair: the smaller of e and its
        reverse (e itself when the graph lacks the reverse), shape (E,)."""
        idx = np.arange(self.n_edges)
        rev = self.reverse
        return np.where(rev >= 0, np.minimum(idx, rev), idx)

    @cached_property
    def pair_rank(self) -> np.ndarray:
        """For each edge, the number of its unordered pair: pairs are numbered 0, 1, ... in the
        order of their first edges (:attr:`pair`), shape (E,); ``pair_rank.max() + 1`` pairs."""
        first = self.pair == np.arange(self.n_edges)
        return (np.cumsum(first) - 1)[self.pair]

    @cached_property
    def overlap(self) -> np.ndarray:
        r"""Neighbourhood overlap of each edge i -> j (Onnela et al. 2007), shape (E,).

        :math:`O_{ij} = |N(i) \cap N(j)| / (|N(i) \cup N(j)| - 2)` for out-neighbourhoods,
        0 when the union holds only i and j: how embedded a tie is in a dense local cluster, the
        structural proximity of two organisations.
        """
        if self.n_edges == 0:
            return np.zeros(0)
        A = self.adjacency()
        common = np.asarray((A @ A.T)[self.src, self.indices]).ravel()
        deg = self.degree
        union = deg[self.src] + deg[self.indices] - common
        union = union - 1 - np.asarray(A[self.indices, self.src]).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, common / union, 0.0)

    @cached_property
    def triads(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edge triples (k -> j, k -> i, i -> j): the paths by which k hears about j from i.

        Returns
        -------
        kj, ki, ij : ndarray of int
            Three edge-index arrays of equal length (possibly empty): for each triad, the edge
            k -> j that gossip updates, and the edges k -> i and i -> j along which it travels
            (Sommerfeld et al. 2007 on gossip as indirect reciprocity). Ordered by k -> j,
            then by k -> i: the paths into one edge are consecutive.
        """
        if self.n_edges == 0:
            z = np.zeros(0, np.int64)
            return z, z, z
        src, dst = self.src, self.indices
        deg = self.degree
        # every e1 = k -> i followed by every e2 = i -> j
        e1 = np.repeat(np.arange(self.n_edges), deg[dst])
        first = np.repeat(self.indptr[dst], deg[dst])
        offset = np.arange(e1.size) - np.repeat(np.cumsum(deg[dst]) - deg[dst], deg[dst])
        e2 = first + offset
        k, j = src[e1], dst[e2]
        keep = k != j
        e1, e2, k, j = e1[keep], e2[keep], k[keep], j[keep]
        key = src * self.n + dst  # sorted, since CSR rows and columns are sorted
        want = k * self.n + j
        pos = np.minimum(np.searchsorted(key, want), self.n_edges - 1)
        found = key[pos] == want
        kj, ki, ij = pos[found], e1[found], e2[found]
        order = np.argsort(kj, kind="stable")
        return kj[order], ki[order], ij[order]

    def adjacency(self) -> sp.csr_array:
        """The 0/1 adjacency as a scipy CSR array (row i: whom i watches).

        Returns
        -------
        scipy.sparse.csr_array, shape (N, N)
            A[i, j] = 1 for every edge i -> j.
        """
        return sp.csr_array((np.ones(self.n_edges), self.indices, self.indptr),
                            shape=(self.n, self.n))

    def neighbour_mean(self, values: np.ndarray, *, empty: float = 0.0,
                       edge_weights: np.ndarray | None = None) -> np.ndarray:
        """Mean over each organisation's neighbours of ``values`` (R, N) -> (R, N).

        With ``edge_weights`` (R, E) the mean is weighted; organisations without neighbours
        (or with zero total weight) get ``empty``:
        m_i = sum_(i->j) w_ij v_j / sum_(i->j) w_ij.

        Parameters
        ----------
        values : ndarray, shape (R, N)
            One value per replicate and organisation.
        empty : float
            The mean given to organisations without neighbours.
        edge_weights : ndarray, shape (R, E), optional
            Weights w_ij >= 0 of the edges (default: 1).

        Returns
        -------
        ndarray, shape (R, N)
            Each organisation's (weighted) mean over its out-neighbours.
        """
        if self.n_edges == 0:
            return np.full(values.shape, empty, dtype=np.float64)
        per_edge = values[:, self.indices].astype(np.float64)
        if edge_weights is None:
            sums = self.edge_sums(per_edge)
            wsum = np.broadcast_to(self.degree.astype(np.float64), sums.shape)
        else:
            sums = self.edge_sums(edge_weights * per_edge)
            wsum = self.edge_sums(edge_weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = sums / wsum
        return np.where((self.degree > 0) & (wsum > 0), out, empty)

    @cached_property
    def _out_incidence(self) -> sp.csr_array:
        return sp.csr_array((np.ones(self.n_edges), np.arange(self.n_edges), self.indptr),
                            shape=(self.n, self.n_edges))

    @cached_property
    def _in_incidence(self) -> sp.csr_array:
        return sp.csr_array((np.ones(self.n_edges), (self.indices, np.arange(self.n_edges))),
                            shape=(self.n, self.n_edges))

    def out_mean(self, per_edge: np.ndarray, *, empty: float = 0.0) -> np.ndarray:
        """Mean of per-edge values (R, E) over each organisation's out-edges -> (R, N)
        (``empty`` for an organisation without edges).

        Parameters
        ----------
        per_edge : ndarray, shape (R, E)
            One value per replicate and directed edge, in the network's CSR order.
        empty : float
            The mean given to organisations without edges.

        Returns
        -------
        ndarray, shape (R, N)
            sum over the edges out of i, divided by i's out-degree.
        """
        deg = self.degree
        return np.where(deg > 0, self.edge_sums(per_edge) / np.maximum(deg, 1), empty)

    def edge_sums(self, per_edge: np.ndarray) -> np.ndarray:
        """Sum of per-edge values (R, E) over each organisation's out-edges -> (R, N).

        Each sum is taken in edge order, one replicate at a time (a sparse incidence product),
        so a replicate's sums do not depend on the other replicates of the batch; rows without
        edges give 0.

        Parameters
        ----------
        per_edge : ndarray, shape (R, E)
            One value per replicate and directed edge, in the network's CSR order.

        Returns
        -------
        ndarray, shape (R, N)
            The sum over the edges out of each organisation.
        """
        return np.ascontiguousarray((self._out_incidence @ per_edge.T).T)

    def in_edge_sums(self, per_edge: np.ndarray) -> np.ndarray:
        """Sum of per-edge values (R, E) over each organisation's in-edges (j -> i) -> (R, N),
        in edge order (see :meth:`edge_sums`).

        Parameters
        ----------
        per_edge : ndarray, shape (R, E)
            One value per replicate and directed edge, in the network's CSR order.

        Returns
        -------
        ndarray, shape (R, N)
            The sum over the edges into each organisation (what its watchers hold of it).
        """
        return np.ascontiguousarray((self._in_incidence @ per_edge.T).T)

    def shortest_paths(self, cutoff: int | None = None) -> np.ndarray:
        """All-pairs hop distances (N, N) via scipy.sparse.csgraph (inf where unreachable).

        Parameters
        ----------
        cutoff : int, optional
            Distances beyond it are set to inf.

        Returns
        -------
        ndarray, shape (N, N)
            Number of edges on a shortest directed path from i to j (Dijkstra, unweighted).
        """
        from scipy.sparse.csgraph import shortest_path
        d = shortest_path(self.adjacency(), method="D", unweighted=True)
        if cutoff is not None:
            d[d > cutoff] = np.inf
        return d
