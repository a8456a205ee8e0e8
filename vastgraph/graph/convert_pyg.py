"""Conversions between vastgraph graphs and PyTorch Geometric ``Data`` / ``HeteroData``.

torch and torch_geometric are imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.convert import _NodeSpec, _EdgeSpec, _assemble, _require_graph, _drop_unit_weights, _is_symmetric, _undirected_entries
from vastgraph.graph.hetero_graph import HeteroGraph
from vastgraph.graph.schema import EdgeType

# --------------------------------------------------------------------------- PyTorch Geometric
def _tensor(arr: Any) -> Any:
    import torch

    return torch.from_numpy(np.array(arr, copy=True))


def _numpy(value: Any, what: str) -> np.ndarray:
    import torch

    if isinstance(value, (torch.Tensor, np.ndarray)):
        return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
    raise ValidationError(f"from_pyg: {what} is a {type(value).__name__}; expected a tensor")


def _pyg_edges(store: Any, et: EdgeType, directed: bool | None,
               undirected_hint: bool | None, time_key: str) -> _EdgeSpec:
    ei = getattr(store, "edge_index", None)
    if ei is None:
        raise ValidationError(f"from_pyg: edge type {et} has no edge_index")
    ei = _numpy(ei, f"edge type {et} edge_index")
    if ei.ndim != 2 or ei.shape[0] != 2 or ei.dtype.kind not in "iu":
        raise ValidationError(f"from_pyg: edge type {et} edge_index has shape {ei.shape} and dtype {ei.dtype}; "
                              "expected an integer tensor of shape (2, num_edges)")
    src, dst = ei[0].astype(np.int64), ei[1].astype(np.int64)
    e = src.shape[0]
    w = None
    for key in ("edge_weight", "edge_attr"):
        val = getattr(store, key, None)
        if val is not None:
            arr = _numpy(val, f"edge type {et} {key}")
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.ndim == 1:
                if arr.shape[0] != e:
                    raise ValidationError(f"from_pyg: edge type {et} {key} has {arr.shape[0]} entries; "
                                          f"expected one per edge ({e})")
                w = _drop_unit_weights(arr)
                break
    t = getattr(store, time_key, None)
    if t is not None:
        t = _numpy(t, f"edge type {et} {time_key}")
        if t.shape != (e,):
            raise ValidationError(f"from_pyg: edge type {et} {time_key} has shape {t.shape}; expected ({e},)")
    same = et.src == et.dst
    symmetric = _is_symmetric(src, dst, w, t) if same else False
    if directed is None:
        und = undirected_hint if undirected_hint is not None else (symmetric and src.size > 0)
    else:
        und = not directed
    if und and same:
        keep = _undirected_entries(src, dst, w, t, f"from_pyg edge type {et}", symmetric)
        src, dst = src[keep], dst[keep]
        w = None if w is None else w[keep]
        t = None if t is None else t[keep]
    return _EdgeSpec(et, src, dst, w, t, not und)


def _pyg_nodes(store: Any, name: str) -> _NodeSpec:
    n = store.num_nodes
    if n is None:
        raise ValidationError(f"from_pyg: node type {name!r}: num_nodes is unknown; set num_nodes or x")
    n = int(n)
    spec = _NodeSpec(name, n)
    x = getattr(store, "x", None)
    if x is not None:
        spec.features = _numpy(x, f"node type {name!r} x")
    y = getattr(store, "y", None)
    if y is not None:
        y = _numpy(y, f"node type {name!r} y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.shape[:1] != (n,):
            raise ValidationError(f"from_pyg: node type {name!r} y has shape {tuple(y.shape)}; expected "
                                  f"node labels ({n},) or ({n}, C) (graph-level labels are not stored)")
        spec.labels = y
    return spec


def to_pyg(graph: HeteroGraph) -> Any:
    """The graph as ``torch_geometric.data.Data`` (homogeneous) or ``HeteroData``.

    ``Data``: ``edge_index`` int64 ``(2, E)`` (an undirected edge type in both directions, as PyG
    expects), ``edge_weight`` float32 ``(E,)``, ``edge_time`` int64 ``(E,)``, ``x``, ``y`` (int64, or
    float32 multi-hot) and ``num_nodes``. ``HeteroData``: per node type ``x``/``y``/``num_nodes``, per
    edge type ``edge_index``/``edge_weight``/``time``, and ``data.undirected_edge_types`` lists the
    undirected edge types (so :func:`from_pyg` restores them exactly). An undirected edge type
    between two node types is listed once (PyG's ``ToUndirected`` adds its reverse type). Arrays
    are copied.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False); _ = b.add_edges([0], [1])
        >>> to_pyg(b.build()).edge_index.tolist()
        [[0, 1], [1, 0]]
    """
    import torch
    from torch_geometric.data import Data, HeteroData

    g = _require_graph(graph, "to_pyg")

    def node_attrs(store: Any, nt: str) -> None:
        ns = g.node_store(nt)
        store.num_nodes = ns.count
        if ns.features is not None:
            store.x = _tensor(np.asarray(ns.features, dtype=np.float32))
        if ns.labels is not None:
            lab = np.asarray(ns.labels)
            store.y = _tensor(lab.astype(np.float32) if lab.ndim == 2 else lab.astype(np.int64))

    def edge_attrs(store: Any, et: EdgeType, time_key: str) -> None:
        adj = g.adjacency(et)
        src, dst = g.edge_index(et)
        store.edge_index = torch.from_numpy(np.stack([src, dst]))
        if adj.weight is not None:
            store.edge_weight = _tensor(adj.weight)
        if adj.time is not None:
            setattr(store, time_key, _tensor(adj.time))

    if g.is_homogeneous:
        data = Data()
        node_attrs(data, g.node_types[0])
        if g.edge_types:
            edge_attrs(data, g.edge_types[0], "edge_time")
        else:
            data.edge_index = torch.zeros((2, 0), dtype=torch.int64)
        return data
    data = HeteroData()
    for nt in g.node_types:
        node_attrs(data[nt], nt)
    for et in g.edge_types:
        edge_attrs(data[tuple(et)], et, "time")
    data.undirected_edge_types = [tuple(et) for et in g.edge_types if g.is_undirected(et)]
    return data


def from_pyg(data: Any, *, directed: bool | None = None) -> HeteroGraph:
    """A graph from ``torch_geometric.data.Data`` or ``HeteroData``.

    ``Data`` gives node type ``"node"`` and edge type ``("node", "edge", "node")``; ``HeteroData``
    keeps its types. Weights come from ``edge_weight``, else a 1-D (or ``(E, 1)``) ``edge_attr`` (a
    multi-column ``edge_attr`` is not stored); times from ``edge_time`` (``Data``) or ``time``
    (``HeteroData`` edge types); features from ``x``; labels from ``y`` (``(N, 1)`` is squeezed).
    Parallel edges are kept.

    Args:
        data: the PyG object.
        directed: ``None`` (default): a ``HeteroData`` holding ``undirected_edge_types`` (written
            by :func:`to_pyg`) says which edge types are undirected; otherwise an edge type over
            one node type is undirected when it is non-empty and symmetric (with weights and
            times), and one between two node types is directed. True/False force it.

    Example:
        >>> import torch
        >>> from torch_geometric.data import Data
        >>> g = from_pyg(Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2))
        >>> g.is_undirected()
        True
    """
    from torch_geometric.data import Data, HeteroData

    if isinstance(data, HeteroData):
        listed = getattr(data, "undirected_edge_types", None)
        hint = None if listed is None else {EdgeType(*et) for et in listed}
        nodes = [_pyg_nodes(data[nt], nt) for nt in data.node_types]
        counts = {n.name: n.count for n in nodes}
        edges = []
        for et_t in data.edge_types:
            et = EdgeType(*et_t)
            for t in (et.src, et.dst):
                if t not in counts:
                    raise ValidationError(f"from_pyg: edge type {et} names node type {t!r}, which has no nodes")
            edges.append(_pyg_edges(data[et_t], et, directed, None if hint is None else et in hint, "time"))
    elif isinstance(data, Data):
        nodes = [_pyg_nodes(data, "node")]
        edges = [] if getattr(data, "edge_index", None) is None else [
            _pyg_edges(data, EdgeType("node", "edge", "node"), directed, None, "edge_time")]
    else:
        raise ValidationError(f"from_pyg: data is a {type(data).__name__}; expected torch_geometric.data.Data "
                              "or HeteroData")
    return _assemble(nodes, edges, duplicates="keep", self_loops="keep", source="from_pyg")
