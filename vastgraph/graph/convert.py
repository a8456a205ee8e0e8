"""Conversions between vastgraph graphs and scipy.sparse and networkx (PyG: :mod:`vastgraph.graph.convert_pyg`).

``from_*`` build through :class:`~vastgraph.graph.builder.GraphBuilder` (same validation and
duplicate / self-loop policies); ``to_*`` read the CSR arrays directly. Round trips keep structure,
weights, times, features and labels. A symmetric CSR (undirected, one node type) is listed in both
directions where the target expects it (scipy, PyG, directed networkx) and once in an undirected
networkx graph; readers take symmetric input (equal multisets of ``(u, v, weight, time)`` and
``(v, u, weight, time)``) as undirected unless told ``directed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.hetero_graph import HeteroGraph
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.store import Adjacency

INT32_MAX = np.iinfo(np.int32).max
NX_META = "vastgraph"  # key in ``G.graph`` holding the node/edge type lists written by to_networkx


# --------------------------------------------------------------------------- shared helpers
@dataclass
class _NodeSpec:
    name: str
    count: int
    ids: np.ndarray | None = None
    features: Any = None
    labels: Any = None


@dataclass
class _EdgeSpec:
    etype: EdgeType
    src: np.ndarray  # dense ids, int64
    dst: np.ndarray
    weight: np.ndarray | None
    time: np.ndarray | None
    directed: bool


def _require_graph(graph: Any, where: str) -> HeteroGraph:
    if not isinstance(graph, HeteroGraph):
        raise ValidationError(f"{where}: graph is a {type(graph).__name__}; expected a vastgraph HeteroGraph")
    return graph


def _drop_unit_weights(w: np.ndarray | None) -> np.ndarray | None:
    """Weights are kept unless every one of them is 1 (then the edge type is unweighted)."""
    if w is None or (w.size and np.any(w != 1)):
        return w
    return None


def _is_symmetric(src: np.ndarray, dst: np.ndarray, w: np.ndarray | None, t: np.ndarray | None) -> bool:
    """Whether the multiset of ``(u, v, w, t)`` equals that of ``(v, u, w, t)``."""
    if src.size == 0:
        return True
    extra = [a for a in (t, w) if a is not None]
    fwd = np.lexsort(tuple(extra) + (dst, src))
    rev = np.lexsort(tuple(extra) + (src, dst))
    if not (np.array_equal(src[fwd], dst[rev]) and np.array_equal(dst[fwd], src[rev])):
        return False
    return all(np.array_equal(a[fwd], a[rev]) for a in extra)


def _undirected_entries(src: np.ndarray, dst: np.ndarray, w: np.ndarray | None, t: np.ndarray | None,
                        where: str, symmetric: bool | None = None) -> np.ndarray:
    """Mask of the entries that list each undirected edge (of one node type) once.

    Symmetric input lists every edge in both directions: keep ``u <= v``. Input that lists no pair
    in both directions (e.g. a triangular matrix) already lists each edge once: keep all.
    """
    if symmetric is None:
        symmetric = _is_symmetric(src, dst, w, t)
    if symmetric:
        return src <= dst
    upper, lower = src < dst, src > dst
    if not lower.any() or not upper.any():
        return np.ones(src.shape[0], dtype=bool)
    n = int(max(src.max(), dst.max())) + 1
    key_up = src[upper].astype(np.int64) * n + dst[upper]
    key_lo = dst[lower].astype(np.int64) * n + src[lower]
    if np.intersect1d(key_up, key_lo).size == 0:
        return np.ones(src.shape[0], dtype=bool)
    raise ValidationError(
        f"{where}: directed=False but the input is neither symmetric nor lists each edge once "
        "(some pairs appear in both directions with different weights, times or multiplicities); "
        "pass directed=True, or symmetrise the input")


def _assemble(nodes: list[_NodeSpec], edges: list[_EdgeSpec], *, duplicates: str, self_loops: str,
              source: str) -> HeteroGraph:
    """Build a graph from dense-id edge arrays with :class:`GraphBuilder` (one per directedness)."""
    nb = GraphBuilder(id_mode="map")
    for n in nodes:
        nb.add_nodes(n.name, ids=n.ids, count=None if n.ids is not None else int(n.count),
                     features=n.features, labels=n.labels)
    node_graph = nb.build()
    node_data = {n.name: node_graph.node_store(n.name) for n in nodes}
    names = [n.name for n in nodes]
    built: dict[EdgeType, Any] = {}
    stats: dict[str, Any] = {}
    for directed in (True, False):
        group = [e for e in edges if e.directed == directed]
        if not group:
            continue
        eb = GraphBuilder(directed=directed, duplicates=duplicates, self_loops=self_loops,
                          id_mode="dense", node_types=names)
        for n in nodes:
            eb.add_nodes(n.name, count=node_data[n.name].count)
        for e in group:
            if e.src.size:
                eb.add_edges(e.src, e.dst, etype=e.etype, weight=e.weight, time=e.time,
                             source=f"{source} edge type {e.etype}")
            else:
                eb.add_edge_type(e.etype)
        g = eb.build()
        for e in group:
            built[e.etype] = g.edge_store(e.etype)
            stats[str(e.etype)] = dict(g.info["build"]["edge_types"][str(e.etype)], directed=directed)
    info = {"source": source,
            "build": {"duplicates": duplicates, "self_loops": self_loops, "edge_types": stats}}
    return HeteroGraph(node_data, {e.etype: built[e.etype] for e in edges}, info=info)


def _per_type(value: Any, ntype: str, types: list[str], what: str) -> Any:
    """Pick a node type's entry of a per-type argument (a dict), or the value itself for one type."""
    if value is None:
        return None
    if isinstance(value, dict):
        unknown = set(value) - set(types)
        if unknown:
            raise ValidationError(f"{what}: node type(s) {sorted(unknown)} are not among {types}")
        return _dense(value.get(ntype), what)
    if len(types) != 1:
        raise ValidationError(f"{what}: the graph has node types {types}; give a dict {{node type: array}}")
    return _dense(value, what)


