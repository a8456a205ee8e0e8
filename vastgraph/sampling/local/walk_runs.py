"""The local engine's walk drivers: validated :class:`~vastgraph.sampling.engine.WalkSpec` → kernel.

Each driver resolves the spec against the graph (with the backend-independent checks of the public
modules), fetches the CSR arrays and the engine's cached tables, and fills the output in chunks
(:func:`~vastgraph.sampling.walks.run_chunked`). Walk ``i`` draws from ``stream(seed, i)``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from vastgraph.sampling.engine import WalkResult, WalkSpec
from vastgraph.sampling.local.temporal_kernels import temporal_kernel
from vastgraph.sampling.local.walk_kernels import (alias_walks, metapath_kernel, node2vec_walks,
                                                   uniform_tuple, uniform_walks)
from vastgraph.sampling.walks import check_start, run_chunked, use_weights, walk_edge_type

_INT32_MAX = np.iinfo(np.int32).max
_EMPTY_F32, _EMPTY_I32, _EMPTY_F64 = np.empty(0, np.float32), np.empty(0, np.int32), np.empty(0, np.float64)


def run_walks(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64,
              progress: Callable[[int, int], None] | None) -> WalkResult:
    """Dispatch on ``spec.kind``."""
    if spec.kind == "metapath":
        return WalkResult(metapath(eng, spec, start, seed), None, spec)
    if spec.kind == "temporal":
        walks, times = temporal(eng, spec, start, seed)
        return WalkResult(walks, times, spec)
    return WalkResult(first_or_second_order(eng, spec, start, seed, progress), None, spec)


def first_or_second_order(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64,
                          progress: Callable[[int, int], None] | None) -> np.ndarray:
    """Uniform, weighted and node2vec walks (see :func:`~vastgraph.sampling.walks.random_walks`)."""
    graph = eng.graph
    et = walk_edge_type(graph, spec.etype, "random_walks")
    starts = check_start(graph, et.src, start)
    length = spec.walk_length
    if spec.kind == "uniform":
        use_w, p_inv, q_inv = False, 1.0, 1.0
    else:
        use_w = use_weights(graph, True if spec.kind == "weighted" else spec.weighted, et)
        p_inv, q_inv = (1.0 / spec.p, 1.0 / spec.q) if spec.kind == "node2vec" else (1.0, 1.0)
    adj = eng.adjacency(et)
    n_walks = starts.shape[0] * spec.walks_per_node
    n_nodes = graph.num_nodes(et.src)
    out = np.empty((n_walks, length + 1), dtype=np.int32 if n_nodes <= _INT32_MAX else np.int64)
    indptr, indices = np.asarray(adj.indptr), np.asarray(adj.indices)
    if use_w:
        rowsum = eng.row_sums(et, False)
        prob, alias = eng.alias_tables(et, False)
        weight = np.asarray(adj.weight)
    else:
        rowsum, weight, prob, alias = _EMPTY_F64, _EMPTY_F32, _EMPTY_F32, _EMPTY_I32
    first_order = p_inv == 1.0 and q_inv == 1.0
    # the return edge's weight is needed only when it is folded out (1/p > max(1, 1/q)); the
    # membership test x ∈ N(t) only when q != 1
    symmetric = p_inv > max(1.0, q_inv) and eng.simple_symmetric(et)
    no_filter = (np.empty(0, np.uint64), np.uint64(0))
    bits, shift = eng.edge_filter(et) if (not first_order and q_inv != 1.0) else no_filter

    def run(first: int, count: int, block: np.ndarray) -> None:
        if first_order and not use_w:
            uniform_walks(indptr, indices, starts, first, count, length, seed, block)
        elif first_order:
            alias_walks(indptr, indices, prob, alias, starts, first, count, length, seed, block)
        else:
            node2vec_walks(indptr, indices, weight, rowsum, prob, alias, use_w, symmetric, bits, shift,
                           starts, first, count, length, seed, p_inv, q_inv, block)

    run_chunked(run, out, progress)
    return out


def metapath(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64) -> np.ndarray:
    """Metapath walks (see :func:`~vastgraph.sampling.metapath.metapath_walks`); global ids out."""
    from vastgraph.sampling.metapath import check_metapath, ends

    graph = eng.graph
    steps, flags, starts, start_type = check_metapath(graph, spec, start)
    offsets = graph.node_offsets()
    adjs = [eng.adjacency(et, rev) for et, rev in steps]
    idx_dtype = np.result_type(*[adj.indices.dtype for adj in adjs])
    indptrs, indices, probs, aliases = [], [], [], []
    for (et, rev), adj, use_w in zip(steps, adjs, flags):
        indptrs.append(np.asarray(adj.indptr, dtype=np.int64))
        indices.append(np.asarray(adj.indices, dtype=idx_dtype))
        if use_w:
            eng.row_sums(et, rev)  # rejects negative weights
            prob, alias = eng.alias_tables(et, rev)
        else:
            prob, alias = _EMPTY_F32, _EMPTY_I32
        probs.append(prob)
        aliases.append(alias)
    indptrs, indices, probs, aliases = (uniform_tuple(x) for x in (indptrs, indices, probs, aliases))
    dst_offsets = np.array([offsets[ends(s)[1]] for s in steps], dtype=np.int64)
    length = spec.walk_length
    out = np.empty((starts.shape[0] * spec.walks_per_node, length + 1), dtype=np.int64)
    wflags = np.array(flags, dtype=np.bool_)
    start_offset = np.int64(offsets[start_type])

    def run(first: int, count: int, block: np.ndarray) -> None:
        metapath_kernel(indptrs, indices, probs, aliases, wflags, dst_offsets, start_offset, starts,
                        first, count, length, seed, block)

    run_chunked(run, out, None)
    return out


def temporal(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Temporal walks (see :func:`~vastgraph.sampling.temporal.temporal_walks`)."""
    from vastgraph.sampling.temporal import check_temporal

    graph = eng.graph
    et, backward, start_key, scale, bias = check_temporal(graph, spec)
    indptr, indices, keys = eng.time_sorted_rows(et, backward, backward)
    starts = check_start(graph, et.src, start)
    length = spec.walk_length
    n_walks = starts.shape[0] * spec.walks_per_node
    walks = np.empty((n_walks, length + 1),
                     dtype=np.int32 if graph.num_nodes(et.src) <= _INT32_MAX else np.int64)
    times = np.empty((n_walks, length), dtype=np.int64)
    sign = np.int64(-1 if backward else 1)
    strict = bool(spec.strict)

    def run(first: int, count: int, block: np.ndarray) -> None:
        temporal_kernel(indptr, indices, keys, sign, starts, first, count, length, seed,
                        np.int64(start_key), strict, bias, scale, block, times[first:first + count])

    run_chunked(run, walks, None)
    return walks, times
