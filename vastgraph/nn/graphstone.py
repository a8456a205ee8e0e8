"""GraphSTONE: a multi-view GNN whose aggregation is guided by structural topics.

Q. Long, Y. Jin, G. Song, Y. Li, W. Lin, "Graph Structural-topic Neural Network", KDD 2020.

Structural topics. :class:`~vastgraph.nn.structural_topics.StructuralTopicModel` gives every node
``v`` a topic distribution ``θ_v`` (``K`` topics over anonymous-walk types, anchors + NMF).

Topic-guided aggregation. Over the sampled neighbours ``N(v)`` a message from ``u`` is weighted by
the topic similarity of the two nodes,

    α_vu = (θ_v · θ_u + ε) / Σ_{u' ∈ N(v)} (θ_v · θ_{u'} + ε),        ε = 1e-3,
    h_v^{(l+1)} = act( W_self^{(l)} h_v^{(l)} + W_neigh^{(l)} Σ_{u ∈ N(v)} α_vu h_u^{(l)} ),

with ReLU between layers and none after the last (GraphSAGE-style, as GraphSTONE's aggregator).

Multi-view. Two stacks of such layers share the sampled neighbourhoods: a *feature view* over
the node features (or a learnable embedding when the graph has none) and a *structural view*
over the topic vectors ``θ``. The output is the projection of both views,

    z_v = W_o tanh([h_v^{feat} ‖ h_v^{struct}]) + b_o ∈ R^{out_dim}.

Mini-batches. ``forward(nodes)`` samples ``fanout[l]`` neighbours per node and hop (uniform,
without replacement, :func:`~vastgraph.sampling.neighbors.sample_neighbors`) outward from the
batch, deduplicating nodes per hop. Sampling seeds come from ``random_state`` / :meth:`reseed`
and a call counter, so a reseeded model gives the same outputs for the same sequence of batches.

Unsupervised loss (GraphSTONE trains with it when no labels are used): skip-gram with negative
sampling on random-walk co-occurrence, ``−log σ(z_v·z_c) − Σ_n log σ(−z_v·z_n)`` with a context
``c`` drawn from a short walk from ``v`` and negatives ∝ degree^0.75.

Example:
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
    >>> model = GraphSTONE(graph, hidden=32, out_dim=16, n_topics=4, random_state=0)
    >>> model(torch.arange(10)).shape
    torch.Size([10, 16])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.validation import check_int
from vastgraph.errors import ValidationError
from vastgraph.graph.store import GraphStore
from vastgraph.nn.base import NodeModel, check_widths
from vastgraph.nn.structural_topics import StructuralTopicModel
from vastgraph.sampling.negative import sample_negatives
from vastgraph.sampling.neighbors import sample_neighbors
from vastgraph.seeding import derive_seed, seed_from
from vastgraph.sampling.walks import random_walks, walk_edge_type

_EPS = 1e-3


def _resolve_etype(graph: GraphStore, ntype: str | None, etype: Any) -> Any:
    if etype is not None:
        return walk_edge_type(graph, tuple(etype) if isinstance(etype, list) else etype, "GraphSTONE")
    cands = [et for et in graph.edge_types if et.src == et.dst and (ntype is None or et.src == ntype)]
    if len(cands) != 1:
        raise ValidationError(f"etype=None, ntype={ntype!r}: found {len(cands)} edge types within one node "
                              "type; name etype (GraphSTONE aggregates along one edge type)")
    return cands[0]


class TopicAggregation(torch.nn.Module):
    """One topic-weighted aggregation layer ``act(W_self h_v + W_neigh Σ_u α_vu h_u)``.

    Args:
        in_dim, out_dim: input and output widths.
        activate: apply ReLU.

    Shapes:
        ``h (n_src, in_dim)``, ``rows/cols/alpha (m,)``, ``n_dst`` → ``(n_dst, out_dim)``; the first
        ``n_dst`` source rows are the destination nodes themselves.
    """

    def __init__(self, in_dim: int, out_dim: int, activate: bool) -> None:
        super().__init__()
        self.self_lin = torch.nn.Linear(in_dim, out_dim)
        self.neigh_lin = torch.nn.Linear(in_dim, out_dim, bias=False)
        self.activate = activate

    def forward(self, h: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, alpha: torch.Tensor,
                n_dst: int) -> torch.Tensor:
        agg = torch.zeros(n_dst, h.shape[1], dtype=h.dtype, device=h.device)
        agg.index_add_(0, rows, h[cols] * alpha[:, None])
        out = self.self_lin(h[:n_dst]) + self.neigh_lin(agg)
        return F.relu(out) if self.activate else out


class GraphSTONE(NodeModel):
    """Graph Structural-topic Neural Network (Long et al., KDD 2020) as a mini-batch node model.

    Args:
        graph: a :class:`~vastgraph.graph.store.GraphStore`.
        ntype: node type (default: the source type of ``etype``).
        etype: edge type to aggregate and walk along (same source and destination type); default
            the only such edge type.
        hidden: width of both views' hidden layers (>= 1). Default 64.
        out_dim: output width (>= 1). Default 64.
        num_layers: aggregation layers per view (>= 1). Default 2.
        dropout: dropout on each layer's input, in [0, 1). Default 0.
        random_state: None or an int (weights, topic model, neighbour sampling).
        n_topics: structural topics ``K`` (>= 1). Default 5.
        walk_length: steps of the topic model's anonymous walks. Default 6.
        walks_per_node: topic model walks per node. Default 64.
        anchor_method: ``"nmf"`` or ``"greedy"`` (see StructuralTopicModel). Default ``"nmf"``.
        fanout: neighbours sampled per node and hop: an int for every hop or a list of
            ``num_layers`` ints (hop 1 first); -1 takes all neighbours. Default 10.
        window: walk steps for the unsupervised loss's contexts (>= 1). Default 5.
        negative: negatives per node in the unsupervised loss (>= 1). Default 5.

    Attributes:
        topics: the fitted :class:`StructuralTopicModel`.
        theta: buffer ``(n, K)`` node–topic matrix (saved in the state dict).

    Shapes:
        ``forward(nodes (B,) long) -> (B, out_dim)``.
    """

    def __init__(self, graph: GraphStore, *, ntype: str | None = None, etype: Any = None, hidden: int = 64,
                 out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0, random_state: int | None = None,
                 n_topics: int = 5, walk_length: int = 6, walks_per_node: int = 64, anchor_method: str = "nmf",
                 fanout: int | list[int] = 10, window: int = 5, negative: int = 5) -> None:
        super().__init__()
        if not isinstance(graph, GraphStore):
            raise ValidationError(f"graph={type(graph).__name__}: expected a vastgraph GraphStore")
        et = _resolve_etype(graph, ntype, etype)
        if ntype is not None and ntype != et.src:
            raise ValidationError(f"ntype={ntype!r}: edge type {et} joins {et.src!r} nodes; expected ntype={et.src!r}")
        hidden, out_dim, num_layers, dropout = check_widths(hidden, out_dim, num_layers, dropout)
        if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))):
            raise ValidationError(f"random_state={random_state!r}: expected None or an int (it is stored in the config)")
        fan = [fanout] * num_layers if isinstance(fanout, (int, np.integer)) and not isinstance(fanout, bool) else fanout
        if not isinstance(fan, (list, tuple)) or len(fan) != num_layers or any(
                isinstance(f, bool) or not isinstance(f, (int, np.integer)) or (f < 1 and f != -1) for f in fan):
            raise ValidationError(f"fanout={fanout!r}: expected an int >= 1 (or -1 for all) or a list of "
                                  f"{num_layers} such ints")
        self.window = check_int("window", window, 1)
        self.negative = check_int("negative", negative, 1)
        self._graph = graph
        self._etype = et
        self.ntype = et.src
        self.num_nodes = graph.num_nodes(et.src)
        self.out_dim = out_dim
        self.num_layers = num_layers
        self.fanout = [int(f) for f in fan]
        self.dropout = dropout
        self._config = {"ntype": et.src, "etype": list(et), "hidden": hidden, "out_dim": out_dim,
                        "num_layers": num_layers, "dropout": dropout,
                        "random_state": None if random_state is None else int(random_state),
                        "n_topics": int(n_topics), "walk_length": int(walk_length),
                        "walks_per_node": int(walks_per_node), "anchor_method": anchor_method,
                        "fanout": list(self.fanout), "window": self.window, "negative": self.negative}
        base = seed_from(random_state)
        self.topics = StructuralTopicModel(n_topics, walk_length=walk_length, walks_per_node=walks_per_node,
                                           anchor_method=anchor_method, etype=et,
                                           random_state=int(derive_seed(base, 1) % np.uint64(2**63)))
        self.topics.fit(graph)
        self.register_buffer("theta", torch.from_numpy(self.topics.node_topic_.astype(np.float32)))
        feats = graph.features(et.src)
        gen = torch.Generator().manual_seed(int(derive_seed(base, 2) % np.uint64(2**63)))
        if feats is not None:
            self.register_buffer("features", torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32)),
                                 persistent=False)
            self.embedding = None
            f_in = int(feats.shape[1])
        else:
            self.features = None
            self.embedding = torch.nn.Embedding(self.num_nodes, hidden)
            torch.nn.init.normal_(self.embedding.weight, std=hidden ** -0.5, generator=gen)
            f_in = hidden
        k = self.theta.shape[1]
        self.feature_layers = torch.nn.ModuleList(
            TopicAggregation(f_in if i == 0 else hidden, hidden, i < num_layers - 1) for i in range(num_layers))
        self.structure_layers = torch.nn.ModuleList(
            TopicAggregation(k if i == 0 else hidden, hidden, i < num_layers - 1) for i in range(num_layers))
        self.project = torch.nn.Linear(2 * hidden, out_dim)
        for mod in self.modules():
            if isinstance(mod, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(mod.weight, generator=gen)
                if mod.bias is not None:
                    torch.nn.init.zeros_(mod.bias)
        self._base_seed = base
        self._calls = 0

    # ------------------------------------------------------------------ sampling
    def reseed(self, seed: int) -> None:
        """Make the following neighbour / walk / negative sampling a function of ``seed``."""
        super().reseed(seed)
        self._base_seed = seed_from(int(seed))
        self._calls = 0

    def _next_seed(self) -> int:
        s = derive_seed(self._base_seed, 1000 + self._calls)
        self._calls += 1
        return int(s % np.uint64(2**63))

    def _check_nodes(self, nodes: Any) -> np.ndarray:
        arr = nodes.detach().cpu().numpy() if isinstance(nodes, torch.Tensor) else np.asarray(nodes)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValidationError(f"nodes: shape {arr.shape} dtype {arr.dtype}; expected a 1-D integer tensor")
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= self.num_nodes):
            raise ValidationError(f"nodes: ids must lie in [0, {self.num_nodes}); got min {arr.min()}, max {arr.max()}")
        return arr

    def sample_blocks(self, nodes: np.ndarray, seed: int) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
        """Node sets per hop (``sets[0]`` the unique batch; each set starts with the previous one) and
        per hop the sampled edges ``(rows into sets[l], cols into sets[l+1])``."""
        frontier = np.unique(nodes)
        sets, blocks = [frontier], []
        for hop, k in enumerate(self.fanout):
            s = sample_neighbors(self._graph, frontier, k, etype=self._etype,
                                 random_state=int(derive_seed(seed, hop) % np.uint64(2**63)))
            nbr = np.asarray(s.indices, dtype=np.int64)
            rows = np.repeat(np.arange(frontier.size, dtype=np.int64), s.counts())
            new = np.setdiff1d(nbr, frontier)
            nxt = np.concatenate([frontier, new])
            order = np.argsort(nxt, kind="stable")
            cols = order[np.searchsorted(nxt[order], nbr)]
            blocks.append((rows, cols))
            sets.append(nxt)
            frontier = nxt
        return sets, blocks

    # ------------------------------------------------------------------ model
    def _input(self, ids: torch.Tensor) -> torch.Tensor:
        return self.features[ids] if self.embedding is None else self.embedding(ids)

    def _encode(self, nodes: np.ndarray) -> torch.Tensor:
        uniq, inverse = np.unique(nodes, return_inverse=True)
        sets, blocks = self.sample_blocks(uniq, self._next_seed())
        dev = self.theta.device
        t_sets = [torch.from_numpy(s).to(dev) for s in sets]
        h_f = self._input(t_sets[-1])
        h_s = self.theta[t_sets[-1]]
        for i in range(self.num_layers):
            hop = self.num_layers - 1 - i
            rows_np, cols_np = blocks[hop]
            rows, cols = torch.from_numpy(rows_np).to(dev), torch.from_numpy(cols_np).to(dev)
            dst, src = t_sets[hop], t_sets[hop + 1]
            sim = (self.theta[dst[rows]] * self.theta[src[cols]]).sum(dim=1) + _EPS
            norm = torch.zeros(dst.shape[0], dtype=sim.dtype, device=dev).index_add_(0, rows, sim)
            alpha = sim / norm[rows]
            n_dst = int(dst.shape[0])
            h_f = self.feature_layers[i](F.dropout(h_f, self.dropout, self.training), rows, cols, alpha, n_dst)
            h_s = self.structure_layers[i](F.dropout(h_s, self.dropout, self.training), rows, cols, alpha, n_dst)
        z = self.project(torch.tanh(torch.cat([h_f, h_s], dim=1)))
        return z[torch.from_numpy(inverse.reshape(-1)).to(dev)]

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        """Representations ``(len(nodes), out_dim)`` of dense node ids ``nodes``."""
        arr = self._check_nodes(nodes)
        if arr.size == 0:
            return torch.zeros(0, self.out_dim, device=self.theta.device)
        return self._encode(arr)

    def unsupervised_loss(self, nodes: torch.Tensor) -> torch.Tensor:
        """Skip-gram loss on walk co-occurrence (positives from walks, negatives ∝ degree^0.75)."""
        arr = self._check_nodes(nodes)
        if arr.size == 0:
            return torch.zeros((), device=self.theta.device)
        seed = self._next_seed()
        walks = random_walks(self._graph, start=arr, walks_per_node=1, walk_length=self.window,
                             etype=self._etype, random_state=seed)
        rng = np.random.default_rng(seed)
        pos = rng.integers(1, self.window + 1, size=arr.size)
        ctx = walks[np.arange(arr.size), pos].astype(np.int64)
        ok = ctx >= 0
        ctx = np.where(ok, ctx, arr)
        negs = sample_negatives(self._graph, arr.size * self.negative, ntype=self.ntype, etype=self._etype,
                                distribution="degree", random_state=seed + 1).astype(np.int64)
        z = self._encode(np.concatenate([arr, ctx, negs]))
        b = arr.size
        zc, zp, zn = z[:b], z[b:2 * b], z[2 * b:].reshape(b, self.negative, -1)
        pos_logit = (zc * zp).sum(dim=1)
        neg_logit = torch.einsum("bd,bkd->bk", zc, zn)
        okt = torch.from_numpy(ok).to(z.device).to(z.dtype)
        loss = F.softplus(-pos_logit) * okt + F.softplus(neg_logit).sum(dim=1)
        return loss.mean()
