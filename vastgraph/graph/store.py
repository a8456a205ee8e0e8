"""Abstract graph and feature store interfaces.

Callers (samplers, embedders, trainers, the server) depend on these, never on the in-memory class,
so a remote shard (``vastgraph.distributed``) can implement the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from vastgraph.graph.schema import EdgeType


@dataclass(frozen=True)
class Adjacency:
    """One direction of one edge type as CSR arrays.

    Attributes:
        indptr: int64 ``(n_rows + 1,)``.
        indices: int32 (int64 when the column count exceeds int32) ``(nnz,)``; rows sorted.
        weight: optional float32 ``(nnz,)``.
        time: optional int64 ``(nnz,)`` (seconds).
        n_cols: number of nodes of the column type.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray | None
    time: np.ndarray | None
    n_cols: int

    @property
    def n_rows(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])

    def degree(self) -> np.ndarray:
        return np.diff(np.asarray(self.indptr))


class GraphStore(ABC):
    """Read interface of a typed graph: schema, counts, adjacency, edge lookups, id maps."""

    @property
    @abstractmethod
    def node_types(self) -> list[str]: ...

    @property
    @abstractmethod
    def edge_types(self) -> list[EdgeType]: ...

    @abstractmethod
    def num_nodes(self, ntype: str | None = None) -> int: ...

    @abstractmethod
    def num_edges(self, etype: Any = None) -> int: ...

    @abstractmethod
    def edge_type(self, etype: Any) -> EdgeType:
        """Resolve a user's spelling of an edge type (raises listing the known ones)."""

    @abstractmethod
    def adjacency(self, etype: Any = None, reverse: bool = False) -> Adjacency:
        """CSR of ``etype`` over its source (``reverse=True``: over its destination, i.e. the CSC)."""

    @abstractmethod
    def is_undirected(self, etype: Any = None) -> bool: ...

    @abstractmethod
    def lookup(self, ntype: str, ids: Any) -> np.ndarray:
        """Dense ids of external ids (raises :class:`UnknownIdError`)."""

    @abstractmethod
    def external_ids(self, ntype: str, dense: Any = None) -> np.ndarray: ...

    # Generic helpers built on the abstract methods ------------------------------------
    @property
    def derived(self) -> dict:
        """Per-instance cache of structures derived from the arrays (alias tables, unigram tables).

        Derived data is rebuilt, never stored: a new store version is a new instance.
        """
        cache = self.__dict__.get("_derived")
        if cache is None:
            cache = self.__dict__["_derived"] = {}
        return cache

    def node_offsets(self) -> dict[str, int]:
        """Start of each node type in the global id space (types in schema order).

        Global id = offset[ntype] + dense id. Walks over several node types, and embeddings of all
        nodes, use global ids.
        """
        out, total = {}, 0
        for nt in self.node_types:
            out[nt] = total
            total += self.num_nodes(nt)
        return out

    def to_global(self, ntype: str, dense: Any) -> np.ndarray:
        return self._check_nodes(ntype, dense) + self.node_offsets()[ntype]

    def from_global(self, gids: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(type index into node_types, dense id)`` of global ids."""
        offs = np.array(list(self.node_offsets().values()) + [self.num_nodes_total()], dtype=np.int64)
        g = np.atleast_1d(np.asarray(gids, dtype=np.int64))
        if g.size and (g.min() < 0 or g.max() >= offs[-1]):
            from vastgraph.errors import UnknownIdError
            raise UnknownIdError(f"global node id(s) out of range [0, {offs[-1]})")
        t = np.searchsorted(offs, g, side="right") - 1
        return t, g - offs[t]

    def num_nodes_total(self) -> int:
        return sum(self.num_nodes(nt) for nt in self.node_types)

    def out_degree(self, etype: Any = None, nodes: Any = None) -> np.ndarray:
        deg = self.adjacency(etype).degree()
        return deg if nodes is None else deg[self._check_nodes(self.edge_type(etype).src, nodes)]

    def in_degree(self, etype: Any = None, nodes: Any = None) -> np.ndarray:
        deg = self.adjacency(etype, reverse=True).degree()
        return deg if nodes is None else deg[self._check_nodes(self.edge_type(etype).dst, nodes)]

    def neighbors(self, node: int, etype: Any = None, reverse: bool = False) -> np.ndarray:
        """Dense neighbour ids of dense ``node`` along ``etype`` (a view, sorted)."""
        et = self.edge_type(etype)
        adj = self.adjacency(et, reverse=reverse)
        (u,) = self._check_nodes(et.dst if reverse else et.src, [node])
        return adj.indices[adj.indptr[u]:adj.indptr[u + 1]]

    def check_nodes(self, ntype: str | None, nodes: Any) -> np.ndarray:
        """``nodes`` as int64 dense ids of ``ntype``, or raise naming the bad ones."""
        return self._check_nodes(self.node_type(ntype) if hasattr(self, "node_type") else ntype, nodes)

    def _check_nodes(self, ntype: str, nodes: Any) -> np.ndarray:
        from vastgraph.errors import UnknownIdError, ValidationError

        arr = np.atleast_1d(np.asarray(nodes))
        if arr.dtype.kind not in "iu":
            raise ValidationError(f"{ntype} node ids: dtype {arr.dtype}; expected integer dense ids")
        n = self.num_nodes(ntype)
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            bad = arr[(arr < 0) | (arr >= n)][:5].tolist()
            raise UnknownIdError(f"{ntype} node id(s) {bad} out of range [0, {n})")
        return arr.astype(np.int64, copy=False)


class FeatureStore(ABC):
    """Read interface of node attributes: features, labels and named per-node arrays."""

    @abstractmethod
    def features(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None: ...

    @abstractmethod
    def labels(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None: ...

    @abstractmethod
    def node_data(self, ntype: str | None, name: str) -> np.ndarray: ...