def _dense(value: Any, what: str) -> Any:
    """A scipy sparse matrix (e.g. a ``(n, C)`` multi-hot label matrix) as a dense array."""
    if value is None or not sp.issparse(value):
        return value
    if value.ndim != 2:
        raise ValidationError(f"{what}: sparse input of shape {value.shape}; expected 2-D")
    return np.asarray(value.toarray())


# --------------------------------------------------------------------------- scipy
def to_scipy(graph: HeteroGraph, etype: Any = None, reverse: bool = False,
             weighted: bool = True) -> sp.csr_array:
    """One edge type's adjacency as a ``scipy.sparse.csr_array``, sharing the graph's arrays.

    ``A[u, v]`` is the weight of edge ``u → v`` (1.0 for unweighted types or ``weighted=False``);
    parallel edges stay separate entries (scipy sums them on ``sum_duplicates``). The indices and
    weights are wrapped without a copy when the entry count fits int32 indexing (only the
    ``(n_rows + 1,)`` indptr is cast) or when the indices are already int64. The matrix therefore
    shares memory with the graph (read-only for a memory-mapped store): copy it before editing in
    place.

    Args:
        graph: the graph.
        etype: edge type (default: the only one).
        reverse: the CSC, i.e. rows are destination nodes. Default False.
        weighted: use the stored weights (else ones). Default True.

    Returns:
        ``csr_array`` of shape ``(n_src, n_dst)`` (``(n_dst, n_src)`` when ``reverse``).

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(); _ = b.add_edges([0, 1], [1, 2], weight=[2.0, 3.0])
        >>> to_scipy(b.build()).toarray()[0].tolist()
        [0.0, 2.0, 0.0]
    """
    g = _require_graph(graph, "to_scipy")
    adj: Adjacency = g.adjacency(g.edge_type(etype), reverse=bool(reverse))
    data = adj.weight if (weighted and adj.weight is not None) else np.ones(adj.nnz, np.float32)
    indices, indptr = adj.indices, adj.indptr
    if indices.dtype == np.int32 and adj.nnz <= INT32_MAX and max(adj.n_rows, adj.n_cols) <= INT32_MAX:
        indptr = np.asarray(indptr).astype(np.int32)
    else:
        indices = np.asarray(indices).astype(np.int64, copy=False)
        indptr = np.asarray(indptr).astype(np.int64, copy=False)
    return sp.csr_array((data, indices, indptr), shape=(adj.n_rows, adj.n_cols))


