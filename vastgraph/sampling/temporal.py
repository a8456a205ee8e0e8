"""Temporal random walks: each step follows an edge no earlier than the one before (CTDNE)."""

from __future__ import annotations

import math
from typing import Any

import numba as nb
import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.csr_kernels import lower_bound
from vastgraph.graph.store import GraphStore
from vastgraph.seeding import next_float, next_int, seed_from
from vastgraph.sampling.walk_kernels import LANES, init_lanes
from vastgraph.sampling.walks import check_counts, check_start, run_chunked, walk_edge_type

TIME_BIASES = ("uniform", "exponential", "linear")
DIRECTIONS = ("forward", "backward")
_BIAS_CODE = {"uniform": 0, "exponential": 1, "linear": 2}
_NO_TIME = np.iinfo(np.int64).min


@nb.njit(nogil=True, parallel=True, cache=True)
def _sort_rows_by_key(indptr, indices, keys):  # pragma: no cover - numba
    """Copies of ``indices`` and ``keys`` with each row stably sorted by key."""
    out_i = indices.copy()
    out_k = keys.copy()
    n = indptr.shape[0] - 1
    for u in nb.prange(n):
        a = indptr[u]
        b = indptr[u + 1]
        if b - a < 2:
            continue
        done = True
        for j in range(a + 1, b):
            if keys[j] < keys[j - 1]:
                done = False
                break
        if done:
            continue
        order = np.argsort(keys[a:b], kind="mergesort")
        out_i[a:b] = indices[a:b][order]
        out_k[a:b] = keys[a:b][order]
    return out_i, out_k


@nb.njit(inline="always", cache=True)
def _pick(state, keys, lo, b, bias, scale):  # pragma: no cover - numba
    """Draw a position among the candidates ``lo..b-1`` (sorted by key) under the time bias."""
    m = b - lo
    if bias == 0 or m == 1:
        state, k = next_int(state, m)
        return state, lo + k
    if bias == 2:
        # rank weights m, m-1, ..., 1 (earliest candidate first): P(r) ∝ r for r = m - k
        state, u = next_float(state)
        target = u * (m * (m + 1) / 2.0)
        r = np.int64(math.ceil((math.sqrt(1.0 + 8.0 * target) - 1.0) / 2.0))
        if r < 1:
            r = 1
        if r > m:
            r = m
        return state, lo + (m - r)
    k0 = keys[lo]
    s = scale
    if s <= 0.0:
        tot = 0.0
        for e in range(lo, b):
            tot += float(keys[e] - k0)
        s = tot / m
        if s <= 0.0:
            state, k = next_int(state, m)
            return state, lo + k
    total = 0.0
    for e in range(lo, b):
        total += math.exp(-float(keys[e] - k0) / s)
    state, u = next_float(state)
    u *= total
    acc = 0.0
    for e in range(lo, b):
        acc += math.exp(-float(keys[e] - k0) / s)
        if u < acc:
            return state, e
    return state, b - 1


@nb.njit(nogil=True, parallel=True, cache=True)
def _temporal_kernel(indptr, indices, keys, sign, starts, first, count, walk_length, seed, start_key,
                     strict, bias, scale, out, times):  # pragma: no cover - numba
    """Walk along rows sorted by key; a step may use entries whose key is >= the last one's
    (> with ``strict``; the first step uses keys >= ``start_key``)."""
    n_blocks = (count + LANES - 1) // LANES
    for blk in nb.prange(n_blocks):
        i0 = blk * LANES
        nl = min(LANES, count - i0)
        st = np.empty(LANES, np.uint64)
        cur = np.empty(LANES, np.int64)
        last = np.empty(LANES, np.int64)
        init_lanes(starts, first, i0, nl, seed, st, cur, out)
        for lane in range(nl):
            last[lane] = start_key
        for j in range(1, walk_length + 1):
            for lane in range(nl):
                v = cur[lane]
                t_out = np.int64(-1)
                if v >= 0:
                    a = indptr[v]
                    b = indptr[v + 1]
                    bound = last[lane]
                    if strict and j > 1:
                        bound += 1
                    lo = lower_bound(keys, a, b, bound)
                    if lo < b:
                        state, e = _pick(st[lane], keys, lo, b, bias, scale)
                        st[lane] = state
                        v = np.int64(indices[e])
                        last[lane] = keys[e]
                        t_out = sign * keys[e]
                    else:
                        v = -1
                    cur[lane] = v
                out[i0 + lane, j] = v
                times[i0 + lane, j - 1] = t_out


