"""Structural context of a graph for GraLSP: anonymous walks, walk types, radii and the pairs they yield.

Paper: Y. Jin, G. Song, C. Shi, *GraLSP: Graph Neural Networks with Local Structural Patterns*,
AAAI 2020 (arXiv:1911.07675).

From every node ``v`` GraLSP samples ``walks_per_node`` node2vec walks (``p = 0.25, q = 1`` in the
paper; first-order walks by default here, which keep more structure per walk) of ``l = walk_length`` steps and anonymises each one (every node replaced by the position of
its first occurrence), which gives the walk's *type* ``w``. A walk that revisits nodes lies in a
dense neighbourhood, so its *adaptive receptive radius*

    r_w = ⌊2·l / (number of distinct nodes on w)⌋

lets it count more of its positions as neighbours of ``v``. The aggregation pairs every node ``u``
at positions ``1 .. r_w`` of ``w`` with ``w``'s type; :class:`StructuralContext` holds those
``(neighbour, walk type)`` pairs of each node as CSR arrays, plus what the GraLSP losses need:

* skip-gram ``(centre, context)`` pairs: the start node of each walk and the nodes at positions
  ``1 .. window`` of it (the reference implementation's proximity pairs);
* per-node walk-type counts and, for the structural triplet loss ``−log σ(e_i·(e_j − e_k))``, the
  types that occur *above* the node's average count (``count_v(t) > Σ_t count_v(t) / T``, i.e. more
  often than a uniform spread over the ``T`` types): ``i, j`` are drawn from them, ``k`` from the rest;
* the walk-type distribution of each node (scipy CSR) and its column-wise z-scored dense form, the
  structural input features when a graph has none.

Walk types seen fewer than ``min_count`` times in the whole graph share one id, "other" (the last
id, ``n_types - 1``).

The models take what this module computes as arrays: :func:`sample_blocks` draws the sampled hops
of a GraLSP batch, :func:`union_view` and :func:`walk_relations` give the relation of each pair on a
heterogeneous graph (relational GraLSP).

Example:
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 1, 2, 2], [1, 2, 0, 3])
    >>> ctx = StructuralContext.build(b.build(), walks_per_node=4, walk_length=4, random_state=0)
    >>> ctx.num_nodes, ctx.pair_indptr.shape
    (4, (5,))
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from dataclasses import dataclass

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.view import GraphView
from vastgraph.sampling.anonymous import AnonymousWalkVocabulary, anonymize, receptive_radius, walk_types
from vastgraph.sampling.walks import random_walks, walk_edge_type
from vastgraph.seeding import seed_from
from vastgraph.validation import check_int, check_positive

UNION_ETYPE = ("node", "link", "node")


def check_graph(graph: Any, caller: str) -> GraphView:
    """``graph`` when it is a :class:`~vastgraph.graph.view.GraphView`, else a :class:`ValidationError`."""
    if not isinstance(graph, GraphView):
        raise ValidationError(f"{caller}: graph={type(graph).__name__}; expected a vastgraph graph (a GraphView, "
                              "e.g. a GraphStore)")
    return graph


def _csr_from_rows(row_of_item: np.ndarray, n_rows: int) -> np.ndarray:
    """``indptr`` (int64, ``n_rows + 1``) of items already grouped by non-decreasing row."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of_item, minlength=n_rows), out=indptr[1:])
    return indptr