def from_scipy(matrix: Any, *, directed: bool | None = None, ntype: str | tuple[str, str] = "node",
               rel: str = "edge", duplicates: str = "sum", self_loops: str = "keep",
               features: Any = None, labels: Any = None) -> HeteroGraph:
    """A graph with one edge type from a sparse adjacency matrix.

    Every stored entry ``(i, j, a_ij)`` is an edge ``i → j`` (explicit zeros included) with weight
    ``a_ij``; the edge type is unweighted when all entries are 1.

    Args:
        matrix: any ``scipy.sparse`` matrix or array, 2-D.
        directed: ``None`` (default) infers: a square matrix over one node type that is symmetric
            (same entries, values and multiplicities as its transpose) is undirected, anything
            else directed. ``False`` with a symmetric matrix reads each pair once; with a
            triangular one (no pair in both directions) reads every entry as an undirected edge.
        ntype: node type name, or ``(row_type, col_type)`` for a bipartite (non-square) matrix.
        rel: relation name. Default ``"edge"``.
        duplicates: builder policy for repeated entries (``"sum"`` default, ``"keep"``, ``"first"``).
        self_loops: ``"keep"`` (default) or ``"drop"``.
        features: ``(n, d)`` node features, or ``{node type: array}`` when there are two types.
        labels: ``(n,)`` ints (-1 unknown) or ``(n, C)`` multi-hot, or a per-type dict.

    Example:
        >>> import scipy.sparse as sp
        >>> g = from_scipy(sp.csr_array(([1.0, 1.0], ([0, 1], [1, 0])), shape=(2, 2)))
        >>> g.is_undirected(), g.num_edges()
        (True, 2)
    """
    if not sp.issparse(matrix):
        raise ValidationError(f"from_scipy: matrix is a {type(matrix).__name__}; expected a scipy.sparse "
                              "matrix or array")
    if matrix.ndim != 2:
        raise ValidationError(f"from_scipy: matrix has {matrix.ndim} dimensions; expected 2")
    n_rows, n_cols = (int(x) for x in matrix.shape)
    if isinstance(ntype, tuple):
        if len(ntype) != 2:
            raise ValidationError(f"from_scipy: ntype={ntype!r}; expected a name or (row_type, col_type)")
        src_t, dst_t = ntype
    else:
        src_t = dst_t = ntype
    if src_t == dst_t and n_rows != n_cols:
        raise ValidationError(f"from_scipy: matrix shape {matrix.shape} is not square; give "
                              "ntype=(row_type, col_type) for a bipartite graph")
    coo = matrix.tocoo()
    if coo.dtype.kind not in "biuf":
        raise ValidationError(f"from_scipy: matrix dtype {coo.dtype}; expected real numbers")
    src = np.asarray(coo.coords[0], dtype=np.int64)
    dst = np.asarray(coo.coords[1], dtype=np.int64)
    w = np.asarray(coo.data)
    if w.dtype.kind == "f" and not np.isfinite(w).all():
        i = int(np.flatnonzero(~np.isfinite(w))[0])
        raise ValidationError(f"from_scipy: entry ({src[i]}, {dst[i]}) is {w[i]} (NaN/inf not allowed)")
    w = _drop_unit_weights(w.astype(np.float32))
    same = src_t == dst_t
    symmetric = _is_symmetric(src, dst, w, None) if same else False
    if directed is None:
        directed = not symmetric
    if not directed and same:
        keep = _undirected_entries(src, dst, w, None, "from_scipy", symmetric)
        src, dst = src[keep], dst[keep]
        w = None if w is None else w[keep]
    types = [src_t] if same else [src_t, dst_t]
    counts = {src_t: n_rows, dst_t: n_cols}
    nodes = [_NodeSpec(t, counts[t], features=_per_type(features, t, types, "from_scipy features"),
                       labels=_per_type(labels, t, types, "from_scipy labels")) for t in types]
    et = EdgeType(src_t, rel, dst_t)
    return _assemble(nodes, [_EdgeSpec(et, src, dst, w, None, bool(directed))],
                     duplicates=duplicates, self_loops=self_loops, source="from_scipy")


# --------------------------------------------------------------------------- networkx
def _has_parallel(adj: Adjacency) -> bool:
    if adj.nnz < 2:
        return False
    ind = np.asarray(adj.indices)
    same = ind[1:] == ind[:-1]
    row_start = np.zeros(adj.nnz, dtype=bool)
    starts = np.asarray(adj.indptr)[1:-1]
    row_start[starts[starts < adj.nnz]] = True
    return bool(np.any(same & ~row_start[1:]))


def _py(values: np.ndarray) -> list:
    return np.asarray(values).tolist()


