"""Multi-hop fanout (neighbourhood) sampling into a compact, relabelled subgraph, as PyG does.

Hop ``h`` takes the nodes first reached at hop ``h - 1`` (the seeds at hop 0) as its frontier.
For every edge type ``(s, r, d)`` with a non-zero fanout ``k_h``, each frontier node of type ``d``
samples up to ``k_h`` in-neighbours of type ``s`` from the CSC of the edge type (PyG's
convention: messages then flow along the stored edge direction, neighbour → target). Sampled
nodes get local ids in order of discovery, per node type, seeds first (the local engine relabels
them in one pass with a pooled scratch array of ``num_nodes`` entries, without hashing). Row
sampling runs in parallel with one random stream per (hop, edge type, row), so a result depends
only on ``random_state``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.graph.schema import EdgeType, resolve_edge_type
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import engine_for
from vastgraph.sampling.neighbors import WEIGHTED, as_node_ids, check_count, resolve_method, time_bounds
from vastgraph.seeding import seed_from


@dataclass(frozen=True)
class SampledSubgraph:
    """A sampled multi-hop neighbourhood with local (relabelled) ids.

    Attributes:
        node_dict: ``{ntype: int64 (n_t,)}`` original dense ids of the sampled nodes of each type;
            the seeds of a type come first, in the order given, then nodes in order of discovery.
        edge_index_dict: ``{etype: int64 (2, E)}`` local ids; row 0 indexes ``node_dict[etype.src]``
            (the sampled neighbour), row 1 ``node_dict[etype.dst]`` (the node it was sampled for).
            Edges are grouped by hop.
        edge_pos_dict: ``{etype: int64 (E,)}`` positions of the edges in the edge type's in-edge
            order (the CSC; the CSR itself when symmetric), as ``SampledNeighbors.edge_pos`` with
            ``reverse=True``.
        num_sampled_nodes_dict: ``{ntype: [seeds, new at hop 1, ..., new at hop H]}``.
        num_sampled_edges_dict: ``{etype: [edges of hop 1, ..., edges of hop H]}``.
        seed_types: the node types that had seeds, in the order given.
    """

    node_dict: dict[str, np.ndarray]
    edge_index_dict: dict[EdgeType, np.ndarray]
    edge_pos_dict: dict[EdgeType, np.ndarray]
    num_sampled_nodes_dict: dict[str, list[int]]
    num_sampled_edges_dict: dict[EdgeType, list[int]]
    seed_types: tuple[str, ...]

    @property
    def is_homogeneous(self) -> bool:
        """One node type and one edge type: the single-type properties below apply."""
        return len(self.node_dict) == 1 and len(self.edge_index_dict) == 1

    def _only(self, what: str, d: dict) -> Any:
        if len(d) != 1 or not self.is_homogeneous:
            raise SchemaError(f"{what}: this subgraph has node types {', '.join(self.node_dict)} and "
                              f"edge types {', '.join(map(str, self.edge_index_dict))}; use {what}_dict")
        return next(iter(d.values()))

    @property
    def nodes(self) -> np.ndarray:
        return self._only("node", self.node_dict)

    @property
    def edge_index(self) -> np.ndarray:
        return self._only("edge_index", self.edge_index_dict)

    @property
    def edge_pos(self) -> np.ndarray:
        return self._only("edge_pos", self.edge_pos_dict)

    @property
    def num_sampled_nodes(self) -> list[int]:
        return self._only("num_sampled_nodes", self.num_sampled_nodes_dict)

    @property
    def num_sampled_edges(self) -> list[int]:
        return self._only("num_sampled_edges", self.num_sampled_edges_dict)

    @property
    def num_hops(self) -> int:
        return len(next(iter(self.num_sampled_edges_dict.values()), []))

    @property
    def batch_size(self) -> int:
        """Number of seeds of the first seed type (they are ``node_dict[type][:batch_size]``)."""
        return self.num_sampled_nodes_dict[self.seed_types[0]][0]

    def block(self, hop: int, etype: Any = None) -> np.ndarray:
        """Edges ``(2, E_h)`` sampled at hop ``hop`` (0-based): the message-flow graph of that hop."""
        if not 0 <= hop < self.num_hops:
            raise ValidationError(f"hop={hop}: expected 0 <= hop < {self.num_hops}")
        if etype is None:
            if len(self.edge_index_dict) != 1:
                raise SchemaError(f"block: name one of the edge types "
                                  f"{', '.join(map(str, self.edge_index_dict))}")
            et = next(iter(self.edge_index_dict))
        else:
            et = resolve_edge_type(etype, self.edge_index_dict)
        counts = self.num_sampled_edges_dict[et]
        start = sum(counts[:hop])
        return self.edge_index_dict[et][:, start:start + counts[hop]]


# ----------------------------------------------------------------------------- input parsing
def _is_single_etype(etype: Any) -> bool:
    return isinstance(etype, str) or (isinstance(etype, tuple) and len(etype) == 3
                                      and all(isinstance(p, str) for p in etype))


def parse_fanouts(graph: GraphView, fanouts: Any, etype: Any) -> tuple[int, dict[EdgeType, list[int]]]:
    """``(hops, {etype: fanout per hop})`` from a list of ints or a ``{etype: list}`` mapping."""
    if isinstance(fanouts, Mapping):
        if etype is not None:
            raise ValidationError("etype and a fanouts mapping were both given; name edge types in one "
                                  "of them")
        if not fanouts:
            raise ValidationError("fanouts={}: expected at least one edge type")
        out: dict[EdgeType, list[int]] = {}
        for key, seq in fanouts.items():
            et = graph.edge_type(key)
            out[et] = _fanout_list(seq, f"fanouts[{key!r}]", allow_zero=True)
        lengths = {len(v) for v in out.values()}
        if len(lengths) != 1:
            raise ValidationError(f"fanouts: lists of different lengths {sorted(lengths)}; every edge type "
                                  "needs one entry per hop (0 skips it at that hop)")
        return lengths.pop(), out
    seq = _fanout_list(fanouts, "fanouts", allow_zero=False)
    if etype is None:
        ets = graph.edge_types
        if not ets:
            raise SchemaError("the graph has no edge types to sample")
    elif _is_single_etype(etype) or isinstance(etype, EdgeType):
        ets = [graph.edge_type(etype)]
    elif isinstance(etype, Sequence) and len(etype) > 0:
        ets = list(dict.fromkeys(graph.edge_type(e) for e in etype))
    else:
        raise ValidationError(f"etype={etype!r}: expected an edge type or a non-empty list of them")
    return len(seq), {et: list(seq) for et in ets}


def _fanout_list(seq: Any, name: str, *, allow_zero: bool) -> list[int]:
    if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence) and not isinstance(seq, np.ndarray):
        raise ValidationError(f"{name}={seq!r}: expected a list of ints, one per hop")
    vals = [check_count(k, f"{name}[{i}]", allow_zero=allow_zero) for i, k in enumerate(seq)]
    if not vals:
        raise ValidationError(f"{name}=[]: expected at least one hop")
    return vals


def infer_seed_type(graph: GraphView, etypes: Sequence[EdgeType]) -> str:
    """The node type of seeds given as a plain array: the only node type, or the sampled edge
    types' common destination type."""
    if len(graph.node_types) == 1:
        return graph.node_types[0]
    dsts = {et.dst for et in etypes}
    if len(dsts) != 1:
        raise SchemaError(f"seeds: the graph has node types {', '.join(graph.node_types)}; give "
                          "seeds as (ntype, ids) or {ntype: ids}")
    return dsts.pop()


