"""Distributed walks: walkers travel between shards in batches, bit-identical to local walks.

A walker is a column of a compact int64 *pack* ``(fields, n)``: walk id, current node,
random-stream state (walk ``w`` draws from ``stream(seed, w)`` as in the local kernels), next
column, then the previous node and last edge weight (node2vec) or the last time key (temporal).
A request hands a shard one or more packs; the shard advances every walker with the local kernels'
exact draws until the walk ends, dies, or steps onto a node owned elsewhere, and returns a summary
(the segments walked, flat) plus one pack per destination shard. The driver never unpacks those:
it passes their ObjectRefs straight on to the destination's next request (data moves shard to
shard through Ray's object store), so walkers travel in batches, never per step, and the result
does not depend on the number of shards or on how a walk was cut.

The driver pipelines: up to ``depth`` requests per shard are in flight; when one returns, its
segments are written (one numba pass) and its outgoing packs queue at their destinations, and a
shard with a free slot gets everything queued for it in one request, without waiting for the
slowest shard.

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

import numba as nb
import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.sampling.engine import WalkResult, WalkSpec
from vastgraph.sampling.walks import check_start, use_weights, walk_edge_type

_INT32_MAX = np.iinfo(np.int32).max

__all__ = ["run_walks", "WalkStats"]


class WalkStats:
    """Traffic of the last walk job: requests (messages), bytes moved, steps taken, and the
    longest chain of requests a walker went through (``rounds``)."""

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
    if isinstance(obj, dict):
        return sum(_nbytes(o) for o in obj.values())
    return 8 if obj is not None else 0


def _check_weights(graph: Any, et: Any) -> None:
    wmin = graph.edge_meta(et).get("weight_min")
    if wmin is not None and wmin < 0:
        raise ValidationError(f"edge type {str(et)!r} has negative weights (min {wmin}); weighted "
                              "walks need weights >= 0 (pass weighted=False to ignore them)")


@nb.njit(nogil=True, cache=True)
def scatter_segments(out, ids, col0, cnt, flat, shift):  # pragma: no cover - numba
    """``out[ids[i], col0[i] - shift + c] = flat[start_i + c]`` for ``c < cnt[i]`` (segments in order)."""
    k = 0
    for i in range(ids.shape[0]):
        r = ids[i]
        c0 = col0[i] - shift
        for c in range(cnt[i]):
            out[r, c0 + c] = flat[k + c]
        k += cnt[i]


def _packs(state: list[np.ndarray], owner: np.ndarray, parts: int) -> list[np.ndarray]:
    """One pack ``(fields, n)`` per shard of the walkers whose current node it owns."""
    pack = np.stack([np.asarray(a).view(np.int64) if np.asarray(a).dtype != np.int64 else a for a in state])
    return [np.ascontiguousarray(pack[:, owner == d]) for d in range(parts)]


def _drive(eng: Any, kind: str, params: dict, packs: list[np.ndarray], on_summary: Callable[[dict], None],
           n_total: int, progress: Callable[[int, int], None] | None, depth: int = 2,
           chunk: int = 1 << 16) -> None:
    """Run walker packs (``packs[d]``: walkers starting on shard ``d``) until every walk is over."""
    import ray

    graph = eng.graph
    parts = graph.num_parts
    stats = eng.walk_stats = WalkStats()
    t0 = time.perf_counter()
    fields = packs[0].shape[0]
    params_ref = ray.put(params)
    queue: list[list[tuple[Any, int, int]]] = [[] for _ in range(parts)]  # (pack or ref, walkers, chain)
    inflight = [0] * parts
    pending: dict[Any, tuple[int, list[Any], int]] = {}

    def submit(d: int, items: list[tuple[Any, int, int]]) -> None:
        refs = graph.shards[d].walk.options(num_returns=parts + 1).remote(kind, params_ref, *[x for x, _, _ in items])
        refs = refs if isinstance(refs, list) else [refs]
        chain = max(c for _, _, c in items) + 1
        pending[refs[0]] = (d, refs[1:], chain)
        inflight[d] += 1
        stats.messages += 1
        stats.bytes += fields * 8 * sum(n for _, n, _ in items)

    for d, pack in enumerate(packs):
        n = pack.shape[1]
        if n:  # depth pieces per shard (more for huge jobs) so the shards overlap from the start
            pieces = max(depth, -(-n // chunk))
            bounds = np.linspace(0, n, pieces + 1).astype(np.int64)
            for lo, hi in zip(bounds[:-1], bounds[1:]):
                if hi > lo:
                    submit(d, [(pack[:, lo:hi], int(hi - lo), 0)])
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        d, outs, chain = pending.pop(ready[0])
        inflight[d] -= 1
        summary = ray.get(ready[0])
        stats.bytes += _nbytes(summary)
        stats.steps += int(summary["cnt"].sum())
        stats.rounds = max(stats.rounds, chain)
        on_summary(summary)
        dest = summary["dest"]
        for e in range(parts):
            if dest[e]:
                queue[e].append((outs[e], int(dest[e]), chain))
        done += int(summary["ids"].size - dest.sum())
        if progress is not None:
            progress(done, n_total)
        for e in range(parts):
            while queue[e] and inflight[e] < depth:
                items, queue[e] = queue[e], []
                submit(e, items)
    stats.seconds = time.perf_counter() - t0


def run_walks(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64,
              progress: Callable[[int, int], None] | None = None) -> WalkResult:
    """Walks of ``spec`` over a :class:`~vastgraph.distributed.graph.DistributedGraph`."""
    if spec.kind == "metapath":
        return WalkResult(_metapath(eng, spec, start, seed), None, spec)
    if spec.kind == "temporal":
        walks, times = _temporal(eng, spec, start, seed)
        return WalkResult(walks, times, spec)
    return WalkResult(_first_or_second_order(eng, spec, start, seed, progress), None, spec)


def _init(starts: np.ndarray, walks_per_node: int, seed: np.uint64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(walk ids, start nodes, stream states)`` of every walk."""
    from vastgraph.sampling.local.partial import new_streams

    n_walks = starts.shape[0] * walks_per_node
    w = np.arange(n_walks, dtype=np.int64)
    return w, starts[w % starts.shape[0]].astype(np.int64), new_streams(np.uint64(seed), w)


