"""GNN baselines (GCN, GraphSAGE, GAT, GIN) built from PyTorch Geometric layers, as node models.

Each baseline is a :class:`~vastgraph.nn.base.NodeModel`, so the same trainer, loaders and splits
drive it and the structural models (GraLSP, GraphSTONE): a comparison is like for like.

Mini-batch computation (PyG ``NeighborLoader`` semantics). ``forward(nodes)`` samples a multi-hop
neighbourhood of the (unique) batch nodes with :func:`vastgraph.sampling.fanout.sample_fanout`
(``fanouts[h]`` in-neighbours per frontier node at hop ``h``; ``-1`` takes every neighbour, i.e.
full-neighbourhood computation), relabels it into a compact subgraph whose first rows are the
batch nodes, runs ``num_layers`` PyG layers on it (messages flow neighbour → target) and returns
the rows of the batch nodes. Inputs are the node features ``graph.features(ntype)`` when the graph
has them, otherwise a learnable ``Embedding(n, hidden)``.

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
``torch.Generator`` seeded by ``random_state``; sampling and dropout of the ``i``-th forward call
after ``reseed(seed)`` draw from streams derived from ``(seed, i)``, so a run is a function of the
seeds alone.

Shapes: ``forward(nodes: LongTensor (B,)) -> FloatTensor (B, out_dim)``.

Example:
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
    >>> model = GraphSAGE(graph, hidden=64, out_dim=32, fanouts=(15, 10), random_state=0)
    >>> model.reseed(1)
    >>> model(torch.arange(8)).shape
    torch.Size([8, 32])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from vastgraph.validation import check_int
from vastgraph.errors import SchemaError, ValidationError
from vastgraph.nn.base import NodeModel, check_widths
from vastgraph.sampling.fanout import sample_fanout
from vastgraph.seeding import derive_int, seed_from

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


def resolve_types(graph: Any, ntype: str | None, etype: Any) -> tuple[str, Any]:
    """``(node type, edge type)`` of a homogeneous view: an edge type from ``ntype`` to ``ntype``."""
    nt = graph.node_type(ntype) if ntype is not None or len(graph.node_types) == 1 else None
    if etype is None:
        cands = [et for et in graph.edge_types if nt is None or (et.src == nt and et.dst == nt)]
        if len(cands) != 1:
            raise SchemaError(f"etype: the graph has edge types {', '.join(map(str, graph.edge_types)) or '(none)'}"
                              f"{'' if nt is None else f' ({len(cands)} from {nt!r} to {nt!r})'}; name one "
                              "whose source and destination are the model's node type")
        et = cands[0]
    else:
        et = graph.edge_type(tuple(etype) if isinstance(etype, list) else etype)
    if nt is None:
        nt = et.dst
    if et.src != nt or et.dst != nt:
        raise ValidationError(f"etype={etype!r}: edge type {et} does not connect node type {nt!r} to itself; "
                              "the baselines run on one node type and one edge type")
    return nt, et


def bind_graph(model: torch.nn.Module, graph: Any, ntype: Any, etype: Any, fanouts: Any, num_layers: int,
               random_state: Any) -> tuple[str, Any, list[int], int]:
    """Resolve a sampled model's homogeneous view and fanouts and keep them on ``model`` (graph, ntype,
    etype, num_nodes, fanouts); returns ``(ntype, etype, fanouts, seed)``."""
    fan = SampledGNN._check_fanouts(fanouts, num_layers)
    nt, et = resolve_types(graph, ntype, etype)
    model.graph = graph
    model.ntype, model.etype = nt, et
    model.num_nodes = int(graph.num_nodes(nt))
    model.fanouts = fan
    return nt, et, fan, int(seed_from(random_state) % np.uint64(2**63))


class SampledGNN(NodeModel):
    """Shared machinery of the PyG baselines: inputs, fanout sampling, the layer stack, dropout.

    Subclasses implement :meth:`make_conv`. See the module docstring for the computation.

    Args:
        graph: a :class:`~vastgraph.graph.hetero_graph.HeteroGraph`.
        ntype: node type (None: the only one, or the edge type's). Default None.
        etype: edge type from ``ntype`` to ``ntype`` (None: the only such one). Default None.
        hidden: width of hidden layers (and of the learnable input embedding). Default 64.
        out_dim: output width. Default 64.
        num_layers: message-passing layers, >= 1. Default 2.
        dropout: dropout probability between layers, in [0, 1). Default 0.0.
        random_state: None, an int or a ``numpy.random.Generator``. Default None.
        fanouts: neighbours sampled per hop, one per layer (each >= 1 or -1 = all), or -1 for
            full neighbourhoods. Default ``(15, 10)``.
    """

    def __init__(self, graph: Any, *, ntype: str | None = None, etype: Any = None, hidden: int = 64,
                 out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0, random_state: Any = None,
                 fanouts: int | Sequence[int] = (15, 10)) -> None:
        super().__init__()
        hidden, out_dim, num_layers, dropout = check_widths(hidden, out_dim, num_layers, dropout)
        nt, et, fan, seed = bind_graph(self, graph, ntype, etype, fanouts, num_layers, random_state)
        self.dropout = dropout
        self.out_dim = out_dim
        self._config = {"ntype": nt, "etype": f"{et.src}:{et.rel}:{et.dst}", "hidden": hidden,
                        "out_dim": out_dim, "num_layers": num_layers, "dropout": dropout, "random_state": seed,
                        "fanouts": list(fan), **self.extra_config()}
        in_dim = self.init_inputs(graph.features(nt), self.num_nodes, hidden)
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.convs = torch.nn.ModuleList(self.make_conv(dims[i], dims[i + 1], i == num_layers - 1)
                                         for i in range(num_layers))
        glorot_init(self, seed)
        self._seed, self._calls = seed, 0

    # ------------------------------------------------------------------ subclass hooks
    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:  # pragma: no cover
        raise NotImplementedError

    def extra_config(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _check_fanouts(fanouts: Any, num_layers: int) -> list[int]:
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

    def reseed(self, seed: int) -> None:
        """Seed sampling and dropout of the following forward calls."""
        self._seed, self._calls = int(seed), 0

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _dropout(self, h: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not self.training or self.dropout == 0.0:
            return h
        keep = torch.rand(h.shape, generator=gen, device=h.device) >= self.dropout
        return h * keep / (1.0 - self.dropout)

    def sample(self, nodes: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``(subgraph nodes, local edge_index (2, E))`` of a fanout sample around unique ``nodes``."""
        sub = sample_fanout(self.graph, (self.ntype, nodes), self.fanouts, etype=self.etype, random_state=seed)
        return sub.node_dict[self.ntype], sub.edge_index_dict[self.etype]

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        """Representations ``(len(nodes), out_dim)`` of dense ids ``nodes`` of ``ntype``."""
        ids = np.asarray(torch.as_tensor(nodes).detach().cpu().numpy())
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise ValidationError(f"nodes: {ids.dtype}{ids.shape}; expected a 1-D integer tensor")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_nodes):
            raise ValidationError(f"nodes: ids in [{ids.min()}, {ids.max()}]; node type {self.ntype!r} has "
                                  f"{self.num_nodes} nodes")
        dev = self._device()
        if ids.size == 0:
            return torch.zeros((0, self.out_dim), device=dev)
        uniq, inv = np.unique(ids.astype(np.int64), return_inverse=True)
        call_seed = derive_int(self._seed, self._calls)
        self._calls += 1
        sub_nodes, edge_index = self.sample(uniq, call_seed)
        gen = torch.Generator(device=dev).manual_seed(derive_int(call_seed, 1))
        local = torch.from_numpy(sub_nodes).to(dev)
        h = self.x[local] if self.x is not None else self.embedding(local)
        ei = torch.from_numpy(edge_index).to(dev)
        for i, conv in enumerate(self.convs):
            h = self._dropout(h, gen) if i > 0 or self.x is not None else h
            h = conv(h, ei)
            if i < len(self.convs) - 1:
                h = torch.relu(h)
        return h[:uniq.size][torch.from_numpy(inv.reshape(-1)).to(dev)]


