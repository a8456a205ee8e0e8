"""The local engine's one-hop and multi-hop (fanout) neighbour sampling over the CSR/CSC arrays.

Fanout relabelling uses an array-based map per node type (a scratch array of ``num_nodes``
entries, pooled by the engine and reset after use) instead of hashing.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from vastgraph.graph.schema import EdgeType
from vastgraph.sampling.fanout import FanoutPlan, SampledSubgraph
from vastgraph.sampling.local.neighbor_kernels import sample_positions
from vastgraph.sampling.neighbors import SampledNeighbors, check_neighbors
from vastgraph.seeding import derive_seed, seed_from


def sample_neighbors(eng: Any, nodes: Any, k: Any, etype: Any, reverse: bool, replace: bool, weighted: bool,
                     method: str, time_window: Any, before: Any, random_state: Any) -> SampledNeighbors:
    """See :func:`~vastgraph.sampling.neighbors.sample_neighbors`."""
    reverse = bool(reverse)
    et, rows, k, code, filt = check_neighbors(eng.graph, nodes, k, etype, reverse, replace, weighted, method,
                                              time_window, before)
    adj = eng.adjacency(et, reverse)
    tables = eng.weight_tables(et, reverse, code)
    seed = seed_from(random_state)
    ptr, pos, indices = sample_positions(adj, tables, rows, k, bool(replace), code, filt, seed)
    weights = None if adj.weight is None else np.asarray(adj.weight)[pos]
    times = None if adj.time is None else np.asarray(adj.time)[pos]
    return SampledNeighbors(rows, ptr, indices, pos, weights, times, et, reverse)


def prepare_fanout(eng: Any, plan: FanoutPlan) -> list:
    """``[(edge type, CSC, weight tables, time filter)]`` of a plan (weights checked here)."""
    return [(et, eng.adjacency(et, True), eng.weight_tables(et, True, plan.code), filt)
            for et, filt in zip(plan.etypes, plan.filters)]


def sample_blocks(eng: Any, plan: FanoutPlan, seed_dict: dict[str, np.ndarray], base: Any) -> SampledSubgraph:
    """Sample from validated ``{ntype: dense ids}`` seeds with 64-bit seed ``base``."""
    fan, etypes = plan.fan, plan.etypes
    ntypes = plan.node_types(seed_dict)
    bufs = {nt: _NodeBuffer(seed_dict.get(nt, np.zeros(0, np.int64))) for nt in ntypes}
    maps: dict[str, np.ndarray] = {}
    counts = {nt: [bufs[nt].n] for nt in ntypes}
    parts: dict[EdgeType, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {et: [] for et in etypes}
    ecounts: dict[EdgeType, list[int]] = {et: [] for et in etypes}
    try:
        for nt in ntypes:
            maps[nt] = eng.acquire_map(nt)
            init_map(bufs[nt].arr[:bufs[nt].n], maps[nt])
        frontier = {nt: (0, bufs[nt].n) for nt in ntypes}
        for h in range(plan.hops):
            start = {nt: bufs[nt].n for nt in ntypes}
            for j, (et, adj, tables, filt) in enumerate(plan.prepared):
                k = fan[et][h]
                lo, hi = frontier[et.dst]
                if k == 0 or hi == lo:
                    ecounts[et].append(0)
                    continue
                ptr, pos, nbr = sample_positions(adj, tables, bufs[et.dst].arr[lo:hi], k, plan.replace,
                                                 plan.code, filt, derive_seed(base, h * len(etypes) + j))
                buf = bufs[et.src]
                buf.reserve(pos.size)  # may move the array; relabel uses offsets, not a rows view
                src, dst, buf.n = relabel(nbr, ptr, lo, maps[et.src], buf.arr, buf.n)
                parts[et].append((src, dst, pos))
                ecounts[et].append(int(pos.size))
            for nt in ntypes:
                counts[nt].append(bufs[nt].n - start[nt])
                frontier[nt] = (start[nt], bufs[nt].n)
    finally:
        for nt, mapping in maps.items():
            eng.release_map(nt, mapping, bufs[nt].arr[:bufs[nt].n])
    edge_index, edge_pos = {}, {}
    for et in etypes:
        ps = parts[et]
        if len(ps) == 1:
            ei = np.empty((2, ps[0][0].size), dtype=np.int64)
            ei[0], ei[1] = ps[0][0], ps[0][1]
            edge_index[et], edge_pos[et] = ei, ps[0][2]
        elif ps:
            ei = np.empty((2, sum(p[0].size for p in ps)), dtype=np.int64)
            np.concatenate([p[0] for p in ps], out=ei[0])
            np.concatenate([p[1] for p in ps], out=ei[1])
            edge_index[et], edge_pos[et] = ei, np.concatenate([p[2] for p in ps])
        else:
            edge_index[et] = np.zeros((2, 0), dtype=np.int64)
            edge_pos[et] = np.zeros(0, dtype=np.int64)
    nodes = {nt: bufs[nt].arr[:bufs[nt].n].copy() for nt in ntypes}
    return SampledSubgraph(nodes, edge_index, edge_pos, counts, ecounts, tuple(seed_dict))


# ----------------------------------------------------------------------------- kernels
@nb.njit(nogil=True, cache=True)
def init_map(seeds, mapping):  # pragma: no cover - numba
    """Map each seed to its (first) position."""
    for i in range(seeds.shape[0]):
        v = seeds[i]
        if mapping[v] < 0:
            mapping[v] = i


@nb.njit(nogil=True, cache=True)
def relabel(nbr, ptr, lo, mapping, nodes, n):  # pragma: no cover - numba
    """Local ids of the sampled neighbours (new ones appended to ``nodes``) and of their targets."""
    e_total = nbr.shape[0]
    src = np.empty(e_total, dtype=np.int64)
    dst = np.empty(e_total, dtype=np.int64)
    for i in range(ptr.shape[0] - 1):
        for e in range(ptr[i], ptr[i + 1]):
            v = nbr[e]
            loc = mapping[v]
            if loc < 0:
                loc = n
                mapping[v] = n
                nodes[n] = v
                n += 1
            src[e] = loc
            dst[e] = lo + i
    return src, dst, n


class _NodeBuffer:
    """Growable int64 array of one type's sampled nodes."""

    def __init__(self, seeds: np.ndarray) -> None:
        self.arr = np.empty(max(16, 2 * seeds.size), dtype=np.int64)
        self.arr[:seeds.size] = seeds
        self.n = int(seeds.size)

    def reserve(self, extra: int) -> None:
        if self.n + extra > self.arr.size:
            new = np.empty(max(2 * self.arr.size, self.n + extra), dtype=np.int64)
            new[:self.n] = self.arr[:self.n]
            self.arr = new
