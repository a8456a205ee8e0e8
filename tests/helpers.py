"""Helpers shared by several test modules (tests/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np


def edge_tuples(g, et=None) -> list[tuple]:
    """Sorted (src id, dst id[, weight][, time]) tuples of one edge type, in external ids."""
    et = g.edge_type(et)
    s, d = g.edge_index(et)
    adj = g.adjacency(et)
    cols = [g.external_ids(et.src, s).tolist(), g.external_ids(et.dst, d).tolist()]
    if adj.weight is not None:
        cols.append(np.asarray(adj.weight).tolist())
    if adj.time is not None:
        cols.append(np.asarray(adj.time).tolist())
    return sorted(zip(*cols))
