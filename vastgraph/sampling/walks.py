"""Random walks over one edge type: uniform (DeepWalk), weighted, and node2vec (second order).

The walks themselves run in the numba kernels of :mod:`vastgraph.sampling.walk_kernels`; this
module validates arguments, picks the kernel and hands out the work in chunks. The helpers at the
bottom (``check_start``, ``check_counts`` ...) are shared with the metapath and temporal walks.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numba
import numpy as np

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.store import GraphStore
from vastgraph.sampling.alias import alias_tables
from vastgraph.seeding import seed_from
from vastgraph.validation import check_positive
from vastgraph.sampling.walk_kernels import (alias_walks, build_edge_filter, is_simple_symmetric,
                                             node2vec_walks, row_weight_sums, uniform_walks)

_INT32_MAX = np.iinfo(np.int32).max
_CHUNK_STEPS = 1 << 23  # steps per kernel call when a progress callback wants news


def random_walks(graph: GraphStore, *, start: Any = None, walks_per_node: int = 10, walk_length: int = 80,
                 etype: Any = None, p: float = 1.0, q: float = 1.0, weighted: bool | None = None,
                 random_state: Any = None,
                 progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Uniform, weighted or node2vec random walks along one edge type.

    DeepWalk (Perozzi et al., KDD 2014) walks pick an out-edge of the current node uniformly;
    weighted walks pick it with probability ∝ its weight (per-row alias tables, O(1) a step).
    node2vec (Grover & Leskovec, KDD 2016) walks are second order: having moved ``t → v``, the
    next node ``x`` (a neighbour of ``v``) has probability

        P(x | t, v) ∝ w(v, x) · α(t, x),   α = 1/p if x = t,  1 if x ∈ N(t),  1/q otherwise,

    drawn by rejection sampling as in KnightKing (Yang et al., SOSP 2019): a proposal from the
    first-order distribution is accepted with probability α / max(1, 1/q), membership ``x ∈ N(t)``
    is a Bloom-filter check then a binary search in t's sorted row, and the return edge's surplus
    ``1/p − max(1, 1/q)`` (when positive) is drawn on its own. No per-edge tables: besides the
    alias tables, node2vec caches only the filter (4–8 bits per edge) in ``graph.derived``, so
    memory stays O(edges). ``p = q = 1`` is exactly the first-order walk and runs as one.

    Walks follow the stored out-edges (the CSR) of ``etype``, whose source and destination node
    types must be the same; parallel edges are separate entries (each is drawn on its own). A walk
    that reaches a node without out-edges stops; the rest of its row is -1.

    Row order is DeepWalk's: rows ``r·S .. r·S + S − 1`` are repetition ``r`` over the ``S`` start
    nodes in the order given. Walk ``i`` draws from its own random stream, so the same
    ``random_state`` gives the same walks whatever the number of numba threads.

    Args:
        graph: a :class:`~vastgraph.graph.store.GraphStore`.
        start: dense ids (of the edge type's node type) to start from; default every node.
        walks_per_node: walks from each start node (>= 1). Default 10.
        walk_length: steps per walk (>= 1); rows hold ``walk_length + 1`` nodes. Default 80.
        etype: the edge type (any spelling ``graph.edge_type`` accepts); default the only one.
        p: node2vec return parameter (> 0, finite). Default 1.
        q: node2vec in-out parameter (> 0, finite). Default 1.
        weighted: use edge weights; ``None`` (default) uses them when the edge type has them.
        random_state: None, an int or a ``numpy.random.Generator``.
        progress: optional ``progress(walks_done, walks_total)`` called after each chunk.

    Returns:
        int32 array ``(len(start) · walks_per_node, walk_length + 1)`` of dense node ids, -1 after a
        dead end (int64 when the node type has more than 2**31 − 1 nodes).

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2], [1, 2, 0])
        >>> w = random_walks(b.build(), walks_per_node=2, walk_length=5, p=0.5, q=2.0, random_state=0)
        >>> w.shape
        (6, 6)
    """
    et = walk_edge_type(graph, etype, "random_walks")
    ntype = et.src
    starts = check_start(graph, ntype, start)
    wpn, length = check_counts(walks_per_node, walk_length)
    p_inv = 1.0 / check_positive("p", p)
    q_inv = 1.0 / check_positive("q", q)
    adj = graph.adjacency(et)
    use_w = use_weights(adj, weighted, et)
    seed = seed_from(random_state)
    n_walks = starts.shape[0] * wpn
    n_nodes = graph.num_nodes(ntype)
    out = np.empty((n_walks, length + 1), dtype=np.int32 if n_nodes <= _INT32_MAX else np.int64)
    indptr, indices = np.asarray(adj.indptr), np.asarray(adj.indices)
    if use_w:
        rowsum = row_sums(graph, et, False)
        prob, alias = alias_tables(graph, et, reverse=False)
        weight = np.asarray(adj.weight)
    else:
        rowsum, weight = np.empty(0, np.float64), np.empty(0, np.float32)
        prob, alias = np.empty(0, np.float32), np.empty(0, np.int32)
    first_order = p_inv == 1.0 and q_inv == 1.0
    # the return edge's weight is needed only when it is folded out (1/p > max(1, 1/q)); the
    # membership test x ∈ N(t) only when q != 1
    symmetric = p_inv > max(1.0, q_inv) and simple_symmetric(graph, et)
    no_filter = (np.empty(0, np.uint64), np.uint64(0))
    bits, shift = edge_filter(graph, et) if (not first_order and q_inv != 1.0) else no_filter

    def run(first: int, count: int, block: np.ndarray) -> None:
        if first_order and not use_w:
            uniform_walks(indptr, indices, starts, first, count, length, seed, block)
        elif first_order:
            alias_walks(indptr, indices, prob, alias, starts, first, count, length, seed, block)
        else:
            node2vec_walks(indptr, indices, weight, rowsum, prob, alias, use_w, symmetric, bits, shift,
                           starts, first, count, length, seed, p_inv, q_inv, block)

    run_chunked(run, out, progress)
    return out