def to_networkx(graph: HeteroGraph) -> Any:
    """The graph as a networkx graph.

    Homogeneous: ``nx.Graph`` when the edge type is undirected, else ``nx.DiGraph`` (``MultiGraph`` /
    ``MultiDiGraph`` when it holds parallel edges); node keys are the dense ids. Heterogeneous:
    ``nx.MultiDiGraph`` whose node keys are global ids (:meth:`GraphStore.node_offsets`); an
    undirected edge type over one node type appears in both directions.

    Node attributes: ``ntype``, ``id`` (external id), ``x`` (float32 feature row) and ``y`` (int
    label, or a multi-hot uint8 row) where present. Edge attributes: ``rel``, ``weight`` and
    ``time`` where present. ``G.graph["vastgraph"]`` lists the node types and the edge types with
    their undirectedness, so :func:`from_networkx` restores empty types and directions. Per-node
    data arrays are not carried.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False); _ = b.add_edges([0, 1], [1, 2])
        >>> sorted(to_networkx(b.build()).edges())
        [(0, 1), (1, 2)]
    """
    import networkx as nx

    g = _require_graph(graph, "to_networkx")
    offsets = g.node_offsets()
    if g.is_homogeneous:
        ets = g.edge_types
        undirected = bool(ets) and g.edge_store(ets[0]).symmetric and g.is_undirected(ets[0])
        multi = bool(ets) and _has_parallel(g.adjacency(ets[0]))
        cls = {(False, False): nx.DiGraph, (True, False): nx.Graph,
               (False, True): nx.MultiDiGraph, (True, True): nx.MultiGraph}[(undirected, multi)]
    else:
        undirected, cls = False, nx.MultiDiGraph
    G = cls()
    G.graph[NX_META] = {"node_types": g.node_types,
                        "edge_types": [[et.src, et.rel, et.dst, g.is_undirected(et)] for et in g.edge_types]}
    for nt in g.node_types:
        ns = g.node_store(nt)
        attrs: list[dict[str, Any]] = [{"ntype": nt, "id": v} for v in _py(g.external_ids(nt))]
        if ns.features is not None:
            for a, row in zip(attrs, np.array(ns.features, dtype=np.float32)):
                a["x"] = row
        if ns.labels is not None:
            lab = np.array(ns.labels)
            for a, v in zip(attrs, list(lab) if lab.ndim == 2 else lab.tolist()):
                a["y"] = v
        G.add_nodes_from(zip(range(offsets[nt], offsets[nt] + ns.count), attrs))
    for et in g.edge_types:
        adj = g.adjacency(et)
        src, dst = g.edge_index(et)
        keep = np.flatnonzero(src <= dst) if undirected else slice(None)  # nx.Graph: each edge once
        src, dst = src[keep], dst[keep]
        cols: dict[str, list] = {"rel": [et.rel] * int(src.shape[0])}
        for name, arr in (("weight", adj.weight), ("time", adj.time)):
            if arr is not None:
                cols[name] = _py(np.asarray(arr)[keep])
        edge_attrs = [dict(zip(cols, vals)) for vals in zip(*cols.values())]
        G.add_edges_from(zip(_py(src + offsets[et.src]), _py(dst + offsets[et.dst]), edge_attrs))
    return G


def _external_ids(keys: list, where: str) -> np.ndarray:
    if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys):
        return np.asarray(keys, dtype=np.int64)
    if all(isinstance(k, str) for k in keys):
        return np.asarray(keys, dtype=object)
    bad = next(k for k in keys if not isinstance(k, str))
    raise ValidationError(f"{where}: node key {bad!r} ({type(bad).__name__}); expected all int or all str "
                          "node keys, or an 'id' attribute of that kind on every node")


