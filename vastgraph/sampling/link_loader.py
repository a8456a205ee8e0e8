"""PyG-compatible link loader: batches of labelled edges with their sampled neighbourhoods.

Like ``torch_geometric.loader.LinkNeighborLoader`` with binary negative sampling: each batch of
positive edges gets ``num_negatives`` corrupted edges per positive
(:func:`~vastgraph.sampling.negative.corrupt_edges`), the endpoints of all of them become the seeds
of a fanout sample, and ``edge_label_index`` indexes the sampled nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.sampling.fanout import FanoutPlan
from vastgraph.sampling.negative import DISTRIBUTIONS, MODES, corrupt_edges
from vastgraph.sampling.neighbor_loader import batch_seed, check_batch_size, epoch_order, to_pyg
from vastgraph.sampling.neighbors import as_node_ids
from vastgraph.seeding import derive_seed, seed_from

if TYPE_CHECKING:  # pragma: no cover
    from torch_geometric.data import Data, HeteroData


class LinkLoader:
    """Iterate over edges in mini-batches for link prediction (PyG ``LinkNeighborLoader`` format).

    Hamilton, Ying & Leskovec (GraphSAGE), NeurIPS 2017, unsupervised/link setting. For a batch of
    ``B`` positive edges ``(s_i, d_i)`` of ``etype``, ``B·q`` negatives are drawn by corrupting the
    tail (or head, or either) of each positive, never producing an existing edge when
    ``filtered``. The ``2·B·(1+q)`` endpoints, de-duplicated per node type, seed a fanout sample.

    Batch attributes, besides those of :class:`~vastgraph.sampling.neighbor_loader.NeighborLoader`
    (``x``, ``y``, ``edge_index``, ``n_id``, ``e_id``, ``num_sampled_*``):
    ``edge_label_index`` ``(2, B(1+q))`` local ids (row 0 into the source type's nodes, row 1 into
    the destination type's), ``edge_label`` float ``(B(1+q),)`` with 1 for the ``B`` positives
    (first) and 0 for the negatives, ``input_id`` ``(B,)`` positions of the positives in ``edges``.
    Heterogeneous batches carry these three on ``data[etype]``. The positive edges stay in the
    sampled message-passing graph (as in PyG); hold them out of ``graph`` to avoid leakage.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.
        edges: ``(src, dst)`` dense ids of the supervision edges; None: every edge of ``etype``.
        fanouts: neighbours per hop or ``{etype: [...]}`` (see ``sample_fanout``). Default (10, 5).
        etype: edge type of the supervision edges (None: the only one).
        sample_etype: edge type(s) sampled for message passing with a list ``fanouts`` (None: all).
        batch_size: positive edges per batch (>= 1). Default 1024.
        shuffle: new random edge order each epoch. Default False.
        drop_last: skip a last, smaller batch. Default False.
        num_negatives: negatives per positive (>= 0). Default 1.
        negative_mode: ``"tail"`` | ``"head"`` | ``"both"``. Default ``"tail"``.
        negative_distribution: ``"uniform"`` | ``"degree"`` (degree^0.75). Default ``"uniform"``.
        filtered: negatives are never true edges of ``etype``. Default True.
        replace, weighted: as in ``sample_fanout``.
        features: add ``x``. Default True.
        labels: add ``y``. Default False.
        random_state: None, an int or a ``numpy.random.Generator``.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=True, id_mode="dense")
        >>> _ = b.add_edges(np.arange(50), (np.arange(50) * 7 + 1) % 50)
        >>> loader = LinkLoader(b.build(), fanouts=[2, 2], batch_size=32, num_negatives=1, random_state=0)
        >>> batch = next(iter(loader))  # h = model(batch.x, batch.edge_index); s, d = batch.edge_label_index
        >>> tuple(batch.edge_label_index.shape), batch.edge_label.tolist()[30:34]
        ((2, 64), [1.0, 1.0, 0.0, 0.0])
    """

    def __init__(self, graph: GraphView, edges: Any = None, fanouts: Any = (10, 5), *, etype: Any = None,
                 sample_etype: Any = None, batch_size: int = 1024, shuffle: bool = False,
                 drop_last: bool = False, num_negatives: int = 1, negative_mode: str = "tail",
                 negative_distribution: str = "uniform", filtered: bool = True, replace: bool = False,
                 weighted: bool = False, features: bool = True, labels: bool = False,
                 random_state: Any = None) -> None:
        self.graph = graph
        self.etype = graph.edge_type(etype)
        self.plan = FanoutPlan(graph, fanouts, etype=sample_etype, replace=replace, weighted=weighted)
        et = self.etype
        if edges is None:
            coo = graph.coo(et)
            src, dst = coo.src, coo.dst
        else:
            if not isinstance(edges, (tuple, list)) or len(edges) != 2:
                raise ValidationError(f"edges: expected a pair (src, dst) of id arrays, got "
                                      f"{type(edges).__name__}")
            src = as_node_ids(graph, et.src, edges[0], "edges[0]")
            dst = as_node_ids(graph, et.dst, edges[1], "edges[1]")
            if src.shape != dst.shape:
                raise ValidationError(f"edges: {src.size} sources but {dst.size} destinations")
        if src.size == 0:
            from vastgraph.errors import EmptyInputError

            raise EmptyInputError(f"edges: no supervision edges of {et}; expected at least one")
        self.src, self.dst = src, dst
        if (isinstance(num_negatives, bool) or not isinstance(num_negatives, (int, np.integer))
                or num_negatives < 0):
            raise ValidationError(f"num_negatives={num_negatives!r}: expected an int >= 0")
        self.num_negatives = int(num_negatives)
        if negative_mode not in MODES:
            raise ValidationError(f"negative_mode={negative_mode!r}: expected one of {', '.join(MODES)}")
        if negative_distribution not in DISTRIBUTIONS:
            raise ValidationError(f"negative_distribution={negative_distribution!r}: expected one of "
                                  f"{', '.join(DISTRIBUTIONS)}")
        self.negative_mode = negative_mode
        self.negative_distribution = negative_distribution
        self.filtered = bool(filtered)
        self.batch_size = check_batch_size(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.features = bool(features)
        self.labels = bool(labels)
        seed_types = [et.src, et.dst]
        self.homogeneous = self.plan.node_types(seed_types) == [et.src] and len(self.plan.etypes) == 1
        self._base = seed_from(random_state)
        self._epoch = 0

    def __len__(self) -> int:
        n = self.src.size
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator["Data | HeteroData"]:
        epoch = self._epoch
        self._epoch += 1
        order = epoch_order(self._base, epoch, self.src.size, self.shuffle)
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield self.batch(idx, batch_seed(self._base, epoch, b))

    def batch(self, input_id: np.ndarray, seed: Any) -> "Data | HeteroData":
        """The batch of positive edges ``input_id`` (positions in ``edges``) with 64-bit ``seed``."""
        import torch

        et = self.etype
        s, d = self.src[input_id], self.dst[input_id]
        if self.num_negatives:
            ns, nd = corrupt_edges(self.graph, s, d, etype=et, num_negatives=self.num_negatives,
                                   mode=self.negative_mode, filtered=self.filtered,
                                   distribution=self.negative_distribution,
                                   random_state=int(derive_seed(seed, 1)))
            s, d = np.concatenate([s, ns]), np.concatenate([d, nd])
        label = np.zeros(s.size, dtype=np.float32)
        label[:input_id.size] = 1.0
        if et.src == et.dst:
            uniq, inv = np.unique(np.concatenate([s, d]), return_inverse=True)
            seeds = {et.src: uniq}
            label_index = inv.reshape(2, -1)
        else:
            us, inv_s = np.unique(s, return_inverse=True)
            ud, inv_d = np.unique(d, return_inverse=True)
            seeds = {et.src: us, et.dst: ud}
            label_index = np.stack([inv_s, inv_d])
        sub = self.plan.sample(seeds, derive_seed(seed, 2))
        data = to_pyg(self.graph, sub, homogeneous=self.homogeneous, features=self.features,
                      labels=self.labels)
        store = data if self.homogeneous else data[tuple(et)]
        store.edge_label_index = torch.from_numpy(np.ascontiguousarray(label_index, dtype=np.int64))
        store.edge_label = torch.from_numpy(label)
        store.input_id = torch.from_numpy(np.asarray(input_id, dtype=np.int64))
        return data
