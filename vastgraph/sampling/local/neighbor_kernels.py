"""Numba kernels of one-hop neighbour sampling over a CSR (see :mod:`vastgraph.sampling.neighbors`).

Every row draws from its own counter-based stream ``stream(seed, i)``; small jobs run serially
(identical results, no parallel launch cost).
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from vastgraph.sampling.local.alias import alias_draw
from vastgraph.seeding import next_float, next_int, stream

UNIFORM, WEIGHTED, TOPK, FULL = 0, 1, 2, 3
_SMALL_K = 64  # Floyd / rejection sampling up to this k; buffers beyond
_PARALLEL_ROWS = 1 << 16  # count kernel: serial below this many rows
_PARALLEL_DRAWS = 1 << 17  # fill kernel: serial below this many sampled edges (cheap methods)


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
