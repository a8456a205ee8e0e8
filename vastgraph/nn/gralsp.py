"""GraLSP: a mini-batch GNN whose aggregation sees local structure through anonymous walks.

Paper: Y. Jin, G. Song, C. Shi, *GraLSP: Graph Neural Networks with Local Structural Patterns*,
AAAI 2020 (arXiv:1911.07675); reference code KL4805/GraLSP.

Model. A :class:`~vastgraph.nn.structural_context.StructuralContext` gives every node its
``(neighbour u, walk type w)`` pairs (``u`` within the adaptive radius ``r_w = ⌊2l/distinct⌋`` of a
walk of type ``w``). ``forward(nodes)`` samples ``num_samples`` pairs per node per layer
(GraphSAGE-style, ``num_layers`` hops, deduplicated per hop) and computes bottom-up with
:class:`~vastgraph.nn.gralsp_conv.GraLSPConv`:

    h_v^k = ReLU(W_s^k h_v^{k-1} + W_n^k mean_{(w,u)} [σ(Q^k e_w + q^k) ⊙ h_u^{k-1}])

(the last layer without ReLU, as in the reference), with walk-type embeddings ``e_w`` shared by
all layers. Inputs ``h^0``: the graph's node features, or the z-scored walk-type distributions
when it has none (``input_features``). Inputs wider than ``hidden`` first pass through a linear
map to ``hidden`` (``project_inputs``): the gate then works on ``hidden`` channels, not on e.g.
Cora's 1433, which keeps the per-pair messages small.

Losses (``unsupervised_loss``). ``L = L_node + walk_loss_weight · L_walk`` with

    L_node = −log σ(z_v·z_c) − Σ_{n=1..k} log σ(−z_v·z_n),  z = h / ‖h‖,

``c`` a node within ``window`` steps after ``v`` on one of its walks and ``k = negative`` nodes
drawn ∝ degree^0.75 (shared by the batch, as in the reference), and

    L_walk = −log σ(e_i·(e_j − e_k))

over walk types ``i, j`` counted above the node's average and ``k`` below it.

Randomness. Parameters are initialised from ``random_state``; sampling draws from a numpy
generator seeded by (``reseed`` seed, a call counter in training mode, the batch), so after
``reseed(s)`` the outputs are a function of the batches alone; in eval mode the counter is left
out and ``forward(nodes)`` is a deterministic function of the seed and ``nodes``.

Example:
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> g = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
    >>> m = GraLSP(g, hidden=16, out_dim=8, walks_per_node=8, num_samples=5, random_state=0)
    >>> tuple(m(torch.arange(4)).shape)
    (4, 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.validation import check_float, check_int
from vastgraph.errors import ValidationError
from vastgraph.graph.store import GraphStore
from vastgraph.nn.base import NodeModel
from vastgraph.nn.gralsp_conv import GraLSPConv
from vastgraph.nn.structural_context import StructuralContext
from vastgraph.seeding import seed_from
from vastgraph.sampling.walks import walk_edge_type

INPUT_FEATURES = ("auto", "graph", "structural", "learned", "graph+structural")


@dataclass
class Block:
    """One sampled hop: pairs from ``n_target`` target rows into the rows of the next node set.

    ``target``/``source`` index the targets (a prefix of the sources) and the sources; ``types``
    are walk-type ids and ``pairs`` the pairs' positions in the context arrays (all int64 ``(P,)``).
    """

    n_target: int
    target: np.ndarray
    source: np.ndarray
    types: np.ndarray
    pairs: np.ndarray


def sample_blocks(context: StructuralContext, nodes: np.ndarray, num_samples: int, num_layers: int,
                  rng: np.random.Generator) -> tuple[list[np.ndarray], list[Block]]:
    """Sample ``num_layers`` hops of ``num_samples`` pairs per node around distinct ``nodes``.

    Returns:
        ``(node_sets, blocks)``: ``node_sets[0] = nodes`` and ``node_sets[k+1]`` = ``node_sets[k]``
        followed by the new neighbours of hop ``k``; ``blocks[k]`` maps ``node_sets[k]`` (targets)
        to ``node_sets[k+1]`` (sources).
    """
    sets, blocks = [nodes], []
    cur = nodes
    for _ in range(num_layers):
        pos, nbr, typ, valid = context.sample_pairs(cur, num_samples, rng)
        keep = valid.ravel()
        tgt = np.repeat(np.arange(cur.size, dtype=np.int64), num_samples)[keep]
        nbr, typ, pos = nbr.ravel()[keep], typ.ravel()[keep], pos.ravel()[keep]
        uniq, first, inv = np.unique(np.concatenate([cur, nbr]), return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # cur (distinct) keeps rows 0..len(cur)-1
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        blocks.append(Block(cur.size, tgt, rank[inv.reshape(-1)[cur.size:]], typ, pos))
        cur = uniq[order]
        sets.append(cur)
    return sets, blocks


def check_features(x: np.ndarray, ntype: str) -> np.ndarray:
    """Node features as float32 ``(n, F)``; NaN/inf raise :class:`ValidationError`."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise ValidationError(f"features of node type {ntype!r}: shape {arr.shape}; expected (n, F)")
    bad = ~np.isfinite(arr)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise ValidationError(f"features of node type {ntype!r}: non-finite value (NaN or inf) in row {row}; "
                              "expected finite floats")
    return arr


