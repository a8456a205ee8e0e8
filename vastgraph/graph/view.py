"""The graph interface every backend implements, and the URI dispatch that picks a backend.

:class:`GraphView` is what the library above ``graph/`` may rely on: schema, counts, id lookup,
degrees, chunked edge iteration, features, labels and node validation. The local store
(:class:`~vastgraph.graph.hetero_graph.HeteroGraph`) implements it and, alone, also exposes its raw
CSR arrays (``adjacency``) to the local sampling engine; a distributed backend implements the same
protocol over shards. Nothing above ``graph/`` branches on the backend: it asks the view.

:func:`open_graph` takes a folder path (the local store) or a URI whose scheme a backend has
registered with :func:`register_backend` (``ray://ADDRESS/PATH`` once ``vastgraph.distributed`` is
imported).

Example:
    >>> from vastgraph.graph import GraphBuilder
    >>> b = GraphBuilder(directed=True)
    >>> _ = b.add_edges([0, 0, 1], [1, 2, 2], weight=[1.0, 2.0, 3.0])
    >>> g = b.build()
    >>> isinstance(g, GraphView)
    True
    >>> e = g.coo()
    >>> e.src.tolist(), e.dst.tolist(), e.weight.tolist()
    ([0, 0, 1], [1, 2, 2], [1.0, 2.0, 3.0])
    >>> [c.src.size for c in g.iter_edges(chunk_size=2)]
    [2, 1]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, runtime_checkable

import numpy as np

from vastgraph.graph.schema import EdgeType

__all__ = ["EdgeChunk", "GraphView", "open_graph", "register_backend", "registered_schemes"]


@dataclass(frozen=True)
class EdgeChunk:
    """A run of edges of one edge type in storage order (COO).

    Attributes:
        etype: the edge type.
        src: int64 dense ids of the source type (``reverse``: of the destination type).
        dst: int64 dense ids of the other end.
        weight: float32 weights, or None when the edge type has none.
        time: int64 times, or None when the edge type has none.
        start: position of the first edge of the chunk in the edge type's storage order, so edge
            ``i`` of the chunk is edge ``start + i`` (the position ``find_edges`` returns).
    """

    etype: EdgeType
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray | None
    time: np.ndarray | None
    start: int = 0

    def __len__(self) -> int:
        return int(self.src.shape[0])


@runtime_checkable
class GraphView(Protocol):
    """Read interface of a typed, weighted, timestamped graph, whatever holds it.

    ``ntype=None`` / ``etype=None`` mean "the only one" (a :class:`~vastgraph.errors.SchemaError`
    names the choices when there are several). Node ids are dense per node type; global ids (all
    types in one id space) are ``node_offsets()[ntype] + dense``.
    """

    # ------------------------------------------------------------------ schema
    @property
    def node_types(self) -> list[str]: ...

    @property
    def edge_types(self) -> list[EdgeType]: ...

    @property
    def is_homogeneous(self) -> bool: ...

    @property
    def version(self) -> str:
        """Identifies the store version this view reads (equal strings: the same graph)."""

    def node_type(self, ntype: str | None = None) -> str: ...

    def edge_type(self, etype: Any = None) -> EdgeType:
        """Resolve a user's spelling of an edge type (raises listing the known ones)."""

    def is_undirected(self, etype: Any = None) -> bool: ...

    def has_weights(self, etype: Any = None) -> bool: ...

    def has_times(self, etype: Any = None) -> bool: ...

    # ------------------------------------------------------------------ counts and ids
    def num_nodes(self, ntype: str | None = None) -> int: ...

    def num_edges(self, etype: Any = None) -> int: ...

    def num_nodes_total(self) -> int: ...

    def node_offsets(self) -> dict[str, int]: ...

    def to_global(self, ntype: str, dense: Any) -> np.ndarray: ...

    def from_global(self, gids: Any) -> tuple[np.ndarray, np.ndarray]: ...

    def lookup(self, ntype: str | None, ids: Any) -> np.ndarray:
        """Dense ids of external ids (raises :class:`~vastgraph.errors.UnknownIdError`)."""

    def external_ids(self, ntype: str | None = None, dense: Any = None) -> np.ndarray: ...

    def id_index(self, ntype: str | None = None) -> Any:
        """The :class:`~vastgraph.graph.id_index.IdIndex` of a node type (for artifacts that keep ids)."""

    def check_nodes(self, ntype: str | None, nodes: Any) -> np.ndarray:
        """``nodes`` as int64 dense ids of ``ntype``, or raise naming the bad ones."""

    # ------------------------------------------------------------------ structure
    def out_degree(self, etype: Any = None, nodes: Any = None) -> np.ndarray: ...

    def in_degree(self, etype: Any = None, nodes: Any = None) -> np.ndarray: ...

    def neighbors(self, node: int, etype: Any = None, reverse: bool = False) -> np.ndarray: ...

    def find_edges(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray:
        """Storage position of each edge ``(src[i], dst[i])``, or -1 where absent."""

    def has_edges(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray: ...

    def edge_weights(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray: ...

    def iter_edges(self, etype: Any = None, *, chunk_size: int = 1 << 22,
                   reverse: bool = False) -> Iterator[EdgeChunk]:
        """The edges of one edge type in storage order, ``chunk_size`` at a time."""

    def coo(self, etype: Any = None, *, reverse: bool = False) -> EdgeChunk:
        """All edges of one edge type as one chunk (O(edges) memory)."""

    # ------------------------------------------------------------------ attributes
    def features(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None: ...

    def labels(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None: ...

    def is_multilabel(self, ntype: str | None = None) -> bool: ...

    def num_classes(self, ntype: str | None = None) -> int: ...

    def node_data(self, ntype: str | None, name: str) -> np.ndarray: ...

    def node_data_names(self, ntype: str | None = None) -> list[str]: ...

    def summary(self) -> dict[str, Any]: ...


# ---------------------------------------------------------------------------- URI dispatch
_BACKENDS: dict[str, Callable[..., GraphView]] = {}


def register_backend(scheme: str, opener: Callable[..., GraphView]) -> None:
    """Let ``open_graph("SCHEME://...")`` call ``opener(uri, **kwargs)`` (a backend's hook)."""
    if not scheme or "://" in scheme or not scheme.replace("+", "").replace("-", "").isalnum():
        from vastgraph.errors import ValidationError
        raise ValidationError(f"scheme={scheme!r}: expected letters, digits, '+' or '-'")
    _BACKENDS[scheme.lower()] = opener


def registered_schemes() -> list[str]:
    return sorted(["file", *_BACKENDS])


def open_graph(uri: str | os.PathLike, **kwargs: Any) -> GraphView:
    """Open a graph: a store folder (or ``file://PATH``) locally, or ``SCHEME://...`` by its backend.

    Keyword arguments go to the backend (the local store takes ``verify`` and ``mmap``).
    """
    text = os.fspath(uri)
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() != "file":
        opener = _BACKENDS.get(scheme.lower())
        if opener is None:
            from vastgraph.errors import ValidationError
            raise ValidationError(f"{text}: no backend for scheme {scheme!r}; known schemes: "
                                  f"{', '.join(registered_schemes())} (a backend registers its scheme "
                                  "when its package is imported, e.g. vastgraph.distributed for ray://)")
        return opener(text, **kwargs)
    from vastgraph.graph.storage import open_store

    return open_store(rest if sep else text, **kwargs)
