"""One-hop neighbour sampling over a CSR: uniform, weighted, top-k or full, with time windows.

Every row (seed) draws from its own counter-based random stream (:mod:`vastgraph.seeding`),
so a result depends only on ``random_state`` and the seed's position, never on the thread count.
The row kernels here are shared with multi-hop :func:`~vastgraph.sampling.fanout.sample_fanout`.

Algorithms per row of degree ``c`` (after time filtering) and ``k`` requested neighbours:

* uniform, with replacement: ``k`` independent uniform draws.
* uniform, without replacement: Floyd's algorithm (``k <= 64``; uniform over k-subsets, O(k²)
  comparisons, no buffer) or a partial Fisher–Yates shuffle on a ``c``-long buffer.
* weighted, with replacement: Walker/Vose alias tables (O(1) per draw, built once per edge type);
  inside a time window, an inverse-CDF binary search over the in-window weights.
* weighted, without replacement: *successive sampling* — each pick is drawn with probability
  proportional to the weight among the edges not yet picked. Rows much longer than ``k`` use alias
  draws with rejection of repeats (exact: a rejected repeat re-draws from the renormalised rest);
  otherwise, or after a bounded number of rejections, Efraimidis–Spirakis keys
  ``log(U)/w`` choose the remaining picks (the ``k`` largest keys are distributed exactly as
  successive sampling; Efraimidis & Spirakis, "Weighted random sampling with a reservoir",
  IPL 2006). Zero-weight edges are taken only once a row has no positive-weight edge left,
  uniformly among themselves; a row whose weights are all zero is sampled uniformly.
* top-k: the ``k`` heaviest edges (ties: lower neighbour id first).
* full: every edge (``k=-1`` means the same for any method).

Without replacement a row with ``c <= k`` returns all its (in-window) edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.sampling.alias import alias_draw, alias_tables
from vastgraph.seeding import next_float, next_int, seed_from, stream

UNIFORM, WEIGHTED, TOPK, FULL = 0, 1, 2, 3
METHODS = {"uniform": UNIFORM, "weighted": WEIGHTED, "topk": TOPK, "full": FULL}
_SMALL_K = 64  # Floyd / rejection sampling up to this k; buffers beyond
_PARALLEL_ROWS = 1 << 16  # count kernel: serial below this many rows
_PARALLEL_DRAWS = 1 << 17  # fill kernel: serial below this many sampled edges (cheap methods)
_I64_MIN = np.iinfo(np.int64).min
_I64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class SampledNeighbors:
    """Result of :func:`sample_neighbors`: a CSR over the query nodes.

    Attributes:
        nodes: int64 ``(n,)`` the query nodes (dense ids), as given.
        indptr: int64 ``(n + 1,)``; the neighbours of ``nodes[i]`` are
            ``indices[indptr[i]:indptr[i + 1]]``.
        indices: ``(m,)`` dense neighbour ids (the adjacency's index dtype, int32 or int64).
        edge_pos: int64 ``(m,)`` positions of the sampled edges in ``graph.adjacency(etype, reverse)``,
            to fetch any per-edge array.
        weights: float32 ``(m,)`` edge weights, or None for an unweighted edge type.
        times: int64 ``(m,)`` edge times, or None for an edge type without times.
        etype: the edge type sampled.
        reverse: whether the CSC (in-neighbours) was sampled.
    """

    nodes: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    edge_pos: np.ndarray
    weights: np.ndarray | None
    times: np.ndarray | None
    etype: EdgeType
    reverse: bool

    def counts(self) -> np.ndarray:
        """Number of sampled neighbours per query node, int64 ``(n,)``."""
        return np.diff(self.indptr)

    def __len__(self) -> int:
        return int(self.nodes.shape[0])



# ----------------------------------------------------------------------------- validation
def as_node_ids(graph: Any, ntype: str, ids: Any, name: str) -> np.ndarray:
    """Dense ids of ``ntype`` as a 1-D int64 array, or raise naming ``name``."""
    arr = np.asarray(ids)
    if arr.ndim > 1:
        raise ValidationError(f"{name}: shape {arr.shape}; expected a 1-D array of {ntype} node ids")
    arr = np.atleast_1d(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValidationError(f"{name}: dtype {arr.dtype}; expected integer dense {ntype} node ids")
    n = graph.num_nodes(ntype)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= n:
        bad = arr[(arr < 0) | (arr >= n)][:5].tolist()
        raise UnknownIdError(f"{name}: {ntype} node id(s) {bad} out of range [0, {n})")
    return arr.astype(np.int64, copy=False)


def check_count(k: Any, name: str, *, allow_zero: bool = False) -> int:
    """A sample size: an int >= 1, or -1 for "all" (0 too when ``allow_zero``)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValidationError(f"{name}={k!r}: expected an int (>= 1, or -1 for all neighbours)")
    k = int(k)
    if k < -1 or (k == 0 and not allow_zero):
        extra = ", 0 to skip" if allow_zero else ""
        raise ValidationError(f"{name}={k}: expected >= 1, or -1 for all neighbours{extra}")
    return k


def resolve_method(method: str, weighted: bool, replace: bool) -> int:
    """The kernel code of ``method`` (``weighted=True`` is shorthand for ``method='weighted'``)."""
    if method not in METHODS:
        raise ValidationError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    if weighted:
        if method not in ("uniform", "weighted"):
            raise ValidationError(f"weighted=True with method={method!r}: weighted=True means "
                                  "method='weighted'; give one or the other")
        method = "weighted"
    code = METHODS[method]
    if replace and code in (TOPK, FULL):
        raise ValidationError(f"replace=True with method={method!r}: only 'uniform' and 'weighted' "
                              "sampling can draw with replacement")
    return code


def time_bounds(adj: Any, etype: EdgeType, time_window: Any, before: Any) -> tuple[bool, int, int]:
    """``(use_time, t_min, t_max)``: keep edges with ``t_min <= time < t_max``."""
    if time_window is None and before is None:
        return False, _I64_MIN, _I64_MAX
    if time_window is not None and before is not None:
        raise ValidationError(f"time_window={time_window!r} and before={before!r}: give one of them")
    if adj.time is None:
        raise ValidationError(f"edge type {etype} has no edge times; time_window/before need them")

    def _int(v: Any, what: str) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValidationError(f"{what}={v!r}: expected an integer time (seconds)")
        return int(v)

    if before is not None:
        return True, _I64_MIN, _int(before, "before")
    if not isinstance(time_window, (tuple, list)) or len(time_window) != 2:
        raise ValidationError(f"time_window={time_window!r}: expected a pair (t_min, t_max)")
    t_min, t_max = _int(time_window[0], "time_window[0]"), _int(time_window[1], "time_window[1]")
    if t_min > t_max:
        raise ValidationError(f"time_window={time_window!r}: t_min > t_max; expected t_min <= t_max")
    return True, t_min, t_max


def weight_tables(graph: Any, etype: EdgeType, reverse: bool, method: int) -> tuple[np.ndarray, ...]:
    """``(weight, prob, alias)`` arrays for the kernels (empty ones when not needed)."""
    adj = graph.adjacency(etype, reverse=reverse)
    empty_f, empty_i = np.zeros(0, np.float32), np.zeros(0, np.int32)
    if method not in (WEIGHTED, TOPK):
        return empty_f, empty_f, empty_i
    if adj.weight is None:
        name = "weighted" if method == WEIGHTED else "topk"
        raise ValidationError(f"edge type {etype} has no edge weights; method={name!r} needs them "
                              "(use method='uniform')")
    weight = np.asarray(adj.weight)
    key = ("nonneg_weights", etype, bool(reverse))
    cache = graph.derived
    if key not in cache:
        cache[key] = bool(weight.size == 0 or weight.min() >= 0)
    if not cache[key]:
        raise ValidationError(f"edge type {etype} has negative edge weights; weighted sampling needs "
                              "weights >= 0")
    if method == TOPK:
        return weight, empty_f, empty_i
    symmetric = graph.adjacency(etype, reverse=True) is graph.adjacency(etype, reverse=False)
    prob, alias = alias_tables(graph, etype, reverse=bool(reverse) and not symmetric)
    return weight, prob, alias


# ----------------------------------------------------------------------------- kernels
@nb.njit(inline="always", cache=True)
def _row_count(c, k, replace, method):  # pragma: no cover - numba
    if method == FULL or k < 0:
        return c
    if c == 0:
        return 0
    if replace:
        return k
    return min(k, c)


@nb.njit(inline="always", cache=True)
def _count_row(indptr, time, u, k, replace, method, use_time, tmin, tmax):  # pragma: no cover - numba
    a = indptr[u]
    b = indptr[u + 1]
    c = b - a
    if use_time:
        c = 0
        for j in range(a, b):
            if time[j] >= tmin and time[j] < tmax:
                c += 1
    return _row_count(c, k, replace, method)


@nb.njit(nogil=True, parallel=True, cache=True)
def _count_rows_par(indptr, time, rows, k, replace, method, use_time, tmin, tmax):  # pragma: no cover - numba
    counts = np.empty(rows.shape[0], dtype=np.int64)
    for i in nb.prange(rows.shape[0]):
        counts[i] = _count_row(indptr, time, rows[i], k, replace, method, use_time, tmin, tmax)
    return counts


@nb.njit(nogil=True, cache=True)
def _count_rows_ser(indptr, time, rows, k, replace, method, use_time, tmin, tmax):  # pragma: no cover - numba
    counts = np.empty(rows.shape[0], dtype=np.int64)
    for i in range(rows.shape[0]):
        counts[i] = _count_row(indptr, time, rows[i], k, replace, method, use_time, tmin, tmax)
    return counts


@nb.njit(inline="always", cache=True)
def _pos(use_cand, cand, a, t):  # pragma: no cover - numba
    if use_cand:
        return cand[t]
    return a + t


@nb.njit(cache=True)
def _es_key(state, w):  # pragma: no cover - numba
    """Efraimidis–Spirakis key log(U)/w; zero weights sort after every positive one, at random."""
    state, u = next_float(state)
    if w > 0.0:
        return state, np.log(1.0 - u) / w
    return state, -1e300 * (1.0 + u)


@nb.njit(cache=True)
def _uniform_without(state, c, m, out, o):  # pragma: no cover - numba
    """``m < c`` distinct offsets in [0, c), uniform over m-subsets, written to out[o:o+m]."""
    if m <= _SMALL_K:
        cnt = 0
        for j in range(c - m, c):  # Floyd's algorithm
            state, t = next_int(state, j + 1)
            dup = False
            for q in range(cnt):
                if out[o + q] == t:
                    dup = True
                    break
            out[o + cnt] = j if dup else t
            cnt += 1
    else:
        buf = np.arange(c)
        for j in range(m):  # partial Fisher-Yates
            state, r = next_int(state, c - j)
            r += j
            tmp = buf[j]
            buf[j] = buf[r]
            buf[r] = tmp
            out[o + j] = buf[j]
    return state


@nb.njit(cache=True)
def _weighted_without(state, c, m, out, o, use_cand, cand, a, weight, prob,
                      alias):  # pragma: no cover - numba
    """``m < c`` distinct offsets by successive sampling proportional to weight."""
    cnt = 0
    if (not use_cand) and m <= _SMALL_K and c > 4 * m:
        tries = 0
        max_tries = 8 * m + 32
        while cnt < m and tries < max_tries:
            tries += 1
            state, t = alias_draw(state, a, c, prob, alias)
            dup = False
            for q in range(cnt):
                if out[o + q] == t:
                    dup = True
                    break
            if not dup:
                out[o + cnt] = t
                cnt += 1
        if cnt == m:
            return state
    # Efraimidis-Spirakis keys over the offsets not picked yet.
    keys = np.empty(c, dtype=np.float64)
    for t in range(c):
        taken = False
        for q in range(cnt):
            if out[o + q] == t:
                taken = True
                break
        if taken:
            keys[t] = -np.inf
        else:
            state, keys[t] = _es_key(state, weight[_pos(use_cand, cand, a, t)])
    order = np.argsort(-keys, kind="mergesort")
    for j in range(m - cnt):
        out[o + cnt + j] = order[j]
    return state


@nb.njit(cache=True)
def _weighted_with(state, c, m, out, o, use_cand, cand, a, weight, prob, alias):  # pragma: no cover - numba
    """``m`` offsets drawn independently proportional to weight."""
    if not use_cand:
        for j in range(m):
            state, t = alias_draw(state, a, c, prob, alias)
            out[o + j] = t
        return state
    cum = np.empty(c, dtype=np.float64)
    total = 0.0
    for t in range(c):
        w = weight[cand[t]]
        if w > 0.0:
            total += w
        cum[t] = total
    for j in range(m):
        if total <= 0.0:
            state, t = next_int(state, c)
        else:
            state, u = next_float(state)
            t = np.searchsorted(cum, u * total, side="right")
            if t >= c:
                t = c - 1
        out[o + j] = t
    return state


@nb.njit(inline="always", cache=True)
def _fill_row(i, indptr, indices, weight, time, prob, alias, rows, ptr, k, replace, method, use_time,
              tmin, tmax, seed, out, nbr, dummy):  # pragma: no cover - numba
    """Write row i's sampled CSR positions to ``out[ptr[i]:ptr[i + 1]]`` (and the neighbours to
    ``nbr``) from random stream i."""
    o = ptr[i]
    m = ptr[i + 1] - o
    if m == 0:
        return
    u = rows[i]
    a = indptr[u]
    b = indptr[u + 1]
    c = b - a
    cand = dummy
    if use_time:
        cand = np.empty(c, dtype=np.int64)
        c = 0
        for j in range(a, b):
            if time[j] >= tmin and time[j] < tmax:
                cand[c] = j
                c += 1
    state = stream(seed, i)
    if method == TOPK:
        w = np.empty(c, dtype=np.float64)
        for t in range(c):
            w[t] = -weight[_pos(use_time, cand, a, t)]
        order = np.argsort(w, kind="mergesort")
        for j in range(m):
            out[o + j] = order[j]
    elif method == FULL or k < 0 or (m == c and not replace):
        for j in range(m):
            out[o + j] = j
    elif method == UNIFORM and replace:
        for j in range(m):
            state, t = next_int(state, c)
            out[o + j] = t
    elif method == UNIFORM:
        state = _uniform_without(state, c, m, out, o)
    elif replace:
        state = _weighted_with(state, c, m, out, o, use_time, cand, a, weight, prob, alias)
    else:
        state = _weighted_without(state, c, m, out, o, use_time, cand, a, weight, prob, alias)
    for j in range(m):
        p = _pos(use_time, cand, a, out[o + j])
        out[o + j] = p
        nbr[o + j] = indices[p]


@nb.njit(nogil=True, parallel=True, cache=True)
def _fill_rows_par(indptr, indices, weight, time, prob, alias, rows, ptr, k, replace, method, use_time,
                   tmin, tmax, seed, out, nbr):  # pragma: no cover - numba
    dummy = np.zeros(0, dtype=np.int64)
    for i in nb.prange(rows.shape[0]):
        _fill_row(i, indptr, indices, weight, time, prob, alias, rows, ptr, k, replace, method, use_time,
                  tmin, tmax, seed, out, nbr, dummy)


@nb.njit(nogil=True, cache=True)
def _fill_rows_ser(indptr, indices, weight, time, prob, alias, rows, ptr, k, replace, method, use_time,
                   tmin, tmax, seed, out, nbr):  # pragma: no cover - numba
    dummy = np.zeros(0, dtype=np.int64)
    for i in range(rows.shape[0]):
        _fill_row(i, indptr, indices, weight, time, prob, alias, rows, ptr, k, replace, method, use_time,
                  tmin, tmax, seed, out, nbr, dummy)


def sample_positions(adj: Any, tables: tuple[np.ndarray, ...], rows: np.ndarray, k: int, replace: bool,
                     method: int, time_filter: tuple[bool, int, int],
                     seed: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, CSR positions, neighbour ids)`` of a one-hop sample of ``rows`` (validated inputs)."""
    use_time, tmin, tmax = time_filter
    time = np.asarray(adj.time) if use_time else np.zeros(0, np.int64)
    indptr = np.asarray(adj.indptr)
    # Small jobs run serially: a parallel launch costs more than it saves (results are identical).
    count = _count_rows_ser if rows.shape[0] < _PARALLEL_ROWS and not use_time else _count_rows_par
    counts = count(indptr, time, rows, k, replace, method, use_time, tmin, tmax)
    ptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    out = np.empty(int(ptr[-1]), dtype=np.int64)
    nbr = np.empty(out.size, dtype=adj.indices.dtype)
    if out.size:
        weight, prob, alias = tables
        scans = use_time or method == TOPK or (method == WEIGHTED and not replace)  # O(degree) rows
        heavy = out.size >= _PARALLEL_DRAWS or (scans and rows.shape[0] >= 256)
        fill = _fill_rows_par if heavy else _fill_rows_ser
        fill(indptr, np.asarray(adj.indices), weight, time, prob, alias, rows, ptr, k, replace, method,
             use_time, tmin, tmax, np.uint64(seed), out, nbr)
    return ptr, out, nbr


# ----------------------------------------------------------------------------- public
def sample_neighbors(graph: Any, nodes: Any, k: int, *, etype: Any = None, reverse: bool = False,
                     replace: bool = False, weighted: bool = False, method: str = "uniform",
                     time_window: tuple[int, int] | None = None, before: int | None = None,
                     random_state: Any = None) -> SampledNeighbors:
    """Sample up to ``k`` neighbours of each node along one edge type.

    Row ``u`` of degree ``c`` (edges inside the time filter) returns:

    * ``method="uniform"``: ``k`` neighbours uniformly — with replacement ``k`` independent draws,
      without it a uniform k-subset (Floyd's algorithm / partial Fisher–Yates);
    * ``method="weighted"`` (or ``weighted=True``): ``P(v) = w_uv / Σ_v' w_uv'`` — with replacement
      by alias tables, without it by successive sampling (Efraimidis & Spirakis, IPL 2006);
    * ``method="topk"``: the ``k`` heaviest edges;
    * ``method="full"`` (or ``k=-1``): all ``c`` edges.

    Without replacement, rows with ``c <= k`` return all their edges; rows with ``c = 0`` return
    none (also with replacement). Each row draws from its own random stream, so the result for a
    given ``random_state`` is the same on any number of threads.

    Args:
        graph: a :class:`~vastgraph.graph.GraphStore`.
        nodes: dense ids ``(n,)`` of ``etype``'s source type (destination type when ``reverse``).
            Repeats are sampled independently. Empty gives an empty result.
        k: neighbours per node, >= 1, or -1 for all (every edge once, even with ``replace``).
        etype: edge type (None: the graph's only one).
        reverse: sample in-neighbours from the CSC instead of out-neighbours. Default False.
        replace: draw with replacement (uniform/weighted only). Default False.
        weighted: shorthand for ``method="weighted"``. Weighted and top-k sampling on an edge type
            without weights raise :class:`~vastgraph.errors.ValidationError`. Default False.
        method: ``"uniform"`` | ``"weighted"`` | ``"topk"`` | ``"full"``. Default ``"uniform"``.
        time_window: ``(t_min, t_max)``: only edges with ``t_min <= time < t_max``. Default None.
        before: only edges with ``time < before``. Default None (give at most one of the two).
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        :class:`SampledNeighbors` (CSR over ``nodes``, with CSR positions, weights and times).

    Example:
        >>> s = sample_neighbors(g, [0, 5], 10, random_state=0)
        >>> s.indices[s.indptr[1]:s.indptr[2]]  # sampled neighbours of node 5
    """
    et = graph.edge_type(etype)
    reverse = bool(reverse)
    adj = graph.adjacency(et, reverse=reverse)
    rows = as_node_ids(graph, et.dst if reverse else et.src, nodes, "nodes")
    k = check_count(k, "k")
    code = resolve_method(method, weighted, bool(replace))
    filt = time_bounds(adj, et, time_window, before)
    tables = weight_tables(graph, et, reverse, code)
    seed = seed_from(random_state)
    ptr, pos, indices = sample_positions(adj, tables, rows, k, bool(replace), code, filt, seed)
    weights = None if adj.weight is None else np.asarray(adj.weight)[pos]
    times = None if adj.time is None else np.asarray(adj.time)[pos]
    return SampledNeighbors(rows, ptr, indices, pos, weights, times, et, reverse)
