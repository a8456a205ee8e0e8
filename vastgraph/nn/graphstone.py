"""GraphSTONE: a multi-view GNN whose aggregation is guided by structural topics.

Q. Long, Y. Jin, G. Song, Y. Li, W. Lin, "Graph Structural-topic Neural Network", KDD 2020.

Structural topics. :class:`~vastgraph.sampling.structural_topics.StructuralTopicModel` gives every
node ``v`` a topic distribution ``θ_v`` (``K`` topics over anonymous-walk types, anchors + NMF); the
model takes ``θ`` as an ``(n, K)`` array (:func:`vastgraph.train.models.create_model` fits the topic
model on a graph).

Topic-guided aggregation. Over the sampled neighbours ``N(v)`` a message from ``u`` is weighted by
the topic similarity of the two nodes,

    α_vu = (θ_v · θ_u + ε) / Σ_{u' ∈ N(v)} (θ_v · θ_{u'} + ε),        ε = 1e-3,
    h_v^{(l+1)} = act( W_self^{(l)} h_v^{(l)} + W_neigh^{(l)} Σ_{u ∈ N(v)} α_vu h_u^{(l)} ),

with ReLU between layers and none after the last (GraphSAGE-style, as GraphSTONE's aggregator).

Multi-view. Two stacks of such layers share the sampled neighbourhoods: a *feature view* over
the node features (or a learnable embedding when the graph has none) and a *structural view*
over the topic vectors ``θ``. The output is the projection of both views,

    z_v = W_o tanh([h_v^{feat} ‖ h_v^{struct}]) + b_o ∈ R^{out_dim}.

Mini-batches. The ``"neighbor-blocks"`` loader samples ``fanout[l]`` neighbours per node and hop
(uniform, without replacement, :func:`~vastgraph.sampling.neighbors.sample_neighbors`) outward from
the batch, deduplicating nodes per hop, into the blocks of a :class:`~vastgraph.nn.batch.NodeBatch`;
``forward(batch)`` computes on them. The sampling seeds come from the trainer's batch seeds.

Unsupervised loss (GraphSTONE trains with it when no labels are used): skip-gram with negative
sampling on random-walk co-occurrence, ``−log σ(z_v·z_c) − Σ_n log σ(−z_v·z_n)`` with a context
``c`` drawn from a short walk from ``v`` and negatives ∝ degree^0.75 (drawn by the loader). That
term is proximity only; with ``role_features`` (the factory passes the role features of
:func:`~vastgraph.sampling.structural_context.role_features`) the role term of GraLSP,
``role_loss_weight · mean_v ‖D z_v − s_v‖²`` (:class:`~vastgraph.nn.gralsp.RoleDecoder`), keeps the
nodes' structure in the representation. Without graph features the feature view reads those role
features too (``input_features="auto"``).

Example:
    >>> import numpy as np
    >>> theta = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.2, 0.8]])
    >>> model = GraphSTONE(num_nodes=4, theta=theta, hidden=8, out_dim=3, num_layers=1, n_topics=2,
    ...                    random_state=0)
    >>> blk = Block(n_dst=2, dst=torch.tensor([0, 0, 1]), src=torch.tensor([1, 2, 3]))
    >>> model(NodeBatch(n_id=torch.tensor([0, 2, 1, 3]), index=torch.tensor([1, 0, 1]), num_targets=2,
    ...                 blocks=[blk])).shape
    torch.Size([3, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.errors import ValidationError
from vastgraph.nn.base import NodeModel, check_features, check_num_nodes, check_widths, type_label
from vastgraph.nn.batch import Block, NodeBatch, check_batch
from vastgraph.seeding import derive_seed, seed_from
from vastgraph.nn.gralsp import RoleDecoder
from vastgraph.validation import check_float, check_int

INPUT_FEATURES = ("auto", "graph", "structural", "learned")

_EPS = 1e-3


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
        num_nodes: nodes of the model's node type (>= 1).
        theta: ``(num_nodes, K)`` node–topic matrix (rows on the simplex), e.g.
            ``StructuralTopicModel(...).fit(graph).node_topic_``.
        features: ``(num_nodes, F)`` node features or None (a learnable embedding). Default None.
        ntype, etype: node and edge type the loader samples (names, kept in the config). Default None.
        hidden: width of both views' hidden layers (>= 1). Default 64.
        out_dim: output width (>= 1). Default 64.
        num_layers: aggregation layers per view (>= 1). Default 2.
        dropout: dropout on each layer's input, in [0, 1). Default 0.
        random_state: None or an int (weights; the factory seeds the topic model from it too).
        n_topics: structural topics ``K`` (>= 1; ``theta`` has ``K`` columns). Default 5.
        walk_length: steps of the topic model's anonymous walks. Default 6.
        walks_per_node: topic model walks per node. Default 64.
        anchor_method: ``"nmf"`` or ``"greedy"`` (see StructuralTopicModel). Default ``"nmf"``.
        fanout: neighbours sampled per node and hop: an int for every hop or a list of
            ``num_layers`` ints (hop 1 first); -1 takes all neighbours. Default 10.
        window: walk steps for the unsupervised loss's contexts (>= 1). Default 5.
        negative: negatives per node in the unsupervised loss (>= 1). Default 5.
        role_features: ``(num_nodes, R)`` targets of the role term, or None (no role term). Default None.
        role_loss_weight: weight of the role term (>= 0). Default 1.
        input_features: how the factory chose ``features`` (kept in the config): ``"auto"`` (graph
            features, else role features), ``"graph"``, ``"structural"`` or ``"learned"``. Default ``"auto"``.

    Attributes:
        theta: buffer ``(n, K)`` node–topic matrix (saved in the state dict).

    Shapes:
        ``forward(NodeBatch of length B) -> (B, out_dim)`` (block layout, one block per layer).
    """

    sampler_kind = "neighbor-blocks"

    def __init__(self, *, num_nodes: int, theta: Any, features: Any = None, ntype: str | None = None,
                 etype: Any = None, hidden: int = 64, out_dim: int = 64, num_layers: int = 2, dropout: float = 0.0,
                 random_state: int | None = None, n_topics: int = 5, walk_length: int = 6, walks_per_node: int = 64,
                 anchor_method: str = "nmf", fanout: int | list[int] = 10, window: int = 5,
                 negative: int = 5, role_features: Any = None, role_loss_weight: float = 1.0,
                 input_features: str = "auto") -> None:
        super().__init__()
        hidden, out_dim, num_layers, dropout = check_widths(hidden, out_dim, num_layers, dropout)
        if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))):
            raise ValidationError(f"random_state={random_state!r}: expected None or an int (it is stored in the config)")
        fan = [fanout] * num_layers if isinstance(fanout, (int, np.integer)) and not isinstance(fanout, bool) else fanout
        if not isinstance(fan, (list, tuple)) or len(fan) != num_layers or any(
                isinstance(f, bool) or not isinstance(f, (int, np.integer)) or (f < 1 and f != -1) for f in fan):
            raise ValidationError(f"fanout={fanout!r}: expected an int >= 1 (or -1 for all) or a list of "
                                  f"{num_layers} such ints")
        check_int("n_topics", n_topics, 1)
        self.window = check_int("window", window, 1)
        self.negative = check_int("negative", negative, 1)
        self.role_loss_weight = check_float("role_loss_weight", role_loss_weight, low=0.0, low_open=False)
        if input_features not in INPUT_FEATURES:
            raise ValidationError(f"input_features={input_features!r}: expected one of {', '.join(INPUT_FEATURES)}")
        self.num_nodes = check_num_nodes(num_nodes)
        th = check_features(theta, self.num_nodes, name="theta")
        if th.shape[1] != int(n_topics):
            raise ValidationError(f"theta: {th.shape[1]} topic columns; expected n_topics={n_topics}")
        self.ntype, self.etype = type_label(ntype, "ntype"), type_label(etype, "etype")
        self.out_dim = out_dim
        self.num_layers = num_layers
        self.fanout = [int(f) for f in fan]
        self.dropout = dropout
        self._config = {"ntype": self.ntype, "etype": self.etype, "hidden": hidden, "out_dim": out_dim,
                        "num_layers": num_layers, "dropout": dropout,
                        "random_state": None if random_state is None else int(random_state),
                        "n_topics": int(n_topics), "walk_length": int(walk_length),
                        "walks_per_node": int(walks_per_node), "anchor_method": anchor_method,
                        "fanout": list(self.fanout), "window": self.window, "negative": self.negative,
                        "role_loss_weight": self.role_loss_weight, "input_features": input_features}
        base = seed_from(random_state)
        self.register_buffer("theta", torch.from_numpy(th))
        gen = torch.Generator().manual_seed(int(derive_seed(base, 2) % np.uint64(2**63)))
        if features is not None:
            feats = check_features(features, self.num_nodes)
            self.register_buffer("features", torch.from_numpy(feats), persistent=False)
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
        self.role_decoder = RoleDecoder.create(role_features, self.num_nodes, out_dim)
        for mod in self.modules():
            if isinstance(mod, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(mod.weight, generator=gen)
                if mod.bias is not None:
                    torch.nn.init.zeros_(mod.bias)

    # ------------------------------------------------------------------ model
    def _input(self, ids: torch.Tensor) -> torch.Tensor:
        return self.features[ids] if self.embedding is None else self.embedding(ids)

    def topic_weights(self, batch: NodeBatch, hop: int) -> torch.Tensor:
        """``α`` ``(P,)`` of block ``hop``'s messages: topic similarity normalised over each target's messages."""
        block = batch.blocks[hop]
        n_id = batch.n_id
        sim = (self.theta[n_id[block.dst]] * self.theta[n_id[block.src]]).sum(dim=1) + _EPS
        norm = torch.zeros(block.n_dst, dtype=sim.dtype, device=sim.device).index_add_(0, block.dst, sim)
        return sim / norm[block.dst]

    def forward(self, batch: NodeBatch) -> torch.Tensor:
        """Representations ``(len(batch), out_dim)`` of the batch nodes (block layout)."""
        batch = check_batch(batch, "GraphSTONE", num_nodes=self.num_nodes, layout="blocks",
                            num_blocks=self.num_layers).to(self.theta.device)
        if len(batch) == 0:
            return torch.zeros(0, self.out_dim, device=self.theta.device)
        h_f = self._input(batch.n_id)
        h_s = self.theta[batch.n_id]
        for i, block in enumerate(batch.blocks):
            alpha = self.topic_weights(batch, i)
            h_f = self.feature_layers[i](F.dropout(h_f, self.dropout, self.training), block.dst, block.src, alpha,
                                         block.n_dst)
            h_s = self.structure_layers[i](F.dropout(h_s, self.dropout, self.training), block.dst, block.src, alpha,
                                           block.n_dst)
        z = self.project(torch.tanh(torch.cat([h_f, h_s], dim=1)))
        return z[:batch.num_targets][batch.index]

    def unsupervised_loss(self, batch: NodeBatch) -> torch.Tensor:
        """Skip-gram loss on walk co-occurrence from ``batch.extras``: ``"sgns"`` (a NodeBatch of the
        ``b`` batch nodes, their walk contexts and ``b · negative`` negatives) and ``"ok"`` (bool ``(b,)``:
        the node has a context)."""
        ex = batch.extras
        if not {"sgns", "ok"} <= set(ex):
            raise ValidationError("GraphSTONE.unsupervised_loss: the batch carries no unsupervised draws; sample "
                                  "it with unsupervised=True")
        b = int(ex["ok"].shape[0])
        if b == 0:
            return torch.zeros((), device=self.theta.device)
        z = self(ex["sgns"])
        zc, zp, zn = z[:b], z[b:2 * b], z[2 * b:].reshape(b, self.negative, -1)
        pos_logit = (zc * zp).sum(dim=1)
        neg_logit = torch.einsum("bd,bkd->bk", zc, zn)
        okt = ex["ok"].to(z.device).to(z.dtype)
        loss = (F.softplus(-pos_logit) * okt + F.softplus(neg_logit).sum(dim=1)).mean()
        if self.role_decoder is not None and self.role_loss_weight > 0:
            sg = ex["sgns"]
            ids = sg.n_id[sg.index[:b]].to(z.device)
            loss = loss + self.role_loss_weight * self.role_decoder.loss(zc, ids)
        return loss
