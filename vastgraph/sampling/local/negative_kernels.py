"""Numba kernels of negative sampling and edge sampling (see :mod:`vastgraph.sampling.negative`)."""

from __future__ import annotations

import numba as nb
import numpy as np

from vastgraph.graph.csr_kernels import lower_bound
from vastgraph.sampling.local.alias import alias_draw
from vastgraph.seeding import next_float, next_int, stream


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
def coins(seed, n):  # pragma: no cover - numba
    out = np.empty(n, dtype=np.bool_)
    for i in nb.prange(n):
        state, u = next_float(stream(seed, i))
        out[i] = u < 0.5
    return out


@nb.njit(nogil=True, parallel=True, cache=True)
def draw_edges(indptr, indices, use_alias, prob, alias, seed, src, dst, pos):  # pragma: no cover - numba
    """Edge ``i``: a CSR position in [0, nnz) from stream ``i`` (∝ weight with ``use_alias``), its
    row (binary search in ``indptr``) and column."""
    nnz = indices.shape[0]
    n_rows = indptr.shape[0] - 1
    for i in nb.prange(pos.shape[0]):
        state = stream(seed, i)
        if use_alias:
            state, e = alias_draw(state, 0, nnz, prob, alias)
        else:
            state, e = next_int(state, nnz)
        lo = 0
        hi = n_rows
        while hi - lo > 1:  # last row r with indptr[r] <= e
            mid = (lo + hi) // 2
            if indptr[mid] <= e:
                lo = mid
            else:
                hi = mid
        pos[i] = e
        src[i] = lo
        dst[i] = indices[e]
