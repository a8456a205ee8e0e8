"""Negative sampling: random nodes (uniform or unigram^0.75) and corrupted edges for link prediction.

Draws come from per-item counter-based streams, so they depend only on ``random_state``. Degree
draws use one alias table over the node degrees, built once and cached in ``graph.derived``.
Exclusion of true neighbours re-draws up to ``max_retries`` times (binary search in the sorted
CSR row each time), then falls back to an exact draw over the allowed nodes only, so an excluded
node is returned only where no other node is possible.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.csr_kernels import lower_bound
from vastgraph.graph.schema import EdgeType
from vastgraph.sampling.alias import alias_draw, build_alias
from vastgraph.sampling.neighbors import as_node_ids
from vastgraph.seeding import derive_seed, next_float, next_int, seed_from, stream

DISTRIBUTIONS = ("uniform", "degree")
MODES = ("tail", "head", "both")


# ----------------------------------------------------------------------------- kernels
@nb.njit(inline="always", cache=True)
def _in_row(indptr, indices, u, v):  # pragma: no cover - numba
    """Whether ``v`` is in the sorted row ``u``."""
    lo = lower_bound(indices, indptr[u], indptr[u + 1], v)
    return lo < indptr[u + 1] and indices[lo] == v


@nb.njit(inline="always", cache=True)
def _draw(state, n_cand, use_alias, prob, alias):  # pragma: no cover - numba
    if use_alias:
        return alias_draw(state, 0, n_cand, prob, alias)
    return next_int(state, n_cand)


@nb.njit(cache=True)
def _exact_allowed(state, n_cand, use_alias, weights, indptr, indices, u):  # pragma: no cover - numba
    """Draw among the nodes not in row ``u`` (by weight, else uniformly); -1 if there is none."""
    banned = np.zeros(n_cand, dtype=np.bool_)
    for j in range(indptr[u], indptr[u + 1]):
        banned[indices[j]] = True
    total = 0.0
    free = 0
    for v in range(n_cand):
        if not banned[v]:
            free += 1
            if use_alias and weights[v] > 0.0:
                total += weights[v]
    if free == 0:
        return state, -1
    state, x = next_float(state)
    if total > 0.0:
        x *= total
        acc = 0.0
        last = -1
        for v in range(n_cand):
            if not banned[v] and weights[v] > 0.0:
                acc += weights[v]
                last = v
                if x < acc:
                    return state, v
        return state, last
    r = np.int64(x * free)
    if r >= free:
        r = free - 1
    for v in range(n_cand):
        if not banned[v]:
            if r == 0:
                return state, v
            r -= 1
    return state, -1


@nb.njit(nogil=True, parallel=True, cache=True)
def draw_negatives(n_cand, use_alias, prob, alias, weights, anchors, indptr, indices, check, max_retries,
                   seed, stream_ids, out):  # pragma: no cover - numba
    """``out[i]``: a node in [0, n_cand) from stream ``stream_ids[i]``, not in row ``anchors[i]``
    when ``check`` (exact fallback after ``max_retries`` re-draws)."""
    for i in nb.prange(out.shape[0]):
        state = stream(seed, stream_ids[i])
        state, v = _draw(state, n_cand, use_alias, prob, alias)
        if check:
            u = anchors[i]
            tries = 0
            while _in_row(indptr, indices, u, v) and tries < max_retries:
                state, v = _draw(state, n_cand, use_alias, prob, alias)
                tries += 1
            if _in_row(indptr, indices, u, v):
                state, w = _exact_allowed(state, n_cand, use_alias, weights, indptr, indices, u)
                if w >= 0:
                    v = w
        out[i] = v


@nb.njit(nogil=True, parallel=True, cache=True)
def _coins(seed, n):  # pragma: no cover - numba
    out = np.empty(n, dtype=np.bool_)
    for i in nb.prange(n):
        state, u = next_float(stream(seed, i))
        out[i] = u < 0.5
    return out


# ----------------------------------------------------------------------------- helpers
def _check_choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _check_power(power: Any) -> float:
    if isinstance(power, bool) or not isinstance(power, (int, float, np.integer, np.floating)) \
            or not np.isfinite(power) or power < 0:
        raise ValidationError(f"power={power!r}: expected a finite number >= 0")
    return float(power)


def _check_retries(max_retries: Any) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, (int, np.integer)) or max_retries < 0:
        raise ValidationError(f"max_retries={max_retries!r}: expected an int >= 0")
    return int(max_retries)


def node_degrees(graph: Any, ntype: str, etypes: list[EdgeType]) -> np.ndarray:
    """Edge entries each node of ``ntype`` takes part in over ``etypes`` (out + in, symmetric once)."""
    deg = np.zeros(graph.num_nodes(ntype), dtype=np.int64)
    for et in etypes:
        symmetric = graph.adjacency(et, reverse=True) is graph.adjacency(et, reverse=False)
        if et.src == ntype:
            deg += graph.adjacency(et).degree()
        if et.dst == ntype and not symmetric:
            deg += graph.adjacency(et, reverse=True).degree()
    return deg


def degree_tables(graph: Any, ntype: str, etypes: list[EdgeType], power: float) -> tuple[np.ndarray, ...]:
    """Cached ``(prob, alias, weights)`` of the distribution ``deg(v)^power / Σ deg^power``."""
    key = ("negative_degree_alias", ntype, tuple(etypes), power)
    cache = graph.derived
    if key not in cache:
        deg = node_degrees(graph, ntype, etypes).astype(np.float64)
        w = np.where(deg > 0, deg ** power, 0.0).astype(np.float32)
        prob, alias = build_alias(np.array([0, w.size], dtype=np.int64), w)
        cache[key] = (prob, alias, w)
    return cache[key]


def _tables(graph: Any, ntype: str, etypes: list[EdgeType], distribution: str, power: float):
    if distribution == "uniform":
        empty = np.zeros(0, np.float32)
        return False, empty, np.zeros(0, np.int32), empty
    prob, alias, w = degree_tables(graph, ntype, etypes, power)
    return True, prob, alias, w


def _run(graph: Any, ntype: str, n: int, tables: tuple, anchors: np.ndarray | None, adj: Any,
         max_retries: int, seed: np.uint64, stream_ids: np.ndarray) -> np.ndarray:
    n_cand = graph.num_nodes(ntype)
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    if n_cand == 0:
        raise ValidationError(f"node type {ntype!r} has no nodes to draw negatives from")
    use_alias, prob, alias, w = tables
    check = anchors is not None
    if check:
        indptr, indices = np.asarray(adj.indptr), np.asarray(adj.indices)
    else:
        anchors, indptr, indices = np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int32)
    draw_negatives(np.int64(n_cand), use_alias, prob, alias, w, anchors, indptr, indices, check, max_retries,
                   seed, stream_ids, out)
    return out


# ----------------------------------------------------------------------------- public
def sample_negatives(graph: Any, n: int | None = None, *, ntype: str | None = None, etype: Any = None,
                     distribution: str = "uniform", power: float = 0.75, exclude_neighbors_of: Any = None,
                     max_retries: int = 16, random_state: Any = None) -> np.ndarray:
    """Draw ``n`` random nodes of one type, uniformly or from the smoothed unigram distribution.

    Mikolov et al., "Distributed Representations of Words and Phrases", NeurIPS 2013 (unigram^0.75).
    ``distribution="degree"`` draws ``v`` with ``P(v) = deg(v)^power / Σ_u deg(u)^power``, where
    ``deg`` counts the edge entries of ``etype`` (or of every edge type) that ``v`` takes part in;
    a graph without edges falls back to uniform. With ``exclude_neighbors_of=src``, draw ``i`` is
    not a neighbour of ``src[i]`` along ``etype`` (re-drawn up to ``max_retries`` times, then drawn
    exactly among the allowed nodes; kept only if ``src[i]`` is adjacent to every node).

    Args:
        graph: a :class:`~vastgraph.graph.GraphStore`.
        n: number of draws (>= 0); None with ``exclude_neighbors_of``: one per source.
        ntype: node type to draw (None: ``etype``'s destination type, or the only node type).
        etype: edge type for degrees and exclusion (None: all edge types for degrees; the only edge
            type for exclusion).
        distribution: ``"uniform"`` | ``"degree"``. Default ``"uniform"``.
        power: exponent of the degree distribution. Default 0.75.
        exclude_neighbors_of: ``(n,)`` dense source ids of ``etype``. Default None.
        max_retries: re-draws before the exact fallback. Default 16.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        int64 ``(n,)`` dense ids of ``ntype``.

    Example:
        >>> neg = sample_negatives(g, 1000, distribution="degree", random_state=0)
    """
    _check_choice(distribution, "distribution", DISTRIBUTIONS)
    power = _check_power(power)
    max_retries = _check_retries(max_retries)
    et = None
    if etype is not None or exclude_neighbors_of is not None:
        et = graph.edge_type(etype)
    if ntype is None:
        if et is not None:
            ntype = et.dst
        elif len(graph.node_types) == 1:
            ntype = graph.node_types[0]
        else:
            raise SchemaError(f"ntype: the graph has node types {', '.join(graph.node_types)}; name one")
    elif ntype not in graph.node_types:
        raise SchemaError(f"unknown node type {ntype!r}; known node types: {', '.join(graph.node_types)}")
    if et is not None and ntype not in (et.src, et.dst):
        raise ValidationError(f"ntype={ntype!r} is not an endpoint of edge type {et}")
    anchors = None
    if exclude_neighbors_of is not None:
        if ntype != et.dst:
            raise ValidationError(f"exclude_neighbors_of: negatives of type {ntype!r} cannot be neighbours "
                                  f"along {et}, whose destination type is {et.dst!r}")
        anchors = as_node_ids(graph, et.src, exclude_neighbors_of, "exclude_neighbors_of")
        if n is None:
            n = anchors.size
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValidationError(f"n={n!r}: expected an int >= 0")
    n = int(n)
    if anchors is not None and anchors.size != n:
        raise ValidationError(f"exclude_neighbors_of has {anchors.size} ids but n={n}; expected one per draw")
    etypes = [et] if et is not None else graph.edge_types
    tables = _tables(graph, ntype, etypes, distribution, power)
    adj = graph.adjacency(et) if anchors is not None else None
    return _run(graph, ntype, n, tables, anchors, adj, max_retries, seed_from(random_state),
                np.arange(n, dtype=np.int64))


def corrupt_edges(graph: Any, src: Any, dst: Any, *, etype: Any = None, num_negatives: int = 1,
                  mode: str = "tail", filtered: bool = True, distribution: str = "uniform",
                  power: float = 0.75,
                  max_retries: int = 16, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Corrupt each edge ``num_negatives`` times for link prediction (TransE-style corruption).

    Bordes et al., "Translating Embeddings for Modeling Multi-relational Data", NeurIPS 2013.
    ``mode="tail"`` replaces ``dst`` by a random node of ``etype``'s destination type,
    ``"head"`` replaces ``src`` by one of its source type, ``"both"`` picks head or tail with
    probability 1/2 per negative. ``filtered=True`` never produces an existing edge of ``etype``
    (where any other node is possible). Replacements follow ``distribution`` over the degrees in
    ``etype``.

    Args:
        graph: a :class:`~vastgraph.graph.GraphStore`.
        src, dst: ``(m,)`` dense ids of the positive edges.
        etype: edge type (None: the only one).
        num_negatives: negatives per edge, >= 1. Default 1.
        mode: ``"tail"`` | ``"head"`` | ``"both"``. Default ``"tail"``.
        filtered: exclude true edges. Default True.
        distribution: ``"uniform"`` | ``"degree"``. Default ``"uniform"``.
        power: exponent of the degree distribution. Default 0.75.
        max_retries: re-draws before the exact fallback. Default 16.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        ``(neg_src, neg_dst)`` int64 ``(m * num_negatives,)``; negatives of edge ``i`` are at
        ``[i * num_negatives, (i + 1) * num_negatives)``.

    Example:
        >>> ns, nd = corrupt_edges(g, src, dst, etype="click", num_negatives=5, random_state=0)
    """
    et = graph.edge_type(etype)
    _check_choice(mode, "mode", MODES)
    _check_choice(distribution, "distribution", DISTRIBUTIONS)
    power = _check_power(power)
    max_retries = _check_retries(max_retries)
    if (isinstance(num_negatives, bool) or not isinstance(num_negatives, (int, np.integer))
            or num_negatives < 1):
        raise ValidationError(f"num_negatives={num_negatives!r}: expected an int >= 1")
    s = as_node_ids(graph, et.src, src, "src")
    d = as_node_ids(graph, et.dst, dst, "dst")
    if s.shape != d.shape:
        raise ValidationError(f"src has {s.size} ids but dst has {d.size}; expected one per edge")
    q = int(num_negatives)
    neg_src, neg_dst = np.repeat(s, q), np.repeat(d, q)
    total = neg_src.size
    seed = seed_from(random_state)
    if mode == "tail":
        tail = np.ones(total, dtype=bool)
    elif mode == "head":
        tail = np.zeros(total, dtype=bool)
    else:
        tail = _coins(derive_seed(seed, 0xC0), np.int64(total))
    ids = np.arange(total, dtype=np.int64)
    for is_tail in (True, False):
        sel = ids[tail] if is_tail else ids[~tail]
        if sel.size == 0:
            continue
        ntype = et.dst if is_tail else et.src
        tables = _tables(graph, ntype, [et], distribution, power)
        anchors = (neg_src if is_tail else neg_dst)[sel] if filtered else None
        adj = graph.adjacency(et, reverse=not is_tail)
        draws = _run(graph, ntype, sel.size, tables, anchors, adj, max_retries, seed, sel)
        if is_tail:
            neg_dst[sel] = draws
        else:
            neg_src[sel] = draws
    return neg_src, neg_dst