class GraLSP(NodeModel):
    """GraLSP node model (see the module docstring).

    Args:
        graph: the graph (a :class:`~vastgraph.graph.store.GraphStore`).
        ntype: node type of the walked edge type (checked); default that edge type's.
        etype: edge type to walk and aggregate over (same node type at both ends); default the only one.
        hidden: width of the hidden layers (and of learned input embeddings). Default 64.
        out_dim: output width. Default 64.
        num_layers: GraLSP layers (hops). Default 2.
        dropout: dropout on each layer's inputs. Default 0.
        random_state: None, an int or a ``numpy.random.Generator``: walks, initial weights, sampling.
        walks_per_node, walk_length, p, q, min_count, window: structural context (see
            :meth:`StructuralContext.build`). Defaults 50, 8, 0.25, 1, 2, 4.
        num_samples: pairs sampled per node per layer. Default 20.
        type_dim: width of the walk-type embeddings. Default 32.
        attention: attention over the pairs of a node instead of the mean. Default False.
        negative: negatives per batch of the skip-gram loss. Default 8.
        walk_loss_weight: weight of the structural triplet loss. Default 0.1.
        triplets_per_node: walk-type triplets per node in the structural loss. Default 2.
        input_features: ``"auto"`` (graph features, else structural), ``"graph"``, ``"structural"``
            (z-scored walk-type distributions), ``"learned"`` (an embedding of width ``hidden``),
            ``"graph+structural"``. Default ``"auto"``.
        project_inputs: a linear map of the inputs to ``hidden`` before the first layer; None
            (default) when the input width exceeds ``hidden``.
        context_random_state: seed of the context's walks; default ``random_state``'s seed.
        context: a prebuilt :class:`StructuralContext` of this graph (skips the walks; ``config()``
            then records its build parameters and seed, so a rebuild walks the same walks).

    Shapes:
        ``forward``: long ``(B,)`` dense ids → ``(B, out_dim)``.
    """

    def __init__(self, graph: GraphStore, *, ntype: str | None = None, etype: Any = None, hidden: int = 64,
                 out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0, random_state: Any = None,
                 walks_per_node: int = 50, walk_length: int = 8, p: float = 0.25, q: float = 1.0,
                 num_samples: int = 20, type_dim: int = 32, attention: bool = False, negative: int = 8,
                 walk_loss_weight: float = 0.1, triplets_per_node: int = 2, min_count: int = 2, window: int = 4,
                 input_features: str = "auto", project_inputs: bool | None = None,
                 context_random_state: int | None = None, context: StructuralContext | None = None) -> None:
        super().__init__()
        if not isinstance(graph, GraphStore):
            raise ValidationError(f"graph={type(graph).__name__}: expected a vastgraph GraphStore")
        self.hidden = check_int("hidden", hidden, 1)
        self.out_dim = check_int("out_dim", out_dim, 1)
        self.num_layers = check_int("num_layers", num_layers, 1)
        self.dropout = check_float("dropout", dropout, low=0.0, low_open=False, high=0.99)
        self.num_samples = check_int("num_samples", num_samples, 1)
        self.type_dim = check_int("type_dim", type_dim, 1)
        self.negative = check_int("negative", negative, 1)
        self.walk_loss_weight = check_float("walk_loss_weight", walk_loss_weight, low=0.0, low_open=False)
        self.triplets_per_node = check_int("triplets_per_node", triplets_per_node, 0)
        if attention not in (True, False):
            raise ValidationError(f"attention={attention!r}: expected True or False")
        self.attention = bool(attention)
        if project_inputs not in (None, True, False):
            raise ValidationError(f"project_inputs={project_inputs!r}: expected None, True or False")
        self._project = project_inputs
        if input_features not in INPUT_FEATURES:
            raise ValidationError(f"input_features={input_features!r}: expected one of {', '.join(INPUT_FEATURES)}")
        seed = int(seed_from(random_state))
        walk = {"walks_per_node": walks_per_node, "walk_length": walk_length, "p": p, "q": q,
                "min_count": min_count, "window": window}
        walk_seed = seed if context_random_state is None else int(seed_from(context_random_state))
        self.context, self._walk_graph, self._etype = self._make_context(graph, ntype, etype, context, walk,
                                                                         walk_seed)
        self.ntype = self._etype.src
        self.num_nodes = self.context.num_nodes
        params = {k: self.context.params[k] for k in walk}
        self._config = {"ntype": ntype, "etype": ":".join(self._etype) if etype is not None else None,
                        "hidden": self.hidden, "out_dim": self.out_dim, "num_layers": self.num_layers,
                        "dropout": self.dropout, "random_state": seed, **params, "num_samples": self.num_samples,
                        "type_dim": self.type_dim, "attention": self.attention, "negative": self.negative,
                        "walk_loss_weight": self.walk_loss_weight, "triplets_per_node": self.triplets_per_node,
                        "input_features": input_features, "project_inputs": project_inputs,
                        "context_random_state": int(self.context.params["random_state"])}
        deg = self._walk_graph.out_degree(self._etype).astype(np.float64) ** 0.75
        self._neg_prob = deg / deg.sum() if deg.sum() > 0 else np.full(deg.size, 1.0 / max(deg.size, 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed % (2**63))
            in_dim = self._make_inputs(graph, input_features)
            self.type_emb = torch.nn.Embedding(self.context.n_types, self.type_dim)
            torch.nn.init.xavier_uniform_(self.type_emb.weight)
            dims = [in_dim] + [self.hidden] * (self.num_layers - 1) + [self.out_dim]
            self._make_layers(dims)
        self._seed = seed
        self._calls = 0

    # ------------------------------------------------------------------------------ building hooks
    def _make_context(self, graph: GraphStore, ntype: str | None, etype: Any, context: StructuralContext | None,
                      walk: dict[str, Any], seed: int) -> tuple[StructuralContext, GraphStore, Any]:
        et = walk_edge_type(graph, etype, "GraLSP")
        if ntype is not None and ntype != et.src:
            raise ValidationError(f"ntype={ntype!r}: edge type {str(et)!r} connects node type {et.src!r}; "
                                  "expected that node type (or None)")
        if context is None:
            context = StructuralContext.build(graph, etype=et, random_state=seed, **walk)
        elif not isinstance(context, StructuralContext):
            raise ValidationError(f"context={type(context).__name__}: expected a StructuralContext or None")
        elif context.num_nodes != graph.num_nodes(et.src):
            raise ValidationError(f"context: built for {context.num_nodes} nodes; node type {et.src!r} has "
                                  f"{graph.num_nodes(et.src)}")
        return context, graph, et

    def _make_inputs(self, graph: GraphStore, mode: str) -> int:
        feats = graph.features(self.ntype)
        if mode == "graph" and feats is None:
            raise ValidationError(f"input_features='graph': node type {self.ntype!r} has no features")
        parts = []
        if mode in ("graph", "graph+structural") or (mode == "auto" and feats is not None):
            if feats is not None:
                parts.append(check_features(feats, self.ntype))
        if mode in ("structural", "graph+structural") or (mode == "auto" and feats is None):
            parts.append(self.context.zscored())
        self.input_proj = None
        if mode == "learned":
            self.embedding = torch.nn.Embedding(self.num_nodes, self.hidden)
            self.register_buffer("features", None, persistent=False)
            return self.hidden
        self.embedding = None
        x = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        self.register_buffer("features", torch.from_numpy(np.ascontiguousarray(x)), persistent=False)
        width = int(x.shape[1])
        if self._project or (self._project is None and width > self.hidden):
            self.input_proj = torch.nn.Linear(width, self.hidden)
            return self.hidden
        return width

    def _make_layers(self, dims: list[int]) -> None:
        self.convs = torch.nn.ModuleList(
            GraLSPConv(dims[k], dims[k + 1], type_dim=self.type_dim, attention=self.attention,
                       activation=k < len(dims) - 2, dropout=self.dropout) for k in range(len(dims) - 1))

    # ------------------------------------------------------------------------------ computing
    @property
    def _device(self) -> torch.device:
        return self.type_emb.weight.device

    def _inputs(self, ids: np.ndarray) -> torch.Tensor:
        """``h^0`` rows of the nodes ``ids``."""
        idx = torch.from_numpy(ids).to(self._device)
        if self.embedding is not None:
            return self.embedding(idx)
        x = self.features[idx]
        return self.input_proj(x) if self.input_proj is not None else x

    def _layer(self, k: int, h_target: torch.Tensor, h_source: torch.Tensor, block: Block) -> torch.Tensor:
        dev = self._device
        t = lambda a: torch.from_numpy(a).to(dev)  # noqa: E731
        return self.convs[k](h_target, h_source, t(block.target), t(block.source), t(block.types),
                             self.type_emb.weight)

    def _rng(self, tag: int, nodes: np.ndarray) -> np.random.Generator:
        head = [self._seed % (2**63), tag, self._calls if self.training else 0]
        if self.training:
            self._calls += 1
        return np.random.default_rng(np.random.SeedSequence(np.concatenate([np.asarray(head, np.uint64),
                                                                            nodes.astype(np.uint64)])))

    def _embed(self, ids: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        uniq, inv = np.unique(ids, return_inverse=True)
        sets, blocks = sample_blocks(self.context, uniq, self.num_samples, self.num_layers, rng)
        h = self._inputs(sets[-1])
        for k in range(self.num_layers):
            block = blocks[self.num_layers - 1 - k]
            h = self._layer(k, h[:block.n_target], h, block)
        return h[torch.from_numpy(inv.reshape(-1)).to(self._device)]

    def _check_batch(self, nodes: Any) -> np.ndarray:
        if not torch.is_tensor(nodes) or nodes.dim() != 1 or nodes.dtype.is_floating_point or nodes.dtype == torch.bool:
            raise ValidationError(f"nodes: expected a 1-D integer tensor of dense {self.ntype} ids, got "
                                  f"{type(nodes).__name__} {tuple(getattr(nodes, 'shape', ()))}")
        v = nodes.detach().cpu().numpy().astype(np.int64)
        if v.size and (v.min() < 0 or v.max() >= self.num_nodes):
            raise ValidationError(f"nodes: ids in [{int(v.min())}, {int(v.max())}]; expected dense ids in "
                                  f"[0, {self.num_nodes})")
        return v

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        """Representations ``(len(nodes), out_dim)`` of the dense ids ``nodes``."""
        v = self._check_batch(nodes)
        if v.size == 0:
            return torch.zeros(0, self.out_dim, device=self._device)
        return self._embed(v, self._rng(0, v))

    def reseed(self, seed: int) -> None:
        """Seed the pair / context / negative sampling; resets the training call counter."""
        self._seed = int(seed_from(int(seed)))
        self._calls = 0

    # ------------------------------------------------------------------------------ losses
    def node_loss(self, nodes: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """SGNS on walk windows: ``−log σ(z_v·z_c) − Σ_n log σ(−z_v·z_n)`` averaged over ``nodes``."""
        ctx, valid = self.context.sample_contexts(nodes, 1, rng)
        keep = valid[:, 0]
        centre, ctx = nodes[keep], ctx[keep, 0]
        if centre.size == 0:
            return torch.zeros((), device=self._device)
        negs = rng.choice(self._neg_prob.size, size=self.negative, p=self._neg_prob)
        z = F.normalize(self._embed(np.concatenate([centre, ctx, negs]), rng), dim=1)
        zc, zx, zn = z[:centre.size], z[centre.size:2 * centre.size], z[2 * centre.size:]
        pos = F.logsigmoid((zc * zx).sum(dim=1))
        neg = F.logsigmoid(-(zc @ zn.T)).sum(dim=1)
        return -(pos + neg).mean()

    def walk_loss(self, nodes: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """Structural triplet loss ``−log σ(e_i·(e_j − e_k))`` over walk types at ``nodes``."""
        i, j, k = self.context.sample_triplets(nodes, self.triplets_per_node, rng)
        if i.size == 0:
            return self.type_emb.weight.sum() * 0.0
        dev = self._device
        e = self.type_emb
        ei, ej, ek = (e(torch.from_numpy(t).to(dev)) for t in (i, j, k))
        return -F.logsigmoid((ei * (ej - ek)).sum(dim=1)).mean()

    def unsupervised_loss(self, nodes: torch.Tensor) -> torch.Tensor:
        """``L_node + walk_loss_weight · L_walk`` on a batch of dense ids (a scalar tensor)."""
        v = self._check_batch(nodes)
        if v.size == 0:
            return self.type_emb.weight.sum() * 0.0
        rng = self._rng(1, v)
        return self.node_loss(v, rng) + self.walk_loss_weight * self.walk_loss(v, rng)
