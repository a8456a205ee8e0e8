"""GNN baselines (GCN, GraphSAGE, GAT, GIN) built from PyTorch Geometric layers, as node models.

Each baseline is a :class:`~vastgraph.nn.base.NodeModel`, so the same trainer, loaders and splits
drive it and the structural models (GraLSP, GraphSTONE): a comparison is like for like.

Mini-batch computation (PyG ``NeighborLoader`` semantics). ``forward(batch)`` takes a
:class:`~vastgraph.nn.batch.NodeBatch` in the subgraph layout: a multi-hop neighbourhood of the
(unique) batch nodes that the ``"fanout"`` loader sampled (``fanouts[h]`` in-neighbours per frontier
node at hop ``h``; ``-1`` takes every neighbour, i.e. full-neighbourhood computation), relabelled into
a compact subgraph whose first rows are the batch nodes. The model runs ``num_layers`` PyG layers
on it (messages flow neighbour → target) and returns the rows of the batch nodes. Inputs are the
node features (``features``, an ``(n, F)`` array) when given, otherwise a learnable
``Embedding(n, hidden)``. Build a model on a graph with :func:`vastgraph.train.models.create_model`
(``create_model("sage", graph, ...)``), which reads the features and resolves the types.

Layers (``h^{(0)} = x``; ReLU and dropout between layers, none after the last):

* GCN — Kipf & Welling, ICLR 2017: ``h_v' = Σ_{u ∈ N(v) ∪ {v}} (d̂_u d̂_v)^{-1/2} W h_u`` (``GCNConv``).
* GraphSAGE (mean) — Hamilton, Ying & Leskovec, NeurIPS 2017:
  ``h_v' = W_1 h_v + W_2 mean_{u ∈ N(v)} h_u`` (``SAGEConv``).
* GAT — Veličković et al., ICLR 2018: ``h_v' = ‖_k Σ_u α^k_{vu} W^k h_u`` with
  ``α^k_{vu} = softmax_u LeakyReLU(a^k·[W^k h_v ‖ W^k h_u])`` (``GATConv``; ``heads`` heads concatenated
  in hidden layers, one head in the output layer).
* GIN — Xu et al., ICLR 2019: ``h_v' = MLP((1 + ε) h_v + Σ_{u ∈ N(v)} h_u)`` with a learnable ε
  (``GINConv``, two-layer MLP).

Determinism: parameters are initialised (Glorot-uniform weights, zero biases) from a
``torch.Generator`` seeded by ``random_state``; dropout draws from a generator seeded by
``batch.seed``, and the loader derives the sampling and that seed from the trainer's batch seed, so
a run is a function of the seeds alone.

Shapes: ``forward(NodeBatch with len B) -> FloatTensor (B, out_dim)``.

Example:
    >>> import numpy as np
    >>> model = GraphSAGE(num_nodes=4, features=np.eye(4), hidden=8, out_dim=3, fanouts=(2, 2), random_state=0)
    >>> ring = torch.tensor([[1, 2, 3, 0], [0, 1, 2, 3]])  # a sampled subgraph: rows 0..3, edges u -> v
    >>> batch = NodeBatch(n_id=torch.arange(4), index=torch.tensor([0, 1]), num_targets=2, edge_index=ring)
    >>> model(batch).shape
    torch.Size([2, 3])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from vastgraph.validation import check_int
from vastgraph.errors import ValidationError
from vastgraph.nn.base import NodeModel, check_fanouts, check_num_nodes, check_widths, model_seed, type_label
from vastgraph.nn.batch import NodeBatch, check_batch

__all__ = ["GAT", "GCN", "GIN", "GraphSAGE"]



def glorot_init(module: torch.nn.Module, seed: int) -> None:
    """Re-initialise ``module``'s parameters from a seeded generator: Glorot-uniform for tensors of
    rank >= 2 (``U(±sqrt(6 / (fan_in + fan_out)))`` over the last two axes), zero biases; other
    1-D parameters (e.g. GIN's ε) keep their deterministic defaults."""
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                fan_in, fan_out = p.shape[-1], p.shape[-2]
                bound = float(np.sqrt(6.0 / (fan_in + fan_out)))
                p.copy_(torch.rand(p.shape, generator=gen) * (2 * bound) - bound)
            elif name.endswith("bias"):
                p.zero_()


class SampledGNN(NodeModel):
    """Shared machinery of the PyG baselines: inputs, fanout sampling, the layer stack, dropout.

    Subclasses implement :meth:`make_conv`. See the module docstring for the computation.

    Args:
        num_nodes: nodes of the model's node type (rows of ``features``), >= 1.
        features: ``(num_nodes, F)`` node features, or None for a learnable embedding. Default None.
        ntype: node type name the loader samples (kept in the config; the factory resolves it). Default None.
        etype: edge type (``"src:rel:dst"``) the loader samples along (kept in the config). Default None.
        hidden: width of hidden layers (and of the learnable input embedding). Default 64.
        out_dim: output width. Default 64.
        num_layers: message-passing layers, >= 1. Default 2.
        dropout: dropout probability between layers, in [0, 1). Default 0.0.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        fanouts: neighbours sampled per hop, one per layer (each >= 1 or -1 = all), or -1 for
            full neighbourhoods. Default ``(15, 10)``.
    """

    sampler_kind = "fanout"

    def __init__(self, *, num_nodes: int, features: Any = None, ntype: str | None = None, etype: Any = None,
                 hidden: int = 64, out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0,
                 random_state: Any = None, fanouts: int | Sequence[int] = (15, 10)) -> None:
        super().__init__()
        hidden, out_dim, num_layers, dropout = check_widths(hidden, out_dim, num_layers, dropout)
        self.num_nodes = check_num_nodes(num_nodes)
        self.fanouts = check_fanouts(fanouts, num_layers)
        self.ntype, self.etype = type_label(ntype, "ntype"), type_label(etype, "etype")
        seed = model_seed(random_state)
        self.dropout = dropout
        self.out_dim = out_dim
        self._config = {"ntype": self.ntype, "etype": self.etype, "hidden": hidden,
                        "out_dim": out_dim, "num_layers": num_layers, "dropout": dropout, "random_state": seed,
                        "fanouts": list(self.fanouts), **self.extra_config()}
        in_dim = self.init_inputs(features, self.num_nodes, hidden)
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.convs = torch.nn.ModuleList(self.make_conv(dims[i], dims[i + 1], i == num_layers - 1)
                                         for i in range(num_layers))
        glorot_init(self, seed)

    # ------------------------------------------------------------------ subclass hooks
    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:  # pragma: no cover
        raise NotImplementedError

    def extra_config(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ helpers
    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _dropout(self, h: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not self.training or self.dropout == 0.0:
            return h
        keep = torch.rand(h.shape, generator=gen, device=h.device) >= self.dropout
        return h * keep / (1.0 - self.dropout)

    def forward(self, batch: NodeBatch) -> torch.Tensor:
        """Representations ``(len(batch), out_dim)`` of the batch nodes (subgraph layout)."""
        check_batch(batch, type(self).__name__, num_nodes=self.num_nodes, layout="subgraph")
        dev = self._device()
        if len(batch) == 0:
            return torch.zeros((0, self.out_dim), device=dev)
        gen = torch.Generator(device=dev).manual_seed(int(batch.seed))
        local = batch.n_id.to(dev)
        h = self.x[local] if self.x is not None else self.embedding(local)
        ei = batch.edge_index.to(dev)
        for i, conv in enumerate(self.convs):
            h = self._dropout(h, gen) if i > 0 or self.x is not None else h
            h = conv(h, ei)
            if i < len(self.convs) - 1:
                h = torch.relu(h)
        return h[:batch.num_targets][batch.index.to(dev)]


class GCN(SampledGNN):
    """Graph convolutional network (Kipf & Welling, ICLR 2017) on fanout-sampled subgraphs.

    ``h_v' = Σ_{u ∈ N(v) ∪ {v}} (d̂_u d̂_v)^{-1/2} W h_u`` with degrees ``d̂`` of the sampled subgraph
    plus self-loops (``torch_geometric.nn.GCNConv``). Constructor: see :class:`SampledGNN`.

    Example:
        >>> batch = NodeBatch(n_id=torch.arange(3), index=torch.arange(3), num_targets=3,
        ...                   edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))
        >>> GCN(num_nodes=3, hidden=16, out_dim=7, random_state=0)(batch).shape
        torch.Size([3, 7])
    """

    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:
        from torch_geometric.nn import GCNConv

        return GCNConv(in_dim, out_dim)


class GraphSAGE(SampledGNN):
    """GraphSAGE with the mean aggregator (Hamilton, Ying & Leskovec, NeurIPS 2017).

    ``h_v' = W_1 h_v + W_2 mean_{u ∈ N(v)} h_u`` (``torch_geometric.nn.SAGEConv``) on fanout-sampled
    subgraphs (the paper's sampling scheme). Constructor: see :class:`SampledGNN`.

    Example:
        >>> batch = NodeBatch(n_id=torch.tensor([5, 2, 9]), index=torch.tensor([1, 0]), num_targets=2,
        ...                   edge_index=torch.tensor([[2, 2], [0, 1]]))
        >>> GraphSAGE(num_nodes=10, fanouts=(10, 5), random_state=0)(batch).shape
        torch.Size([2, 64])
    """

    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:
        from torch_geometric.nn import SAGEConv

        return SAGEConv(in_dim, out_dim, aggr="mean")


class GAT(SampledGNN):
    """Graph attention network (Veličković et al., ICLR 2018) on fanout-sampled subgraphs.

    ``h_v' = ‖_{k=1..K} Σ_{u ∈ N(v) ∪ {v}} α^k_{vu} W^k h_u``,
    ``α^k_{vu} = softmax_u(LeakyReLU_{0.2}(a^k · [W^k h_v ‖ W^k h_u]))`` (``torch_geometric.nn.GATConv``):
    hidden layers concatenate ``heads`` heads of width ``hidden / heads``; the output layer has one head.

    Args:
        heads: attention heads of the hidden layers; must divide ``hidden``. Default 4.
        (others: see :class:`SampledGNN`)

    Example:
        >>> batch = NodeBatch(n_id=torch.arange(4), index=torch.arange(4), num_targets=4,
        ...                   edge_index=torch.tensor([[1, 2, 3], [0, 0, 1]]))
        >>> GAT(num_nodes=4, hidden=32, heads=4, random_state=0)(batch).shape
        torch.Size([4, 64])
    """

    def __init__(self, *, num_nodes: int, features: Any = None, ntype: str | None = None, etype: Any = None,
                 hidden: int = 64, out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0,
                 random_state: Any = None, fanouts: int | Sequence[int] = (15, 10), heads: int = 4) -> None:
        heads = check_int("heads", heads, 1)
        if isinstance(hidden, int) and not isinstance(hidden, bool) and hidden >= 1 and hidden % heads:
            raise ValidationError(f"heads={heads}: must divide hidden={hidden}")
        self.heads = heads
        super().__init__(num_nodes=num_nodes, features=features, ntype=ntype, etype=etype, hidden=hidden,
                         out_dim=out_dim, num_layers=num_layers, dropout=dropout, random_state=random_state,
                         fanouts=fanouts)

    def extra_config(self) -> dict[str, Any]:
        return {"heads": self.heads}

    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:
        from torch_geometric.nn import GATConv

        if last:
            return GATConv(in_dim, out_dim, heads=1, concat=False)
        return GATConv(in_dim, out_dim // self.heads, heads=self.heads, concat=True)


class GIN(SampledGNN):
    """Graph isomorphism network (Xu, Hu, Leskovec & Jegelka, ICLR 2019) on fanout-sampled subgraphs.

    ``h_v' = MLP((1 + ε) h_v + Σ_{u ∈ N(v)} h_u)`` with a learnable ε (initially 0) and a two-layer MLP
    ``Linear → ReLU → Linear`` (``torch_geometric.nn.GINConv``). As powerful as the 1-WL test.
    Constructor: see :class:`SampledGNN`.

    Example:
        >>> batch = NodeBatch(n_id=torch.arange(4), index=torch.arange(4), num_targets=4,
        ...                   edge_index=torch.tensor([[1, 2, 3], [0, 0, 1]]))
        >>> GIN(num_nodes=4, hidden=16, out_dim=8, random_state=0)(batch).shape
        torch.Size([4, 8])
    """

    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:
        from torch_geometric.nn import GINConv

        mlp = torch.nn.Sequential(torch.nn.Linear(in_dim, out_dim), torch.nn.ReLU(),
                                  torch.nn.Linear(out_dim, out_dim))
        return GINConv(mlp, train_eps=True)