# ---------------------------------------------------------------------------- shared helpers
def run_chunked(run: Callable[[int, int, np.ndarray], None], out: np.ndarray,
                progress: Callable[[int, int], None] | None) -> None:
    """Call ``run(first, count, out[first:first+count])`` over all rows (one call without progress)."""
    n = out.shape[0]
    if progress is None:
        run(0, n, out)
        return
    chunk = max(1024, _CHUNK_STEPS // max(out.shape[1], 1))
    for first in range(0, n, chunk):
        count = min(chunk, n - first)
        run(first, count, out[first:first + count])
        progress(first + count, n)


def walk_edge_type(graph: GraphStore, etype: Any, caller: str) -> EdgeType:
    """Resolve ``etype`` and check that a walk can stay on it (source type == destination type)."""
    et = graph.edge_type(etype)
    if et.src != et.dst:
        raise ValidationError(
            f"{caller}: etype={str(et)!r} goes from node type {et.src!r} to {et.dst!r}; a walk along "
            "one edge type needs the same node type at both ends (use metapath_walks for typed paths)")
    return et


def check_start(graph: GraphStore, ntype: str, start: Any) -> np.ndarray:
    """Start nodes as a 1-D int64 array of dense ids of ``ntype`` (default: all of them)."""
    n = graph.num_nodes(ntype)
    if start is None:
        if n == 0:
            raise EmptyInputError(f"start=None: node type {ntype!r} has no nodes to start walks from")
        return np.arange(n, dtype=np.int64)
    arr = np.asarray(start)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValidationError(f"start: shape {arr.shape}; expected a 1-D array of dense {ntype} ids")
    if arr.size == 0:
        raise EmptyInputError(f"start: empty; expected at least one dense {ntype} id to start from")
    starts = graph._check_nodes(ntype, arr)
    return np.ascontiguousarray(starts, dtype=np.int64)


def check_counts(walks_per_node: Any, walk_length: Any) -> tuple[int, int]:
    """Validate ``walks_per_node`` and ``walk_length`` (integers >= 1)."""
    out = []
    for name, value in (("walks_per_node", walks_per_node), ("walk_length", walk_length)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValidationError(f"{name}={value!r}: expected an integer >= 1")
        if int(value) < 1:
            raise ValidationError(f"{name}={value}: expected an integer >= 1")
        out.append(int(value))
    return out[0], out[1]



def use_weights(adj: Any, weighted: bool | None, et: EdgeType) -> bool:
    """Whether a walk over ``adj`` uses its weights (``weighted=True`` on an unweighted type raises)."""
    if weighted is None:
        return adj.weight is not None
    if weighted not in (True, False):
        raise ValidationError(f"weighted={weighted!r}: expected None, True or False")
    if weighted and adj.weight is None:
        raise ValidationError(f"weighted=True but edge type {str(et)!r} has no weights")
    return bool(weighted)


def edge_filter(graph: GraphStore, et: EdgeType) -> tuple[np.ndarray, np.uint64]:
    """Cached blocked Bloom filter of ``et``'s CSR entries (4-8 bits per entry) and its shift."""
    key = ("walk_edge_filter", et)
    cache = graph.derived
    if key not in cache:
        adj = graph.adjacency(et)
        log2_words = max(6, int(math.ceil(math.log2(adj.nnz / 16.0 + 1.0))))
        bits = build_edge_filter(np.asarray(adj.indptr), np.asarray(adj.indices), log2_words,
                                 max(1, numba.get_num_threads()))
        cache[key] = (bits, np.uint64(64 - log2_words))
    return cache[key]


def simple_symmetric(graph: GraphStore, et: EdgeType) -> bool:
    """Whether ``et``'s CSR is symmetric, weights included, without parallel edges (cached).

    Then a node2vec step knows the return edge v → t and its weight without a search.
    """
    if not (et.src == et.dst and graph.is_undirected(et)):
        return False
    key = ("walk_simple_symmetric", et)
    cache = graph.derived
    if key not in cache:
        adj = graph.adjacency(et)
        w = np.empty(0, np.float32) if adj.weight is None else np.asarray(adj.weight)
        cache[key] = bool(is_simple_symmetric(np.asarray(adj.indptr), np.asarray(adj.indices), w,
                                              adj.weight is not None))
    return cache[key]


def row_sums(graph: GraphStore, et: EdgeType, reverse: bool) -> np.ndarray:
    """Cached per-row weight sums (float64) of one direction of ``et``; negative weights raise."""
    key = ("walk_row_sums", et, bool(reverse))
    cache = graph.derived
    if key not in cache:
        adj = graph.adjacency(et, reverse=reverse)
        sums, wmin = row_weight_sums(np.asarray(adj.indptr), np.asarray(adj.weight))
        if wmin < 0:
            raise ValidationError(f"edge type {str(et)!r} has negative weights (min {wmin}); weighted "
                                  "walks need weights >= 0 (pass weighted=False to ignore them)")
        cache[key] = sums
    return cache[key]
