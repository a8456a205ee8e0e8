"""Evaluation of dynamic embeddings on growing graphs: growth schedules and the replay protocol.

The protocol of DNE (Du, Wang, Song, Lu, Wang, *Dynamic Network Embedding: An Extended Approach for
Skip-gram based Network Embedding*, IJCAI 2018, §5): a graph is cut into a base graph and a
sequence of deltas; every method is trained on the base, then follows the deltas one at a time,
and after each step it is measured against the same tasks.

:func:`growth_schedule` cuts a graph into ``(base_graph, [GraphDelta, ...])``:

* ``mode="time"``: edges ordered by timestamp (stable; all edge types pooled), the first
  ``initial_fraction`` of them form the base, the rest ``steps`` equal-size deltas;
* ``mode="random-edges"``: the same with a random edge order (deltas of a chosen edge fraction);
* ``mode="random-nodes"``: nodes arrive in random order; the first ``initial_fraction`` form the
  base (with every edge among them), the rest arrive in ``steps`` equal batches, each delta adding
  its nodes (features, labels) and all their edges to nodes already present or arriving with them.

A node arrives with its first edge in the edge modes (isolated nodes belong to the base). Each
edge is in exactly one of base ∪ deltas, an undirected edge once. Weights: ``"keep"`` (must be
≥ 0), ``"abs"`` (|w|, e.g. signed trust ratings) or ``"drop"`` (unweighted).

:func:`replay` applies each delta once (:func:`~vastgraph.graph.delta.apply_delta`, timed apart as
``apply_seconds``) and updates every method:

* :class:`Incremental` — ``fit`` on the base, then ``partial_fit((graph, summary))`` (DNE);
* :class:`Retrain` — ``fit`` from scratch on the current graph (the quality/cost reference);
* :class:`NewOnly` — DNE with ``m = 0``: only the new vertices are trained, old ones frozen.

After each step it measures, for each method: node-classification micro/macro-F1 (one-vs-rest
logistic regression at ``train_ratio``, same splits for all methods); future-link prediction
AUC/AP — the edges of the *next* delta between nodes already present that are not yet edges,
against as many sampled non-edges of the current graph, scored by ``x_u·x_v`` (``"dot"``), cosine,
or ``x_u·c_v`` with the context vectors (``"context"``, the proximity LINE-2nd/DNE fit); seconds of the embedding update; drift — mean cosine between the current and previous
vectors of the old vertices the delta did not touch, ``mean_u cos(x_u^(t), x_u^(t−1))``.

Example:
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> from vastgraph.embed.dne import DNE
    >>> g = power_law_sbm(n_nodes=200, n_blocks=2, random_state=0).graph
    >>> base, deltas = growth_schedule(g, steps=2, mode="random-nodes", random_state=0)
    >>> dne = DNE(dimensions=8, random_state=0)
    >>> rows = replay(base, deltas, {"dne": Incremental(dne), "retrain": Retrain(dne)})
    >>> len(rows), sorted(rows[0])[:3]
    (6, ['ap', 'apply_seconds', 'auc'])
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from vastgraph.validation import check_float, check_int
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.delta import GraphDelta, _resolve_etype, apply_delta
from vastgraph.graph.edge_filter import filter_edges
from vastgraph.graph.hetero_graph import HeteroGraph
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.subgraph import subgraph
from vastgraph.graph.view import GraphView
from vastgraph.seeding import seed_from
from vastgraph.train.link_prediction import _sample_non_edges, evaluate_link_prediction
from vastgraph.train.node_classification import evaluate_node_classification

MODES = ("time", "random-edges", "random-nodes")
WEIGHTS = ("keep", "abs", "drop")
EVALS = ("node-classification", "future-links")
LINK_OPERATORS = ("cosine", "dot", "context")
ReplayProgress = Callable[[float, str], Any]


# ============================================================================ schedules
def _symmetric(graph: GraphView, et: EdgeType) -> bool:
    """Whether ``et`` is stored both ways in one CSR (undirected, within one node type)."""
    return bool(graph.is_undirected(et)) and et.src == et.dst


def _edge_list(graph: GraphView, et: EdgeType) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Each stored edge of ``et`` once (a symmetric type's ``src <= dst`` entries): src, dst, weight, time."""
    e = graph.coo(et)
    src, dst = e.src, e.dst
    keep = src <= dst if _symmetric(graph, et) else np.ones(src.size, dtype=bool)
    w = None if e.weight is None else np.asarray(e.weight)[keep]
    t = None if e.time is None else np.asarray(e.time)[keep]
    return src[keep], dst[keep], w, t


