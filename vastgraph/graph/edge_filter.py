"""Edge filtering on the local store: the same nodes, a chosen subset of each edge type's edges.

:func:`filter_edges` is the store-side operation behind "this graph without those edges" (held-out
edges, a growth schedule's empty base graph): every node type is shared with the input (ids,
features, labels, named arrays), each edge type keeps the entries its mask selects, in storage
order, with their weights and times. The CSR is compacted in O(edges) numpy passes; a CSC is
rebuilt as the transpose of the new CSR. Callers above ``graph/`` use it instead of assembling
:class:`~vastgraph.graph.hetero_graph.HeteroGraph` internals themselves.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph
from vastgraph.graph.store import Adjacency

__all__ = ["filter_edges"]


def _mask(graph: HeteroGraph, et: Any, value: Any) -> np.ndarray | None:
    """``value`` as a boolean mask over ``et``'s stored entries (None: keep everything)."""
    nnz = graph.num_edges(et)
    if value is None or value is True:
        return None
    if value is False:
        return np.zeros(nnz, dtype=bool)
    m = np.asarray(value)
    if m.dtype != np.bool_ or m.shape != (nnz,):
        raise ValidationError(f"filter_edges: keep[{str(et)!r}] has shape {m.shape} and dtype {m.dtype}; "
                              f"expected a boolean mask of shape ({nnz},) over the edge type's stored "
                              "entries (coo() order), or True/False/None")
    return m


def _compact(adj: Adjacency, keep: np.ndarray | None, drop_weights: bool) -> Adjacency:
    """Rows of ``adj`` restricted to the kept entries (order preserved)."""
    weight = None if drop_weights else adj.weight
    if keep is None:
        return Adjacency(adj.indptr, adj.indices, weight, adj.time, adj.n_cols)
    before = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(keep, out=before[1:])
    indptr = before[np.asarray(adj.indptr, dtype=np.int64)]
    indices = np.asarray(adj.indices)[keep]
    w = None if weight is None else np.asarray(weight)[keep]
    t = None if adj.time is None else np.asarray(adj.time)[keep]
    return Adjacency(indptr, indices, w, t, adj.n_cols)


def _transpose(csr: Adjacency, n_rows: int, index_dtype: np.dtype) -> Adjacency:
    """The CSC of ``csr`` (entries of a column ordered by row id, ties in CSR order)."""
    deg = np.diff(np.asarray(csr.indptr, dtype=np.int64))
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), deg)
    cols = np.asarray(csr.indices, dtype=np.int64)
    order = np.argsort(cols, kind="stable")  # rows are already ascending in CSR order
    indptr = np.zeros(csr.n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=csr.n_cols), out=indptr[1:])
    w = None if csr.weight is None else np.asarray(csr.weight)[order]
    t = None if csr.time is None else np.asarray(csr.time)[order]
    return Adjacency(indptr, rows[order].astype(index_dtype), w, t, n_rows)


def filter_edges(graph: HeteroGraph, keep: Mapping[Any, Any] | None = None, *,
                 drop_weights: bool = False) -> HeteroGraph:
    """``graph`` with the same nodes and only the selected edges of each edge type.

    Args:
        graph: a local store (:class:`~vastgraph.graph.hetero_graph.HeteroGraph`).
        keep: ``{edge type: mask}``; a mask is a boolean array over the edge type's stored entries
            in storage order (the order of ``graph.coo(etype)``), ``True``/``None`` (keep all) or
            ``False`` (keep none). Edge types not named are kept whole. For an undirected edge
            type within one node type (stored both ways) keep both directions of a pair.
        drop_weights: remove every edge type's weight column (the result is unweighted). Default
            False.

    Returns:
        A new :class:`HeteroGraph` sharing ``graph``'s node types, schema and ``info``; weight and
        time columns stay present (possibly empty) unless ``drop_weights``.

    Raises:
        SchemaError: an unknown edge type. ValidationError: a mask of the wrong shape or dtype, or
        a mask that keeps one direction of a symmetric edge type's pairs more often than the other.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=True); _ = b.add_edges([0, 0, 1], [1, 2, 2], weight=[1.0, 2.0, 3.0])
        >>> g = b.build()
        >>> h = filter_edges(g, {None: g.coo().weight > 1.5})
        >>> e = h.coo(); e.src.tolist(), e.dst.tolist(), e.weight.tolist(), h.in_degree().tolist()
        ([0, 1], [2, 2], [2.0, 3.0], [0, 0, 2])
        >>> filter_edges(g, {None: False}).num_edges(), filter_edges(g, {None: False}).has_weights()
        (0, True)
    """
    if not isinstance(graph, HeteroGraph):
        raise ValidationError(f"filter_edges: graph is a {type(graph).__name__}; expected a vastgraph HeteroGraph")
    if keep is not None and not isinstance(keep, Mapping):
        raise ValidationError(f"filter_edges: keep is a {type(keep).__name__}; expected a dict "
                              "{edge type: boolean mask}")
    masks = {graph.edge_type(k): v for k, v in (keep or {}).items()}
    edges: dict[Any, EdgeTypeData] = {}
    for et in graph.edge_types:
        e = graph.edge_store(et)
        m = _mask(graph, et, masks.get(et))
        if m is not None and e.symmetric and m.any():
            src = graph.coo(et).src
            dst = np.asarray(e.csr.indices)
            if int((m & (src < dst)).sum()) != int((m & (src > dst)).sum()):
                raise ValidationError(f"filter_edges: keep[{str(et)!r}] keeps one direction of some pairs of "
                                      "the undirected edge type (it is stored both ways); keep both")
        csr = _compact(e.csr, m, drop_weights)
        if e.csc is None:
            csc = None
        elif m is None:
            csc = _compact(e.csc, None, drop_weights)
        else:
            csc = _transpose(csr, graph.num_nodes(et.src), e.csc.indices.dtype)
        edges[et] = EdgeTypeData(et, csr, csc, undirected=e.undirected)
    return HeteroGraph({nt: graph.node_store(nt) for nt in graph.node_types}, edges, info=dict(graph.info))
