"""Numba kernels behind the query language that need no adjacency: node draws, per-group ranks
and first occurrences. The hop kernels over a CSR are in :mod:`vastgraph.sampling.local.query_kernels`
(re-exported here).

Example:
    >>> import numpy as np
    >>> first_occurrences([(np.array([3, 1, 3, 2, 1]), 4)]).tolist()
    [0, 1, 3]
"""

from __future__ import annotations

import numba as nb
import numpy as np

from vastgraph.sampling.local.alias import alias_draw
from vastgraph.sampling.local.query_kernels import (MODE_TOP, MODE_UNIFORM, MODE_WEIGHT,  # noqa: F401
                                                  expand_rows, merge_rows, sample_counts, sample_rows)
from vastgraph.seeding import next_int, stream


@nb.njit(nogil=True, parallel=True, cache=True)
def draw_nodes(n_rows, per_row, n_nodes, weighted, prob, alias, seed):  # pragma: no cover - numba
    """``per_row`` node ids for each of ``n_rows`` rows: uniform, or from one alias table."""
    out = np.empty(n_rows * per_row, dtype=np.int64)
    for i in nb.prange(n_rows):
        st = stream(seed, i)
        for t in range(per_row):
            if weighted:
                st, j = alias_draw(st, 0, n_nodes, prob, alias)
            else:
                st, j = next_int(st, n_nodes)
            out[i * per_row + t] = j
    return out


@nb.njit(nogil=True, cache=True)
def rank_within(groups, n_groups):  # pragma: no cover - numba
    """For each row, how many earlier rows share its group (O(rows), one pass)."""
    seen = np.zeros(n_groups, dtype=np.int64)
    out = np.empty(groups.shape[0], dtype=np.int64)
    for r in range(groups.shape[0]):
        g = groups[r]
        out[r] = seen[g]
        seen[g] += 1
    return out


def first_occurrences(keys: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Sorted indices of the rows whose key tuple has not occurred in an earlier row.

    ``keys`` holds ``(column, span)`` pairs with ``0 <= column < span``; the columns are packed
    into one int64 when the spans' product fits, else sorted lexicographically.
    """
    n = keys[0][0].shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    total = 1
    for _, span in keys:
        total *= max(int(span), 1)
    if total < 2**62:
        packed = np.zeros(n, dtype=np.int64)
        for col, span in keys:
            packed = packed * max(int(span), 1) + col
        _, first = np.unique(packed, return_index=True)
        return np.sort(first)
    cols = [col for col, _ in keys]
    order = np.lexsort([np.arange(n)] + cols[::-1])
    same = np.ones(n - 1, dtype=bool)
    for col in cols:
        srt = col[order]
        same &= srt[1:] == srt[:-1]
    first = np.concatenate([[True], ~same])
    return np.sort(order[first])