def time_sorted_rows(graph: GraphStore, etype: Any, reverse: bool = False,
                     descending: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cached ``(indptr, indices, keys)`` of one direction of ``etype`` with rows sorted by time.

    ``keys`` is the edge time (``descending=False``) or minus the time (``descending=True``),
    ascending within each row (ties keep neighbour-id order). O(edges) extra memory, built once
    per graph instance and kept in ``graph.derived``.
    """
    et = graph.edge_type(etype)
    key = ("time_sorted", et, bool(reverse), bool(descending))
    cache = graph.derived
    if key not in cache:
        adj = graph.adjacency(et, reverse=reverse)
        if adj.time is None:
            raise ValidationError(f"edge type {str(et)!r} has no timestamps; temporal walks need edge times")
        t = np.asarray(adj.time, dtype=np.int64)
        indptr = np.asarray(adj.indptr, dtype=np.int64)
        ind, keys = _sort_rows_by_key(indptr, np.asarray(adj.indices), -t if descending else t)
        cache[key] = (indptr, ind, keys)
    return cache[key]


def temporal_walks(graph: GraphStore, *, start: Any = None, walks_per_node: int = 10, walk_length: int = 80,
                   etype: Any = None, direction: str = "forward", time_bias: str = "uniform",
                   time_scale: float | None = None, start_time: int | None = None,
                   strict: bool = False, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Time-respecting random walks (CTDNE: Nguyen et al., WWW 2018 companion).

    A forward walk's step ``i`` follows an out-edge whose time is >= the time of step ``i − 1``
    (non-decreasing: edges with equal times may follow each other, so on an undirected edge
    type a walk may go back and forth over one edge; ``strict=True`` asks for increasing times);
    the first step may use any edge, or only those at or after ``start_time``.
    ``direction="backward"`` walks edges in reverse (the CSC; the CSR itself for undirected types)
    with non-increasing times, i.e. back through history. Among the candidate edges of a step (a suffix of the current node's row,
    sorted by time once per graph and cached, found by binary search):

    * ``uniform``: each candidate equally likely;
    * ``linear``: the ``k``-th earliest candidate (k = 0..m−1) has weight ``m − k`` — closer in
      time is likelier (ties ordered by neighbour id);
    * ``exponential``: weight ``exp(−Δ/s)`` with ``Δ`` the candidate's delay after the earliest
      candidate and ``s = time_scale`` (default: the mean Δ over the candidates; all-equal times
      fall back to uniform).

    A walk without a candidate edge stops; the rest of its row is -1. Row order: repetition-major;
    one random stream per walk (thread-count independent).

    Args:
        graph: a :class:`~vastgraph.graph.store.GraphStore` whose edge type has times.
        start: dense start node ids; default all nodes of the edge type's node type.
        walks_per_node: walks per start node (>= 1). Default 10.
        walk_length: steps per walk (>= 1). Default 80.
        etype: the edge type (same node type at both ends); default the only one.
        direction: ``"forward"`` (default) or ``"backward"``.
        time_bias: ``"uniform"`` (default), ``"linear"`` or ``"exponential"``.
        time_scale: the exponential bias's scale in time units (> 0); default per step as above.
        start_time: earliest (forward) / latest (backward) time of the first edge; default none.
        strict: times strictly increasing (forward) / decreasing (backward). Default False.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        ``(walks, times)``: walks int32 ``(n_walks, walk_length + 1)`` dense ids (-1 padded) and
        times int64 ``(n_walks, walk_length)``, the time of the edge taken at each step (-1 where
        the walk has ended: read the end from ``walks``, since -1 can also be a real time).

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder()
        >>> _ = b.add_edges([0, 1, 1], [1, 2, 0], time=[5, 7, 3])
        >>> w, t = temporal_walks(b.build(), start=[0], walks_per_node=1, walk_length=3, random_state=0)
        >>> w.tolist(), t.tolist()
        ([[0, 1, 2, -1]], [[5, 7, -1]])
    """
    et = walk_edge_type(graph, etype, "temporal_walks")
    if direction not in DIRECTIONS:
        raise ValidationError(f"direction={direction!r}: expected one of {', '.join(DIRECTIONS)}")
    if time_bias not in TIME_BIASES:
        raise ValidationError(f"time_bias={time_bias!r}: expected one of {', '.join(TIME_BIASES)}")
    scale = 0.0
    if time_scale is not None:
        try:
            scale = float(time_scale)
        except (TypeError, ValueError):
            scale = float("nan")
        if not math.isfinite(scale) or scale <= 0.0:
            raise ValidationError(f"time_scale={time_scale!r}: expected None or a finite number > 0")
    if start_time is None:
        start_key = _NO_TIME
    elif isinstance(start_time, bool) or not isinstance(start_time, (int, np.integer)):
        raise ValidationError(f"start_time={start_time!r}: expected None or an integer time")
    else:
        start_key = int(start_time) if direction == "forward" else -int(start_time)
    if strict not in (True, False):
        raise ValidationError(f"strict={strict!r}: expected True or False")
    backward = direction == "backward"
    indptr, indices, keys = time_sorted_rows(graph, et, reverse=backward, descending=backward)
    starts = check_start(graph, et.src, start)
    wpn, length = check_counts(walks_per_node, walk_length)
    seed = seed_from(random_state)
    n_walks = starts.shape[0] * wpn
    walks = np.empty((n_walks, length + 1),
                     dtype=np.int32 if graph.num_nodes(et.src) <= np.iinfo(np.int32).max else np.int64)
    times = np.empty((n_walks, length), dtype=np.int64)
    sign = np.int64(-1 if backward else 1)
    bias = _BIAS_CODE[time_bias]

    def run(first: int, count: int, block: np.ndarray) -> None:
        _temporal_kernel(indptr, indices, keys, sign, starts, first, count, length, seed,
                         np.int64(start_key), bool(strict), bias, scale, block,
                         times[first:first + count])

    run_chunked(run, walks, None)
    return walks, times
