"""The tensors a node model's ``forward`` takes: sampled hops (:class:`Block`) in a :class:`NodeBatch`.

Models never see a graph. A loader (:mod:`vastgraph.train.samplers`) samples around the batch nodes
and fills these containers; a model computes on them. Two layouts cover every model here:

* a *subgraph* (``edge_index``): the rows ``n_id`` and the local edges ``(2, E)`` among them
  (row 0 sources, row 1 targets), every layer running on the whole subgraph — PyG-style
  ``NeighborLoader`` batches (GCN, GraphSAGE, GAT, GIN, HGCN);
* *blocks*: one bipartite :class:`Block` per hop, outermost first. Block ``k`` sends messages from
  ``n_src`` source rows to its first ``n_dst`` rows (targets are a prefix of the sources), so the
  layers shrink the row set hop by hop until only the ``num_targets`` batch rows remain
  (GraLSP, GraphSTONE).

In both layouts the first ``num_targets`` rows of ``n_id`` are the distinct batch nodes and
``index`` gives, for every requested node in request order, its row among them: a model returns
``h[:num_targets][index]``.

Example:
    >>> import torch
    >>> blk = Block(n_dst=1, dst=torch.tensor([0, 0]), src=torch.tensor([1, 2]))
    >>> b = NodeBatch(n_id=torch.tensor([7, 3, 5]), index=torch.tensor([0, 0]), num_targets=1, blocks=[blk])
    >>> b.nodes.tolist(), len(b), b.blocks[0].num_messages
    ([7, 7], 2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from vastgraph.errors import ValidationError


def _to(value: Any, device: torch.device | str) -> Any:
    if torch.is_tensor(value):
        return value.to(device)
    if isinstance(value, (Block, NodeBatch)):
        return value.to(device)
    if isinstance(value, tuple):
        return tuple(_to(v, device) for v in value)
    if isinstance(value, list):
        return [_to(v, device) for v in value]
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value


@dataclass
class Block:
    """One sampled hop: messages from source rows to the first ``n_dst`` (target) rows.

    Attributes:
        n_dst: number of target rows (a prefix of the source rows).
        dst: long ``(P,)`` target row of each message, in ``[0, n_dst)``.
        src: long ``(P,)`` source row of each message.
        types: long ``(P,)`` walk-type id of each message (GraLSP), or None.
        rel: long ``(P,)`` relation id of each message (relational GraLSP), or None.
    """

    n_dst: int
    dst: torch.Tensor
    src: torch.Tensor
    types: torch.Tensor | None = None
    rel: torch.Tensor | None = None

    @property
    def num_messages(self) -> int:
        return int(self.dst.shape[0])

    def to(self, device: torch.device | str) -> "Block":
        return replace(self, dst=self.dst.to(device), src=self.src.to(device), types=_to(self.types, device),
                       rel=_to(self.rel, device))


@dataclass
class NodeBatch:
    """The sampled input of one forward call (see the module docstring).

    Attributes:
        n_id: long ``(N,)`` model ids of every row; the first ``num_targets`` are the distinct batch nodes.
        index: long ``(B,)`` row (in ``[0, num_targets)``) of each requested node, in request order.
        num_targets: distinct batch nodes.
        edge_index: long ``(2, E)`` local edges among the rows (subgraph layout), or None.
        blocks: hop blocks, outermost (input side) first (block layout); empty otherwise.
        seed: seed of the model's own randomness in this call (dropout), from the loader.
        extras: model-specific tensors the loader adds (e.g. the batches and draws of an
            unsupervised loss); see each model's ``unsupervised_loss``.
    """

    n_id: torch.Tensor
    index: torch.Tensor
    num_targets: int
    edge_index: torch.Tensor | None = None
    blocks: list[Block] = field(default_factory=list)
    seed: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @property
    def nodes(self) -> torch.Tensor:
        """The requested node ids, in request order (duplicates included)."""
        return self.n_id[:self.num_targets][self.index]

    @property
    def device(self) -> torch.device:
        return self.n_id.device

    def to(self, device: torch.device | str) -> "NodeBatch":
        return replace(self, n_id=self.n_id.to(device), index=self.index.to(device),
                       edge_index=_to(self.edge_index, device), blocks=[b.to(device) for b in self.blocks],
                       extras=_to(self.extras, device))


def check_batch(batch: Any, model: str, *, num_nodes: int | None = None, layout: str | None = None,
                num_blocks: int | None = None) -> NodeBatch:
    """Validate a model's input: a :class:`NodeBatch` of the layout it needs, ids in ``[0, num_nodes)``.

    Raises:
        ValidationError: anything else, naming the model and what it expected.
    """
    if not isinstance(batch, NodeBatch):
        raise ValidationError(f"{model}: forward takes a vastgraph.nn.batch.NodeBatch (sampled by a loader, e.g. "
                              f"vastgraph.train.samplers.sampler_for(model, graph).sample(nodes)), got "
                              f"{type(batch).__name__}")
    n = batch.n_id
    if n.dim() != 1 or n.dtype.is_floating_point or n.dtype == torch.bool:
        raise ValidationError(f"{model}: batch.n_id must be a 1-D integer tensor, got {n.dtype}{tuple(n.shape)}")
    if num_nodes is not None and n.numel() and (int(n.min()) < 0 or int(n.max()) >= num_nodes):
        raise ValidationError(f"{model}: batch node ids in [{int(n.min())}, {int(n.max())}]; expected ids in "
                              f"[0, {num_nodes})")
    if layout == "subgraph" and batch.edge_index is None:
        raise ValidationError(f"{model}: the batch has no edge_index; this model needs a sampled subgraph")
    if layout == "blocks" and num_blocks is not None and len(batch.blocks) != num_blocks:
        raise ValidationError(f"{model}: the batch has {len(batch.blocks)} blocks; this model has {num_blocks} "
                              "layers (one block per layer)")
    return batch
