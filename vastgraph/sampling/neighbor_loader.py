"""PyG-compatible neighbour loader: mini-batches of sampled neighbourhoods as ``Data``/``HeteroData``.

Batches look exactly like those of ``torch_geometric.loader.NeighborLoader`` (local ``edge_index``
from neighbour to target, ``n_id``, ``e_id``, ``batch_size``, ``input_id``,
``num_sampled_nodes``/``num_sampled_edges``), so a PyG model trains unchanged; the sampling itself
runs in vastgraph's numba kernels (:class:`~vastgraph.sampling.fanout.FanoutPlan`).
torch and torch_geometric are imported when the first batch is built, not at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import engine_for
from vastgraph.sampling.fanout import FanoutPlan, SampledSubgraph, infer_seed_type, parse_seeds
from vastgraph.seeding import derive_seed, seed_from

if TYPE_CHECKING:  # pragma: no cover
    from torch_geometric.data import Data, HeteroData


def check_batch_size(batch_size: Any) -> int:
    """``batch_size`` as an int >= 1, or raise."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValidationError(f"batch_size={batch_size!r}: expected an int >= 1")
    return int(batch_size)


def batch_seed(base: np.uint64, epoch: int, batch: int) -> np.uint64:
    """The 64-bit seed of batch ``batch`` of epoch ``epoch``."""
    return derive_seed(derive_seed(base, epoch), batch)


