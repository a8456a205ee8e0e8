"""Numba kernels of query hops over a CSR: row expansion, per-row sampling, merged out+in rows.

Every row ``i`` of a frontier draws from its own stream ``stream(seed, i)``, so a result depends
only on the seed, never on the thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from vastgraph.sampling.local.alias import alias_draw
from vastgraph.seeding import next_float, next_int, stream

MODE_UNIFORM, MODE_WEIGHT, MODE_TOP = 0, 1, 2
_SMALL_K = 64  # up to this k, sample by rejection with a linear membership check


def expand_rows(indptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All CSR positions of the rows ``nodes``: ``(parent row index, position)``, both int64."""
    indptr = np.asarray(indptr)
    starts = indptr[nodes]
    deg = indptr[nodes + 1] - starts
    parent = np.repeat(np.arange(nodes.shape[0], dtype=np.int64), deg)
    excl = np.cumsum(deg) - deg
    pos = np.arange(parent.shape[0], dtype=np.int64) + np.repeat(starts - excl, deg)
    return parent, pos


def sample_counts(indptr: np.ndarray, nodes: np.ndarray, k: int, replace: bool) -> np.ndarray:
    """Rows' output offsets ``(n + 1,)``: ``min(deg, k)`` per row, or ``k`` (``replace``, deg > 0)."""
    indptr = np.asarray(indptr)
    deg = indptr[nodes + 1] - indptr[nodes]
    cnt = np.where(deg > 0, k, 0) if replace else np.minimum(deg, k)
    offs = np.zeros(nodes.shape[0] + 1, dtype=np.int64)
    np.cumsum(cnt, out=offs[1:])
    return offs


@nb.njit(inline="always", cache=True)
def _seen(out, lo, hi, x):  # pragma: no cover - numba
    for t in range(lo, hi):
        if out[t] == x:
            return True
    return False


@nb.njit(nogil=True, parallel=True, cache=True)
def sample_rows(indptr, nodes, offs, k, mode, replace, prob, alias, values, seed):  # pragma: no cover
    """CSR positions of ``k`` draws per row of ``nodes`` into ``out[offs[i]:offs[i+1]]``.

    ``mode`` 0: uniform; 1: proportional to weight (alias tables ``prob``/``alias``; without
    replacement by successive sampling: rejection of repeats, then Efraimidis–Spirakis keys
    ``log(u)/w`` over what is left); 2: the ``k`` largest ``values`` (ties: lower position first).
    """
    n = nodes.shape[0]
    out = np.empty(offs[n], dtype=np.int64)
    for i in nb.prange(n):
        u = nodes[i]
        a = indptr[u]
        deg = indptr[u + 1] - a
        lo = offs[i]
        m = offs[i + 1] - lo
        if m == 0:
            continue
        st = stream(seed, i)
        if replace:
            for t in range(m):
                if mode == MODE_WEIGHT:
                    st, j = alias_draw(st, a, deg, prob, alias)
                else:
                    st, j = next_int(st, deg)
                out[lo + t] = a + j
            continue
        if m == deg:
            for t in range(m):
                out[lo + t] = a + t
            continue
        if mode == MODE_TOP:
            keys = np.empty(deg, dtype=np.float64)
            for t in range(deg):
                keys[t] = -np.float64(values[a + t])
            order = np.argsort(keys, kind="mergesort")
            for t in range(m):
                out[lo + t] = a + order[t]
            continue
        if mode == MODE_UNIFORM and m <= _SMALL_K:
            # Floyd's algorithm: m distinct offsets, each subset equally likely
            filled = 0
            for r in range(deg - m, deg):
                st, j = next_int(st, r + 1)
                if _seen(out, lo, lo + filled, a + j):
                    j = r
                out[lo + filled] = a + j
                filled += 1
            continue
        if mode == MODE_UNIFORM:
            perm = np.arange(deg)
            for t in range(m):
                st, j = next_int(st, deg - t)
                j += t
                tmp = perm[t]
                perm[t] = perm[j]
                perm[j] = tmp
                out[lo + t] = a + perm[t]
            continue
        # weighted, without replacement
        filled = 0
        if m <= _SMALL_K:
            tries = 0
            while filled < m and tries < 8 * m:
                tries += 1
                st, j = alias_draw(st, a, deg, prob, alias)
                if not _seen(out, lo, lo + filled, a + j):
                    out[lo + filled] = a + j
                    filled += 1
        if filled < m:
            keys = np.empty(deg, dtype=np.float64)
            for t in range(deg):
                w = np.float64(values[a + t])
                if _seen(out, lo, lo + filled, a + t):
                    keys[t] = np.inf  # already taken
                elif w > 0.0:
                    st, x = next_float(st)
                    keys[t] = -np.log(1.0 - x) / w  # -(log u)/w: smaller is earlier
                else:
                    keys[t] = 1e300 + t  # zero weight: only when nothing else is left
            order = np.argsort(keys, kind="mergesort")
            for t in range(m - filled):
                out[lo + filled + t] = a + order[t]
    return out


@nb.njit(nogil=True, parallel=True, cache=True)
def merge_rows(indptr_a, a, indptr_b, b, indptr_out, out):  # pragma: no cover - numba
    """Row ``u`` of ``out`` = row ``u`` of ``a`` followed by row ``u`` of ``b``."""
    n = indptr_out.shape[0] - 1
    for u in nb.prange(n):
        p = indptr_out[u]
        for j in range(indptr_a[u], indptr_a[u + 1]):
            out[p] = a[j]
            p += 1
        for j in range(indptr_b[u], indptr_b[u + 1]):
            out[p] = b[j]
            p += 1
