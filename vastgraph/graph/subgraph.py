"""Induced subgraphs: keep given nodes of each type and every edge between kept nodes."""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import SchemaError, UnknownIdError, ValidationError
from vastgraph.graph.csr_kernels import induced_counts, induced_fill, sort_rows, transpose_fill
from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph, NodeTypeData
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.store import Adjacency

INT32_MAX = np.iinfo(np.int32).max


def _node_ids(graph: HeteroGraph, ntype: str, ids: Any) -> np.ndarray:
    """Validated int64 dense ids (a boolean mask of length n is accepted too)."""
    n = graph.num_nodes(ntype)
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValidationError(f"subgraph: nodes[{ntype!r}] has shape {arr.shape}; expected a 1-D array of "
                              "dense ids or a boolean mask")
    if arr.dtype.kind == "b":
        if arr.shape[0] != n:
            raise ValidationError(f"subgraph: nodes[{ntype!r}] is a boolean mask of length {arr.shape[0]}; "
                                  f"expected {n} (one per {ntype!r} node)")
        return np.flatnonzero(arr).astype(np.int64)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValidationError(f"subgraph: nodes[{ntype!r}] has dtype {arr.dtype}; expected integer dense ids")
    arr = arr.astype(np.int64)
    if arr.min() < 0 or arr.max() >= n:
        bad = arr[(arr < 0) | (arr >= n)][:5].tolist()
        raise UnknownIdError(f"subgraph: {ntype} node id(s) {bad} out of range [0, {n})")
    counts = np.bincount(arr, minlength=n)
    if counts.max() > 1:
        dup = np.flatnonzero(counts > 1)[:5].tolist()
        raise ValidationError(f"subgraph: nodes[{ntype!r}] repeats id(s) {dup}; expected distinct ids")
    return arr


def _sub_index(idx: IdIndex, keep: np.ndarray) -> IdIndex:
    """Id index of the kept nodes (in ``keep`` order) holding their original external ids."""
    if idx.kind == "range":
        return IdIndex.from_values(keep)
    if idx.kind == "int":
        return IdIndex.from_values(np.asarray(idx.arrays["ids"])[keep])
    offsets = np.asarray(idx.arrays["offsets"])
    data = np.asarray(idx.arrays["data"])
    starts = offsets[keep]
    lengths = offsets[keep + 1] - starts
    new_off = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_off[1:])
    gather = np.repeat(starts - new_off[:-1], lengths) + np.arange(int(new_off[-1]), dtype=np.int64)
    return IdIndex("str", keep.size, {"offsets": new_off, "data": data[gather]})


def _take(arr: np.ndarray | None, keep: np.ndarray) -> np.ndarray | None:
    return None if arr is None else np.asarray(arr[keep])


def _induced(adj: Adjacency, keep_src: np.ndarray, src_map: np.ndarray, dst_map: np.ndarray,
             n_new_src: int, n_new_dst: int, resort: bool) -> Adjacency:
    """Rows ``keep_src`` of ``adj`` restricted to kept columns, relabelled by the maps."""
    counts = induced_counts(adj.indptr, adj.indices, src_map, dst_map, keep_src)
    rows = src_map[keep_src]
    full = np.zeros(n_new_src, dtype=np.int64)
    full[rows] = counts
    indptr = np.zeros(n_new_src + 1, dtype=np.int64)
    np.cumsum(full, out=indptr[1:])
    nnz = int(indptr[-1])
    idx_dtype = np.int32 if n_new_dst <= INT32_MAX else np.int64
    indices = np.empty(nnz, dtype=idx_dtype)
    edge_pos = np.empty(nnz, dtype=np.int64)
    induced_fill(adj.indptr, adj.indices, dst_map.astype(idx_dtype), keep_src, indptr[rows], indices, edge_pos)
    weight = None if adj.weight is None else np.asarray(adj.weight)[edge_pos]
    time = None if adj.time is None else np.asarray(adj.time)[edge_pos]
    if resort:
        sort_rows(indptr, indices, np.empty(0, np.float32) if weight is None else weight,
                  np.empty(0, np.int64) if time is None else time, weight is not None, time is not None)
    return Adjacency(indptr, indices, weight, time, n_new_dst)