def from_networkx(G: Any, *, node_type_attr: str | None = None, weight: str | None = "weight",
                  time: str | None = "time") -> HeteroGraph:
    """A graph from a networkx graph (any of the four classes).

    Node types come from the node attribute ``node_type_attr`` (default ``None``: ``"ntype"`` when
    ``G`` was written by :func:`to_networkx`, else one type ``"node"``); dense ids follow the
    iteration order of ``G.nodes`` within each type; external ids are the ``id`` attribute when
    every node has one, else the node keys. Features and labels come from the ``x`` and ``y``
    attributes (all nodes of a type or none). The edge type of ``(u, v)`` is
    ``(type(u), rel, type(v))`` with ``rel`` from the edge attribute ``rel`` (default ``"edge"``).
    An undirected ``G`` gives undirected edge types; a directed one gives directed types except
    those that ``G.graph["vastgraph"]`` marks undirected. Parallel edges are kept.

    Args:
        G: networkx graph.
        node_type_attr: node attribute naming the node type. Default None (see above).
        weight: edge attribute holding the weight (missing → 1.0); None: unweighted. Default "weight".
        time: edge attribute holding an integer time (all edges of a type or none); None: no times.
            Default ``"time"``.

    Example:
        >>> import networkx as nx
        >>> g = from_networkx(nx.path_graph(3))
        >>> g.neighbors(1).tolist()
        [0, 2]
    """
    import networkx as nx

    if not isinstance(G, nx.Graph):
        raise ValidationError(f"from_networkx: G is a {type(G).__name__}; expected a networkx graph")
    meta = G.graph.get(NX_META) if isinstance(G.graph.get(NX_META), dict) else None
    meta_nts = list(meta.get("node_types", [])) if meta else []
    meta_ets = [EdgeType(*e[:3]) for e in meta.get("edge_types", [])] if meta else []
    meta_und = {EdgeType(*e[:3]) for e in meta.get("edge_types", []) if len(e) > 3 and e[3]} if meta else set()
    type_attr = node_type_attr if node_type_attr is not None else ("ntype" if len(meta_nts) > 1 else None)
    default_nt = meta_nts[0] if len(meta_nts) == 1 else "node"
    # ---- nodes, grouped by type in iteration order
    where: dict[Any, tuple[str, int]] = {}
    members: dict[str, list] = {nt: [] for nt in meta_nts}
    for key, attrs in G.nodes(data=True):
        if type_attr is None:
            nt = default_nt
        elif type_attr in attrs:
            nt = attrs[type_attr]
        else:
            raise ValidationError(f"from_networkx: node {key!r} has no attribute {type_attr!r} (node_type_attr)")
        lst = members.setdefault(str(nt), [])
        where[key] = (str(nt), len(lst))
        lst.append((key, attrs))
    if not members:
        raise EmptyInputError("from_networkx: G has no nodes")
    nodes = []
    for nt, lst in members.items():
        keys = [a["id"] for _, a in lst] if lst and all("id" in a for _, a in lst) else [k for k, _ in lst]
        ids = _external_ids(keys, f"from_networkx node type {nt!r}") if lst else None
        spec = _NodeSpec(nt, len(lst), ids=ids)
        for attr, field in (("x", "features"), ("y", "labels")):
            have = [attr in a for _, a in lst]
            if lst and any(have):
                if not all(have):
                    missing = lst[have.index(False)][0]
                    raise ValidationError(f"from_networkx: node {missing!r} has no {attr!r} attribute but other "
                                          f"{nt!r} nodes do; give it to all nodes of the type or none")
                setattr(spec, field, np.asarray([a[attr] for _, a in lst]))
        nodes.append(spec)
    # ---- edges, grouped by type
    types = list(members)
    rank = {nt: i for i, nt in enumerate(types)}
    default_rel = meta_ets[0].rel if len(meta_ets) == 1 else "edge"
    cols: dict[EdgeType, tuple[list, list, list, list]] = {et: ([], [], [], []) for et in meta_ets}
    undirected_graph = not G.is_directed()
    for u, v, attrs in G.edges(data=True):
        (tu, du), (tv, dv) = where[u], where[v]
        et = EdgeType(tu, str(attrs.get("rel", default_rel)), tv)
        if undirected_graph and tu != tv and et not in cols:
            # an undirected G lists (u, v) in either orientation: use the known or schema order
            rev = EdgeType(tv, et.rel, tu)
            if rev in cols or rank[tu] > rank[tv]:
                et, du, dv = rev, dv, du
        for lst, val in zip(cols.setdefault(et, ([], [], [], [])),
                            (du, dv, 1.0 if weight is None else attrs.get(weight, 1.0),
                             None if time is None else attrs.get(time))):
            lst.append(val)
    edges = []
    for et, (s, d, w, t) in cols.items():
        src, dst = np.asarray(s, dtype=np.int64), np.asarray(d, dtype=np.int64)
        w_arr = _drop_unit_weights(np.asarray(w)) if w else None
        t_arr = None
        have_t = [x is not None for x in t]
        if any(have_t):
            if not all(have_t):
                i = have_t.index(False)
                raise ValidationError(f"from_networkx: edge type {et}: edge #{i} has no {time!r} attribute but "
                                      "others do; give a time to all edges of the type or none (time=None)")
            t_arr = np.asarray(t)
        if undirected_graph:
            directed = False
        else:
            directed = et not in meta_und
            if not directed and et.src == et.dst:  # written from a symmetric CSR: both directions
                keep = _undirected_entries(src, dst, w_arr, t_arr, f"from_networkx edge type {et}")
                src, dst = src[keep], dst[keep]
                w_arr = None if w_arr is None else w_arr[keep]
                t_arr = None if t_arr is None else t_arr[keep]
        edges.append(_EdgeSpec(et, src, dst, w_arr, t_arr, directed))
    return _assemble(nodes, edges, duplicates="keep", self_loops="keep", source="from_networkx")
