"""The contract every node model follows, so one trainer drives them all.

A :class:`NodeModel` is a ``torch.nn.Module`` built around a graph (it keeps whatever it needs:
features, structural context, a sampler) whose ``forward`` maps a batch of node ids to
representations. The trainer (:mod:`vastgraph.train.trainer`) adds the task head
(node classification or link prediction) and the optimiser loop; models never see labels.

* ``forward(nodes)``: ``nodes`` is a 1-D ``torch.long`` tensor of node ids (dense ids of the
  model's node type; for heterogeneous models, global ids, see
  :meth:`vastgraph.graph.store.GraphStore.node_offsets`); returns a float tensor
  ``(len(nodes), out_dim)``. Mini-batch models sample what they need around ``nodes``.
* ``out_dim``: the width of that output.
* ``unsupervised_loss(nodes)``: the model's own self-supervised objective on a batch (e.g. the
  GraLSP skip-gram + walk-type loss), or ``None`` where it has none.
* ``reseed(seed)``: makes the model's internal sampling deterministic for the next calls.
"""

from __future__ import annotations

from typing import Any

import torch


class NodeModel(torch.nn.Module):
    """Base class of node models: ``forward(nodes) -> (len(nodes), out_dim)`` representations."""

    out_dim: int

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def unsupervised_loss(self, nodes: torch.Tensor) -> torch.Tensor | None:
        """Self-supervised loss on a batch of nodes; ``None`` when the model has none."""
        return None

    def reseed(self, seed: int) -> None:
        """Seed the model's internal sampling (models without sampling ignore it)."""
        self._seed = int(seed)

    def config(self) -> dict[str, Any]:
        """Constructor arguments needed to rebuild the model for a checkpoint (JSON-able)."""
        return dict(getattr(self, "_config", {}))
