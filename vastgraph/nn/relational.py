"""GraLSP on heterogeneous graphs: relation-specific aggregation weights over anonymous-walk pairs.

Papers: Y. Jin, G. Song, C. Shi, *GraLSP*, AAAI 2020 (the structural aggregation); the per-relation
weights and their normalised sum follow R-GCN (M. Schlichtkrull et al., *Modeling Relational Data
with Graph Convolutional Networks*, ESWC 2018).

Walks on a typed graph. Anonymous walks need one walkable graph, so the context is built on the
*union view* (:func:`vastgraph.sampling.structural_context.union_view`): every node of every type
under its global id, with every selected edge type in both directions. A directed edge type
``(s, rel, d)`` yields two relations, ``rel`` (s → d) and ``rev_rel`` (d → s); an undirected one
yields one. Each walk is assigned the relation of its *first step*, and so are its pairs
(:func:`~vastgraph.sampling.structural_context.walk_relations`); the ``"walk-pairs"`` loader puts
each sampled pair's relation in ``block.rel``. The model sees global ids and those tensors only;
:func:`vastgraph.train.models.create_model` (``"rgralsp"``) builds it on a graph.

Layer (:class:`RelationalGraLSPConv`). With ``P_r(v)`` the sampled pairs of ``v`` whose walk starts
along relation ``r`` and ``R_v`` the relations present among the pairs of ``v``:

    m_{v,r} = mean_{(w,u) ∈ P_r(v)} [σ(Q e_w + q) ⊙ h_u]      (or attention within P_r(v))
    h'_v    = ReLU(W_s h_v + (1/|R_v|) Σ_{r ∈ R_v} W_r m_{v,r} + b)

Inputs: each node type's features through its own linear map to ``hidden``, or a learned
embedding for types without features (``input_features="auto"``); ``"learned"`` uses embeddings
everywhere, ``"structural"`` the z-scored walk-type distributions through one linear map.

Example:
    >>> import numpy as np
    >>> m = RelationalGraLSP(node_type_sizes=[3, 2], n_types=4, num_relations=2, hidden=8, out_dim=4,
    ...                      num_layers=1, features=[np.ones((3, 5)), None], random_state=0)
    >>> blk = Block(n_dst=2, dst=torch.tensor([0, 1, 1]), src=torch.tensor([2, 3, 4]),
    ...             types=torch.tensor([0, 1, 3]), rel=torch.tensor([0, 1, 1]))
    >>> batch = NodeBatch(n_id=torch.tensor([0, 3, 1, 4, 2]), index=torch.tensor([0, 1]), num_targets=2,
    ...                   blocks=[blk])
    >>> tuple(m(batch).shape), m.num_relations
    ((2, 4), 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.errors import ValidationError
from vastgraph.nn.base import check_features, check_num_nodes
from vastgraph.nn.batch import Block, NodeBatch
from vastgraph.nn.gralsp import GraLSP
from vastgraph.nn.gralsp_conv import GraLSPConv


class RelationalGraLSPConv(GraLSPConv):
    """GraLSP layer with one neighbour weight ``W_r`` per relation (mean over the relations present).

    Args:
        in_dim, out_dim, type_dim, attention, activation, dropout: as :class:`GraLSPConv`.
        num_relations: number of relations ``R`` (>= 1).

    Shapes:
        as :class:`GraLSPConv`, plus ``pair_rel`` long ``(P,)`` in ``[0, R)``.
    """

    def __init__(self, in_dim: int, out_dim: int, *, num_relations: int, type_dim: int, attention: bool = False,
                 activation: bool = True, dropout: float = 0.0) -> None:
        super().__init__(in_dim, out_dim, type_dim=type_dim, attention=attention, activation=activation,
                         dropout=dropout)
        if isinstance(num_relations, bool) or not isinstance(num_relations, int) or num_relations < 1:
            raise ValidationError(f"num_relations={num_relations!r}: expected an integer >= 1")
        self.num_relations = num_relations
        self.lin_neigh = None
        self.rel_weight = torch.nn.Parameter(torch.empty(num_relations, in_dim, out_dim))
        bound = in_dim ** -0.5
        torch.nn.init.uniform_(self.rel_weight, -bound, bound)

    def forward(self, x_target: torch.Tensor, x_source: torch.Tensor, pair_target: torch.Tensor,  # type: ignore[override]
                pair_source: torch.Tensor, pair_type: torch.Tensor, type_table: torch.Tensor,
                pair_rel: torch.Tensor) -> torch.Tensor:
        """Aggregate per relation, transform by ``W_r`` and average over the relations present."""
        self._check(x_target, x_source, pair_target, pair_source, pair_type, type_table)
        if pair_rel.shape != pair_target.shape:
            raise ValidationError(f"pair_rel: shape {tuple(pair_rel.shape)}; expected {tuple(pair_target.shape)}")
        x_target = F.dropout(x_target, self.dropout, self.training)
        x_source = F.dropout(x_source, self.dropout, self.training)
        n_t, r = x_target.shape[0], self.num_relations
        group = pair_target * r + pair_rel
        msg = self.messages(x_target, x_source, pair_target, pair_source, pair_type, type_table, group, n_t * r)
        agg = torch.zeros(n_t * r, self.in_dim, dtype=msg.dtype, device=msg.device).index_add_(0, group, msg)
        present = torch.zeros(n_t * r, dtype=msg.dtype, device=msg.device)
        present.index_fill_(0, group, 1.0)
        n_rel = present.view(n_t, r).sum(dim=1).clamp_min(1.0)
        neigh = torch.einsum("tri,rio->to", agg.view(n_t, r, self.in_dim), self.rel_weight) / n_rel[:, None]
        out = self.lin_self(x_target) + neigh
        return F.relu(out) if self.activation else out


class RelationalGraLSP(GraLSP):
    """GraLSP over all node and edge types of a heterogeneous graph (see the module docstring).

    Args:
        node_type_sizes: nodes of each node type, in the graph's global id order (global id =
            offset of the type + dense id).
        n_types: walk-type ids of the union view's structural context.
        num_relations: relations ``R`` (``rel`` / ``rev_rel`` of each edge type).
        features: ``"auto"``: one ``(n_t, F_t)`` array or None per node type (None: a learned
            embedding for that type); ``"structural"``: the ``(N, T)`` z-scored walk-type
            distributions; ``"learned"``: None.
        relations: relation names (kept in the config). Default None.
        ntype: with a node type, the loader takes dense ids of that type; with None (default),
            global ids over all node types (kept in the config).
        etype: the edge types used (names, kept in the config); default all.
        input_features: ``"auto"``, ``"learned"`` or ``"structural"`` (see the module docstring).
        other arguments: as :class:`~vastgraph.nn.gralsp.GraLSP`.

    Attributes:
        relations: relation names; ``num_relations``.
    """

    sampler_kind = "relational-walk-pairs"

    def __init__(self, *, node_type_sizes: Any, n_types: int, num_relations: int, features: Any = None,
                 relations: list[str] | None = None, ntype: str | None = None, etype: Any = None,
                 input_features: str = "auto", **kwargs: Any) -> None:
        if input_features not in ("auto", "learned", "structural"):
            raise ValidationError(f"input_features={input_features!r}: expected 'auto', 'learned' or 'structural'")
        sizes = [check_num_nodes(int(x)) if isinstance(x, (int, np.integer)) and not isinstance(x, bool)
                 else check_num_nodes(x) for x in (node_type_sizes or [])]
        if not sizes:
            raise ValidationError("node_type_sizes: expected one node count per node type (at least one)")
        if isinstance(num_relations, bool) or not isinstance(num_relations, (int, np.integer)) or num_relations < 1:
            raise ValidationError(f"num_relations={num_relations!r}: expected an integer >= 1")
        if etype is not None and not isinstance(etype, (list, tuple)):
            etype = [etype]
        self._type_sizes = sizes
        self._type_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.num_relations = int(num_relations)
        self.relations = list(relations) if relations is not None else [f"r{i}" for i in range(num_relations)]
        if len(self.relations) != self.num_relations:
            raise ValidationError(f"relations: {len(self.relations)} names for num_relations={num_relations}")
        super().__init__(num_nodes=int(sum(sizes)), n_types=n_types, features=features,
                         input_features=input_features, **kwargs)
        self.ntype = ntype
        self._config.update({"ntype": ntype, "etype": None if etype is None else [str(e) for e in etype]})

    # ------------------------------------------------------------------------------ hooks
    def _make_inputs(self, features: Any, mode: str) -> int:
        self.embedding = None
        self.input_proj = None
        self.register_buffer("features", None, persistent=False)
        self.type_proj = torch.nn.ModuleDict()
        self.type_emb_in = torch.nn.ModuleDict()
        if mode == "structural":
            if features is None:
                raise ValidationError("input_features='structural': pass the (N, T) z-scored walk-type distributions")
            x = check_features(features, self.num_nodes)
            self.register_buffer("features", torch.from_numpy(x), persistent=False)
            self.struct_proj = torch.nn.Linear(int(x.shape[1]), self.hidden)
            return self.hidden
        self.struct_proj = None
        per_type = [None] * len(self._type_sizes) if mode == "learned" or features is None else list(features)
        if len(per_type) != len(self._type_sizes):
            raise ValidationError(f"features: {len(per_type)} entries; expected one (array or None) per node type "
                                  f"({len(self._type_sizes)})")
        for i, (n_t, feats) in enumerate(zip(self._type_sizes, per_type)):
            if feats is not None:
                x = check_features(feats, n_t, name=f"features[{i}]")
                self.register_buffer(f"feat_{i}", torch.from_numpy(x), persistent=False)
                self.type_proj[str(i)] = torch.nn.Linear(int(x.shape[1]), self.hidden)
            else:
                self.type_emb_in[str(i)] = torch.nn.Embedding(n_t, self.hidden)
        return self.hidden

    def _make_layers(self, dims: list[int]) -> None:
        self.convs = torch.nn.ModuleList(
            RelationalGraLSPConv(dims[k], dims[k + 1], num_relations=self.num_relations, type_dim=self.type_dim,
                                 attention=self.attention, activation=k < len(dims) - 2, dropout=self.dropout)
            for k in range(len(dims) - 1))

    def _inputs(self, ids: torch.Tensor) -> torch.Tensor:
        dev = self._device
        if self.struct_proj is not None:
            return self.struct_proj(self.features[ids])
        ids_np = ids.detach().cpu().numpy()
        tix = np.searchsorted(self._type_starts, ids_np, side="right") - 1
        out = torch.zeros(ids_np.size, self.hidden, device=dev)
        for i in np.unique(tix):
            rows = np.flatnonzero(tix == i)
            local = torch.from_numpy(ids_np[rows] - self._type_starts[i]).to(dev)
            key = str(int(i))
            h = (self.type_proj[key](getattr(self, f"feat_{i}")[local]) if key in self.type_proj
                 else self.type_emb_in[key](local))
            out = out.index_copy(0, torch.from_numpy(rows).to(dev), h)
        return out

    def _layer(self, k: int, h_target: torch.Tensor, h_source: torch.Tensor, block: Block) -> torch.Tensor:
        if block.rel is None:
            raise ValidationError("RelationalGraLSP: every block needs the relation of each pair (block.rel)")
        return self.convs[k](h_target, h_source, block.dst, block.src, block.types, self.type_emb.weight, block.rel)

    def forward(self, batch: NodeBatch) -> torch.Tensor:
        """Representations ``(len(batch), out_dim)`` of the batch nodes (global ids; block layout)."""
        return super().forward(batch)