def parse_seeds(graph: GraphView, seeds: Any, etypes: Sequence[EdgeType]) -> dict[str, np.ndarray]:
    """``{ntype: dense ids}`` from an array, an ``(ntype, array)`` pair or a mapping."""
    if isinstance(seeds, Mapping):
        items = list(seeds.items())
    elif isinstance(seeds, tuple) and len(seeds) == 2 and isinstance(seeds[0], str):
        items = [seeds]
    else:
        items = [(infer_seed_type(graph, etypes), seeds)]
    out: dict[str, np.ndarray] = {}
    for nt, ids in items:
        if nt not in graph.node_types:
            raise SchemaError(f"unknown node type {nt!r}; known node types: {', '.join(graph.node_types)}")
        arr = as_node_ids(graph, nt, ids, f"seeds[{nt!r}]")
        if arr.size:
            out[nt] = arr
    if not out:
        raise EmptyInputError("seeds: no seed nodes given; expected at least one")
    return out


# ----------------------------------------------------------------------------- public
def sample_fanout(graph: GraphView, seeds: Any, fanouts: Any = (15, 10, 5), *, etype: Any = None,
                  replace: bool = False, weighted: bool = False, time_window: tuple[int, int] | None = None,
                  before: int | None = None, random_state: Any = None) -> SampledSubgraph:
    """Sample a multi-hop neighbourhood of ``seeds`` (GraphSAGE-style fanout; PyG NeighborLoader).

    Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017.
    Hop ``h`` samples, for every frontier node ``u`` of type ``d`` and every edge type
    ``(s, r, d)``, up to ``k_h`` in-neighbours ``v`` (uniformly, or ``∝ w_vu`` when ``weighted``;
    see :func:`~vastgraph.sampling.neighbors.sample_neighbors`) and adds the edge ``v → u``. The
    frontier of hop ``h + 1`` is the set of nodes first reached at hop ``h``; at most
    ``B·Π k_h`` edges are sampled for ``B`` seeds.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.
        seeds: dense ids (array; the seed type is the only node type, or the destination type shared by
            the sampled edge types), ``(ntype, ids)``, or ``{ntype: ids}``. Must not be empty.
        fanouts: neighbours per hop ``[k_1, ..., k_H]`` (each >= 1, or -1 for all) applied to every
            sampled edge type; or ``{etype: [k_1, ..., k_H]}`` per edge type, where 0 skips the edge
            type at that hop. Default ``(15, 10, 5)``.
        etype: with a list ``fanouts``: the edge type(s) to sample (one, or a list); None: all.
        replace: sample with replacement. Default False.
        weighted: sample proportionally to edge weights (every sampled edge type needs weights).
            Default False.
        time_window: ``(t_min, t_max)``: only edges with ``t_min <= time < t_max`` (every sampled
            edge type needs times). Default None.
        before: only edges with ``time < before``. Default None.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        :class:`SampledSubgraph` with per-type nodes, per-edge-type local ``edge_index`` (neighbour →
        target), CSC positions and per-hop counts.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False, id_mode="dense")
        >>> _ = b.add_edges(np.arange(99), np.arange(1, 100))  # a path 0 - 1 - ... - 99
        >>> g = b.build()
        >>> sub = sample_fanout(g, np.arange(10), [2, 2], random_state=0)
        >>> sub.nodes[:10].tolist() == list(range(10))  # the seeds come first
        True
        >>> sub.edge_index.shape[0], sub.num_sampled_edges  # (2, E) local ids, neighbour -> target
        (2, [19, 2])
    """
    plan = FanoutPlan(graph, fanouts, etype=etype, replace=replace, weighted=weighted,
                      time_window=time_window, before=before)
    return plan.sample(parse_seeds(graph, seeds, plan.etypes), seed_from(random_state))