def epoch_order(base: np.uint64, epoch: int, n: int, shuffle: bool) -> np.ndarray:
    """Order in which an epoch visits ``n`` items (a seeded permutation when ``shuffle``)."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([int(base), int(epoch)]).permutation(n)


def to_pyg(graph: GraphView, sub: SampledSubgraph, *, homogeneous: bool, features: bool, labels: bool) -> Any:
    """A ``Data`` (homogeneous) or ``HeteroData`` holding ``sub`` with features and labels.

    Node attributes: ``n_id`` (original dense ids), ``x`` (features, float32) and ``y`` (labels:
    int64, or float32 multi-hot) where the store has them and they are asked for,
    ``num_sampled_nodes``. Edge attributes: ``edge_index`` (local, neighbour → target), ``e_id``
    (positions in the edge type's in-edge order, as ``SampledSubgraph.edge_pos_dict``),
    ``edge_weight`` / ``edge_time`` where
    the edge type has them, ``num_sampled_edges``.
    """
    import torch
    from torch_geometric.data import Data, HeteroData

    engine = engine_for(graph)

    def node_attrs(store: Any, nt: str, n_id: np.ndarray) -> None:
        store.n_id = torch.from_numpy(n_id)
        if features:
            f = graph.features(nt)
            if f is not None:
                store.x = torch.from_numpy(np.ascontiguousarray(np.take(f, n_id, axis=0), dtype=np.float32))
        if labels:
            lab = graph.labels(nt)
            if lab is not None:
                y = np.take(lab, n_id, axis=0)
                store.y = torch.from_numpy(y.astype(np.float32) if y.ndim == 2 else y.astype(np.int64))
        store.num_sampled_nodes = list(sub.num_sampled_nodes_dict[nt])

    def edge_attrs(store: Any, et: Any) -> None:
        pos = sub.edge_pos_dict[et]
        store.edge_index = torch.from_numpy(sub.edge_index_dict[et])
        store.e_id = torch.from_numpy(pos)
        weight, time = engine.edge_attributes(et, pos, reverse=True)
        if weight is not None:
            store.edge_weight = torch.from_numpy(weight)
        if time is not None:
            store.edge_time = torch.from_numpy(time)
        store.num_sampled_edges = list(sub.num_sampled_edges_dict[et])

    if homogeneous:
        data = Data()
        (nt, n_id), = sub.node_dict.items()
        (et,) = sub.edge_index_dict
        node_attrs(data, nt, n_id)
        edge_attrs(data, et)
        data.num_nodes = int(n_id.size)
        return data
    data = HeteroData()
    for nt, n_id in sub.node_dict.items():
        node_attrs(data[nt], nt, n_id)
        data[nt].num_nodes = int(n_id.size)
    for et in sub.edge_index_dict:
        edge_attrs(data[tuple(et)], et)
    return data


class NeighborLoader:
    """Iterate over seed nodes in mini-batches of sampled multi-hop neighbourhoods (PyG format).

    Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017;
    output as ``torch_geometric.loader.NeighborLoader``. Each batch of ``B`` seeds is expanded by
    :func:`~vastgraph.sampling.fanout.sample_fanout` (hop ``h`` samples ``fanouts[h]`` in-neighbours
    per frontier node and edge type). The first ``batch_size`` nodes of the seed type are the seeds,
    so ``model(batch)[:batch.batch_size]`` are their outputs.

    Graphs with one node type sampled along one edge type give ``torch_geometric.data.Data``:
    ``x`` ``(N, d)``, ``y`` ``(N,)``, ``edge_index`` ``(2, E)`` (row 0 neighbour, row 1 target, local
    ids), ``n_id`` ``(N,)``, ``e_id`` ``(E,)``, ``edge_weight``/``edge_time`` where stored,
    ``batch_size``, ``input_id`` ``(B,)`` (positions in ``seeds``), ``num_sampled_nodes``
    ``[B, N_1, ...]``, ``num_sampled_edges`` ``[E_1, ...]``. Otherwise ``HeteroData`` with the same
    attributes per node and edge type (``input_id`` and ``batch_size`` on the seed type).

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView` (features and labels from it).
        seeds: dense ids or a boolean mask of the seed type, or ``(ntype, ids_or_mask)``; None: every
            node of the seed type (the only node type, or the destination type of the sampled edge
            types).
        fanouts: neighbours per hop, or ``{etype: [k_1, ...]}`` (see ``sample_fanout``). Default (15, 10).
        batch_size: seeds per batch (>= 1). Default 1024.
        shuffle: visit the seeds in a new random order each epoch. Default False.
        drop_last: skip a last, smaller batch. Default False.
        etype: edge type(s) to sample with a list ``fanouts`` (None: all).
        replace, weighted, time_window, before: as in ``sample_fanout``.
        features: add ``x``. Default True.
        labels: add ``y``. Default True.
        random_state: None, an int or a ``numpy.random.Generator``; equal seeds give equal batches.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False, id_mode="dense")
        >>> _ = b.add_edges(np.arange(99), np.arange(1, 100))
        >>> loader = NeighborLoader(b.build(), np.arange(40), [3, 2], batch_size=16, shuffle=True,
        ...                         random_state=0)
        >>> [batch.batch_size for batch in loader]  # train: model(batch.x, batch.edge_index)[:batch_size]
        [16, 16, 8]
        >>> batch = next(iter(loader))
        >>> batch.edge_index.shape[0], int(batch.n_id.shape[0]) >= 16
        (2, True)
    """

    def __init__(self, graph: GraphView, seeds: Any = None, fanouts: Any = (15, 10), *, batch_size: int = 1024,
                 shuffle: bool = False, drop_last: bool = False, etype: Any = None, replace: bool = False,
                 weighted: bool = False, time_window: tuple[int, int] | None = None,
                 before: int | None = None,
                 features: bool = True, labels: bool = True, random_state: Any = None) -> None:
        self.graph = graph
        self.plan = FanoutPlan(graph, fanouts, etype=etype, replace=replace, weighted=weighted,
                               time_window=time_window, before=before)
        self.seed_type, self.seeds = loader_seeds(graph, seeds, self.plan.etypes)
        self.batch_size = check_batch_size(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.features = bool(features)
        self.labels = bool(labels)
        self.homogeneous = (self.plan.node_types(self.seed_type) == [self.seed_type]
                            and len(self.plan.etypes) == 1)
        self._base = seed_from(random_state)
        self._epoch = 0

    def __len__(self) -> int:
        n = self.seeds.size
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator["Data | HeteroData"]:
        epoch = self._epoch
        self._epoch += 1
        order = epoch_order(self._base, epoch, self.seeds.size, self.shuffle)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield self.batch(idx, batch_seed(self._base, epoch, b))

    def batch(self, input_id: np.ndarray, seed: Any) -> "Data | HeteroData":
        """The batch of ``seeds[input_id]`` sampled with 64-bit ``seed``."""
        import torch

        sub = self.plan.sample({self.seed_type: self.seeds[input_id]}, seed)
        data = to_pyg(self.graph, sub, homogeneous=self.homogeneous, features=self.features,
                      labels=self.labels)
        store = data if self.homogeneous else data[self.seed_type]
        store.input_id = torch.from_numpy(np.asarray(input_id, dtype=np.int64))
        store.batch_size = int(input_id.size)
        return data


def loader_seeds(graph: GraphView, seeds: Any, etypes: list) -> tuple[str, np.ndarray]:
    """``(seed type, dense ids)`` from ids, a boolean mask, ``(ntype, ...)`` or None (all nodes)."""
    if isinstance(seeds, tuple) and len(seeds) == 2 and isinstance(seeds[0], str):
        ntype, ids = seeds
        if ntype not in graph.node_types:
            raise SchemaError(f"unknown node type {ntype!r}; known node types: {', '.join(graph.node_types)}")
    else:
        ids = seeds
        ntype = infer_seed_type(graph, etypes)
    n = graph.num_nodes(ntype)
    if ids is None:
        ids = np.arange(n, dtype=np.int64)
    arr = np.asarray(ids)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValidationError(f"seeds: boolean mask of shape {arr.shape}; expected ({n},) for node type "
                                  f"{ntype!r}")
        arr = np.flatnonzero(arr)
    seed_dict = parse_seeds(graph, (ntype, arr), etypes)
    return ntype, seed_dict[ntype]