def _add_edges(delta: GraphDelta, graph: GraphView, et: EdgeType, s: np.ndarray, d: np.ndarray,
               w: np.ndarray | None, t: np.ndarray | None) -> None:
    if s.size:
        delta.add_edges(graph.external_ids(et.src, s), graph.external_ids(et.dst, d), etype=et,
                        weight=w, time=t)


def growth_schedule(graph: HeteroGraph, steps: int = 10, *, mode: str = "time", initial_fraction: float = 0.5,
                    weights: str = "keep", random_state: Any = None) -> tuple[HeteroGraph, list[GraphDelta]]:
    """Cut ``graph`` into a base graph and ``steps`` deltas that rebuild it (see the module docstring).

    Args:
        graph: the full graph (a :class:`HeteroGraph`; every edge type is scheduled).
        steps: number of deltas (>= 1). Default 10.
        mode: ``"time"`` (edge timestamps; every edge type needs times), ``"random-edges"`` or
            ``"random-nodes"``. Default ``"time"``.
        initial_fraction: fraction in (0, 1) of the edges (edge modes) or nodes (``"random-nodes"``)
            in the base graph. Default 0.5.
        weights: ``"keep"`` (weights must be >= 0), ``"abs"`` or ``"drop"``. Default ``"keep"``.
        random_state: None, an int or a ``numpy.random.Generator`` (random modes and equal-time ties
            are not random: ties keep storage order). Default None.

    Returns:
        ``(base_graph, deltas)``. Node external ids, features, labels, weights and times are those of
        ``graph``; dense ids follow arrival order. Delta ``k`` holds the nodes that arrive with it (in
        arrival order) and its edges with their own times; ``time`` is its latest edge time (time mode).

    Raises:
        ValidationError: ``steps``/``initial_fraction``/``mode``/``weights`` out of range, an edge type
            without timestamps in time mode, negative weights with ``weights="keep"``, fewer edges or
            nodes to schedule than ``steps``. EmptyInputError: a graph without edges.

    Example:
        >>> from vastgraph.graph.builder import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 4], time=[1, 2, 3, 4])
        >>> base, deltas = growth_schedule(b.build(), steps=2, initial_fraction=0.5)
        >>> base.num_undirected_edges(), [d.num_insertions for d in deltas], [d.num_new_nodes for d in deltas]
        (2, [1, 1], [1, 1])
    """
    if not isinstance(graph, HeteroGraph):
        raise ValidationError(f"graph: {type(graph).__name__}; expected a vastgraph HeteroGraph")
    steps = check_int("steps", steps, 1)
    if mode not in MODES:
        raise ValidationError(f"mode={mode!r}: expected one of {', '.join(map(repr, MODES))}")
    if weights not in WEIGHTS:
        raise ValidationError(f"weights={weights!r}: expected one of {', '.join(map(repr, WEIGHTS))}")
    frac = check_float("initial_fraction", initial_fraction)
    if frac >= 1.0:
        raise ValidationError(f"initial_fraction={initial_fraction!r}: expected a number in (0, 1)")
    rng = np.random.default_rng(int(seed_from(random_state)))
    ets, ntypes = graph.edge_types, graph.node_types
    lists = {et: _edge_list(graph, et) for et in ets}
    for et, (_, _, w, t) in lists.items():
        if mode == "time" and t is None:
            raise ValidationError(f"mode='time': edge type {et} has no timestamps; use mode='random-edges' "
                                  "or 'random-nodes', or build the graph with times")
        if weights == "keep" and w is not None and w.size and float(w.min()) < 0:
            raise ValidationError(f"weights='keep': edge type {et} has negative weights (min {float(w.min())}); "
                                  "deltas need weights >= 0: pass weights='abs' or weights='drop'")
    sizes = [lists[et][0].size for et in ets]
    n_edges = int(sum(sizes))
    if n_edges == 0:
        raise EmptyInputError("growth_schedule: the graph has no edges to schedule")
    offs = graph.node_offsets()
    n_total = graph.num_nodes_total()
    # ---- arrival step of every edge (0 = base) and node ----
    e_src = np.concatenate([lists[et][0] + offs[et.src] for et in ets])
    e_dst = np.concatenate([lists[et][1] + offs[et.dst] for et in ets])
    if mode == "random-nodes":
        n_base = int(round(frac * n_total))
        if n_total - n_base < steps:
            raise ValidationError(f"steps={steps}: only {n_total - n_base} nodes arrive after the base "
                                  f"(initial_fraction={initial_fraction}); expected at least one per step")
        order = rng.permutation(n_total)
        rank = np.empty(n_total, np.int64)
        rank[order] = np.arange(n_total)
        node_step = np.zeros(n_total, np.int64)
        for k, part in enumerate(np.array_split(order[n_base:], steps), start=1):
            node_step[part] = k
        edge_step = np.maximum(node_step[e_src], node_step[e_dst])
        edge_rank = np.argsort(edge_step, kind="stable")
    else:
        if mode == "time":
            edge_rank = np.argsort(np.concatenate([lists[et][3] for et in ets]), kind="stable")
        else:
            edge_rank = rng.permutation(n_edges)
        n_base = int(round(frac * n_edges))
        if n_edges - n_base < steps:
            raise ValidationError(f"steps={steps}: only {n_edges - n_base} edges arrive after the base "
                                  f"(initial_fraction={initial_fraction}); expected at least one per step")
        edge_step = np.zeros(n_edges, np.int64)
        for k, part in enumerate(np.array_split(edge_rank[n_base:], steps), start=1):
            edge_step[part] = k
        pos = np.empty(n_edges, np.int64)
        pos[edge_rank] = np.arange(n_edges)  # position in arrival order
        first = np.full(n_total, n_edges, np.int64)
        np.minimum.at(first, e_src, pos)
        np.minimum.at(first, e_dst, pos)
        node_step = np.zeros(n_total, np.int64)
        seen = first < n_edges
        node_step[seen] = edge_step[edge_rank[first[seen]]]
        rank = np.where(seen, first, -1)  # isolated nodes first (they are in the base), then by first edge
    # ---- base graph: the step-0 nodes in arrival order, then the step-0 edges ----
    node_order = np.lexsort((rank, node_step))  # by step, then arrival
    bounds = np.array([offs[nt] for nt in ntypes] + [n_total], np.int64)
    type_of = np.searchsorted(bounds, node_order, side="right") - 1
    keep = {nt: node_order[(node_step[node_order] == 0) & (type_of == i)] - offs[nt] for i, nt in enumerate(ntypes)}
    nodes_only, _ = subgraph(graph, keep)
    base = filter_edges(nodes_only, {et: False for et in ets}, drop_weights=weights == "drop")
    et_bounds = np.cumsum([0] + sizes)

    def edge_batches(step: int, delta: GraphDelta, target: HeteroGraph) -> None:
        idx = edge_rank[edge_step[edge_rank] == step]  # arrival order
        for j, et in enumerate(ets):
            sel = idx[(idx >= et_bounds[j]) & (idx < et_bounds[j + 1])] - et_bounds[j]
            s, d, w, t = lists[et]
            ww = None if (w is None or weights == "drop") else (np.abs(w[sel]) if weights == "abs" else w[sel])
            _add_edges(delta, target, et, s[sel], d[sel], ww, None if t is None else t[sel])

    first_delta = GraphDelta()
    edge_batches(0, first_delta, graph)
    # ids of base nodes are external ids of `graph`, valid in `base` too
    base, _ = apply_delta(base, first_delta, time_policy="allow")
    base.info = dict(graph.info, growth_schedule={"mode": mode, "steps": steps, "initial_fraction": frac})
    deltas = []
    all_times = np.concatenate([lists[et][3] for et in ets]) if mode == "time" else None
    for k in range(1, steps + 1):
        idx = edge_rank[edge_step[edge_rank] == k]
        t_max = int(all_times[idx].max()) if all_times is not None and idx.size else None
        delta = GraphDelta(time=t_max)
        arriving = node_order[node_step[node_order] == k]
        at = np.searchsorted(bounds, arriving, side="right") - 1
        for i, nt in enumerate(ntypes):
            dense = arriving[at == i] - offs[nt]
            if dense.size == 0:
                continue
            delta.add_nodes(nt, graph.external_ids(nt, dense), features=graph.features(nt, dense),
                            labels=graph.labels(nt, dense))
        edge_batches(k, delta, graph)
        deltas.append(delta)
    return base, deltas


