"""Samplers that turn node ids into the :class:`~vastgraph.nn.batch.NodeBatch` a model computes on.

Models take tensors; these objects hold the graph side. Each model names the sampler it needs
(``model.sampler_kind``) and keeps the sampling parameters in ``model.config()``;
:func:`sampler_for` builds the matching sampler on a graph:

* ``"nodes"`` → :class:`IdSampler`: the ids alone (models without message passing);
* ``"fanout"`` → :class:`FanoutSampler`: a PyG-style subgraph by
  :func:`~vastgraph.sampling.fanout.sample_fanout` (GCN, GraphSAGE, GAT, GIN, HGCN);
* ``"neighbor-blocks"`` → :class:`NeighborBlockSampler`: per-hop neighbour blocks by
  :func:`~vastgraph.sampling.neighbors.sample_neighbors`, plus walk contexts and negatives for the
  unsupervised loss (GraphSTONE);
* ``"walk-pairs"`` / ``"relational-walk-pairs"`` → :class:`WalkPairSampler`: anonymous-walk
  ``(neighbour, type)`` pairs of a :class:`~vastgraph.sampling.structural_context.StructuralContext`
  (GraLSP, relational GraLSP), plus skip-gram contexts, negatives and walk-type triplets.

A sampler is a pure function of ``(nodes, seed)``: ``sample(nodes, seed)`` returns the same batch
for the same arguments, so training is reproducible and a data-parallel worker can sample its own
share. Every sampler has ``ntype`` (the model's id space: dense ids of that type, or None for global
ids) and ``num_nodes``.

:func:`vastgraph.train.models.create_model` remembers what it prepared for a model on a graph
(e.g. the structural context), so the sampler reuses it instead of walking again.

Example:
    >>> import numpy as np
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> from vastgraph.train.models import create_model
    >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
    >>> model = create_model("sage", graph, hidden=8, out_dim=4, fanouts=(3, 2), random_state=0)
    >>> sampler = sampler_for(model, graph)
    >>> batch = sampler.sample(np.array([4, 1, 4]), seed=7)
    >>> model(batch).shape, batch.num_targets
    (torch.Size([3, 4]), 2)
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Protocol

import numpy as np
import torch

from vastgraph.errors import ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.nn.base import NodeModel
from vastgraph.nn.batch import Block, NodeBatch
from vastgraph.seeding import derive_int

__all__ = ["FanoutSampler", "IdSampler", "NeighborBlockSampler", "NodeSampler", "WalkPairSampler",
           "built_on", "register_sampler", "remember", "sampler_for"]


class NodeSampler(Protocol):
    """What a loader needs from a sampler (see the module docstring)."""

    ntype: str | None
    num_nodes: int

    def sample(self, nodes: np.ndarray, seed: int, *, unsupervised: bool = False) -> NodeBatch: ...


def _long(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))


def _check_ids(nodes: Any, n: int) -> np.ndarray:
    v = np.asarray(nodes)
    if v.ndim != 1 or (v.size and v.dtype.kind not in "iu"):
        raise ValidationError(f"nodes: {v.dtype}{v.shape}; expected a 1-D integer array of node ids")
    v = v.astype(np.int64)
    if v.size and (v.min() < 0 or v.max() >= n):
        raise ValidationError(f"nodes: ids in [{int(v.min())}, {int(v.max())}]; expected ids in [0, {n}) "
                              f"({n} nodes)")
    return v


def _unique(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inv = np.unique(v, return_inverse=True)
    return uniq, inv.reshape(-1)


# ----------------------------------------------------------------------------------- preparation cache
_PREPARED: "weakref.WeakKeyDictionary[NodeModel, tuple[Any, dict[str, Any]]]" = weakref.WeakKeyDictionary()


def _graph_ref(graph: Any) -> Callable[[], Any]:
    try:
        return weakref.ref(graph)
    except TypeError:  # a graph type without weak references: hold it
        return lambda: graph


def remember(model: NodeModel, graph: GraphView, **prepared: Any) -> None:
    """Record that ``model`` was built on ``graph`` with ``prepared`` inputs (e.g. a structural context)."""
    _PREPARED[model] = (_graph_ref(graph), dict(prepared))


def built_on(model: NodeModel) -> Any:
    """The graph :func:`vastgraph.train.models.create_model` built ``model`` on, or None when unknown."""
    entry = _PREPARED.get(model)
    return None if entry is None else entry[0]()


def _prepared(model: NodeModel, graph: GraphView) -> dict[str, Any]:
    entry = _PREPARED.get(model)
    if entry is not None and entry[0]() is graph:
        return entry[1]
    return {}


# ----------------------------------------------------------------------------------- samplers
class IdSampler:
    """The batch nodes alone (deduplicated), for models without message passing."""

    def __init__(self, num_nodes: int, ntype: str | None = None) -> None:
        self.num_nodes = int(num_nodes)
        self.ntype = ntype

    def sample(self, nodes: Any, seed: int, *, unsupervised: bool = False) -> NodeBatch:
        uniq, inv = _unique(_check_ids(nodes, self.num_nodes))
        return NodeBatch(n_id=_long(uniq), index=_long(inv), num_targets=int(uniq.size), seed=derive_int(seed, 1))


class FanoutSampler:
    """A multi-hop fanout subgraph around the batch (PyG ``NeighborLoader`` semantics).

    Args:
        graph: the graph.
        ntype, etype: node type and edge type (from ``ntype`` to ``ntype``) to sample along.
        fanouts: in-neighbours per frontier node and hop (-1: all).
    """

    def __init__(self, graph: GraphView, ntype: str, etype: Any, fanouts: list[int]) -> None:
        self.graph, self.ntype = graph, ntype
        self.etype = graph.edge_type(etype)
        self.fanouts = list(fanouts)
        self.num_nodes = int(graph.num_nodes(ntype))

    def sample(self, nodes: Any, seed: int, *, unsupervised: bool = False) -> NodeBatch:
        from vastgraph.sampling.fanout import sample_fanout

        uniq, inv = _unique(_check_ids(nodes, self.num_nodes))
        if uniq.size == 0:
            return NodeBatch(n_id=_long(uniq), index=_long(inv), num_targets=0,
                             edge_index=torch.zeros((2, 0), dtype=torch.long), seed=derive_int(seed, 1))
        sub = sample_fanout(self.graph, (self.ntype, uniq), self.fanouts, etype=self.etype,
                            random_state=derive_int(seed, 0))
        return NodeBatch(n_id=_long(sub.node_dict[self.ntype]), index=_long(inv), num_targets=int(uniq.size),
                         edge_index=_long(sub.edge_index_dict[self.etype]), seed=derive_int(seed, 1))


class NeighborBlockSampler:
    """GraphSTONE's batches: uniform neighbour blocks per hop; walk contexts and degree^0.75 negatives.

    Args:
        graph: the graph.
        ntype, etype: node type and the edge type (within it) to sample and walk along.
        fanout: neighbours per node and hop (-1: all), hop 1 first.
        window: walk steps for the contexts of the unsupervised loss.
        negative: negatives per node of the unsupervised loss.
    """

    def __init__(self, graph: GraphView, ntype: str, etype: Any, fanout: list[int], window: int,
                 negative: int) -> None:
        self.graph, self.ntype = graph, ntype
        self.etype = graph.edge_type(etype)
        self.fanout, self.window, self.negative = list(fanout), int(window), int(negative)
        self.num_nodes = int(graph.num_nodes(ntype))

    def blocks(self, nodes: np.ndarray, seed: int) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
        """Node sets per hop (``sets[0]`` the unique batch; each set starts with the previous one) and
        per hop the sampled edges ``(rows into sets[l], cols into sets[l+1])``."""
        from vastgraph.sampling.neighbors import sample_neighbors

        frontier = np.unique(nodes)
        sets, blocks = [frontier], []
        for hop, k in enumerate(self.fanout):
            s = sample_neighbors(self.graph, frontier, k, etype=self.etype, random_state=derive_int(seed, hop))
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

    def _batch(self, v: np.ndarray, seed: int) -> NodeBatch:
        uniq, inv = _unique(v)
        sets, hops = self.blocks(uniq, seed)
        blocks = [Block(n_dst=int(sets[h].size), dst=_long(hops[h][0]), src=_long(hops[h][1]))
                  for h in reversed(range(len(hops)))]
        return NodeBatch(n_id=_long(sets[-1]), index=_long(inv), num_targets=int(uniq.size), blocks=blocks,
                         seed=derive_int(seed, 99))

    def sample(self, nodes: Any, seed: int, *, unsupervised: bool = False) -> NodeBatch:
        v = _check_ids(nodes, self.num_nodes)
        batch = self._batch(v, derive_int(seed, 0))
        if unsupervised:
            from vastgraph.sampling.negative import sample_negatives
            from vastgraph.sampling.walks import random_walks

            useed = derive_int(seed, 1)
            if v.size:
                walks = random_walks(self.graph, start=v, walks_per_node=1, walk_length=self.window,
                                     etype=self.etype, random_state=useed)
                rng = np.random.default_rng(useed)
                pos = rng.integers(1, self.window + 1, size=v.size)
                ctx = walks[np.arange(v.size), pos].astype(np.int64)
                negs = sample_negatives(self.graph, v.size * self.negative, ntype=self.ntype, etype=self.etype,
                                        distribution="degree", random_state=derive_int(useed, 1)).astype(np.int64)
            else:
                ctx = negs = np.zeros(0, np.int64)
            ok = ctx >= 0
            ctx = np.where(ok, ctx, v)
            batch.extras = {"sgns": self._batch(np.concatenate([v, ctx, negs]), derive_int(seed, 2)),
                            "ok": torch.from_numpy(ok)}
        return batch


class WalkPairSampler:
    """GraLSP's batches: anonymous-walk pairs per hop; skip-gram contexts, negatives and triplets.

    Args:
        context: the :class:`~vastgraph.sampling.structural_context.StructuralContext`.
        num_layers, num_samples: hops and pairs per node per hop.
        negative: negatives (shared by a batch) of the skip-gram loss, drawn ∝ degree^0.75.
        triplets_per_node: walk-type triplets per node of the structural loss.
        degree: degrees of the context's nodes (for the negatives).
        ntype: the model's id space (None: global ids); ``offset`` maps its ids to the context's.
        num_nodes: ids of that space.
        pair_rel: relation id of each context pair (relational GraLSP), or None.
    """

    def __init__(self, context: Any, *, num_layers: int, num_samples: int, negative: int, triplets_per_node: int,
                 degree: np.ndarray, ntype: str | None, num_nodes: int | None = None, offset: int = 0,
                 pair_rel: np.ndarray | None = None) -> None:
        self.context = context
        self.num_layers, self.num_samples = int(num_layers), int(num_samples)
        self.negative, self.triplets_per_node = int(negative), int(triplets_per_node)
        deg = np.asarray(degree, dtype=np.float64) ** 0.75
        self.neg_prob = deg / deg.sum() if deg.sum() > 0 else np.full(deg.size, 1.0 / max(deg.size, 1))
        self.ntype = ntype
        self.num_nodes = int(context.num_nodes if num_nodes is None else num_nodes)
        self.offset = int(offset)
        self.pair_rel = pair_rel

    def _batch(self, v: np.ndarray, rng: np.random.Generator, seed: int) -> NodeBatch:
        from vastgraph.sampling.structural_context import sample_blocks

        uniq, inv = _unique(v)
        sets, hops = sample_blocks(self.context, uniq, self.num_samples, self.num_layers, rng)
        blocks = []
        for h in reversed(hops):
            rel = None if self.pair_rel is None else _long(self.pair_rel[h.pairs])
            blocks.append(Block(n_dst=int(h.n_target), dst=_long(h.target), src=_long(h.source),
                                types=_long(h.types), rel=rel))
        return NodeBatch(n_id=_long(sets[-1]), index=_long(inv), num_targets=int(uniq.size), blocks=blocks,
                         seed=seed)

    def sample(self, nodes: Any, seed: int, *, unsupervised: bool = False) -> NodeBatch:
        v = _check_ids(nodes, self.num_nodes) + self.offset
        batch = self._batch(v, np.random.default_rng(np.random.SeedSequence([int(seed), 0])), derive_int(seed, 1))
        if unsupervised:
            rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
            ctx, valid = self.context.sample_contexts(v, 1, rng)
            keep = valid[:, 0]
            centre, ctx = v[keep], ctx[keep, 0]
            negs = rng.choice(self.neg_prob.size, size=self.negative, p=self.neg_prob).astype(np.int64)
            sgns = self._batch(np.concatenate([centre, ctx, negs]) if centre.size else np.zeros(0, np.int64),
                               rng, derive_int(seed, 2))
            i, j, k = self.context.sample_triplets(v, self.triplets_per_node, rng)
            batch.extras = {"sgns": sgns, "n_centre": int(centre.size), "triplets": (_long(i), _long(j), _long(k))}
        return batch


# ----------------------------------------------------------------------------------- dispatch
def _fanout(model: NodeModel, graph: GraphView, prep: dict[str, Any]) -> FanoutSampler:
    cfg = model.config()
    from vastgraph.train.models import resolve_types

    nt, et = resolve_types(graph, cfg.get("ntype"), cfg.get("etype"))
    if graph.num_nodes(nt) != model.num_nodes:
        raise ValidationError(f"graph: node type {nt!r} has {graph.num_nodes(nt)} nodes; the model was built for "
                              f"{model.num_nodes}")
    return FanoutSampler(graph, nt, et, list(cfg["fanouts"]))


def _neighbor_blocks(model: NodeModel, graph: GraphView, prep: dict[str, Any]) -> NeighborBlockSampler:
    cfg = model.config()
    from vastgraph.train.models import graphstone_etype

    et = graphstone_etype(graph, cfg.get("ntype"), cfg.get("etype"))
    if graph.num_nodes(et.src) != model.num_nodes:
        raise ValidationError(f"graph: node type {et.src!r} has {graph.num_nodes(et.src)} nodes; the model was "
                              f"built for {model.num_nodes}")
    return NeighborBlockSampler(graph, et.src, et, list(cfg["fanout"]), cfg["window"], cfg["negative"])


def _walk_pairs(model: NodeModel, graph: GraphView, prep: dict[str, Any]) -> WalkPairSampler:
    from vastgraph.train.models import prepare_walk_context

    cfg = model.config()
    if "context" not in prep:
        prep = prepare_walk_context(graph, cfg, relational=model.sampler_kind == "relational-walk-pairs")
    ctx = prep["context"]
    if ctx.num_nodes != model.num_nodes:
        raise ValidationError(f"graph: the structural context has {ctx.num_nodes} nodes; the model was built for "
                              f"{model.num_nodes}")
    return WalkPairSampler(ctx, num_layers=cfg["num_layers"], num_samples=cfg["num_samples"],
                           negative=cfg["negative"], triplets_per_node=cfg["triplets_per_node"],
                           degree=prep["degree"], ntype=prep["ntype"], num_nodes=prep["num_ids"],
                           offset=prep.get("offset", 0), pair_rel=prep.get("pair_rel"))


def _ids(model: NodeModel, graph: GraphView, prep: dict[str, Any]) -> IdSampler:
    nt = getattr(model, "ntype", None) or model.config().get("ntype")
    if nt is None and len(graph.node_types) == 1:
        nt = graph.node_types[0]
    n = graph.num_nodes(nt) if nt is not None else graph.num_nodes_total()
    return IdSampler(n, nt)


_SAMPLERS: dict[str, Callable[[NodeModel, GraphView, dict[str, Any]], Any]] = {
    "nodes": _ids, "fanout": _fanout, "neighbor-blocks": _neighbor_blocks, "walk-pairs": _walk_pairs,
    "relational-walk-pairs": _walk_pairs}


def register_sampler(kind: str, builder: Callable[[NodeModel, GraphView, dict[str, Any]], Any]) -> None:
    """Register ``builder(model, graph, prepared) -> sampler`` for models whose ``sampler_kind`` is ``kind``."""
    if not isinstance(kind, str) or not kind:
        raise ValidationError(f"kind={kind!r}: expected a non-empty string")
    _SAMPLERS[kind] = builder


def sampler_for(model: NodeModel, graph: GraphView) -> NodeSampler:
    """The sampler that feeds ``model`` on ``graph`` (see the module docstring).

    Raises:
        ValidationError: a model kind without a sampler, or a graph that does not fit the model.
    """
    kind = getattr(model, "sampler_kind", "nodes")
    builder = _SAMPLERS.get(kind)
    if builder is None:
        raise ValidationError(f"model {type(model).__name__}: sampler_kind={kind!r} has no sampler; known kinds: "
                              f"{', '.join(sorted(_SAMPLERS))} (see register_sampler)")
    return builder(model, graph, _prepared(model, graph))