def walk_pairs(walks: np.ndarray, radius: np.ndarray, types: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                      np.ndarray]:
    """The ``(neighbour, walk type)`` pairs of walks: nodes at positions ``1 .. r`` of each walk.

    Args:
        walks: ``(n_walks, L)`` node ids, -1 as trailing padding after a dead end.
        radius: ``(n_walks,)`` receptive radius of each walk (positions beyond the walk are dropped).
        types: ``(n_walks,)`` walk-type id of each walk.

    Returns:
        ``(count, nbr, type)``: int64 ``(n_walks,)`` pairs per walk, then int32 ``(P,)`` neighbours
        and types, walk by walk in row order.

    Example:
        >>> c, nbr, t = walk_pairs(np.array([[5, 6, 5, 7], [8, 9, -1, -1]]), np.array([3, 2]),
        ...                        np.array([0, 1]))
        >>> c.tolist(), nbr.tolist(), t.tolist()
        ([3, 1], [6, 5, 7, 9], [0, 0, 0, 1])
    """
    w = np.asarray(walks)
    pos = np.arange(w.shape[1])
    mask = (pos[None, :] >= 1) & (pos[None, :] <= np.asarray(radius)[:, None]) & (w >= 0)
    count = mask.sum(axis=1).astype(np.int64)
    nbr = w[mask].astype(np.int32)
    typ = np.repeat(np.asarray(types, dtype=np.int32), count)
    return count, nbr, typ


