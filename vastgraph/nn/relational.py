"""GraLSP on heterogeneous graphs: relation-specific aggregation weights over anonymous-walk pairs.

Papers: Y. Jin, G. Song, C. Shi, *GraLSP*, AAAI 2020 (the structural aggregation); the per-relation
weights and their normalised sum follow R-GCN (M. Schlichtkrull et al., *Modeling Relational Data
with Graph Convolutional Networks*, ESWC 2018).

Walks on a typed graph. Anonymous walks need one walkable graph, so the model walks the *union
view*: every node of every type under its global id (:meth:`GraphStore.node_offsets`), with every
selected edge type in both directions. A directed edge type ``(s, rel, d)`` yields two relations,
``rel`` (s → d) and ``rev_rel`` (d → s); an undirected one yields one. The walk types, radii and
``(neighbour, walk type)`` pairs come from :class:`~vastgraph.nn.structural_context.StructuralContext`
on that view; each walk is assigned the relation of its *first step* (v → walk[1]; with parallel
edges of several relations, the first relation in schema order), and so are its pairs. The view's
walks are unweighted (edge weights and times are not used).

Layer (:class:`RelationalGraLSPConv`). With ``P_r(v)`` the sampled pairs of ``v`` whose walk starts
along relation ``r`` and ``R_v`` the relations present among the pairs of ``v``:

    m_{v,r} = mean_{(w,u) ∈ P_r(v)} [σ(Q e_w + q) ⊙ h_u]      (or attention within P_r(v))
    h'_v    = ReLU(W_s h_v + (1/|R_v|) Σ_{r ∈ R_v} W_r m_{v,r} + b)

Inputs: each node type's features through its own linear map to ``hidden``, or a learned
embedding for types without features (``input_features="auto"``); ``"learned"`` uses embeddings
everywhere, ``"structural"`` the z-scored walk-type distributions through one linear map.

Example:
    >>> from vastgraph.datasets.synthetic_ads import search_ads_graph
    >>> g = search_ads_graph(n_queries=40, n_ads=20, n_advertisers=4, random_state=0).graph
    >>> m = RelationalGraLSP(g, hidden=8, out_dim=4, walks_per_node=4, num_samples=3, random_state=0)
    >>> tuple(m(torch.arange(5)).shape), m.num_relations
    ((5, 4), 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.store import GraphStore
from vastgraph.nn.gralsp import Block, GraLSP, check_features
from vastgraph.nn.gralsp_conv import GraLSPConv
from vastgraph.nn.structural_context import StructuralContext

_VIEW_ETYPE = ("node", "link", "node")


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


def union_view(graph: GraphStore, etypes: list) -> tuple[GraphStore, np.ndarray, np.ndarray, list[str]]:
    """All nodes under global ids, with the given edge types in both directions, as one edge type.

    Returns:
        ``(view, keys, rels, names)``: the view graph (node type ``"node"``, edge type
        ``node:link:node``), the sorted int64 keys ``src · N + dst`` of its entries with each entry's
        relation id (first relation wins for equal keys), and the relation names.
    """
    offsets = graph.node_offsets()
    n = int(sum(graph.num_nodes(t) for t in graph.node_types))
    srcs, dsts, rels, names = [], [], [], []
    for et in etypes:
        adj = graph.adjacency(et)
        s = np.repeat(np.arange(adj.n_rows, dtype=np.int64), adj.degree()) + offsets[et.src]
        d = np.asarray(adj.indices, dtype=np.int64) + offsets[et.dst]
        symmetric = et.src == et.dst and graph.is_undirected(et)
        srcs.append(s)
        dsts.append(d)
        rels.append(np.full(s.size, len(names), np.int64))
        names.append(et.rel)
        if not symmetric:
            srcs.append(d)
            dsts.append(s)
            rels.append(np.full(s.size, len(names), np.int64))
            names.append(f"rev_{et.rel}")
    src, dst, rel = np.concatenate(srcs), np.concatenate(dsts), np.concatenate(rels)
    if src.size == 0:
        raise EmptyInputError(f"RelationalGraLSP: edge types {', '.join(map(str, etypes))} hold no edges")
    b = GraphBuilder(directed=True, duplicates="first", id_mode="dense", node_types=["node"])
    b.add_nodes("node", count=n)
    b.add_edges(src, dst, etype=_VIEW_ETYPE)
    keys = src * n + dst
    order = np.lexsort((rel, keys))
    return b.build(), keys[order], rel[order], names


class RelationalGraLSP(GraLSP):
    """GraLSP over all node and edge types of a heterogeneous graph (see the module docstring).

    Args:
        graph: a (heterogeneous) graph.
        ntype: with a node type, ``forward`` takes dense ids of that type; with None (default),
            global ids over all node types.
        etype: the edge types to use (one spelling or a list); default all.
        input_features: ``"auto"``, ``"learned"`` or ``"structural"`` (see the module docstring).
        other arguments: as :class:`~vastgraph.nn.gralsp.GraLSP`; ``context`` must be built on
            :func:`union_view` of the same edge types.

    Attributes:
        relations: relation names (``rel`` / ``rev_rel``); ``num_relations``.
    """

    def __init__(self, graph: GraphStore, *, ntype: str | None = None, etype: Any = None,
                 input_features: str = "auto", **kwargs: Any) -> None:
        if input_features not in ("auto", "learned", "structural"):
            raise ValidationError(f"input_features={input_features!r}: expected 'auto', 'learned' or 'structural'")
        if not isinstance(graph, GraphStore):
            raise ValidationError(f"graph={type(graph).__name__}: expected a vastgraph GraphStore")
        if ntype is not None and ntype not in graph.node_types:
            raise ValidationError(f"ntype={ntype!r}: expected None or one of {', '.join(graph.node_types)}")
        super().__init__(graph, ntype=None, etype=etype, input_features=input_features, **kwargs)
        self.ntype = ntype
        self._offset = 0 if ntype is None else int(graph.node_offsets()[ntype])
        self._batch_n = self.num_nodes if ntype is None else graph.num_nodes(ntype)
        self._config["ntype"] = ntype
        self._config["etype"] = None if etype is None else [":".join(et) for et in self._etypes]

    # ------------------------------------------------------------------------------ hooks
    def _make_context(self, graph: GraphStore, ntype: str | None, etype: Any, context: StructuralContext | None,
                      walk: dict[str, Any], seed: int) -> tuple[StructuralContext, GraphStore, Any]:
        if etype is None:
            etypes = list(graph.edge_types)
        elif isinstance(etype, list):
            etypes = [graph.edge_type(e) for e in etype]
        else:
            etypes = [graph.edge_type(etype)]
        if not etypes:
            raise EmptyInputError("RelationalGraLSP: the graph has no edge types")
        self._etypes = etypes
        self._graph_ntypes = list(graph.node_types)
        view, keys, rels, self.relations = union_view(graph, etypes)
        self.num_relations = len(self.relations)
        vet = view.edge_type(_VIEW_ETYPE)
        if context is None:
            context = StructuralContext.build(view, etype=vet, random_state=seed, **walk)
        elif not isinstance(context, StructuralContext):
            raise ValidationError(f"context={type(context).__name__}: expected a StructuralContext or None")
        elif context.num_nodes != view.num_nodes():
            raise ValidationError(f"context: built for {context.num_nodes} nodes; the union view has "
                                  f"{view.num_nodes()}")
        # relation of each walk's first step, then of each pair
        w = context.walks
        first = w[:, 1].astype(np.int64)
        q = w[:, 0].astype(np.int64) * context.num_nodes + first
        at = np.minimum(np.searchsorted(keys, q), keys.size - 1)
        walk_rel = np.where((first >= 0) & (keys[at] == q), rels[at], 0)
        self._pair_rel = np.repeat(walk_rel, np.diff(context.walk_pair_indptr))
        return context, view, vet

    def _make_inputs(self, graph: GraphStore, mode: str) -> int:
        self.embedding = None
        self.register_buffer("features", None, persistent=False)
        self.type_proj = torch.nn.ModuleDict()
        self.type_emb_in = torch.nn.ModuleDict()
        offsets = graph.node_offsets()
        self._type_starts = np.array([offsets[t] for t in self._graph_ntypes], dtype=np.int64)
        if mode == "structural":
            self.register_buffer("features", torch.from_numpy(self.context.zscored()), persistent=False)
            self.struct_proj = torch.nn.Linear(self.context.n_types, self.hidden)
            return self.hidden
        self.struct_proj = None
        for i, t in enumerate(self._graph_ntypes):
            feats = graph.features(t) if mode == "auto" else None
            if feats is not None:
                self.register_buffer(f"feat_{i}", torch.from_numpy(check_features(feats, t)), persistent=False)
                self.type_proj[str(i)] = torch.nn.Linear(int(feats.shape[1]), self.hidden)
            else:
                self.type_emb_in[str(i)] = torch.nn.Embedding(graph.num_nodes(t), self.hidden)
        return self.hidden

    def _make_layers(self, dims: list[int]) -> None:
        self.convs = torch.nn.ModuleList(
            RelationalGraLSPConv(dims[k], dims[k + 1], num_relations=self.num_relations, type_dim=self.type_dim,
                                 attention=self.attention, activation=k < len(dims) - 2, dropout=self.dropout)
            for k in range(len(dims) - 1))

    def _inputs(self, ids: np.ndarray) -> torch.Tensor:
        dev = self._device
        if self.struct_proj is not None:
            return self.struct_proj(self.features[torch.from_numpy(ids).to(dev)])
        tix = np.searchsorted(self._type_starts, ids, side="right") - 1
        out = torch.zeros(ids.size, self.hidden, device=dev)
        for i in np.unique(tix):
            rows = np.flatnonzero(tix == i)
            local = torch.from_numpy(ids[rows] - self._type_starts[i]).to(dev)
            key = str(int(i))
            h = (self.type_proj[key](getattr(self, f"feat_{i}")[local]) if key in self.type_proj
                 else self.type_emb_in[key](local))
            out = out.index_copy(0, torch.from_numpy(rows).to(dev), h)
        return out

    def _layer(self, k: int, h_target: torch.Tensor, h_source: torch.Tensor, block: Block) -> torch.Tensor:
        dev = self._device
        t = lambda a: torch.from_numpy(a).to(dev)  # noqa: E731
        return self.convs[k](h_target, h_source, t(block.target), t(block.source), t(block.types),
                             self.type_emb.weight, t(self._pair_rel[block.pairs]))

    def _check_batch(self, nodes: Any) -> np.ndarray:
        if not torch.is_tensor(nodes) or nodes.dim() != 1 or nodes.dtype.is_floating_point or nodes.dtype == torch.bool:
            raise ValidationError(f"nodes: expected a 1-D integer tensor of ids, got {type(nodes).__name__}")
        v = nodes.detach().cpu().numpy().astype(np.int64)
        what = f"dense {self.ntype!r} ids" if self.ntype is not None else "global node ids"
        if v.size and (v.min() < 0 or v.max() >= self._batch_n):
            raise ValidationError(f"nodes: ids in [{int(v.min())}, {int(v.max())}]; expected {what} in "
                                  f"[0, {self._batch_n})")
        return v + self._offset