# ============================================================================ methods
def _clone(model: Any, **params: Any) -> Any:
    if not (hasattr(model, "get_params") and hasattr(model, "fit")):
        raise ValidationError(f"model: {type(model).__name__}; expected an Embedder (get_params, fit)")
    kw = dict(model.get_params())
    kw.update(params)
    return type(model)(**kw)


@dataclass(frozen=True)
class Incremental:
    """Fit a clone of ``model`` on the base graph, then ``partial_fit`` it with each delta (e.g. DNE)."""

    model: Any

    def __post_init__(self) -> None:
        if not hasattr(self.model, "partial_fit"):
            raise ValidationError(f"Incremental: {type(self.model).__name__} has no partial_fit; "
                                  "use Retrain for a model that can only be fitted from scratch")


@dataclass(frozen=True)
class Retrain:
    """Fit a fresh clone of ``model`` (or ``model()`` when it is a factory) on every step's graph."""

    model: Any

    def make(self) -> Any:
        if hasattr(self.model, "fit"):
            return _clone(self.model)
        m = self.model()
        if not hasattr(m, "fit"):
            raise ValidationError(f"Retrain: the factory returned {type(m).__name__}; expected an Embedder")
        return m


@dataclass(frozen=True)
class NewOnly:
    """DNE with ``m = 0``: each update trains the new vertices only, every old vertex frozen."""

    model: Any

    def __post_init__(self) -> None:
        if not (hasattr(self.model, "partial_fit") and "m" in getattr(self.model, "get_params", dict)()):
            raise ValidationError(f"NewOnly: {type(self.model).__name__} has no parameter m; expected a DNE")