class StructuralContext:
    """Anonymous-walk structure of one (walkable) edge type, as GraLSP consumes it.

    Build it with :meth:`build`; every array is in dense node ids of the edge type's node type.

    Attributes:
        num_nodes: ``n``.
        n_types: ``T`` walk-type ids, the last being "other" (rare types).
        vocabulary: :class:`~vastgraph.sampling.anonymous.AnonymousWalkVocabulary` of the kept types
            (id ``i < T - 1`` is ``vocabulary.types[i]``).
        walks: int32 ``(n_walks, walk_length + 1)`` the walks, grouped by start node
            (``walk_indptr`` int64 ``(n + 1,)``).
        walk_type: int32 ``(n_walks,)``; ``walk_radius``: int32 ``(n_walks,)``;
            ``walk_pair_indptr``: int64 ``(n_walks + 1,)`` the walk's slice of the pair arrays.
        pair_indptr, pair_nbr, pair_type: the ``(neighbour, type)`` pairs of each node (CSR:
            int64 ``(n + 1,)``, int32 ``(P,)``, int32 ``(P,)``).
        ctx_indptr, ctx_nodes: skip-gram contexts of each node (int64 ``(n + 1,)``, int32).
        counts: ``scipy.sparse.csr_array`` float64 ``(n, T)`` walk-type counts.
        above_indptr, above_types: per node, the types counted above its average (CSR, sorted).
        params: the build arguments (``random_state`` resolved to the int seed used).
    """

    def __init__(self, *, walks: np.ndarray, walk_length: int, n_nodes: int, vocabulary: AnonymousWalkVocabulary,
                 walk_type: np.ndarray, window: int, params: dict[str, Any], degree: np.ndarray | None = None,
                 neighbour_degree: np.ndarray | None = None) -> None:
        n = int(n_nodes)
        self.degree = None if degree is None else np.asarray(degree, dtype=np.float64)
        self.neighbour_degree = None if neighbour_degree is None else np.asarray(neighbour_degree, dtype=np.float64)
        self.num_nodes = n
        self.walk_length = int(walk_length)
        self.vocabulary = vocabulary
        self.n_types = len(vocabulary) + 1
        self.params = dict(params)
        self.walks = walks
        starts = walks[:, 0].astype(np.int64)
        self.walk_indptr = _csr_from_rows(starts, n)
        self.walk_type = walk_type.astype(np.int32)
        self.walk_radius = receptive_radius(anonymize(walks), self.walk_length)
        count, self.pair_nbr, self.pair_type = walk_pairs(walks, self.walk_radius, self.walk_type)
        self.walk_pair_indptr = np.zeros(walks.shape[0] + 1, dtype=np.int64)
        np.cumsum(count, out=self.walk_pair_indptr[1:])
        self.pair_indptr = _csr_from_rows(np.repeat(starts, count), n)
        # skip-gram contexts: positions 1..window of each walk
        ctx = walks[:, 1:window + 1]
        keep = ctx >= 0
        self.ctx_nodes = ctx[keep].astype(np.int32)
        self.ctx_indptr = _csr_from_rows(np.repeat(starts, keep.sum(axis=1)), n)
        # walk-type counts and the above-average types of each node
        counts = sp.csr_array((np.ones(starts.size), (starts, self.walk_type.astype(np.int64))),
                              shape=(n, self.n_types))
        counts.sum_duplicates()
        counts.sort_indices()
        self.counts = counts
        rows = np.repeat(np.arange(n), np.diff(counts.indptr))
        mean = np.diff(self.walk_indptr) / float(self.n_types)
        above = counts.data > mean[rows]
        self.above_types = counts.indices[above].astype(np.int32)
        self.above_indptr = _csr_from_rows(rows[above], n)
        self._above_keys = rows[above].astype(np.int64) * self.n_types + self.above_types
        self._zscored: np.ndarray | None = None
        self._features: dict[tuple[float, int], np.ndarray] = {}

    # ------------------------------------------------------------------------------- building
    @classmethod
    def build(cls, graph: GraphView, *, etype: Any = None, walks_per_node: int = 100, walk_length: int = 8,
              p: float = 1.0, q: float = 1.0, min_count: int = 2, window: int = 4, random_state: Any = None,
              progress: Callable[[int, int], Any] | None = None) -> "StructuralContext":
        """Sample the walks of every node and derive types, radii, pairs and statistics.

        Args:
            graph: a graph (:class:`~vastgraph.graph.view.GraphView`) with at least one edge of ``etype``.
            etype: the edge type to walk (same node type at both ends); default the only one.
            walks_per_node: walks started at every node (>= 1). Default 100.
            walk_length: steps ``l`` per walk (>= 2); walks hold ``l + 1`` nodes. Default 8.
            p, q: node2vec return / in-out parameters (> 0). Defaults 1 and 1 (first order; the paper
                uses p = 0.25, whose return-biased walks hide roles: see :func:`role_features`).
            min_count: walk types seen fewer times in the whole graph map to "other" (>= 1). Default 2.
                When no type reaches it, the most frequent type is kept.
            window: skip-gram context positions after each walk's start (>= 1). Default 4.
            random_state: None, an int or a ``numpy.random.Generator``.
            progress: optional ``progress(walks_done, walks_total)`` from the walk sampler.

        Returns:
            The :class:`StructuralContext`.

        Raises:
            ValidationError: bad parameters, or an edge type that a walk cannot follow.
            SchemaError: unknown ``etype``.
            EmptyInputError: no nodes or no edges.
        """
        check_graph(graph, "StructuralContext.build")
        wpn = check_int("walks_per_node", walks_per_node, 1)
        length = check_int("walk_length", walk_length, 2)
        check_positive("p", p)
        check_positive("q", q)
        mc = check_int("min_count", min_count, 1)
        win = check_int("window", window, 1)
        et = walk_edge_type(graph, etype, "StructuralContext.build")
        n = graph.num_nodes(et.src)
        if n == 0:
            raise EmptyInputError(f"StructuralContext.build: node type {et.src!r} has no nodes")
        if graph.num_edges(et) == 0:
            raise EmptyInputError(f"StructuralContext.build: edge type {str(et)!r} has no edges; anonymous "
                                  "walks need edges to walk along")
        seed = int(seed_from(random_state))
        walks = random_walks(graph, walks_per_node=wpn, walk_length=length, etype=et, p=p, q=q,
                             random_state=seed, progress=progress)
        walks = np.ascontiguousarray(walks[np.argsort(walks[:, 0], kind="stable")])
        ids, types = walk_types(anonymize(walks))
        freq = np.bincount(ids, minlength=types.shape[0])
        kept = np.flatnonzero(freq >= mc)
        if kept.size == 0:
            kept = np.array([int(np.argmax(freq))])
        remap = np.full(types.shape[0], kept.size, dtype=np.int32)  # "other" = last id
        remap[kept] = np.arange(kept.size, dtype=np.int32)
        params = {"etype": list(et), "walks_per_node": wpn, "walk_length": length, "p": float(p), "q": float(q),
                  "min_count": mc, "window": win, "random_state": seed}
        deg, nbr_deg = degree_statistics(graph, et)
        return cls(walks=walks, walk_length=length, n_nodes=n, vocabulary=AnonymousWalkVocabulary(types[kept]),
                   walk_type=remap[ids], window=win, params=params, degree=deg, neighbour_degree=nbr_deg)

    # ------------------------------------------------------------------------------- features
    def distribution(self) -> sp.csr_array:
        """Walk-type frequencies of each node: ``scipy.sparse.csr_array`` float64 ``(n, T)``, rows sum to 1."""
        tot = np.diff(self.walk_indptr).astype(np.float64)
        scale = np.divide(1.0, tot, out=np.zeros_like(tot), where=tot > 0)
        return sp.csr_array(sp.diags_array(scale) @ self.counts)

    def zscored(self) -> np.ndarray:
        """Column-wise z-scored walk-type distributions, float32 ``(n, T)`` (constant columns give 0)."""
        if self._zscored is None:
            d = self.distribution().toarray()
            mean = d.mean(axis=0)
            std = d.std(axis=0)
            std[std == 0] = 1.0
            self._zscored = ((d - mean) / std).astype(np.float32)
        return self._zscored

    def structural_features(self, *, smoothing: float = 0.5, max_types: int = 256) -> np.ndarray:
        """Role features of every node from this context's walks and degrees (see :func:`role_features`)."""
        key = (float(smoothing), int(max_types) if isinstance(max_types, (int, np.integer)) else -1)
        if key not in self._features:
            self._features[key] = role_features(self.walks, self.num_nodes, degree=self.degree,
                                                neighbour_degree=self.neighbour_degree, smoothing=smoothing,
                                                max_types=max_types)
        return self._features[key]

    # ------------------------------------------------------------------------------- sampling
    def _node_ids(self, nodes: Any) -> np.ndarray:
        v = np.asarray(nodes, dtype=np.int64).reshape(-1)
        if v.size and (v.min() < 0 or v.max() >= self.num_nodes):
            raise ValidationError(f"nodes: ids in [{int(v.min())}, {int(v.max())}]; expected dense ids in "
                                  f"[0, {self.num_nodes})")
        return v

    @staticmethod
    def _draw(indptr: np.ndarray, nodes: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                                                 np.ndarray]:
        lo = indptr[nodes]
        cnt = indptr[nodes + 1] - lo
        off = np.floor(rng.random((nodes.size, k)) * cnt[:, None]).astype(np.int64)
        valid = np.broadcast_to((cnt > 0)[:, None], off.shape)
        return np.where(valid, lo[:, None] + off, 0), valid

    def sample_pairs(self, nodes: Any, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray, np.ndarray]:
        """``k`` pairs per node, uniformly with replacement from its ``(neighbour, type)`` pairs.

        Returns:
            ``(position, neighbour, type, valid)``, each ``(len(nodes), k)``: the pairs' index in
            ``pair_nbr`` (int64), neighbour (int64) and type (int64) ids, and a bool mask that is
            False for nodes without pairs (their entries are meaningless).
        """
        v = self._node_ids(nodes)
        pos, valid = self._draw(self.pair_indptr, v, k, rng)
        if self.pair_nbr.size == 0:
            zero = np.zeros_like(pos)
            return pos, zero, zero, valid
        return pos, self.pair_nbr[pos].astype(np.int64), self.pair_type[pos].astype(np.int64), valid

    def sample_contexts(self, nodes: Any, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``k`` skip-gram contexts per node: ``(context ids int64, valid)``, each ``(len(nodes), k)``."""
        v = self._node_ids(nodes)
        pos, valid = self._draw(self.ctx_indptr, v, k, rng)
        if self.ctx_nodes.size == 0:
            return np.zeros_like(pos), valid
        return self.ctx_nodes[pos].astype(np.int64), valid

    def sample_triplets(self, nodes: Any, per_node: int, rng: np.random.Generator, *,
                        candidates: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Walk-type triplets ``(i, j, k)`` for the structural loss at ``nodes``.

        ``i`` and ``j`` are drawn uniformly from the node's above-average types, ``k`` uniformly from
        the other types (rejection among ``candidates`` draws). Nodes without above-average types,
        and draws whose candidates all fall above average, give no triplet.

        Returns:
            int64 ``(m,)`` arrays ``i, j, k``, ``m <= len(nodes) · per_node``.
        """
        v = np.repeat(self._node_ids(nodes), int(per_node))
        lo = self.above_indptr[v]
        cnt = self.above_indptr[v + 1] - lo
        keep = (cnt > 0) & (cnt < self.n_types)
        v, lo, cnt = v[keep], lo[keep], cnt[keep]
        if v.size == 0 or self.above_types.size == 0:
            empty = np.empty(0, np.int64)
            return empty, empty, empty
        i = self.above_types[lo + np.floor(rng.random(v.size) * cnt).astype(np.int64)].astype(np.int64)
        j = self.above_types[lo + np.floor(rng.random(v.size) * cnt).astype(np.int64)].astype(np.int64)
        cand = rng.integers(0, self.n_types, size=(v.size, int(candidates)))
        keys = v[:, None] * self.n_types + cand
        at = np.minimum(np.searchsorted(self._above_keys, keys), self._above_keys.size - 1)
        below = self._above_keys[at] != keys
        ok = below.any(axis=1)
        k = cand[np.arange(v.size), np.argmax(below, axis=1)]
        return i[ok], j[ok], k[ok].astype(np.int64)

    def __repr__(self) -> str:
        return (f"StructuralContext(num_nodes={self.num_nodes}, n_types={self.n_types}, "
                f"n_walks={self.walks.shape[0]}, n_pairs={self.pair_nbr.size})")


def role_features(walks: np.ndarray, n_nodes: int, *, degree: np.ndarray | None = None,
                  neighbour_degree: np.ndarray | None = None, smoothing: float = 0.5,
                  max_types: int = 256) -> np.ndarray:
    """Role features of every node: smoothed anonymous-walk prefix distributions and log degrees.

    For every prefix length ``t = 3 .. L`` (nodes) of the walks, the distribution of the anonymised
    prefixes of the walks from each node (a short prefix is a coarse, well-estimated view; the whole
    walk the finest), restricted to the ``max_types`` most frequent prefix types of that length,
    smoothed additively (``(c + s) / (N_v + s·T_t)``, ``s = smoothing``) and square-rooted
    (Hellinger), so that rare types do not dominate; then ``log(1 + degree)`` and
    ``log(1 + mean neighbour degree)`` when given, which walk types alone do not show (a hub's walks
    rarely revisit, like a leaf's). Columns are standardised (mean 0, variance 1; constant columns
    0) and each block (one prefix length, or the degrees) scaled by ``1/√(its columns)``, so each
    block counts alike.

    Args:
        walks: ``(n_walks, L)`` node walks, column 0 the start node, -1 as trailing padding.
        n_nodes: rows of the result (> every start node).
        degree, neighbour_degree: ``(n_nodes,)`` or None (see :func:`degree_statistics`).
        smoothing: additive smoothing ``s`` per type (> 0). Default 0.5.
        max_types: prefix types kept per length (>= 1). Default 256.

    Returns:
        float32 ``(n_nodes, F)``.

    Example:
        >>> walks = np.array([[0, 1, 0, 1], [0, 1, 2, 0], [1, 0, 1, 0], [1, 2, 0, 1], [2, 0, 1, 2], [2, 1, 0, 2]])
        >>> role_features(walks, 3).shape  # two prefix lengths (3 and 4 nodes) with two types each
        (3, 4)
    """
    s = float(check_positive("smoothing", smoothing))
    k = check_int("max_types", max_types, 1)
    n = check_int("n_nodes", n_nodes, 1)
    anon = anonymize(walks)
    starts = np.asarray(walks)[:, 0].astype(np.int64)
    if starts.size and (starts.min() < 0 or starts.max() >= n):
        raise ValidationError(f"walks: start nodes in [{int(starts.min())}, {int(starts.max())}]; expected "
                              f"[0, n_nodes={n})")
    total = np.bincount(starts, minlength=n).astype(np.float64)
    blocks = []
    for t in range(3, anon.shape[1] + 1):
        ids, _ = walk_types(anon[:, :t])
        freq = np.bincount(ids)
        keep = np.sort(np.argsort(-freq, kind="stable")[:k])
        keep = keep[freq[keep] >= 2]
        if keep.size < 2:
            continue
        col = np.full(freq.size, -1, np.int64)
        col[keep] = np.arange(keep.size)
        c = col[ids]
        m = c >= 0
        counts = np.bincount(starts[m] * keep.size + c[m], minlength=n * keep.size).reshape(n, keep.size)
        blocks.append(np.sqrt((counts + s) / (total[:, None] + s * keep.size)))
    deg = [np.log1p(np.asarray(x, dtype=np.float64)) for x in (degree, neighbour_degree) if x is not None]
    if deg:
        blocks.append(np.stack(deg, axis=1))
    if not blocks:
        raise EmptyInputError("role_features: walks too short or too few for any prefix type (need >= 3 nodes "
                              "per walk) and no degrees")
    out = []
    for b in blocks:
        b = b - b.mean(axis=0)
        sd = b.std(axis=0)
        b = np.divide(b, sd, out=np.zeros_like(b), where=sd > 1e-12)
        out.append(b / np.sqrt(b.shape[1]))
    return np.concatenate(out, axis=1).astype(np.float32)


def degree_statistics(graph: GraphView, etype: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(degree, mean neighbour degree)`` of the nodes of ``etype``'s source type, float64 ``(n,)`` each
    (out-edges; 0 for nodes without edges).

    Example:
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 0, 0], [1, 2, 3])  # a star
        >>> d, m = degree_statistics(b.build(), None)
        >>> d.tolist(), m.tolist()
        ([3.0, 1.0, 1.0, 1.0], [1.0, 3.0, 3.0, 3.0])
    """
    et = walk_edge_type(graph, etype, "degree_statistics")
    n = graph.num_nodes(et.src)
    deg = np.asarray(graph.out_degree(et), dtype=np.float64)
    e = graph.coo(et)
    tot = np.bincount(e.src.astype(np.int64), weights=deg[e.dst.astype(np.int64)], minlength=n)
    return deg, np.divide(tot, deg, out=np.zeros(n), where=deg > 0)


# ----------------------------------------------------------------------------------- GraLSP batches
@dataclass
class HopBlock:
    """One sampled hop of a GraLSP batch: pairs from ``n_target`` target rows into the next node set.

    ``target``/``source`` index the targets (a prefix of the sources) and the sources; ``types``
    are walk-type ids and ``pairs`` the pairs' positions in the context arrays (all int64 ``(P,)``).
    """

    n_target: int
    target: np.ndarray
    source: np.ndarray
    types: np.ndarray
    pairs: np.ndarray


def sample_blocks(context: StructuralContext, nodes: np.ndarray, num_samples: int, num_layers: int,
                  rng: np.random.Generator) -> tuple[list[np.ndarray], list[HopBlock]]:
    """Sample ``num_layers`` hops of ``num_samples`` pairs per node around distinct ``nodes``.

    Returns:
        ``(node_sets, blocks)``: ``node_sets[0] = nodes`` and ``node_sets[k+1]`` = ``node_sets[k]``
        followed by the new neighbours of hop ``k``; ``blocks[k]`` maps ``node_sets[k]`` (targets)
        to ``node_sets[k+1]`` (sources).

    Example:
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2, 2], [1, 2, 0, 3])
        >>> ctx = StructuralContext.build(b.build(), walks_per_node=4, walk_length=4, random_state=0)
        >>> sets, blocks = sample_blocks(ctx, np.array([2, 0]), 3, 2, np.random.default_rng(0))
        >>> sets[0].tolist(), len(blocks), bool((sets[1][:2] == sets[0]).all())
        ([2, 0], 2, True)
    """
    sets, blocks = [nodes], []
    cur = nodes
    for _ in range(num_layers):
        pos, nbr, typ, valid = context.sample_pairs(cur, num_samples, rng)
        keep = valid.ravel()
        tgt = np.repeat(np.arange(cur.size, dtype=np.int64), num_samples)[keep]
        nbr, typ, pos = nbr.ravel()[keep], typ.ravel()[keep], pos.ravel()[keep]
        uniq, first, inv = np.unique(np.concatenate([cur, nbr]), return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # cur (distinct) keeps rows 0..len(cur)-1
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        blocks.append(HopBlock(cur.size, tgt, rank[inv.reshape(-1)[cur.size:]], typ, pos))
        cur = uniq[order]
        sets.append(cur)
    return sets, blocks


# ----------------------------------------------------------------------------------- typed graphs
def resolve_etypes(graph: GraphView, etype: Any) -> list:
    """The edge types a relational model uses: all (None), one spelling, or a list of spellings."""
    if etype is None:
        etypes = list(graph.edge_types)
    elif isinstance(etype, list):
        etypes = [graph.edge_type(tuple(e) if isinstance(e, list) else e) for e in etype]
    else:
        etypes = [graph.edge_type(etype)]
    if not etypes:
        raise EmptyInputError("the graph has no edge types")
    return etypes


def union_view(graph: GraphView, etypes: list) -> tuple[GraphView, np.ndarray, np.ndarray, list[str]]:
    """All nodes under global ids, with the given edge types in both directions, as one edge type.

    A directed edge type ``(s, rel, d)`` yields two relations, ``rel`` (s → d) and ``rev_rel``
    (d → s); an undirected one within one node type yields one.

    Returns:
        ``(view, keys, rels, names)``: the view graph (node type ``"node"``, edge type
        ``node:link:node``), the sorted int64 keys ``src · N + dst`` of its entries with each entry's
        relation id (first relation wins for equal keys), and the relation names.

    Example:
        >>> b = GraphBuilder(directed=True)
        >>> _ = b.add_edges(["q1", "q2"], ["a1", "a1"], etype=("query", "click", "ad"))
        >>> view, keys, rels, names = union_view(b.build(), [("query", "click", "ad")])
        >>> view.num_nodes(), names
        (3, ['click', 'rev_click'])
    """
    check_graph(graph, "union_view")
    offsets = graph.node_offsets()
    n = int(sum(graph.num_nodes(t) for t in graph.node_types))
    srcs, dsts, rels, names = [], [], [], []
    for et in etypes:
        et = graph.edge_type(et)
        edges = graph.coo(et)
        s = edges.src.astype(np.int64) + offsets[et.src]
        d = edges.dst.astype(np.int64) + offsets[et.dst]
        symmetric = et.src == et.dst and graph.is_undirected(et)
        srcs.append(s)
        dsts.append(d)
        rels.append(np.full(s.size, len(names), np.int64))
        names.append(et.rel)
        if not symmetric:
            srcs.append(d)
            dsts.append(s)
            rels.append(np.full(s.size, len(names), np.int64))
            names.append(f"rev_{et.rel}")
    src, dst, rel = np.concatenate(srcs), np.concatenate(dsts), np.concatenate(rels)
    if src.size == 0:
        raise EmptyInputError(f"edge types {', '.join(map(str, etypes))} hold no edges")
    b = GraphBuilder(directed=True, duplicates="first", id_mode="dense", node_types=["node"])
    b.add_nodes("node", count=n)
    b.add_edges(src, dst, etype=UNION_ETYPE)
    keys = src * n + dst
    order = np.lexsort((rel, keys))
    return b.build(), keys[order], rel[order], names


def walk_relations(context: StructuralContext, keys: np.ndarray, rels: np.ndarray) -> np.ndarray:
    """Relation id of every ``(neighbour, type)`` pair of ``context``: the relation of its walk's first step.

    ``keys``/``rels`` come from :func:`union_view` (the context must be built on that view); with
    parallel edges of several relations the first in schema order wins. Returns int64 ``(P,)``.
    """
    w = context.walks
    first = w[:, 1].astype(np.int64)
    q = w[:, 0].astype(np.int64) * context.num_nodes + first
    at = np.minimum(np.searchsorted(keys, q), keys.size - 1)
    walk_rel = np.where((first >= 0) & (keys[at] == q), rels[at], 0)
    return np.repeat(walk_rel, np.diff(context.walk_pair_indptr)).astype(np.int64)
