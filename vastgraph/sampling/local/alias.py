"""Per-row alias tables (Walker/Vose) over a CSR's edge weights, for O(1) weighted draws.

The local engine builds them once per edge type and direction, lazily, and keeps them in its
cache (:meth:`LocalEngine.alias_tables`); memory is O(edges): one float32 probability and one
int32 alias per entry. ``build_alias(np.array([0, n]), w)`` is one table over ``n`` items.

Example:
    >>> import numpy as np
    >>> prob, alias = build_alias(np.array([0, 3], dtype=np.int64), np.array([1.0, 1.0, 2.0], np.float32))
    >>> prob.dtype, alias.dtype, prob.shape
    (dtype('float32'), dtype('int32'), (3,))
"""

from __future__ import annotations

import numba as nb
import numpy as np

from vastgraph.seeding import next_float


@nb.njit(nogil=True, parallel=True, cache=True)
def build_alias(indptr, weight):  # pragma: no cover - numba
    """Row-local alias tables: ``prob`` (float32) and ``alias`` (int32, offsets within the row)."""
    nnz = weight.shape[0]
    prob = np.ones(nnz, dtype=np.float32)
    alias = np.zeros(nnz, dtype=np.int32)
    n = indptr.shape[0] - 1
    for u in nb.prange(n):
        a = indptr[u]
        b = indptr[u + 1]
        k = b - a
        if k == 0:
            continue
        total = 0.0
        for j in range(a, b):
            total += weight[j]
        if total <= 0.0:
            for j in range(k):
                prob[a + j] = 1.0
                alias[a + j] = j
            continue
        scaled = np.empty(k, dtype=np.float64)
        small = np.empty(k, dtype=np.int64)
        large = np.empty(k, dtype=np.int64)
        ns = 0
        nl = 0
        for j in range(k):
            scaled[j] = weight[a + j] * k / total
            if scaled[j] < 1.0:
                small[ns] = j
                ns += 1
            else:
                large[nl] = j
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            s = small[ns]
            l = large[nl - 1]
            prob[a + s] = scaled[s]
            alias[a + s] = l
            scaled[l] = scaled[l] + scaled[s] - 1.0
            if scaled[l] < 1.0:
                nl -= 1
                small[ns] = l
                ns += 1
        while nl > 0:
            nl -= 1
            prob[a + large[nl]] = 1.0
            alias[a + large[nl]] = large[nl]
        while ns > 0:
            ns -= 1
            prob[a + small[ns]] = 1.0
            alias[a + small[ns]] = small[ns]
    return prob, alias


@nb.njit(inline="always", cache=True)
def alias_draw(state, a, k, prob, alias):  # pragma: no cover - numba
    """Draw an offset in [0, k) from the alias table of the row starting at ``a``."""
    state, u = next_float(state)
    x = u * k
    j = np.int64(x)
    if j >= k:
        j = k - 1
    if x - j < prob[a + j]:
        return state, j
    return state, np.int64(alias[a + j])
