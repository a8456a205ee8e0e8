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

import numpy as np
import torch

from vastgraph.validation import check_float, check_int
from vastgraph.errors import ValidationError


def check_widths(hidden: Any, out_dim: Any, num_layers: Any, dropout: Any) -> tuple[int, int, int, float]:
    """Validate the constructor arguments every node model shares; returns them normalised."""
    hidden = check_int("hidden", hidden, 1)
    out_dim = check_int("out_dim", out_dim, 1)
    num_layers = check_int("num_layers", num_layers, 1)
    dropout = check_float("dropout", dropout, low=0.0, low_open=False, high=1.0)
    if dropout >= 1.0:
        raise ValidationError(f"dropout={dropout!r}: expected a number in [0, 1)")
    return hidden, out_dim, num_layers, dropout


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

    def init_inputs(self, features: Any, num_nodes: int, hidden: int) -> int:
        """Input layer: graph features as the buffer ``x`` (not saved in checkpoints), or a learnable
        ``Embedding(num_nodes, hidden)`` when there are none. Returns the input width."""
        if features is not None:
            arr = np.array(features, dtype=np.float32, copy=True)
            self.register_buffer("x", torch.from_numpy(arr), persistent=False)
            self.embedding = None
            return int(arr.shape[1])
        self.x = None
        self.embedding = torch.nn.Embedding(num_nodes, hidden)
        return hidden

    def config(self) -> dict[str, Any]:
        """Constructor arguments needed to rebuild the model for a checkpoint (JSON-able)."""
        return dict(getattr(self, "_config", {}))