def _first_or_second_order(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64,
                           progress: Callable[[int, int], None] | None) -> np.ndarray:
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
    ids, cur, st = _init(starts, spec.walks_per_node, seed)
    n_walks = cur.shape[0]
    out = np.full((n_walks, length + 1), -1,
                  dtype=np.int32 if graph.num_nodes(et.src) <= _INT32_MAX else np.int64)
    out[:, 0] = cur
    state = [ids, cur, st, np.ones(n_walks, np.int64)]
    if mode == 2:  # node2vec: previous node, and the last edge weight when weighted
        state.append(np.full(n_walks, -1, np.int64))
        if use_w:
            state.append(np.zeros(n_walks, np.float64))
    params = {"etype": graph.etype_index(et), "mode": mode, "weighted": bool(use_w), "symmetric": symmetric,
              "p_inv": p_inv, "q_inv": q_inv, "length": length, "dtype": out.dtype.str}
    off = graph.node_offsets()[et.src]
    if length == 0 or n_walks == 0:
        return out

    def on_summary(r: dict) -> None:
        scatter_segments(out, r["ids"], r["col0"], r["cnt"], r["nodes"], np.int64(0))

    owner = np.asarray(graph.owner[off + cur], np.int64)
    _drive(eng, "walk", params, _packs(state, owner, graph.num_parts), on_summary, n_walks, progress)
    return out


def _metapath(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64) -> np.ndarray:
    from vastgraph.sampling.metapath import check_metapath, ends

    graph = eng.graph
    steps, flags, starts, start_type = check_metapath(graph, spec, start)
    for (et, _), use_w in zip(steps, flags):
        if use_w:
            _check_weights(graph, et)
    offsets = graph.node_offsets()
    dst_offsets = np.array([offsets[ends(s)[1]] for s in steps], dtype=np.int64)
    length = spec.walk_length
    ids, cur, st = _init(starts, spec.walks_per_node, seed)
    n_walks = cur.shape[0]
    out = np.full((n_walks, length + 1), -1, dtype=np.int64)
    out[:, 0] = cur + offsets[start_type]
    state = [ids, cur, st, np.ones(n_walks, np.int64)]
    params = {"steps": [(graph.etype_index(et), bool(rev)) for et, rev in steps], "flags": list(flags),
              "dst_offsets": dst_offsets, "length": length}
    if length == 0 or n_walks == 0:
        return out

    def on_summary(r: dict) -> None:
        scatter_segments(out, r["ids"], r["col0"], r["cnt"], r["nodes"], np.int64(0))

    owner = np.asarray(graph.owner[out[:, 0]], np.int64)
    _drive(eng, "metapath", params, _packs(state, owner, graph.num_parts), on_summary, n_walks, None)
    return out


def _temporal(eng: Any, spec: WalkSpec, start: Any, seed: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    from vastgraph.sampling.temporal import check_temporal

    graph = eng.graph
    et, backward, start_key, scale, bias = check_temporal(graph, spec)
    starts = check_start(graph, et.src, start)
    length = spec.walk_length
    ids, cur, st = _init(starts, spec.walks_per_node, seed)
    n_walks = cur.shape[0]
    walks = np.full((n_walks, length + 1), -1,
                    dtype=np.int32 if graph.num_nodes(et.src) <= _INT32_MAX else np.int64)
    walks[:, 0] = cur
    times = np.full((n_walks, length), -1, dtype=np.int64)
    state = [ids, cur, st, np.ones(n_walks, np.int64), np.full(n_walks, start_key, np.int64)]
    params = {"etype": graph.etype_index(et), "backward": bool(backward), "strict": bool(spec.strict),
              "bias": int(bias), "scale": float(scale), "length": length, "dtype": walks.dtype.str}
    off = graph.node_offsets()[et.src]
    if length == 0 or n_walks == 0:
        return walks, times

    def on_summary(r: dict) -> None:
        scatter_segments(walks, r["ids"], r["col0"], r["cnt"], r["nodes"], np.int64(0))
        scatter_segments(times, r["ids"], r["col0"], r["cnt"], r["times"], np.int64(1))

    owner = np.asarray(graph.owner[off + cur], np.int64)
    _drive(eng, "temporal", params, _packs(state, owner, graph.num_parts), on_summary, n_walks, None)
    return walks, times
