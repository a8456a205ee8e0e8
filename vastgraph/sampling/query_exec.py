"""Vectorised execution of a query :class:`~vastgraph.sampling.query_plan.Plan` over a graph store.

Each step maps a :class:`~vastgraph.sampling.query_frontier.Frontier` (numpy arrays of rows) to the
next, with a ``parent`` index per new row so origins and ``as`` names follow along. Random steps
(``sample``, ``sampleN``) run numba kernels in which frontier row ``i`` of step ``s`` draws from
the stream ``stream(stream(seed, s), i)``: the result is fixed by ``random_state`` alone.
Hops go through the graph's sampling engine (:meth:`~vastgraph.sampling.engine.SamplingEngine.hop`;
one-direction ``sample`` steps are :func:`~vastgraph.sampling.neighbors.sample_neighbors`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import engine_for
from vastgraph.sampling.alias import build_alias
from vastgraph.sampling.query_frontier import (Frontier, compare, field_column, node_degree,
                                               scalar_column, sort_order)
from vastgraph.sampling.query_kernels import draw_nodes, first_occurrences, rank_within
from vastgraph.sampling.query_plan import (As, Count, Dedup, Endpoint, EStep, Has, Hop, Limit,
                                           OrderBy, Plan, SampleNodes, Select, Values, VStep)
from vastgraph.sampling.query_result import QueryResult
from vastgraph.seeding import seed_from, stream

_NO_F32 = np.empty(0, np.float32)
_NO_I32 = np.empty(0, np.int32)


def _node_type(graph: GraphView, ntype: str) -> str:
    if ntype not in graph.node_types:
        raise SchemaError(f"unknown node type {ntype!r}; known node types: {', '.join(graph.node_types)}")
    return ntype


def _symmetric(graph: GraphView, et: EdgeType) -> bool:
    return et.src == et.dst and graph.is_undirected(et)


class _Executor:
    def __init__(self, graph: GraphView, plan: Plan, seed: np.uint64) -> None:
        self.graph = graph
        self.engine = engine_for(graph)
        self.plan = plan
        self.seed = seed
        self.named: dict[str, Frontier] = {}
        self.n_origins = 0

    def step_seed(self, i: int) -> np.uint64:
        return np.uint64(stream(self.seed, np.uint64(i)))

    # ------------------------------------------------------------------ starts
    def start_v(self, s: VStep) -> Frontier:
        nt = _node_type(self.graph, s.ntype)
        if s.ids is None:
            nodes = np.arange(self.graph.num_nodes(nt), dtype=np.int64)
        elif len(s.ids) == 0:
            nodes = np.empty(0, dtype=np.int64)
        else:
            nodes = np.asarray(self.graph.lookup(nt, list(s.ids)), dtype=np.int64)
        return Frontier("node", np.arange(nodes.shape[0], dtype=np.int64), ntype=nt, nodes=nodes)

    def start_e(self, s: EStep) -> Frontier:
        e = self.graph.coo(self.graph.edge_type(s.etype))
        return Frontier("edge", np.arange(len(e), dtype=np.int64), etype=e.etype, src=e.src, dst=e.dst,
                        weight=e.weight, time=e.time)

    def sample_nodes(self, s: SampleNodes, fr: Frontier | None, i: int) -> Frontier:
        nt = _node_type(self.graph, s.ntype)
        n_nodes = self.graph.num_nodes(nt)
        if n_nodes == 0:
            raise ValidationError(f"sampleN({nt!r}, {s.n}): node type {nt!r} has no nodes")
        prob, alias, weighted = _NO_F32, _NO_I32, s.by == "degree"
        if weighted:
            deg = node_degree(self.graph, nt)
            if not deg.any():
                raise ValidationError(f"sampleN({nt!r}).by('degree'): every {nt!r} node has degree 0")
            prob, alias = self.engine.cached(
                ("query_degree_alias", nt),
                lambda: build_alias(np.array([0, n_nodes], np.int64), deg.astype(np.float32)))
        rows = s.n if fr is None else len(fr)
        per_row = 1 if fr is None else s.n
        nodes = draw_nodes(rows, per_row, n_nodes, weighted, prob, alias, self.step_seed(i))
        if fr is None:
            return Frontier("node", np.arange(s.n, dtype=np.int64), ntype=nt, nodes=nodes)
        parent = np.repeat(np.arange(len(fr), dtype=np.int64), s.n)
        return fr.derive(parent, kind="node", ntype=nt, nodes=nodes)

    # ------------------------------------------------------------------ hops
    def hop(self, s: Hop, fr: Frontier, i: int) -> Frontier:
        g = self.graph
        what = s.text()
        if s.direction == "both" and s.emit == "E":
            raise ValidationError(f"{what}: bothE is not supported; use outE and inE")
        et = g.edge_type(s.etype)
        nt = fr.ntype
        direction = s.direction
        if direction == "both":
            if nt not in (et.src, et.dst):
                raise SchemaError(f"{what}: edge type {et} does not touch {nt!r} nodes (the frontier)")
            if _symmetric(g, et) or et.src != et.dst:
                direction = "out" if nt == et.src else "in"
        if direction == "out" and nt != et.src:
            hint = "; use inV/inE to go against it" if nt == et.dst else ""
            raise SchemaError(f"{what}: edge type {et} leaves {et.src!r} nodes but the frontier holds "
                              f"{nt!r} nodes{hint}")
        if direction == "in" and nt != et.dst:
            hint = "; use outV/outE to follow it" if nt == et.src else ""
            raise SchemaError(f"{what}: edge type {et} enters {et.dst!r} nodes but the frontier holds "
                              f"{nt!r} nodes{hint}")
        if s.k is not None:
            by = s.by or "uniform"
            need = {"weight": ("weight", g.has_weights), "topk": ("weight", g.has_weights),
                    "latest": ("time", g.has_times)}
            if by in need and not need[by][1](et):
                raise ValidationError(f"{what}: edge type {et} has no {need[by][0]}s to sample by; "
                                      "use by('uniform')")
        # direction "both" here: a directed edge type within one node type (out- then in-neighbours)
        res = self.engine.hop(et, fr.nodes, direction, k=s.k, by=s.by or "uniform", replace=s.replace,
                              seed=self.step_seed(i))
        if s.emit == "V":
            return fr.derive(res.parent, kind="node", ntype=et.dst if direction == "out" else et.src,
                             nodes=res.neighbors)
        own = fr.nodes[res.parent]
        src, dst = (own, res.neighbors) if direction == "out" else (res.neighbors, own)
        return fr.derive(res.parent, kind="edge", etype=et, src=src, dst=dst, weight=res.weights,
                         time=res.times)

    def endpoint(self, s: Endpoint, fr: Frontier) -> Frontier:
        et = fr.etype
        if s.side == "out":
            return fr.derive(np.arange(len(fr)), kind="node", ntype=et.src, nodes=fr.src)
        if s.side == "in":
            return fr.derive(np.arange(len(fr)), kind="node", ntype=et.dst, nodes=fr.dst)
        if et.src != et.dst:
            raise SchemaError(f"bothV() on {et} edges would mix {et.src!r} and {et.dst!r} nodes; "
                              "use outV() or inV()")
        parent = np.repeat(np.arange(len(fr), dtype=np.int64), 2)
        return fr.derive(parent, kind="node", ntype=et.src, nodes=np.stack([fr.src, fr.dst], 1).ravel())

    # ------------------------------------------------------------------ filters
    def has(self, s: Has, fr: Frontier) -> Frontier:
        what = s.text()
        col = scalar_column(self.graph, fr, s.field, what)
        return fr.take(np.flatnonzero(compare(col, s.op, s.value, what)))

    def dedup(self, s: Dedup, fr: Frontier) -> Frontier:
        g = self.graph
        if fr.kind == "node":
            keys = [(fr.nodes, g.num_nodes(fr.ntype))]
        else:
            keys = [(fr.src, g.num_nodes(fr.etype.src)), (fr.dst, g.num_nodes(fr.etype.dst))]
        if s.per == "origin":
            keys.insert(0, (fr.origin, self.n_origins))
        return fr.take(first_occurrences(keys))

    def limit(self, s: Limit, fr: Frontier) -> Frontier:
        if s.per is None:
            return fr.take(np.arange(min(s.n, len(fr))))
        return fr.take(np.flatnonzero(rank_within(fr.origin, self.n_origins) < s.n))

    # ------------------------------------------------------------------ outputs
    def default_columns(self, fr: Frontier) -> dict[str, np.ndarray]:
        cols = {"origin": fr.origin}
        if fr.kind == "node":
            cols["id"] = self.graph.external_ids(fr.ntype, fr.nodes)
            return cols
        for f in ("src", "dst", "weight", "time"):
            if f in ("src", "dst") or getattr(fr, f) is not None:
                cols[f] = field_column(self.graph, fr, f, "result")
        return cols

    def output(self, s: Any, fr: Frontier) -> dict[str, np.ndarray]:
        if isinstance(s, Values):
            cols = {"origin": fr.origin}
            for f in s.fields:
                cols[f] = field_column(self.graph, fr, f, s.text())
            return cols
        if isinstance(s, Count):
            if s.per is None:
                return {"count": np.array([len(fr)], dtype=np.int64)}
            return {"origin": np.arange(self.n_origins, dtype=np.int64),
                    "count": np.bincount(fr.origin, minlength=self.n_origins).astype(np.int64)}
        cols = {"origin": fr.origin}
        by = s.by or "id"
        for name in s.names:
            snap = self.named[name].take(fr.refs[name])
            if by == "id" and snap.kind == "edge":
                cols[f"{name}.src"] = field_column(self.graph, snap, "src", s.text())
                cols[f"{name}.dst"] = field_column(self.graph, snap, "dst", s.text())
            else:
                cols[name if by == "id" else f"{name}.{by}"] = field_column(self.graph, snap, by, s.text())
        return cols

    # ------------------------------------------------------------------ driver
    def run(self) -> QueryResult:
        steps = self.plan.steps
        if not steps:
            raise ValidationError("the query is empty: start it with V(...), E(...) or sampleN(...)")
        fr: Frontier | None = None
        for i, s in enumerate(steps):
            if fr is None:
                if isinstance(s, VStep):
                    fr = self.start_v(s)
                elif isinstance(s, EStep):
                    fr = self.start_e(s)
                elif isinstance(s, SampleNodes):
                    fr = self.sample_nodes(s, None, i)
                else:
                    raise ValidationError(f"{s.text()} cannot start a query; start with V(), E() or "
                                          "sampleN()")
                self.n_origins = len(fr)
            elif isinstance(s, (Values, Count, Select)):
                missing = [n for n in getattr(s, "names", ()) if n not in self.named]
                if missing:
                    raise SchemaError(f"{s.text()}: no frontier was named {missing[0]!r}; named: "
                                      f"{', '.join(self.named) or '(none)'}")
                return QueryResult(self.output(s, fr), self.plan)
            elif isinstance(s, (Hop, Endpoint)):
                want = "node" if isinstance(s, Hop) else "edge"
                if fr.kind != want:
                    raise ValidationError(f"{s.text()} needs a frontier of {want}s; it holds {fr.describe()}")
                fr = self.hop(s, fr, i) if isinstance(s, Hop) else self.endpoint(s, fr)
            elif isinstance(s, SampleNodes):
                fr = self.sample_nodes(s, fr, i)
            elif isinstance(s, Has):
                fr = self.has(s, fr)
            elif isinstance(s, OrderBy):
                fr = fr.take(sort_order(scalar_column(self.graph, fr, s.field, s.text()), s.desc))
            elif isinstance(s, Limit):
                fr = self.limit(s, fr)
            elif isinstance(s, Dedup):
                fr = self.dedup(s, fr)
            elif isinstance(s, As):
                self.named[s.name] = fr
                fr = replace(fr, refs={**fr.refs, s.name: np.arange(len(fr), dtype=np.int64)})
            else:
                raise ValidationError(f"{s.text()} cannot follow a start step here")
        return QueryResult(self.default_columns(fr), self.plan)


def execute_plan(graph: GraphView, plan: Plan, random_state: Any = None) -> QueryResult:
    """Run ``plan`` over ``graph`` (a :class:`~vastgraph.graph.view.GraphView`).

    Args:
        graph: the store.
        plan: from :class:`~vastgraph.sampling.query.Traversal` or :func:`parse_query`.
        random_state: None, an int or a ``numpy.random.Generator``; fixes every random step.
            Default None (fresh entropy).

    Returns:
        A :class:`QueryResult`.
    """
    if not isinstance(plan, Plan):
        raise ValidationError(f"plan: got {type(plan).__name__}; expected a vastgraph Plan")
    return _Executor(graph, plan, seed_from(random_state)).run()