def _as_strategy(name: str, spec: Any) -> Any:
    if isinstance(spec, (Incremental, Retrain, NewOnly)):
        return spec
    if hasattr(spec, "partial_fit"):
        return Incremental(spec)
    if hasattr(spec, "fit") or callable(spec):
        return Retrain(spec)
    raise ValidationError(f"methods[{name!r}]: {type(spec).__name__}; expected an Embedder, a factory, "
                          "or Incremental/Retrain/NewOnly")


# ============================================================================ measurements
def _vectors(model: Any, graph: GraphView, name: str) -> np.ndarray:
    x = np.asarray(model.embedding_)
    if x.ndim != 2 or x.shape[0] != graph.num_nodes_total():
        raise ValidationError(f"methods[{name!r}]: embedding_ has shape {x.shape}; expected "
                              f"({graph.num_nodes_total()}, d), one row per node of the current graph")
    return x


def _old_rows(prev: GraphView, cur: GraphView, touched: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Global ids (previous, current) of the old nodes the delta did not touch."""
    po, co = prev.node_offsets(), cur.node_offsets()
    a, b = [], []
    for nt in prev.node_types:
        n = prev.num_nodes(nt)
        mask = np.ones(n, dtype=bool)
        t = touched.get(nt)
        if t is not None and t.size:
            mask[t[t < n]] = False
        dense = np.flatnonzero(mask)
        a.append(dense + po[nt])
        b.append(dense + co[nt])
    return np.concatenate(a).astype(np.int64), np.concatenate(b).astype(np.int64)


def _mean_cosine(x: np.ndarray, y: np.ndarray) -> float:
    if x.shape[0] == 0:
        return float("nan")
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    den = nx * ny
    dots = np.einsum("ij,ij->i", x.astype(np.float64), y.astype(np.float64))
    cos = np.where(den > 0, dots / np.where(den > 0, den, 1.0), 0.0)
    return float(np.mean(np.clip(cos, -1.0, 1.0)))


def _future_pairs(graph: GraphView, delta: GraphDelta, etype: Any,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Global-id (positives, negatives): next-delta edges among present nodes that are new links,
    and as many uniform non-edges of ``graph`` that the next delta does not add either."""
    et = graph.edge_type(etype)
    n_src, n_dst = graph.num_nodes(et.src), graph.num_nodes(et.dst)
    ps, pd_ = [], []
    for b in delta.insertions:
        if _resolve_etype(graph, b["etype"]) != et:
            continue
        s = graph.id_index(et.src).lookup(b["src"], ntype=et.src, missing="-1")
        d = graph.id_index(et.dst).lookup(b["dst"], ntype=et.dst, missing="-1")
        ok = (s >= 0) & (d >= 0)
        ps.append(s[ok].astype(np.int64))
        pd_.append(d[ok].astype(np.int64))
    empty = np.zeros((0, 2), np.int64)
    if not ps:
        return empty, empty
    s, d = np.concatenate(ps), np.concatenate(pd_)
    sym = _symmetric(graph, et)
    kind = "sym" if sym else ("dir" if et.src == et.dst else "bip")
    if sym:
        s, d = np.minimum(s, d), np.maximum(s, d)
    ok = (s != d) if kind != "bip" else np.ones(s.size, dtype=bool)
    s, d = s[ok], d[ok]
    new = ~graph.has_edges(s, d, et) if s.size else np.zeros(0, dtype=bool)
    key = np.unique(s[new] * n_dst + d[new])
    if key.size == 0:
        return empty, empty
    edges = graph.coo(et)
    gs, gd = edges.src, edges.dst
    if sym:
        gs, gd = np.minimum(gs, gd), np.maximum(gs, gd)
    taken = np.unique(np.concatenate([gs * n_dst + gd, key]))
    offs = graph.node_offsets()
    try:
        neg = _sample_non_edges(key.size, n_src, n_dst, kind, taken, rng)
    except ValidationError:
        return empty, empty
    pos = np.stack([key // n_dst + offs[et.src], key % n_dst + offs[et.dst]], 1)
    negp = np.stack([neg // n_dst + offs[et.src], neg % n_dst + offs[et.dst]], 1)
    return pos, negp


def _context_scorer(model: Any, x: np.ndarray, graph: GraphView, et: EdgeType,
                    name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``scorer(src, dst)``: ``x_u·c_v`` (directed) or ``(x_u·c_v + x_v·c_u)/2`` (symmetric edge type)."""
    c = getattr(model, "context_", None)
    if c is None:
        raise ValidationError(f"operator='context': methods[{name!r}] ({type(model).__name__}) has no context_ "
                              "vectors; use operator='cosine' or 'dot'")
    c = np.asarray(c)
    if c.shape != x.shape:
        raise ValidationError(f"operator='context': methods[{name!r}].context_ has shape {c.shape}; "
                              f"expected {x.shape}, like embedding_")
    sym = _symmetric(graph, et)

    def score(s: np.ndarray, d: np.ndarray) -> np.ndarray:
        xs, xd = x[s].astype(np.float64), x[d].astype(np.float64)
        fwd = np.einsum("ij,ij->i", xs, c[d].astype(np.float64))
        return 0.5 * (fwd + np.einsum("ij,ij->i", xd, c[s].astype(np.float64))) if sym else fwd

    return score


def _label_type(graph: GraphView, label_ntype: str | None) -> str:
    if label_ntype is not None:
        nt = graph.node_type(label_ntype)
        if graph.labels(nt) is None:
            raise ValidationError(f"label_ntype={label_ntype!r}: that node type has no labels")
        return nt
    have = [nt for nt in graph.node_types if graph.labels(nt) is not None]
    if len(have) != 1:
        raise ValidationError(f"eval='node-classification': the graph has labelled node types {have or '(none)'}; "
                              "expected exactly one (name it with label_ntype=)")
    return have[0]


def _check_evals(value: Any) -> tuple[str, ...]:
    got = (value,) if isinstance(value, str) else tuple(value)
    if not got or any(v not in EVALS for v in got):
        raise ValidationError(f"eval={value!r}: expected one or more of {', '.join(map(repr, EVALS))}")
    return got


# ============================================================================ replay
def replay(graph: HeteroGraph, schedule: Sequence[GraphDelta], methods: Mapping[str, Any], *,
           eval: str | Sequence[str] = "node-classification", train_ratio: float = 0.5, repeats: int = 1,
           operator: str = "cosine", label_ntype: str | None = None, link_etype: Any = None,
           eval_steps: Sequence[int] | None = None, random_state: Any = 0,
           progress: ReplayProgress | None = None) -> list[dict[str, Any]]:
    """Train every method on ``graph``, follow the deltas of ``schedule``, and measure each step.

    Args:
        graph: the base graph (first item of :func:`growth_schedule`).
        schedule: the deltas, applied in order (``time_policy="allow"``: a random schedule may carry
            older timestamps after newer ones).
        methods: ``{name: Incremental(model) | Retrain(model or factory) | NewOnly(dne)}``; a bare
            model with ``partial_fit`` means Incremental, any other model or factory Retrain.
            Models are cloned (``get_params``), the given objects are left untouched.
        eval: ``"node-classification"``, ``"future-links"`` or both. Default node classification.
        train_ratio: labelled fraction used for training, in (0, 1). Default 0.5.
        repeats: classification splits per step (same splits for every method). Default 1.
        operator: link score ``"cosine"``, ``"dot"`` (of vertex vectors) or ``"context"``:
            ``x_u·c_v``, the proximity the skip-gram-on-edges objective itself fits (DNE, LINE-2nd:
            at the optimum ``x_u·c_v`` is the shifted PMI of the pair), symmetrised as
            ``(x_u·c_v + x_v·c_u)/2`` on an undirected edge type; needs models with ``context_``.
            Default ``"cosine"``.
        label_ntype: node type whose labels are predicted; default the only labelled one.
        link_etype: edge type of the future links; default the only one.
        eval_steps: steps (0 = base) measured; default all. Retrain fits only at these steps.
        random_state: seed of the splits and the sampled non-edges. Default 0.
        progress: optional ``progress(done_fraction, stage)``.

    Returns:
        One dict per (measured step, method): ``step, method, nodes, edges, new_nodes,
        inserted, apply_seconds, seconds, micro_f1, macro_f1, auc, ap, n_links, drift_cosine`` (NaN
        where a measure does not apply: AUC at the last step, drift at step 0 or after a skipped step).

    Example:
        >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
        >>> from vastgraph.embed.dne import DNE
        >>> g = power_law_sbm(n_nodes=120, random_state=0).graph
        >>> rows = replay(*growth_schedule(g, steps=1, mode="random-nodes", random_state=0),
        ...               {"dne": DNE(dimensions=4, random_state=0)})
        >>> [(r["step"], r["method"]) for r in rows]
        [(0, 'dne'), (1, 'dne')]
    """
    if not isinstance(graph, HeteroGraph):
        raise ValidationError(f"graph: {type(graph).__name__}; expected the base HeteroGraph")
    deltas = list(schedule)
    for i, d in enumerate(deltas):
        if not isinstance(d, GraphDelta):
            raise ValidationError(f"schedule[{i}]: {type(d).__name__}; expected a GraphDelta")
    if not isinstance(methods, Mapping) or not methods:
        raise ValidationError(f"methods: {methods!r}; expected a non-empty dict name -> method")
    strategies = {str(k): _as_strategy(str(k), v) for k, v in methods.items()}
    evals = _check_evals(eval)
    ratio = check_float("train_ratio", train_ratio, high=1.0)
    if ratio >= 1.0:
        raise ValidationError(f"train_ratio={train_ratio!r}: expected a number in (0, 1)")
    repeats = check_int("repeats", repeats, 1)
    if operator not in LINK_OPERATORS:
        raise ValidationError(f"operator={operator!r}: expected one of {', '.join(map(repr, LINK_OPERATORS))}")
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress={progress!r}: expected None or a callable(done_fraction, stage)")
    n_steps = len(deltas)
    measured = set(range(n_steps + 1)) if eval_steps is None else set()
    for s in eval_steps or ():
        check_int("eval_steps", s, 0)
        if s > n_steps:
            raise ValidationError(f"eval_steps: step {s} > {n_steps}, the number of deltas")
        measured.add(int(s))
    nc_type = _label_type(graph, label_ntype) if "node-classification" in evals else None
    lp_type = graph.edge_type(link_etype) if "future-links" in evals else None
    seed = int(seed_from(random_state) % np.uint64(2**32))
    report = progress or (lambda f, s: None)
    total = (n_steps + 1) * len(strategies)

    models: dict[str, Any] = {}
    prev_x: dict[str, np.ndarray | None] = {name: None for name in strategies}
    rows: list[dict[str, Any]] = []
    cur, summary, prev_graph = graph, None, None
    for step in range(n_steps + 1):
        apply_s = 0.0
        if step > 0:
            t0 = time.perf_counter()
            prev_graph = cur
            cur, summary = apply_delta(cur, deltas[step - 1], time_policy="allow")
            apply_s = time.perf_counter() - t0
        pairs = None
        if lp_type is not None and step in measured and step < n_steps:
            pairs = _future_pairs(cur, deltas[step], lp_type, np.random.default_rng([seed, step]))
        for j, (name, strat) in enumerate(strategies.items()):
            report((step * len(strategies) + j) / total, f"step {step}: {name}")
            t0 = time.perf_counter()
            if isinstance(strat, Retrain):
                if step not in measured:
                    prev_x[name] = None
                    continue
                models[name] = strat.make().fit(cur)
            elif step == 0:
                params = {"m": 0} if isinstance(strat, NewOnly) else {}
                models[name] = _clone(strat.model, **params).fit(cur)
            else:
                models[name].partial_fit((cur, summary))
            seconds = time.perf_counter() - t0
            if step not in measured:
                prev_x[name] = None
                continue
            x = _vectors(models[name], cur, name)
            row: dict[str, Any] = {"step": step, "method": name, "nodes": cur.num_nodes_total(),
                                   "edges": cur.num_edges(),
                                   "new_nodes": 0 if summary is None else int(sum(v.size for v in summary.new_nodes.values())),
                                   "inserted": 0 if summary is None else int(sum(v[0].size for v in summary.inserted.values())),
                                   "apply_seconds": apply_s, "seconds": seconds,
                                   "micro_f1": math.nan, "macro_f1": math.nan, "auc": math.nan, "ap": math.nan,
                                   "n_links": 0, "drift_cosine": math.nan}
            if nc_type is not None:
                a = cur.node_offsets()[nc_type]
                res = evaluate_node_classification(x[a:a + cur.num_nodes(nc_type)], cur.labels(nc_type),
                                                   train_ratios=(ratio,), repeats=repeats, random_state=seed + step)
                row["micro_f1"], row["macro_f1"] = res.micro(ratio), res.macro(ratio)
            if pairs is not None and pairs[0].shape[0]:
                scores: Any = x if operator != "context" else _context_scorer(models[name], x, cur, lp_type, name)
                lp = evaluate_link_prediction(scores, pairs[0], pairs[1], operator="dot" if operator == "context"
                                              else operator, mode="score", ks=(10,))
                row["auc"], row["ap"], row["n_links"] = lp.auc, lp.ap, int(pairs[0].shape[0])
            px = prev_x[name]
            if step > 0 and px is not None:
                ia, ib = _old_rows(prev_graph, cur, summary.touched)
                row["drift_cosine"] = _mean_cosine(x[ib], px[ia])
            prev_x[name] = np.array(x, dtype=np.float32, copy=True)
            rows.append(row)
    report(1.0, "done")
    return rows


def plot_replay(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> Any:
    """A matplotlib figure of a :func:`replay` table: quality, seconds and drift per step and method.

    Panels: micro-F1 (when measured), future-link AUC (when measured), seconds per update (log
    scale) and drift cosine of unchanged vertices. Returns a ``matplotlib.figure.Figure`` (not
    registered with pyplot), ready for :meth:`~vastgraph.report.HtmlReport.figure`.

    Example:
        >>> fig = plot_replay([{"step": 0, "method": "dne", "micro_f1": 0.4, "seconds": 1.0},
        ...                    {"step": 1, "method": "dne", "micro_f1": 0.42, "seconds": 0.1}])
        >>> len(fig.axes)
        2
    """
    from matplotlib.figure import Figure

    rows = list(rows)
    if not rows:
        raise ValidationError("rows: empty; expected the list of dicts returned by replay")
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping) or "step" not in r or "method" not in r:
            raise ValidationError(f"rows[{i}]: expected a dict with 'step' and 'method' (a replay row)")

    def has(key: str) -> bool:
        return any(isinstance(r.get(key), (int, float)) and np.isfinite(r.get(key)) for r in rows)

    panels = [(k, lab) for k, lab in (("micro_f1", "Micro-F1"), ("auc", "future-link AUC"),
                                      ("seconds", "seconds per update"), ("drift_cosine", "unchanged-vertex cosine"))
              if has(k)]
    if not panels:
        raise ValidationError("rows: no finite micro_f1, auc, seconds or drift_cosine to plot")
    fig = Figure(figsize=(4.2 * len(panels), 3.4))
    methods = list(dict.fromkeys(str(r["method"]) for r in rows))
    for i, (key, label) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for m in methods:
            pts = sorted((int(r["step"]), float(r[key])) for r in rows if str(r["method"]) == m
                         and isinstance(r.get(key), (int, float)) and np.isfinite(r.get(key)))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, label=m)
        if key == "seconds":
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
