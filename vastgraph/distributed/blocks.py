"""Fanout (multi-hop) neighbour blocks over shards, equal to the local engine's.

Each hop and edge type is one batched request per shard: the frontier's rows go to the shards,
each samples the rows it owns with the local one-hop kernel (row ``i`` from
``stream(derive_seed(base, hop · n_etypes + j), i)``), and the driver relabels the sampled
neighbours in the local engine's order (first appearance), with the same array map.

Example:
    >>> import tempfile, numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.sampling.fanout import sample_fanout
    >>> from vastgraph.distributed import partition_graph, open_distributed
    >>> b = GraphBuilder(directed=False, id_mode="dense")
    >>> _ = b.add_edges(np.arange(39), np.arange(1, 40))
    >>> g = b.build()
    >>> out = tempfile.mkdtemp() + "/p"
    >>> _ = partition_graph(g, out, parts=2, method="hash")
    >>> dg = open_distributed(out, address="local", num_cpus=1)
    >>> a = sample_fanout(dg, np.arange(5), [3, 2], random_state=1)
    >>> bool(np.array_equal(a.nodes, sample_fanout(g, np.arange(5), [3, 2], random_state=1).nodes))
    True
    >>> dg.close()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.graph.schema import EdgeType
from vastgraph.sampling.fanout import FanoutPlan, SampledSubgraph
from vastgraph.sampling.local.blocks import init_map, relabel
from vastgraph.seeding import derive_seed

__all__ = ["sample_blocks"]


class _Nodes:
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


def sample_blocks(eng: Any, plan: FanoutPlan, seed_dict: dict[str, np.ndarray], base: Any) -> SampledSubgraph:
    """Sample from validated ``{ntype: dense ids}`` seeds with 64-bit seed ``base``."""
    fan, etypes = plan.fan, plan.etypes
    ntypes = plan.node_types(seed_dict)
    bufs = {nt: _Nodes(seed_dict.get(nt, np.zeros(0, np.int64))) for nt in ntypes}
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
            for j, (et, filt) in enumerate(plan.prepared):
                k = fan[et][h]
                lo, hi = frontier[et.dst]
                if k == 0 or hi == lo:
                    ecounts[et].append(0)
                    continue
                ptr, pos, nbr, _, _ = eng.row_samples(et, True, bufs[et.dst].arr[lo:hi].copy(), k, plan.replace,
                                                      plan.code, filt, derive_seed(base, h * len(etypes) + j))
                buf = bufs[et.src]
                buf.reserve(pos.size)
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
        if ps:
            ei = np.empty((2, sum(p[0].size for p in ps)), dtype=np.int64)
            np.concatenate([p[0] for p in ps], out=ei[0])
            np.concatenate([p[1] for p in ps], out=ei[1])
            edge_index[et], edge_pos[et] = ei, np.concatenate([p[2] for p in ps])
        else:
            edge_index[et] = np.zeros((2, 0), dtype=np.int64)
            edge_pos[et] = np.zeros(0, dtype=np.int64)
    nodes = {nt: bufs[nt].arr[:bufs[nt].n].copy() for nt in ntypes}
    return SampledSubgraph(nodes, edge_index, edge_pos, counts, ecounts, tuple(seed_dict))
