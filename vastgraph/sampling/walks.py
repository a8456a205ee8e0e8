"""Random walks over one edge type: uniform (DeepWalk), weighted, and node2vec (second order).

This module validates arguments and asks the graph's sampling engine
(:func:`~vastgraph.sampling.engine.engine_for`) for the walks; the local engine runs them in the
numba kernels of :mod:`vastgraph.sampling.local.walk_kernels`, in chunks. The helpers at the
bottom (``check_start``, ``check_counts`` ...) are shared with the metapath and temporal walks.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import WalkSpec, engine_for
from vastgraph.sampling.engine import check_positive_count

_CHUNK_STEPS = 1 << 23  # steps per kernel call when a progress callback wants news


def random_walks(graph: GraphView, *, start: Any = None, walks_per_node: int = 10, walk_length: int = 80,
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
    alias tables, node2vec caches only the filter (4–8 bits per edge) in the graph's engine, so
    memory stays O(edges). ``p = q = 1`` is exactly the first-order walk and runs as one.

    Walks follow the stored out-edges (the CSR) of ``etype``, whose source and destination node
    types must be the same; parallel edges are separate entries (each is drawn on its own). A walk
    that reaches a node without out-edges stops; the rest of its row is -1.

    Row order is DeepWalk's: rows ``r·S .. r·S + S − 1`` are repetition ``r`` over the ``S`` start
    nodes in the order given. Walk ``i`` draws from its own random stream, so the same
    ``random_state`` gives the same walks whatever the number of numba threads.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.
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
    spec = WalkSpec("node2vec", walks_per_node=walks_per_node, walk_length=walk_length, etype=et,
                    p=p, q=q, weighted=weighted)
    if 1.0 / spec.p == 1.0 and 1.0 / spec.q == 1.0:  # first order: name it by what it draws
        kind = "weighted" if use_weights(graph, weighted, et) else "uniform"
        spec = WalkSpec(kind, walks_per_node=spec.walks_per_node, walk_length=spec.walk_length, etype=et)
    return engine_for(graph).walks(spec, start, random_state=random_state, progress=progress).nodes


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


def walk_edge_type(graph: GraphView, etype: Any, caller: str) -> EdgeType:
    """Resolve ``etype`` and check that a walk can stay on it (source type == destination type)."""
    et = graph.edge_type(etype)
    if et.src != et.dst:
        raise ValidationError(
            f"{caller}: etype={str(et)!r} goes from node type {et.src!r} to {et.dst!r}; a walk along "
            "one edge type needs the same node type at both ends (use metapath_walks for typed paths)")
    return et


def check_start(graph: GraphView, ntype: str, start: Any) -> np.ndarray:
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
    starts = graph.check_nodes(ntype, arr)
    return np.ascontiguousarray(starts, dtype=np.int64)


def check_counts(walks_per_node: Any, walk_length: Any) -> tuple[int, int]:
    """Validate ``walks_per_node`` and ``walk_length`` (integers >= 1)."""
    return check_positive_count("walks_per_node", walks_per_node), check_positive_count("walk_length", walk_length)



def use_weights(graph: GraphView, weighted: bool | None, et: EdgeType) -> bool:
    """Whether a walk along ``et`` uses its weights (``weighted=True`` on an unweighted type raises)."""
    if weighted is None:
        return bool(graph.has_weights(et))
    if weighted not in (True, False):
        raise ValidationError(f"weighted={weighted!r}: expected None, True or False")
    if weighted and not graph.has_weights(et):
        raise ValidationError(f"weighted=True but edge type {str(et)!r} has no weights")
    return bool(weighted)


def edge_filter(graph: GraphView, et: EdgeType) -> tuple[np.ndarray, np.uint64]:
    """The local engine's cached Bloom filter of ``et``'s CSR entries (see ``LocalEngine.edge_filter``)."""
    return engine_for(graph).edge_filter(graph.edge_type(et))


def simple_symmetric(graph: GraphView, et: EdgeType) -> bool:
    """Whether ``et``'s CSR is symmetric without parallel edges (the local engine's cached test)."""
    return engine_for(graph).simple_symmetric(graph.edge_type(et))


def row_sums(graph: GraphView, et: EdgeType, reverse: bool) -> np.ndarray:
    """The local engine's cached per-row weight sums of one direction of ``et`` (negative weights raise)."""
    return engine_for(graph).row_sums(graph.edge_type(et), bool(reverse))
