"""A homogeneous, undirected view of a typed graph (one node type over global ids).

Walk-based embedders that follow one edge type (DeepWalk, node2vec, DNE) see a heterogeneous graph
through this view: every chosen edge type becomes an undirected edge between global node ids
(:meth:`~vastgraph.graph.store.GraphStore.node_offsets`), parallel entries are summed, and row
``i`` of an embedding of the view is global node ``i`` of the original, so
:meth:`KeyedEmbeddings.from_graph(original, vectors) <vastgraph.embed.keyed_embeddings.KeyedEmbeddings.from_graph>`
keys it by ``(node type, external id)``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.hetero_graph import HeteroGraph


def to_homogeneous(graph: HeteroGraph, etypes: Sequence[Any] | None = None, *, weighted: bool = True,
                   relation_weights: dict[Any, float] | None = None, ntype: str = "node") -> HeteroGraph:
    """Collapse edge types into one undirected, weighted edge type over global node ids.

    Args:
        graph: a :class:`HeteroGraph`.
        etypes: edge types to include (default: all).
        weighted: keep edge weights (summed over parallel entries and edge types); ``False`` counts
            each stored edge as 1.
        relation_weights: optional multiplier per edge type (e.g. ``{"ad:cobid:ad": 0.5}``).
        ntype: the name of the single node type of the view.

    Returns:
        A graph with one node type of ``graph.num_nodes()`` nodes (external ids = global ids) and one
        undirected edge type ``(ntype, "edge", ntype)`` without self-loops. Labels are copied when
        every node type has single-label int labels (missing ones become -1).

    Example:
        >>> from vastgraph.datasets import search_ads_graph
        >>> g = search_ads_graph(n_queries=50, n_ads=20, n_advertisers=4, random_state=0).graph
        >>> h = to_homogeneous(g)
        >>> h.num_nodes() == g.num_nodes()
        True
    """
    if not isinstance(graph, HeteroGraph):
        raise ValidationError(f"to_homogeneous: graph is a {type(graph).__name__}; expected a HeteroGraph")
    chosen = graph.edge_types if etypes is None else [graph.edge_type(e) for e in etypes]
    mult = {graph.edge_type(k): float(v) for k, v in (relation_weights or {}).items()}
    for et, v in mult.items():
        if not np.isfinite(v) or v < 0:
            raise ValidationError(f"relation_weights[{et}]={v}: expected a finite non-negative number")
    n = graph.num_nodes_total()
    if n == 0:
        raise EmptyInputError("to_homogeneous: the graph has no nodes")
    offsets = graph.node_offsets()
    rows, cols, vals = [], [], []
    for et in chosen:
        adj = graph.adjacency(et)
        src = np.repeat(np.arange(adj.n_rows, dtype=np.int64), np.diff(adj.indptr)) + offsets[et.src]
        dst = np.asarray(adj.indices, dtype=np.int64) + offsets[et.dst]
        w = (np.asarray(adj.weight, dtype=np.float64) if weighted and adj.weight is not None
             else np.ones(src.size))
        rows.append(src)
        cols.append(dst)
        vals.append(w * mult.get(et, 1.0))
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = np.zeros(0, np.int64)
        v = np.zeros(0)
    keep = (r != c) & (v > 0)
    m = sp.coo_array((v[keep], (r[keep], c[keep])), shape=(n, n)).tocsr()
    m = (m + m.T).tocsr()  # undirected: symmetric entries (a symmetric input counts both directions)
    m.sum_duplicates()
    m.sort_indices()
    from vastgraph.graph.builder import GraphBuilder

    labels = _global_labels(graph)
    b = GraphBuilder(directed=False, duplicates="keep")
    b.add_nodes(ntype, count=n, labels=labels)
    upper = sp.triu(m, k=1).tocoo()
    b.add_edges(upper.row.astype(np.int64), upper.col.astype(np.int64), etype=(ntype, "edge", ntype),
                weight=upper.data.astype(np.float32) if weighted or mult else None)
    out = b.build()
    out.info["homogeneous_of"] = {"node_offsets": {k: int(o) for k, o in offsets.items()},
                                  "edge_types": [str(e) for e in chosen]}
    return out


def _global_labels(graph: HeteroGraph) -> np.ndarray | None:
    parts = []
    for t in graph.node_types:
        lab = graph.labels(t)
        if lab is not None and np.asarray(lab).ndim != 1:
            return None
        parts.append(np.full(graph.num_nodes(t), -1, np.int64) if lab is None else np.asarray(lab, np.int64))
    out = np.concatenate(parts) if parts else None
    return None if out is None or (out < 0).all() else out
