"""Training loaders: iterables of sampled batches that the trainer consumes, one epoch at a time.

A loader owns the graph side of training (the items, the sampler, negative sampling) and hands out
batches of tensors, so the trainer never samples and a data-parallel run can give every worker its
own loader. The protocol is small: ``set_epoch(epoch)`` then iterate; every batch is a function of
``(random_state, epoch, batch index)``, so a run, and a run resumed from a checkpoint, is
reproducible. ``loader.sampler`` samples inputs for evaluation.

* :class:`NodeLoader` — shuffled batches of node ids (node classification): :class:`NodeTrainBatch`.
* :class:`LinkLoader` — shuffled batches of positive edges, each with ``num_negatives``
  tail-corrupted negatives (:func:`~vastgraph.sampling.negative.corrupt_edges`, never a training
  edge): :class:`PairTrainBatch`.

Example:
    >>> from vastgraph.train.samplers import IdSampler
    >>> loader = NodeLoader(IdSampler(10), np.arange(10), batch_size=4, random_state=0)
    >>> loader.set_epoch(0)
    >>> [len(b.nodes) for b in loader]
    [4, 4, 2]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from vastgraph.nn.batch import NodeBatch
from vastgraph.seeding import derive_int, seed_from
from vastgraph.validation import check_int

__all__ = ["LinkLoader", "NodeLoader", "NodeTrainBatch", "PairTrainBatch", "pair_ids"]


@dataclass
class NodeTrainBatch:
    """Training nodes ``nodes`` (int64 ``(B,)``) and the model input sampled around them."""

    input: NodeBatch
    nodes: np.ndarray
    seed: int

    def __len__(self) -> int:
        return int(self.nodes.size)


@dataclass
class PairTrainBatch:
    """Scored pairs: ``pairs`` (int64 ``(k, 2)``) are rows of the model's output on ``input``,
    ``target`` (float32 ``(k,)``) is 1 for a positive and 0 for a negative; ``n_pos`` positives."""

    input: NodeBatch
    pairs: np.ndarray
    target: np.ndarray
    n_pos: int
    seed: int

    def __len__(self) -> int:
        return int(self.n_pos)


def _perm(n: int, seed: int, epoch: int) -> np.ndarray:
    import torch

    gen = torch.Generator().manual_seed(derive_int(seed, epoch, 0))
    return torch.randperm(n, generator=gen).numpy()


class NodeLoader:
    """Shuffled batches of the node ids ``nodes`` with inputs from ``sampler``.

    Args:
        sampler: a :class:`~vastgraph.train.samplers.NodeSampler`.
        nodes: int64 ``(n,)`` training nodes (the sampler's id space).
        batch_size: nodes per batch (>= 1).
        random_state: seed of the shuffles and the sampling.
        unsupervised: also sample the draws of the model's unsupervised loss.
    """

    def __init__(self, sampler: Any, nodes: Any, *, batch_size: int, random_state: Any = None,
                 unsupervised: bool = False) -> None:
        self.sampler = sampler
        self.items = np.asarray(nodes, dtype=np.int64).reshape(-1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = int(seed_from(random_state) % np.uint64(2**63))
        self.unsupervised = bool(unsupervised)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return -(-self.items.size // self.batch_size)

    def __iter__(self) -> Iterator[NodeTrainBatch]:
        perm = _perm(self.items.size, self.seed, self.epoch)
        for b, lo in enumerate(range(0, self.items.size, self.batch_size)):
            nodes = self.items[perm[lo:lo + self.batch_size]]
            bseed = derive_int(self.seed, self.epoch, b + 1)
            yield NodeTrainBatch(self.sampler.sample(nodes, bseed, unsupervised=self.unsupervised), nodes, bseed)


def pair_ids(pairs: np.ndarray, etype: Any, ntype: str | None, offsets: dict[str, int]) -> np.ndarray:
    """Dense ``(k, 2)`` pairs of ``etype`` → model ids (dense ids of ``ntype``, or global ids)."""
    if ntype is not None and etype.src == ntype and etype.dst == ntype:
        return pairs
    return pairs + np.array([offsets[etype.src], offsets[etype.dst]], dtype=np.int64)[None, :]


class LinkLoader:
    """Shuffled batches of positive edges plus corrupted negatives, inputs from ``sampler``.

    Args:
        sampler: a :class:`~vastgraph.train.samplers.NodeSampler`.
        graph: the training graph (negatives avoid its edges).
        etype: the edge type of the positives.
        positives: int64 ``(m, 2)`` dense edges of ``etype``.
        batch_size: positives per batch (>= 1).
        num_negatives: corrupted edges per positive (>= 1).
        random_state: seed of the shuffles, negatives and sampling.
        unsupervised: also sample the draws of the model's unsupervised loss.
    """

    def __init__(self, sampler: Any, graph: Any, etype: Any, positives: Any, *, batch_size: int,
                 num_negatives: int = 1, random_state: Any = None, unsupervised: bool = False) -> None:
        self.sampler, self.graph, self.etype = sampler, graph, etype
        self.items = np.asarray(positives, dtype=np.int64).reshape(-1, 2)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.num_negatives = check_int("num_negatives", num_negatives, 1)
        self.seed = int(seed_from(random_state) % np.uint64(2**63))
        self.unsupervised = bool(unsupervised)
        self.offsets = graph.node_offsets()
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return -(-self.items.shape[0] // self.batch_size)

    def __iter__(self) -> Iterator[PairTrainBatch]:
        from vastgraph.sampling.negative import corrupt_edges

        perm = _perm(self.items.shape[0], self.seed, self.epoch)
        for b, lo in enumerate(range(0, self.items.shape[0], self.batch_size)):
            pos = self.items[perm[lo:lo + self.batch_size]]
            bseed = derive_int(self.seed, self.epoch, b + 1)
            ns, nd = corrupt_edges(self.graph, pos[:, 0], pos[:, 1], etype=self.etype,
                                   num_negatives=self.num_negatives, random_state=derive_int(bseed, 2))
            pairs = pair_ids(np.concatenate([pos, np.stack([ns, nd], axis=1)]), self.etype, self.sampler.ntype,
                             self.offsets)
            uniq, inv = np.unique(pairs.reshape(-1), return_inverse=True)
            target = np.zeros(pairs.shape[0], dtype=np.float32)
            target[:pos.shape[0]] = 1.0
            inp = self.sampler.sample(uniq, derive_int(bseed, 3), unsupervised=self.unsupervised)
            yield PairTrainBatch(inp, inv.reshape(-1, 2), target, int(pos.shape[0]), bseed)
