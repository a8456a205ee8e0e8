"""The local engine's query hops: full expansion or per-row samples over the CSR, the CSC, or the
merged out+in rows of a directed edge type within one node type (cached)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.sampling.engine import HopResult
from vastgraph.sampling.local.alias import build_alias
from vastgraph.sampling.local.query_kernels import (MODE_TOP, MODE_UNIFORM, MODE_WEIGHT, expand_rows,
                                                    merge_rows, sample_counts, sample_rows)

_NO_F32 = np.empty(0, np.float32)
_NO_I32 = np.empty(0, np.int32)
BY = ("uniform", "weight", "topk", "latest")
DIRECTIONS = ("out", "in", "both")


def both_adjacency(eng: Any, et: EdgeType) -> tuple:
    """``(indptr, indices, weight, time, alias tables)`` of out- then in-neighbours of each node."""
    fwd, rev = eng.adjacency(et), eng.adjacency(et, True)
    indptr = np.asarray(fwd.indptr) + np.asarray(rev.indptr)

    def merged(a: Any, b: Any, dtype: Any) -> np.ndarray:
        out = np.empty(int(indptr[-1]), dtype=dtype)
        merge_rows(fwd.indptr, np.asarray(a, dtype=dtype), rev.indptr, np.asarray(b, dtype=dtype), indptr, out)
        return out

    ind = merged(fwd.indices, rev.indices, np.int64)
    w = None if fwd.weight is None else merged(fwd.weight, rev.weight, np.float32)
    t = None if fwd.time is None else merged(fwd.time, rev.time, np.int64)
    tables = None if w is None else build_alias(indptr, w)
    return indptr, ind, w, t, tables


def hop(eng: Any, etype: Any, nodes: np.ndarray, direction: str, k: int | None, by: str, replace: bool,
        seed: Any) -> HopResult:
    """See :meth:`~vastgraph.sampling.engine.SamplingEngine.hop`."""
    graph = eng.graph
    et = graph.edge_type(etype)
    if direction not in DIRECTIONS:
        raise ValidationError(f"direction={direction!r}: expected one of {', '.join(DIRECTIONS)}")
    if by not in BY:
        raise ValidationError(f"by={by!r}: expected one of {', '.join(BY)}")
    nodes = graph.check_nodes(et.src if direction == "out" else et.dst, nodes)
    if direction == "both":  # a directed edge type within one node type: out- then in-neighbours
        indptr, indices, weight, time, tables = eng.cached(("query_both", et), lambda: both_adjacency(eng, et))
        reverse = False
    else:
        reverse = direction == "in" and not (et.src == et.dst and graph.is_undirected(et))
        adj = eng.adjacency(et, reverse)
        indptr, indices = np.asarray(adj.indptr), adj.indices
        weight = None if adj.weight is None else np.asarray(adj.weight)
        time = None if adj.time is None else np.asarray(adj.time)
        tables = None
    if k is None:
        parent, pos = expand_rows(indptr, nodes)
    else:
        parent, pos = _sample(eng, et, reverse, direction == "both", nodes, int(k), by, bool(replace), indptr,
                              weight, time, tables, np.uint64(seed))
    nbr = np.asarray(indices[pos], dtype=np.int64)
    return HopResult(parent, nbr, None if weight is None else weight[pos], None if time is None else time[pos])


def _sample(eng: Any, et: EdgeType, reverse: bool, merged: bool, nodes: np.ndarray, k: int, by: str,
            replace: bool, indptr: np.ndarray, weight: Any, time: Any, tables: Any,
            seed: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """``(parent, CSR position)`` of ``k`` draws per node.

    One-direction hops by uniform/weight/topk are :meth:`LocalEngine.sample_neighbors`; the rest
    (``latest``, and merged out+in rows) use the query kernel.
    """
    need = {"weight": ("weight", weight), "topk": ("weight", weight), "latest": ("time", time)}
    if by in need and need[by][1] is None:
        raise ValidationError(f"hop along {et}: edge type {et} has no {need[by][0]}s to sample by; "
                              "use by('uniform')")
    if not merged and by != "latest":
        method = {"uniform": "uniform", "weight": "weighted", "topk": "topk"}[by]
        res = eng.sample_neighbors(nodes, k, etype=et, reverse=reverse, replace=replace, method=method,
                                   random_state=int(seed))
        parent = np.repeat(np.arange(nodes.shape[0], dtype=np.int64), res.counts())
        return parent, res.edge_pos
    if by == "weight" and weight.size and weight.min() < 0:
        raise ValidationError(f"hop along {et}: edge type {et} has negative weights; expected weights >= 0")
    mode = {"uniform": MODE_UNIFORM, "weight": MODE_WEIGHT, "topk": MODE_TOP, "latest": MODE_TOP}[by]
    values = {"weight": weight, "topk": weight, "latest": time}.get(by, _NO_F32)
    prob, alias = tables if (tables is not None and by == "weight") else (_NO_F32, _NO_I32)
    offs = sample_counts(indptr, nodes, k, replace)
    pos = sample_rows(indptr, nodes, offs, k, mode, replace, prob, alias, values, seed)
    parent = np.repeat(np.arange(nodes.shape[0], dtype=np.int64), np.diff(offs))
    return parent, pos
