"""Per-row alias tables (Walker/Vose) over a CSR's edge weights, for O(1) weighted draws.

Tables are built once per edge type and direction, lazily, and cached on the graph object
(``graph.derived``); memory is O(edges): one float32 probability and one int32 alias per entry.
"""

from __future__ import annotations

from typing import Any

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


def alias_tables(graph: Any, etype: Any = None, reverse: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """Cached alias tables of one edge type/direction, or None for an unweighted edge type."""
    et = graph.edge_type(etype)
    key = ("alias", et, bool(reverse))
    cache = graph.derived
    if key not in cache:
        adj = graph.adjacency(et, reverse=reverse)
        cache[key] = None if adj.weight is None else build_alias(adj.indptr, np.asarray(adj.weight))
    return cache[key]