class GCN(SampledGNN):
    """Graph convolutional network (Kipf & Welling, ICLR 2017) on fanout-sampled subgraphs.

    ``h_v' = Σ_{u ∈ N(v) ∪ {v}} (d̂_u d̂_v)^{-1/2} W h_u`` with degrees ``d̂`` of the sampled subgraph
    plus self-loops (``torch_geometric.nn.GCNConv``). Constructor: see :class:`SampledGNN`.

    Example:
        >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
        >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
        >>> GCN(graph, hidden=16, out_dim=7, random_state=0)(torch.arange(4)).shape
        torch.Size([4, 7])
    """

    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:
        from torch_geometric.nn import GCNConv

        return GCNConv(in_dim, out_dim)


class GraphSAGE(SampledGNN):
    """GraphSAGE with the mean aggregator (Hamilton, Ying & Leskovec, NeurIPS 2017).

    ``h_v' = W_1 h_v + W_2 mean_{u ∈ N(v)} h_u`` (``torch_geometric.nn.SAGEConv``) on fanout-sampled
    subgraphs (the paper's sampling scheme). Constructor: see :class:`SampledGNN`.

    Example:
        >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
        >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
        >>> GraphSAGE(graph, fanouts=(10, 5), random_state=0)(torch.arange(4)).shape
        torch.Size([4, 64])
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
        >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
        >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
        >>> GAT(graph, hidden=32, heads=4, random_state=0)(torch.arange(4)).shape
        torch.Size([4, 64])
    """

    def __init__(self, graph: Any, *, ntype: str | None = None, etype: Any = None, hidden: int = 64,
                 out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0, random_state: Any = None,
                 fanouts: int | Sequence[int] = (15, 10), heads: int = 4) -> None:
        heads = check_int("heads", heads, 1)
        if isinstance(hidden, int) and not isinstance(hidden, bool) and hidden >= 1 and hidden % heads:
            raise ValidationError(f"heads={heads}: must divide hidden={hidden}")
        self.heads = heads
        super().__init__(graph, ntype=ntype, etype=etype, hidden=hidden, out_dim=out_dim, num_layers=num_layers,
                         dropout=dropout, random_state=random_state, fanouts=fanouts)

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
        >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
        >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
        >>> GIN(graph, hidden=16, out_dim=8, random_state=0)(torch.arange(4)).shape
        torch.Size([4, 8])
    """

    def make_conv(self, in_dim: int, out_dim: int, last: bool) -> torch.nn.Module:
        from torch_geometric.nn import GINConv

        mlp = torch.nn.Sequential(torch.nn.Linear(in_dim, out_dim), torch.nn.ReLU(),
                                  torch.nn.Linear(out_dim, out_dim))
        return GINConv(mlp, train_eps=True)
