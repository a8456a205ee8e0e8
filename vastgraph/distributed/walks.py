"""Distributed walks: walkers travel between shards in batches, bit-identical to local walks.

The driver holds every walker's state — current node, random-stream state (walk ``w`` draws from
``stream(seed, w)`` as in the local kernels), previous node and last edge weight (node2vec) or
last time key (temporal), and its next column. Each round, the walkers are grouped by the shard
that owns their current node and sent to it in ONE request per shard; the shard advances every
walker with the local kernels' exact draws until the walk ends, dies, or steps onto a node owned
elsewhere, and returns the segment walked and the new state. Rounds repeat until no walker is
left, so the number of messages is rounds × shards, never per step, and the result does not depend
on the number of shards or on how a walk was cut.

node2vec's second-order test asks "is x a neighbour of t?" about the previous node ``t``; the
shard answers it from its own rows when it owns ``t`` and from its halo membership cache
otherwise (see :mod:`vastgraph.distributed.partition`), so a step never waits on another shard.

Example:
    >>> import tempfile, numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.sampling.walks import random_walks
    >>> from vastgraph.distributed import partition_graph, open_distributed
    >>> rng = np.random.default_rng(0)
    >>> b = GraphBuilder(directed=False, id_mode="dense")
    >>> _ = b.add_edges(rng.integers(0, 30, 120), rng.integers(0, 30, 120))
    >>> g = b.build()
    >>> out = tempfile.mkdtemp() + "/p"
    >>> _ = partition_graph(g, out, parts=2, method="ldg")
    >>> dg = open_distributed(out, address="local", num_cpus=1)
    >>> a = random_walks(dg, walks_per_node=2, walk_length=8, p=0.5, q=2.0, random_state=3)
    >>> bool(np.array_equal(a, random_walks(g, walks_per_node=2, walk_length=8, p=0.5, q=2.0, random_state=3)))
    True
    >>> dg.close()
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.sampling.engine import WalkResult, WalkSpec
from vastgraph.sampling.walks import check_start, use_weights, walk_edge_type

_INT32_MAX = np.iinfo(np.int32).max

__all__ = ["run_walks", "WalkStats"]


class WalkStats:
    """Traffic of the last walk job: rounds, requests (messages), bytes moved, steps taken."""

    def __init__(self) -> None:
        self.rounds = self.messages = self.bytes = self.steps = 0
        self.seconds = 0.0

    def as_dict(self) -> dict[str, Any]:
        steps = max(self.steps, 1)
        return {"rounds": self.rounds, "messages": self.messages, "bytes": self.bytes, "steps": self.steps,
                "seconds": self.seconds, "messages_per_step": self.messages / steps,
                "bytes_per_step": self.bytes / steps}


def _nbytes(obj: Any) -> int:
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, (tuple, list)):
        return sum(_nbytes(o) for o in obj)
    return 8


def _check_weights(graph: Any, et: Any) -> None:
    wmin = graph.edge_meta(et).get("weight_min")
    if wmin is not None and wmin < 0:
        raise ValidationError(f"edge type {str(et)!r} has negative weights (min {wmin}); weighted "
                              "walks need weights >= 0 (pass weighted=False to ignore them)")


def _drive(eng: Any, kind: str, params: dict, state: list[np.ndarray], owner_of: Callable[[np.ndarray], np.ndarray],
           on_segment: Callable[[np.ndarray, tuple, Any], None], length: int, batch: int,
           progress: Callable[[int, int], None] | None) -> None:
    """Rounds of walker batches until every walk is done; ``state[0]`` is the current node (dense)
    and ``state[-1]`` the next column."""
    import ray

    graph = eng.graph
    stats = eng.walk_stats = WalkStats()
    t0 = time.perf_counter()
    n_total = state[0].shape[0]
    active = np.flatnonzero(state[0] >= 0)
    params_ref = ray.put(params)
    while active.size:
        stats.rounds += 1
        own = owner_of(active)
        calls, groups = [], []
        for k in range(graph.num_parts):
            idx = active[own == k]
            for lo in range(0, idx.size, batch):
                sel = idx[lo:lo + batch]
                payload = tuple(s[sel] for s in state)
                calls.append(graph.shards[k].walk_segments.remote(kind, params_ref, payload))
                groups.append(sel)
                stats.messages += 1
                stats.bytes += _nbytes(payload)
        results = ray.get(calls)
        for sel, res in zip(groups, results):
            stats.bytes += _nbytes(res)
            new_state = res[-1]
            col0 = state[-1][sel]
            on_segment(sel, res, col0)
            stats.steps += int(res[-2].sum())
            for s, ns in zip(state, new_state):
                s[sel] = ns
        cur, col = state[0], state[-1]
        active = active[(cur[active] >= 0) & (col[active] <= length)]
        if progress is not None:
            progress(n_total - active.size, n_total)
    stats.seconds = time.perf_counter() - t0


def _scatter(out: np.ndarray, rows: np.ndarray, col0: np.ndarray, seg: np.ndarray, cnt: np.ndarray,
             shift: int = 0) -> None:
    """``out[rows[i], col0[i] - shift + c] = seg[i, c]`` for ``c < cnt[i]``."""
    width = seg.shape[1]
    mask = np.arange(width)[None, :] < cnt[:, None]
    cols = col0[:, None] - shift + np.arange(width)[None, :]
    out[np.repeat(rows, cnt), cols[mask]] = seg[mask]


def run_walks(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64,
              progress: Callable[[int, int], None] | None = None, batch: int = 1 << 16) -> WalkResult:
    """Walks of ``spec`` over a :class:`~vastgraph.distributed.graph.DistributedGraph`."""
    if spec.kind == "metapath":
        return WalkResult(_metapath(eng, spec, start, seed, batch), None, spec)
    if spec.kind == "temporal":
        walks, times = _temporal(eng, spec, start, seed, batch)
        return WalkResult(walks, times, spec)
    return WalkResult(_first_or_second_order(eng, spec, start, seed, progress, batch), None, spec)


def _init(starts: np.ndarray, walks_per_node: int, seed: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    from vastgraph.sampling.local.partial import new_streams

    n_walks = starts.shape[0] * walks_per_node
    w = np.arange(n_walks, dtype=np.int64)
    return starts[w % starts.shape[0]].astype(np.int64), new_streams(np.uint64(seed), w)


def _first_or_second_order(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64,
                           progress: Callable[[int, int], None] | None, batch: int) -> np.ndarray:
    graph = eng.graph
    et = walk_edge_type(graph, spec.etype, "random_walks")
    starts = check_start(graph, et.src, start)
    length = spec.walk_length
    if spec.kind == "uniform":
        use_w, p_inv, q_inv = False, 1.0, 1.0
    else:
        use_w = use_weights(graph, True if spec.kind == "weighted" else spec.weighted, et)
        p_inv, q_inv = (1.0 / spec.p, 1.0 / spec.q) if spec.kind == "node2vec" else (1.0, 1.0)
    if use_w:
        _check_weights(graph, et)
    first_order = p_inv == 1.0 and q_inv == 1.0
    mode = (1 if use_w else 0) if first_order else 2
    symmetric = p_inv > max(1.0, q_inv) and bool(graph.edge_meta(et)["simple_symmetric"])
    cur, st = _init(starts, spec.walks_per_node, seed)
    n_walks = cur.shape[0]
    out = np.full((n_walks, length + 1), -1,
                  dtype=np.int32 if graph.num_nodes(et.src) <= _INT32_MAX else np.int64)
    out[:, 0] = cur
    state = [cur, st, np.full(n_walks, -1, np.int64), np.zeros(n_walks, np.float64), np.ones(n_walks, np.int64)]
    params = {"etype": graph.etype_index(et), "mode": mode, "weighted": bool(use_w), "symmetric": symmetric,
              "p_inv": p_inv, "q_inv": q_inv, "length": length}
    off = graph.node_offsets()[et.src]

    def on_segment(sel: np.ndarray, res: tuple, col0: np.ndarray) -> None:
        _scatter(out, sel, col0, res[0], res[1])

    _drive(eng, "walk", params, state, lambda a: np.asarray(graph.owner[off + state[0][a]], np.int64), on_segment,
           length, batch, progress)
    return out


def _metapath(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64, batch: int) -> np.ndarray:
    from vastgraph.sampling.metapath import check_metapath, ends

    graph = eng.graph
    steps, flags, starts, start_type = check_metapath(graph, spec, start)
    for (et, _), use_w in zip(steps, flags):
        if use_w:
            _check_weights(graph, et)
    offsets = graph.node_offsets()
    dst_offsets = np.array([offsets[ends(s)[1]] for s in steps], dtype=np.int64)
    length = spec.walk_length
    cur, st = _init(starts, spec.walks_per_node, seed)
    n_walks = cur.shape[0]
    out = np.full((n_walks, length + 1), -1, dtype=np.int64)
    out[:, 0] = cur + offsets[start_type]
    gcur = out[:, 0].copy()
    state = [cur, st, np.ones(n_walks, np.int64)]
    params = {"steps": [(graph.etype_index(et), bool(rev)) for et, rev in steps], "flags": list(flags),
              "dst_offsets": dst_offsets, "length": length}

    def on_segment(sel: np.ndarray, res: tuple, col0: np.ndarray) -> None:
        seg, cnt = res[0], res[1]
        _scatter(out, sel, col0, seg, cnt)
        gcur[sel] = seg[np.arange(sel.size), np.maximum(cnt - 1, 0)]

    _drive(eng, "metapath", params, state, lambda a: np.asarray(graph.owner[gcur[a]], np.int64), on_segment,
           length, batch, None)
    return out


def _temporal(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64, batch: int) -> tuple[np.ndarray, np.ndarray]:
    from vastgraph.sampling.temporal import check_temporal

    graph = eng.graph
    et, backward, start_key, scale, bias = check_temporal(graph, spec)
    starts = check_start(graph, et.src, start)
    length = spec.walk_length
    cur, st = _init(starts, spec.walks_per_node, seed)
    n_walks = cur.shape[0]
    walks = np.full((n_walks, length + 1), -1,
                    dtype=np.int32 if graph.num_nodes(et.src) <= _INT32_MAX else np.int64)
    walks[:, 0] = cur
    times = np.full((n_walks, length), -1, dtype=np.int64)
    state = [cur, st, np.full(n_walks, start_key, np.int64), np.ones(n_walks, np.int64)]
    params = {"etype": graph.etype_index(et), "backward": bool(backward), "strict": bool(spec.strict),
              "bias": int(bias), "scale": float(scale), "length": length}
    off = graph.node_offsets()[et.src]

    def on_segment(sel: np.ndarray, res: tuple, col0: np.ndarray) -> None:
        _scatter(walks, sel, col0, res[0], res[2])
        _scatter(times, sel, col0, res[1], res[2], shift=1)

    _drive(eng, "temporal", params, state, lambda a: np.asarray(graph.owner[off + state[0][a]], np.int64),
           on_segment, length, batch, None)
    return walks, times