def _transpose(csr: Adjacency, n_rows: int) -> Adjacency:
    """CSC of a CSR (columns sorted by row id) via :func:`transpose_fill`."""
    has_w, has_t = csr.weight is not None, csr.time is not None
    counts = np.bincount(csr.indices, minlength=csr.n_cols).astype(np.int64) if csr.nnz else \
        np.zeros(csr.n_cols, np.int64)
    indptr = np.zeros(csr.n_cols + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(csr.nnz, dtype=np.int32 if n_rows <= INT32_MAX else np.int64)
    w = np.empty(csr.nnz if has_w else 0, np.float32)
    t = np.empty(csr.nnz if has_t else 0, np.int64)
    transpose_fill(csr.indptr, csr.indices, csr.weight if has_w else np.empty(0, np.float32),
                   csr.time if has_t else np.empty(0, np.int64), indptr[:-1].copy(), indices, w, t, has_w, has_t)
    return Adjacency(indptr, indices, w if has_w else None, t if has_t else None, n_rows)


def subgraph(graph: HeteroGraph, nodes: dict[str, Any] | Any, *,
             relabel: bool = True) -> tuple[HeteroGraph, dict[str, np.ndarray]]:
    """Induced subgraph on the given dense node ids of each type.

    The subgraph keeps every edge (of every edge type) whose two endpoints are kept, with its
    weight and time, and each kept node's features, labels, named data arrays and external id
    (the new graph's :class:`IdIndex` holds the original external ids, so ``lookup`` by external
    id keeps working). Undirectedness, symmetric storage and sorted rows are preserved.

    Node types **not named** in ``nodes`` keep **no** nodes (so their edge types come out empty);
    name a type with ``np.arange(graph.num_nodes(t))`` to keep it whole. With ``relabel=True``
    (default) kept nodes get new dense ids ``0..k-1`` in the order given; with ``relabel=False``
    every node type keeps its size and ids, and only edges between kept nodes remain.

    Work is O(kept rows' degree sum) in two numba passes (count, fill); the CSC is rebuilt by a
    transpose of the new CSR.

    Args:
        graph: the graph.
        nodes: ``{node type: ids}``, or just ``ids`` for a graph with one node type; ids are a
            1-D integer array of distinct dense ids, or a boolean mask over the type's nodes.
        relabel: renumber kept nodes (True, default) or keep the original numbering.

    Returns:
        ``(sub, mapping)``: the subgraph and, per node type, the int64 original dense ids of its
        nodes (``mapping[t][new_id] = old_id``; with ``relabel=False`` it is ``arange(n)``).

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False); _ = b.add_edges([0, 1, 2], [1, 2, 3])
        >>> sub, mapping = subgraph(b.build(), [3, 2, 1])
        >>> sub.neighbors(1).tolist(), mapping["node"].tolist()
        ([0, 2], [3, 2, 1])
    """
    if not isinstance(graph, HeteroGraph):
        raise ValidationError(f"subgraph: graph is a {type(graph).__name__}; expected a vastgraph HeteroGraph")
    if not isinstance(nodes, dict):
        if len(graph.node_types) != 1:
            raise ValidationError(f"subgraph: the graph has node types {graph.node_types}; give nodes as "
                                  "a dict {node type: ids}")
        nodes = {graph.node_types[0]: nodes}
    for nt in nodes:
        if nt not in graph.node_types:
            raise SchemaError(f"subgraph: unknown node type {nt!r}; known node types: "
                              f"{', '.join(graph.node_types)}")
    keep = {nt: _node_ids(graph, nt, nodes[nt]) if nt in nodes else np.zeros(0, np.int64)
            for nt in graph.node_types}
    maps: dict[str, np.ndarray] = {}
    new_nodes: dict[str, NodeTypeData] = {}
    for nt in graph.node_types:
        ns = graph.node_store(nt)
        k = keep[nt]
        m = np.full(ns.count, -1, dtype=np.int64)
        if relabel:
            m[k] = np.arange(k.size, dtype=np.int64)
            new_nodes[nt] = NodeTypeData(nt, _sub_index(ns.ids, k), _take(ns.features, k),
                                         _take(ns.labels, k), {key: _take(a, k) for key, a in ns.data.items()})
        else:
            m[k] = k
            new_nodes[nt] = ns
        maps[nt] = m
    sorted_keep = {nt: bool(np.all(k[1:] > k[:-1])) for nt, k in keep.items()}
    new_edges: dict[Any, EdgeTypeData] = {}
    for et in graph.edge_types:
        e = graph.edge_store(et)
        n_src = new_nodes[et.src].count
        n_dst = new_nodes[et.dst].count
        csr = _induced(e.csr, keep[et.src], maps[et.src], maps[et.dst], n_src, n_dst,
                       resort=relabel and not sorted_keep[et.dst])
        csc = None if e.csc is None else _transpose(csr, n_src)
        new_edges[et] = EdgeTypeData(et, csr, csc, undirected=e.undirected)
    info = dict(graph.info)
    info["subgraph"] = {"of": graph.path, "relabel": bool(relabel),
                        "nodes": {nt: int(k.size) for nt, k in keep.items()}}
    mapping = {nt: (k if relabel else np.arange(graph.num_nodes(nt), dtype=np.int64)) for nt, k in keep.items()}
    return HeteroGraph(new_nodes, new_edges, info=info), mapping
