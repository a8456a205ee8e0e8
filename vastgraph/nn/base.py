"""The contract every node model follows, so one trainer drives them all.

A :class:`NodeModel` is a ``torch.nn.Module`` that computes on tensors only: it owns no graph and
samples nothing. Its constructor takes arrays (node features, structural statistics) that a
factory (:func:`vastgraph.train.models.create_model`) computes from a graph; its ``forward`` takes
a :class:`~vastgraph.nn.batch.NodeBatch` that a loader sampled around the batch nodes. The trainer
(:mod:`vastgraph.train.trainer`) adds the task head and the optimiser loop; models never see labels.

* ``forward(batch)``: returns a float tensor ``(len(batch), out_dim)``, one row per requested
  node (``batch.nodes``: dense ids of the model's node type; for heterogeneous models global ids).
* ``sampler_kind``: the name of the loader that feeds the model (``"nodes"``: the ids alone;
  ``"fanout"``: a PyG-style subgraph; ``"neighbor-blocks"``, ``"walk-pairs"``: hop blocks), which
  :func:`vastgraph.train.samplers.sampler_for` maps to a sampler, with the sampling parameters
  taken from ``config()``.
* ``out_dim``: the width of the output.
* ``unsupervised_loss(batch)``: the model's own self-supervised objective on a batch whose
  ``extras`` the loader filled (e.g. GraLSP's skip-gram + walk-type loss), or ``None``.
* ``config()``: the JSON-able constructor parameters (not the arrays): with the registry name it
  rebuilds the model from a graph.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from vastgraph.validation import check_float, check_int
from vastgraph.errors import ValidationError
from vastgraph.nn.batch import NodeBatch
from vastgraph.seeding import seed_from


def check_widths(hidden: Any, out_dim: Any, num_layers: Any, dropout: Any) -> tuple[int, int, int, float]:
    """Validate the constructor arguments every node model shares; returns them normalised."""
    hidden = check_int("hidden", hidden, 1)
    out_dim = check_int("out_dim", out_dim, 1)
    num_layers = check_int("num_layers", num_layers, 1)
    dropout = check_float("dropout", dropout, low=0.0, low_open=False, high=1.0)
    if dropout >= 1.0:
        raise ValidationError(f"dropout={dropout!r}: expected a number in [0, 1)")
    return hidden, out_dim, num_layers, dropout


def check_num_nodes(num_nodes: Any) -> int:
    """``num_nodes`` as an int >= 1."""
    return check_int("num_nodes", num_nodes, 1)


def check_features(x: Any, num_nodes: int | None = None, name: str = "features") -> np.ndarray:
    """Node features as a float32 ``(n, F)`` array (a copy); NaN/inf or a wrong row count raise
    :class:`ValidationError` naming ``name``."""
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    arr = np.array(x, dtype=np.float32, copy=True)
    if arr.ndim != 2:
        raise ValidationError(f"{name}: shape {arr.shape}; expected (num_nodes, F)")
    if num_nodes is not None and arr.shape[0] != num_nodes:
        raise ValidationError(f"{name}: {arr.shape[0]} rows; expected one per node ({num_nodes})")
    bad = ~np.isfinite(arr)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise ValidationError(f"{name}: non-finite value (NaN or inf) in row {row}; expected finite floats")
    return arr


def check_fanouts(fanouts: Any, num_layers: int) -> list[int]:
    """One fanout per layer (each >= 1 or -1 = all neighbours); ``-1`` alone means -1 for every layer."""
    if isinstance(fanouts, (int, np.integer)) and not isinstance(fanouts, bool):
        if int(fanouts) != -1:
            raise ValidationError(f"fanouts={fanouts!r}: expected -1 (full neighbourhoods) or a list of "
                                  f"{num_layers} ints")
        return [-1] * num_layers
    if isinstance(fanouts, (str, bytes)) or not isinstance(fanouts, (Sequence, np.ndarray)):
        raise ValidationError(f"fanouts={fanouts!r}: expected a list of {num_layers} ints (one per layer) or -1")
    fan = list(fanouts)
    if len(fan) != num_layers:
        raise ValidationError(f"fanouts={fan!r}: {len(fan)} entries but num_layers={num_layers}; expected "
                              "one fanout per layer")
    for i, k in enumerate(fan):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not (k == -1 or k >= 1):
            raise ValidationError(f"fanouts[{i}]={k!r}: expected an int >= 1 or -1 (all neighbours)")
    return [int(k) for k in fan]


def type_label(value: Any, name: str) -> Any:
    """A node/edge type as kept in a model's config: None, a string, or an edge type's parts joined by ``:``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return ":".join(value)
    raise ValidationError(f"{name}={value!r}: expected None or a type name")


def model_seed(random_state: Any) -> int:
    """The int seed (< 2**63) a model records in its config."""
    return int(seed_from(random_state) % np.uint64(2**63))


class NodeModel(torch.nn.Module):
    """Base class of node models: ``forward(batch) -> (len(batch), out_dim)`` representations."""

    out_dim: int
    sampler_kind: str = "nodes"

    def forward(self, batch: NodeBatch) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def unsupervised_loss(self, batch: NodeBatch) -> torch.Tensor | None:
        """Self-supervised loss on a batch (``batch.extras`` as the loader filled them); ``None`` when
        the model has none."""
        return None

    def init_inputs(self, features: Any, num_nodes: int, hidden: int) -> int:
        """Input layer: node features (an ``(n, F)`` array) as the buffer ``x`` (not saved in
        checkpoints), or a learnable ``Embedding(num_nodes, hidden)`` when None. Returns the input width."""
        if features is not None:
            arr = check_features(features, num_nodes)
            self.register_buffer("x", torch.from_numpy(arr), persistent=False)
            self.embedding = None
            return int(arr.shape[1])
        self.x = None
        self.embedding = torch.nn.Embedding(num_nodes, hidden)
        return hidden

    def config(self) -> dict[str, Any]:
        """Constructor arguments needed to rebuild the model for a checkpoint (JSON-able)."""
        return dict(getattr(self, "_config", {}))