class FanoutPlan:
    """Validated fanout settings and per-edge-type tables, reused across batches by the loaders.

    Takes the arguments of :func:`sample_fanout` except ``seeds`` and ``random_state``; validation,
    alias tables and time bounds are done once here, so :meth:`sample` only samples.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=False, id_mode="dense")
        >>> _ = b.add_edges(np.arange(99), np.arange(1, 100))
        >>> plan = FanoutPlan(b.build(), [15, 10])
        >>> sub = plan.sample({"node": np.arange(10)}, np.uint64(7))
        >>> sub.batch_size, sub.num_hops
        (10, 2)
    """

    def __init__(self, graph: GraphView, fanouts: Any, *, etype: Any = None, replace: bool = False,
                 weighted: bool = False, time_window: tuple[int, int] | None = None,
                 before: int | None = None) -> None:
        self.graph = graph
        self.hops, self.fan = parse_fanouts(graph, fanouts, etype)
        self.etypes = list(self.fan)
        self.replace = bool(replace)
        self.code = resolve_method("uniform", bool(weighted), self.replace)
        self.filters = []
        for et in self.etypes:
            if self.code == WEIGHTED and not graph.has_weights(et):
                raise ValidationError(f"edge type {et} has no edge weights; method='weighted' needs them "
                                      "(use method='uniform')")
            self.filters.append(time_bounds(graph, et, time_window, before))
        self.engine = engine_for(graph)
        self.prepared = self.engine.prepare_fanout(self)  # the engine's per-edge-type tables

    def node_types(self, seed_types: Any) -> list[str]:
        """Node types a sample from seeds of ``seed_types`` holds (seed types first)."""
        seed_types = [seed_types] if isinstance(seed_types, str) else list(seed_types)
        return list(dict.fromkeys(seed_types + [t for et in self.etypes for t in (et.dst, et.src)]))

    def sample(self, seed_dict: dict[str, np.ndarray], base: Any) -> SampledSubgraph:
        """Sample from validated ``{ntype: dense ids}`` seeds with 64-bit seed ``base``."""
        return self.engine.sample_blocks(self, seed_dict, base)
