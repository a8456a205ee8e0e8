"""Numba kernels of the temporal (CTDNE) walks: rows sorted by time once, then time-respecting steps.

Example:
    >>> import numpy as np
    >>> ind, keys = sort_rows_by_key(np.array([0, 3]), np.array([4, 5, 6]), np.array([9, 1, 5]))
    >>> ind.tolist(), keys.tolist()
    ([5, 6, 4], [1, 5, 9])
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from vastgraph.graph.csr_kernels import lower_bound
from vastgraph.sampling.local.walk_kernels import LANES, init_lanes
from vastgraph.seeding import next_float, next_int

BIAS_CODE = {"uniform": 0, "exponential": 1, "linear": 2}


@nb.njit(nogil=True, parallel=True, cache=True)
def sort_rows_by_key(indptr, indices, keys):  # pragma: no cover - numba
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
def temporal_kernel(indptr, indices, keys, sign, starts, first, count, walk_length, seed, start_key,
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
