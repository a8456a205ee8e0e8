"""The in-memory (or memory-mapped) heterogeneous graph store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.csr_kernels import find_edges
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.schema import EdgeType, resolve_edge_type, resolve_node_type
from vastgraph.graph.store import Adjacency, FeatureStore, GraphStore
from vastgraph.graph.view import EdgeChunk


@dataclass
class NodeTypeData:
    """Everything stored for one node type.

    ``labels`` is int64 ``(n,)`` with -1 for unlabelled nodes, or uint8 multi-hot ``(n, C)`` for
    multi-label data. ``data`` holds further named per-node arrays (e.g. split masks).
    """

    name: str
    ids: IdIndex
    features: np.ndarray | None = None
    labels: np.ndarray | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.ids.n


@dataclass
class EdgeTypeData:
    """One edge type: its CSR over the source and, unless symmetric, its CSC."""

    etype: EdgeType
    csr: Adjacency
    csc: Adjacency | None  # None when symmetric: the CSR serves both directions
    undirected: bool = False

    @property
    def symmetric(self) -> bool:
        return self.csc is None


class HeteroGraph(GraphStore, FeatureStore):
    """Heterogeneous, weighted, timestamped graph as per-edge-type CSR/CSC arrays.

    Homogeneous graphs are the case of one node type and one edge type; every method then takes
    ``ntype=None``/``etype=None`` to mean "the only one".

    Args:
        node_types: ``{name: NodeTypeData}``.
        edge_types: ``{EdgeType: EdgeTypeData}``.
        info: provenance and build policies (free-form JSON-able dict).

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1], [1, 2])
        >>> g = b.build()
        >>> g.neighbors(1).tolist()
        [0, 2]
    """

    def __init__(self, node_types: dict[str, NodeTypeData], edge_types: dict[EdgeType, EdgeTypeData],
                 info: dict[str, Any] | None = None, path: str | None = None,
                 version: str | None = None) -> None:
        self._nodes = dict(node_types)
        self._edges = dict(edge_types)
        self.info: dict[str, Any] = dict(info or {})
        self.path = path
        self._version = version
        for et in self._edges:
            for t in (et.src, et.dst):
                if t not in self._nodes:
                    raise SchemaError(f"edge type {et}: endpoint node type {t!r} does not exist; "
                                      f"known node types: {', '.join(self._nodes) or '(none)'}")

    # ----------------------------------------------------------------- schema
    @property
    def node_types(self) -> list[str]:
        return list(self._nodes)

    @property
    def edge_types(self) -> list[EdgeType]:
        return list(self._edges)

    @property
    def is_homogeneous(self) -> bool:
        return len(self._nodes) == 1 and len(self._edges) <= 1

    def node_type(self, ntype: str | None = None) -> str:
        if ntype is None:
            if len(self._nodes) != 1:
                raise SchemaError(f"this graph has node types {', '.join(self._nodes)}; name one")
            return next(iter(self._nodes))
        return resolve_node_type(ntype, self._nodes)

    def edge_type(self, etype: Any = None) -> EdgeType:
        if etype is None:
            if len(self._edges) != 1:
                raise SchemaError(
                    f"this graph has edge types {', '.join(map(str, self._edges)) or '(none)'}; name one")
            return next(iter(self._edges))
        return resolve_edge_type(etype, self._edges)

    @property
    def version(self) -> str:
        """The store version this graph was opened from (``v<k>-<digest>`` for a DynamicStore
        version, ``0-<digest>`` for a plain store), or ``mem-<id>`` for a graph built in memory."""
        return self._version if self._version is not None else f"mem-{id(self):x}"

    def has_weights(self, etype: Any = None) -> bool:
        return self.edge_store(etype).csr.weight is not None

    def has_times(self, etype: Any = None) -> bool:
        return self.edge_store(etype).csr.time is not None

    def id_index(self, ntype: str | None = None) -> IdIndex:
        return self.node_store(ntype).ids

    def node_data_names(self, ntype: str | None = None) -> list[str]:
        return sorted(self.node_store(ntype).data)

    def node_store(self, ntype: str | None = None) -> NodeTypeData:
        return self._nodes[self.node_type(ntype)]

    def edge_store(self, etype: Any = None) -> EdgeTypeData:
        return self._edges[self.edge_type(etype)]

    # ----------------------------------------------------------------- counts
    def num_nodes(self, ntype: str | None = None) -> int:
        if ntype is None and len(self._nodes) != 1:
            return sum(n.count for n in self._nodes.values())
        return self.node_store(ntype).count

    def num_edges(self, etype: Any = None) -> int:
        """Stored (directed) edge entries; an undirected edge between two nodes counts twice."""
        if etype is None and len(self._edges) != 1:
            return sum(e.csr.nnz for e in self._edges.values())
        return self.edge_store(etype).csr.nnz

    def num_undirected_edges(self, etype: Any = None) -> int:
        """Distinct undirected edges excluding self-loops (the usual published count)."""
        e = self.edge_store(etype)
        src = np.repeat(np.arange(e.csr.n_rows), e.csr.degree())
        dst = np.asarray(e.csr.indices)
        a, b = np.minimum(src, dst), np.maximum(src, dst)
        keep = a != b
        key = a[keep].astype(np.int64) * max(e.csr.n_cols, 1) + b[keep]
        return int(np.unique(key).size)

    # ----------------------------------------------------------------- adjacency
    def adjacency(self, etype: Any = None, reverse: bool = False) -> Adjacency:
        e = self.edge_store(etype)
        if reverse and e.csc is not None:
            return e.csc
        return e.csr

    def is_undirected(self, etype: Any = None) -> bool:
        return self.edge_store(etype).undirected

    def edge_index(self, etype: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """COO ``(src, dst)`` int64 arrays in CSR order (materialises O(edges) memory)."""
        e = self.coo(etype)
        return e.src, e.dst

    def iter_edges(self, etype: Any = None, *, chunk_size: int = 1 << 22,
                   reverse: bool = False) -> Iterator[EdgeChunk]:
        """The edges of one edge type in CSR order (``reverse``: CSC order, ``src`` being the
        destination), ``chunk_size`` entries at a time; only one chunk is expanded at once."""
        from vastgraph.validation import check_int

        step = check_int("chunk_size", chunk_size, 1)
        et = self.edge_type(etype)
        adj = self.adjacency(et, reverse=reverse)
        indptr = np.asarray(adj.indptr)
        for lo in range(0, adj.nnz, step):
            hi = min(lo + step, adj.nnz)
            first = int(np.searchsorted(indptr, lo, side="right")) - 1
            last = int(np.searchsorted(indptr, hi, side="left"))
            rows = np.arange(first, max(last, first + 1), dtype=np.int64)
            counts = np.minimum(indptr[rows + 1], hi) - np.maximum(indptr[rows], lo)
            src = np.repeat(rows, np.maximum(counts, 0))
            yield EdgeChunk(et, src, np.asarray(adj.indices[lo:hi], dtype=np.int64),
                            None if adj.weight is None else np.asarray(adj.weight[lo:hi]),
                            None if adj.time is None else np.asarray(adj.time[lo:hi]), lo)

    def coo(self, etype: Any = None, *, reverse: bool = False) -> EdgeChunk:
        """All edges of one edge type as one COO chunk in CSR order (``reverse``: CSC order)."""
        et = self.edge_type(etype)
        adj = self.adjacency(et, reverse=reverse)
        src = np.repeat(np.arange(adj.n_rows, dtype=np.int64), adj.degree())
        return EdgeChunk(et, src, np.asarray(adj.indices, dtype=np.int64),
                         None if adj.weight is None else np.asarray(adj.weight),
                         None if adj.time is None else np.asarray(adj.time), 0)

    def find_edges(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray:
        """CSR position of each edge ``(src[i], dst[i])`` or -1 where absent."""
        et = self.edge_type(etype)
        s = self._check_nodes(et.src, src)
        d = self._check_nodes(et.dst, dst)
        if s.shape != d.shape:
            raise ValidationError(f"find_edges: src has {s.size} ids but dst has {d.size}")
        adj = self.adjacency(et)
        return find_edges(adj.indptr, adj.indices, s, d.astype(adj.indices.dtype))

    def has_edges(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray:
        return self.find_edges(src, dst, etype) >= 0

    def edge_weights(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray:
        """Weight of each edge (1.0 for unweighted types); raises if an edge is absent."""
        pos = self.find_edges(src, dst, etype)
        if pos.size and pos.min() < 0:
            i = int(np.argmin(pos))
            raise SchemaError(f"edge ({np.atleast_1d(src)[i]}, {np.atleast_1d(dst)[i]}) is not in "
                              f"edge type {self.edge_type(etype)}")
        w = self.adjacency(etype).weight
        return np.ones(pos.size, np.float32) if w is None else np.asarray(w)[pos]

    # ----------------------------------------------------------------- ids
    def lookup(self, ntype: str | None, ids: Any) -> np.ndarray:
        nt = self.node_type(ntype)
        return self._nodes[nt].ids.lookup(ids, ntype=nt)

    def external_ids(self, ntype: str | None = None, dense: Any = None) -> np.ndarray:
        idx = self.node_store(ntype).ids
        return idx.values() if dense is None else idx.external(dense)

    # ----------------------------------------------------------------- features
    def features(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None:
        ns = self.node_store(ntype)
        if ns.features is None or nodes is None:
            return ns.features
        return np.asarray(ns.features[self._check_nodes(ns.name, nodes)])

    def labels(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None:
        ns = self.node_store(ntype)
        if ns.labels is None or nodes is None:
            return ns.labels
        return np.asarray(ns.labels[self._check_nodes(ns.name, nodes)])

    def is_multilabel(self, ntype: str | None = None) -> bool:
        lab = self.node_store(ntype).labels
        return lab is not None and lab.ndim == 2

    def num_classes(self, ntype: str | None = None) -> int:
        lab = self.node_store(ntype).labels
        if lab is None:
            return 0
        return int(lab.shape[1]) if lab.ndim == 2 else int(np.asarray(lab).max(initial=-1) + 1)

    def node_data(self, ntype: str | None, name: str) -> np.ndarray:
        ns = self.node_store(ntype)
        if name not in ns.data:
            raise SchemaError(f"node type {ns.name!r} has no array {name!r}; it has: "
                              f"{', '.join(ns.data) or '(none)'}")
        return ns.data[name]

    # ----------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """Types, counts, degree statistics and build policies as a JSON-able dict."""
        nodes = {}
        for name, ns in self._nodes.items():
            nodes[name] = {
                "count": ns.count,
                "id_kind": ns.ids.kind,
                "features": None if ns.features is None else list(ns.features.shape[1:]),
                "labels": None if ns.labels is None else (
                    f"multi-label, {ns.labels.shape[1]} classes" if ns.labels.ndim == 2
                    else f"{self.num_classes(name)} classes"),
                "data": sorted(ns.data),
            }
        edges = {}
        for et, e in self._edges.items():
            deg = e.csr.degree()
            edges[str(et)] = {
                "entries": e.csr.nnz,
                "undirected": e.undirected,
                "weighted": e.csr.weight is not None,
                "timestamped": e.csr.time is not None,
                "degree_min": int(deg.min()) if deg.size else 0,
                "degree_mean": float(deg.mean()) if deg.size else 0.0,
                "degree_max": int(deg.max()) if deg.size else 0,
                "isolated_sources": int((deg == 0).sum()),
            }
            if e.csr.time is not None and e.csr.nnz:
                t = np.asarray(e.csr.time)
                edges[str(et)]["time_min"] = int(t.min())
                edges[str(et)]["time_max"] = int(t.max())
        return {"node_types": nodes, "edge_types": edges, "info": self.info, "path": self.path}

    # ----------------------------------------------------------------- persistence
    def save(self, path: str, *, overwrite: bool = False) -> str:
        """Write the graph to a store folder atomically (see :mod:`vastgraph.graph.storage`)."""
        from vastgraph.graph.storage import save_graph

        return save_graph(self, path, overwrite=overwrite)

    @classmethod
    def open(cls, path: str, *, verify: bool = False, mmap: bool = True) -> "HeteroGraph":
        """Open a store folder, memory-mapping its arrays (``verify=True`` checks every checksum)."""
        from vastgraph.graph.storage import open_store

        return open_store(path, verify=verify, mmap=mmap)

    def __repr__(self) -> str:
        nt = ", ".join(f"{k}={v.count}" for k, v in self._nodes.items())
        et = ", ".join(f"{k}={v.csr.nnz}" for k, v in self._edges.items())
        return f"HeteroGraph(nodes[{nt}], edges[{et}])"
