"""Numba kernels that turn COO edge chunks into sorted, de-duplicated CSR arrays.

All kernels work in place on preallocated (possibly memory-mapped) arrays so a graph larger than
memory can be built chunk by chunk. Rows are sorted by destination (stable, so the first
occurrence of a duplicate edge stays first), which lets edge lookups use binary search.
"""

from __future__ import annotations

import numba as nb
import numpy as np

DUPLICATE_POLICIES = ("keep", "sum", "first")
SELF_LOOP_POLICIES = ("keep", "drop")


@nb.njit(nogil=True, cache=True)
def scatter_fill(src, dst, w, t, cursor, indices, weights, times, has_w, has_t):  # pragma: no cover - numba
    """Append one chunk of edges to their rows; ``cursor[u]`` is the next free slot of row u."""
    for i in range(src.shape[0]):
        u = src[i]
        pos = cursor[u]
        indices[pos] = dst[i]
        if has_w:
            weights[pos] = w[i]
        if has_t:
            times[pos] = t[i]
        cursor[u] = pos + 1


@nb.njit(nogil=True, parallel=True, cache=True)
def sort_rows(indptr, indices, weights, times, has_w, has_t):  # pragma: no cover - numba
    """Sort each row by destination id, stably, carrying weights and times along."""
    n = indptr.shape[0] - 1
    for u in nb.prange(n):
        a = indptr[u]
        b = indptr[u + 1]
        if b - a < 2:
            continue
        row = indices[a:b]
        already = True
        for j in range(1, b - a):
            if row[j] < row[j - 1]:
                already = False
                break
        if already:
            continue
        order = np.argsort(row, kind="mergesort")
        indices[a:b] = row[order]
        if has_w:
            weights[a:b] = weights[a:b][order]
        if has_t:
            times[a:b] = times[a:b][order]


@nb.njit(nogil=True, parallel=True, cache=True)
def unique_counts(indptr, indices):  # pragma: no cover - numba
    """Number of distinct destinations in each (sorted) row."""
    n = indptr.shape[0] - 1
    out = np.zeros(n, dtype=np.int64)
    for u in nb.prange(n):
        a = indptr[u]
        b = indptr[u + 1]
        c = 0
        for j in range(a, b):
            if j == a or indices[j] != indices[j - 1]:
                c += 1
        out[u] = c
    return out


@nb.njit(nogil=True, parallel=True, cache=True)
def compact_rows(indptr, indices, weights, times, new_indptr, new_indices, new_weights, new_times,
                 has_w, has_t, sum_policy):  # pragma: no cover - numba
    """Collapse runs of equal destinations: 'sum' adds weights and keeps the latest time,
    'first' keeps the first occurrence's weight and time."""
    n = indptr.shape[0] - 1
    for u in nb.prange(n):
        a = indptr[u]
        b = indptr[u + 1]
        out = new_indptr[u] - 1
        for j in range(a, b):
            if j == a or indices[j] != indices[j - 1]:
                out += 1
                new_indices[out] = indices[j]
                if has_w:
                    new_weights[out] = weights[j]
                if has_t:
                    new_times[out] = times[j]
            elif sum_policy:
                if has_w:
                    new_weights[out] += weights[j]
                if has_t and times[j] > new_times[out]:
                    new_times[out] = times[j]


@nb.njit(nogil=True, cache=True)
def transpose_fill(indptr, indices, weights, times, cursor, t_indices, t_weights, t_times,
                   has_w, has_t):  # pragma: no cover - numba
    """Fill the transpose (CSC) of a CSR; scanning rows in order keeps each column sorted."""
    n = indptr.shape[0] - 1
    for u in range(n):
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            pos = cursor[v]
            t_indices[pos] = u
            if has_w:
                t_weights[pos] = weights[j]
            if has_t:
                t_times[pos] = times[j]
            cursor[v] = pos + 1


@nb.njit(inline="always", cache=True)
def lower_bound(indices, a, b, x):  # pragma: no cover - numba
    """First position in the sorted slice ``indices[a:b]`` holding a value >= x (``b`` if none)."""
    lo = a
    hi = b
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@nb.njit(nogil=True, parallel=True, cache=True)
def find_edges(indptr, indices, src, dst):  # pragma: no cover - numba
    """Position of edge (src[i], dst[i]) in the CSR (first match), or -1; rows must be sorted."""
    m = src.shape[0]
    out = np.full(m, -1, dtype=np.int64)
    for i in nb.prange(m):
        b = indptr[src[i] + 1]
        lo = lower_bound(indices, indptr[src[i]], b, dst[i])
        if lo < b and indices[lo] == dst[i]:
            out[i] = lo
    return out


@nb.njit(nogil=True, parallel=True, cache=True)
def induced_counts(indptr, indices, src_map, dst_map, keep_src):  # pragma: no cover - numba
    """Per kept source row, the number of neighbours whose destination is kept."""
    k = keep_src.shape[0]
    out = np.zeros(k, dtype=np.int64)
    for i in nb.prange(k):
        u = keep_src[i]
        c = 0
        for j in range(indptr[u], indptr[u + 1]):
            if dst_map[indices[j]] >= 0:
                c += 1
        out[i] = c
    return out


@nb.njit(nogil=True, parallel=True, cache=True)
def induced_fill(indptr, indices, dst_map, keep_src, new_indptr, new_indices, edge_pos):  # pragma: no cover
    """Relabelled neighbours of kept rows restricted to kept destinations, plus source positions."""
    k = keep_src.shape[0]
    for i in nb.prange(k):
        u = keep_src[i]
        out = new_indptr[i]
        for j in range(indptr[u], indptr[u + 1]):
            d = dst_map[indices[j]]
            if d >= 0:
                new_indices[out] = d
                edge_pos[out] = j
                out += 1
