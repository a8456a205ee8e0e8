""":class:`GraphShard`: one shard of a partitioned graph, served by a Ray actor.

A :class:`ShardServer` actor opens shard folders on demand (``(root, index)`` travels with every
request, see :class:`ShardHandle`); by default shard ``k`` of every opened graph lives on the
session's shared actor ``k`` (:func:`host_actors`), so reopening a graph starts no process.
The shard memory-maps its folder (a normal store with global dense ids, see
:mod:`vastgraph.distributed.partition`) and answers batched requests with the local engine's
kernels: walk segments (walkers handed on to the next shard as packs), one-hop samples of given rows, full rows, edge lookups, negatives and node
attributes. It keeps no request state — every request carries what it needs (walker states,
seeds) — so a restarted actor (``max_restarts=-1``) reopens its folders and a retried request
(``max_task_retries=-1``) returns the same answer.

Positions returned are GLOBAL: the position an edge has in the full graph's storage order
(``find_edges`` / ``coo()`` order; in-edge order with ``reverse``), computed from the global
degrees the partition stores.

Example (in-process, without Ray):
    >>> import tempfile, numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.distributed.partition import partition_graph
    >>> b = GraphBuilder(directed=True, id_mode="dense")
    >>> _ = b.add_edges([0, 0, 1, 2, 3], [1, 2, 2, 3, 0])
    >>> g = b.build()
    >>> out = tempfile.mkdtemp() + "/p"
    >>> _ = partition_graph(g, out, parts=2, method="hash")
    >>> shards = [GraphShard(out, k) for k in range(2)]
    >>> pos = sum(s.find(0, np.array([0, 2, 1]), np.array([2, 3, 0])) + 1 for s in shards) - 1
    >>> pos.tolist() == g.find_edges([0, 2, 1], [2, 3, 0]).tolist()
    True
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vastgraph.distributed.partition import read_manifest

__all__ = ["GraphShard", "ShardServer", "shard_actor_class"]


class GraphShard:
    """Serve shard ``index`` of the partition folder ``root``.

    Args:
        root: the partition folder (visible at the same path on every machine).
        index: the shard number.
    """

    def __init__(self, root: str, index: int) -> None:
        from vastgraph.graph.view import open_graph
        from vastgraph.sampling.engine import engine_for

        self.root = os.fspath(root)
        self.index = int(index)
        self.manifest = read_manifest(self.root)
        self.folder = os.path.join(self.root, f"shard-{self.index}")
        self.store = open_graph(os.path.join(self.folder, "store"))
        self.engine = engine_for(self.store)
        self.owner = np.load(os.path.join(self.root, "owner.npy"), mmap_mode="r")
        self.owned = np.load(os.path.join(self.folder, "owned.npy"), mmap_mode="r")
        self.etypes = self.store.edge_types
        self.offsets = self.store.node_offsets()
        self._starts: dict[tuple[int, bool], tuple[np.ndarray, np.ndarray]] = {}
        self.requests = 0

    # ------------------------------------------------------------------ housekeeping
    def ping(self) -> dict[str, Any]:
        """``{shard, pid, requests}``: liveness, the process id (for chaos tests) and load."""
        return {"shard": self.index, "pid": os.getpid(), "requests": self.requests}

    def _starts_of(self, j: int, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
        """(global row starts, this store's row starts) of edge type ``j`` and direction."""
        from vastgraph.sampling.local.partial import row_starts

        key = (j, bool(reverse))
        if key not in self._starts:
            em = self.manifest["edge_types"][j]
            name = "out" if not reverse or em["symmetric"] else "in"
            deg = np.load(os.path.join(self.root, "degrees", f"e{j}.{name}.npy"))
            g = np.zeros(deg.size + 1, dtype=np.int64)
            np.cumsum(deg, out=g[1:])
            self._starts[key] = (g, row_starts(self.engine, self.etypes[j], bool(reverse)))
        return self._starts[key]

    def _row_type(self, j: int, reverse: bool) -> str:
        et = self.etypes[j]
        return et.dst if reverse else et.src

    def _owned_mask(self, ntype: str, dense: np.ndarray) -> np.ndarray:
        return np.asarray(self.owner[self.offsets[ntype] + dense]) == self.index

    # ------------------------------------------------------------------ walks
    def walk(self, kind: str, params: dict[str, Any], *packs: np.ndarray) -> tuple:
        """Advance walkers until each ends, dies or steps onto another shard's node.

        ``packs`` are walker-state packs (int64 ``(fields, n)``: walk id, current node, stream state,
        next column, then ``params['extra']`` kind-specific rows) for walkers on nodes this shard
        owns; several are concatenated. Returns ``(summary, pack_0, .., pack_{P-1})``: ``pack_d``
        holds the walkers now on shard ``d``'s nodes (sent there without passing the driver), and
        ``summary`` what the driver writes: ``ids``, ``col0`` (first column walked), ``cnt``,
        ``nodes`` (the segments, flat), ``times`` (temporal) and ``dest`` (walkers per shard)."""
        from vastgraph.sampling.local import partial

        self.requests += 1
        pack = np.concatenate(packs, axis=1) if len(packs) != 1 else np.array(packs[0], dtype=np.int64)
        n = pack.shape[1]
        cur, st, col = pack[1], pack[2].view(np.uint64), pack[3]
        col0 = col.astype(np.int32)
        length = int(params["length"])
        seg_dtype = np.dtype(params.get("dtype", "int64"))
        times = None
        if kind == "metapath":
            steps = [(self.etypes[j], rev) for j, rev in params["steps"]]
            seg, cnt = partial.advance_metapath(self.engine, steps, params["flags"], params["dst_offsets"], self.owner,
                                                self.index, length, cur, st, col)
            off = 0
        elif kind == "temporal":
            et = self.etypes[params["etype"]]
            off = self.offsets[et.src]
            seg, tseg, cnt = partial.advance_temporal(self.engine, et, params["backward"], params["strict"],
                                                      params["bias"], params["scale"], self.owner, self.index, off,
                                                      length, cur, st, pack[4], col, seg_dtype)
            times = partial.flatten_prefix(tseg, cnt)
        else:
            et = self.etypes[params["etype"]]
            off = self.offsets[et.src]
            prev = pack[4] if pack.shape[0] > 4 else np.full(n, -1, np.int64)
            lastw = pack[5].view(np.float64) if pack.shape[0] > 5 else np.zeros(n, np.float64)
            seg, cnt = partial.advance_walks(self.engine, et, params["mode"], params["weighted"], params["symmetric"],
                                             params["p_inv"], params["q_inv"], self.owner, self.index, off, length,
                                             cur, st, prev, lastw, col, seg_dtype)
        nodes, dest = partial.finish_segments(seg, cnt, col, np.int64(length), self.owner, np.int64(off))
        parts = int(self.manifest["parts"])
        summary = {"ids": pack[0].copy(), "col0": col0, "cnt": cnt.astype(np.int32), "nodes": nodes,
                   "times": times, "dest": np.bincount(dest[dest >= 0], minlength=parts)}
        return (summary, *(np.ascontiguousarray(pack[:, dest == d]) for d in range(parts)))

    # ------------------------------------------------------------------ rows
    def row_samples(self, j: int, reverse: bool, rows: np.ndarray, k: int, replace: bool, code: int,
                    filt: tuple, seed: Any) -> tuple:
        """The local one-hop kernel over all ``rows`` (row ``i`` from ``stream(seed, i)``), kept for
        the owned rows: ``(owned row indices, counts, global positions, neighbours, weights, times)``."""
        from vastgraph.sampling.local.partial import entries_at, row_samples

        self.requests += 1
        rows = np.asarray(rows, dtype=np.int64)
        mine = np.flatnonzero(self._owned_mask(self._row_type(j, reverse), rows))
        if mine.size == 0:
            z = np.zeros(0, np.int64)
            return mine, z, z, z, None, None
        # rows owned elsewhere are sampled from empty rows of this store's view (their draws are
        # dropped), so owned row i still draws from stream(seed, i)
        ptr, pos, nbr = row_samples(self.engine, self.etypes[j], reverse, rows, k, replace, code, filt, seed)
        counts = np.diff(ptr)[mine]
        take = _ranges(ptr[mine], counts)
        spos = pos[take]
        g, s = self._starts_of(j, reverse)
        r = np.repeat(rows[mine], counts)
        gpos = g[r] + (spos - s[r])
        _, w, t = entries_at(self.engine, self.etypes[j], reverse, spos)
        return mine, counts, gpos, np.asarray(nbr[take], dtype=np.int64), w, t

    def entries(self, j: int, reverse: bool, rows: np.ndarray, offsets: np.ndarray) -> tuple:
        """``(neighbour, weight, time)`` of entry ``offsets[i]`` of owned row ``rows[i]``."""
        from vastgraph.sampling.local.partial import entries_at

        self.requests += 1
        _, s = self._starts_of(j, reverse)
        rows = np.asarray(rows, dtype=np.int64)
        return entries_at(self.engine, self.etypes[j], reverse, s[rows] + np.asarray(offsets, np.int64))

    def find(self, j: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Global position of each edge ``(src[i], dst[i])`` whose source this shard owns; -1 else."""
        self.requests += 1
        et = self.etypes[j]
        src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
        out = np.full(src.size, -1, dtype=np.int64)
        mine = np.flatnonzero(self._owned_mask(et.src, src))
        if mine.size:
            spos = self.store.find_edges(src[mine], dst[mine], et)
            g, s = self._starts_of(j, False)
            hit = spos >= 0
            r = src[mine][hit]
            out[mine[hit]] = g[r] + (spos[hit] - s[r])
        return out

    def owned_edges(self, j: int, reverse: bool) -> tuple:
        """The owned rows' entries: ``(global positions, row, neighbour, weight, time)``."""
        from vastgraph.sampling.local.partial import entries_at

        self.requests += 1
        et = self.etypes[j]
        nt = self._row_type(j, reverse)
        lo = self.offsets[nt]
        n = self.store.num_nodes(nt)
        owned = np.asarray(self.owned)
        rows = owned[(owned >= lo) & (owned < lo + n)] - lo
        g, s = self._starts_of(j, reverse)
        counts = s[rows + 1] - s[rows]
        spos = _ranges(s[rows], counts)
        r = np.repeat(rows, counts)
        nbr, w, t = entries_at(self.engine, et, reverse, spos)
        return g[r] + (spos - s[r]), r, nbr, w, t

    # ------------------------------------------------------------------ draws
    def negatives(self, j: int, reverse: bool, n_cand: int, tables: tuple, anchors: np.ndarray,
                  stream_ids: np.ndarray, max_retries: int, seed: Any) -> np.ndarray:
        """Negatives for anchors this shard owns (draw ``i`` from ``stream(seed, stream_ids[i])``)."""
        from vastgraph.sampling.local.partial import draw_negatives_for

        self.requests += 1
        return draw_negatives_for(self.engine, self.etypes[j], reverse, n_cand, tables, anchors, stream_ids,
                                  max_retries, seed)

    # ------------------------------------------------------------------ attributes
    def attribute(self, ntype: str, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(owned dense ids, values)`` of ``features``, ``labels`` or ``data.NAME``; None if absent."""
        self.requests += 1
        f = os.path.join(self.folder, "attrs", f"{ntype}.{name}.npy")
        if not os.path.exists(f):
            return None
        lo, n = self.offsets[ntype], self.store.num_nodes(ntype)
        owned = np.asarray(self.owned)
        return owned[(owned >= lo) & (owned < lo + n)] - lo, np.load(f, mmap_mode="r")


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(starts[i], starts[i] + counts[i])``."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    first = np.repeat(np.asarray(starts, np.int64) - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return first + np.arange(total, dtype=np.int64)


class ShardServer:
    """The Ray actor: serves :class:`GraphShard` ``(root, index)`` pairs, each opened on its first
    request (so an actor restarted by Ray reopens its folders lazily, and one process can serve
    shard ``k`` of several opened graphs)."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], GraphShard] = {}

    def _shard(self, root: str, index: int) -> GraphShard:
        key = (root, int(index))
        shard = self._open.get(key)
        if shard is None:
            shard = self._open[key] = GraphShard(root, index)
        return shard

    def call(self, root: str, index: int, method: str, *args: Any) -> Any:
        """``GraphShard(root, index).method(*args)``."""
        return getattr(self._shard(root, index), method)(*args)

    def drop(self, root: str, index: int) -> bool:
        """Forget (unmap) shard ``index`` of ``root``; True when it was open."""
        return self._open.pop((root, int(index)), None) is not None

    def pid(self) -> int:
        return os.getpid()


def shard_actor_class(num_cpus: float = 0, max_restarts: int = -1, max_task_retries: int = -1) -> Any:
    """The Ray actor class of :class:`ShardServer` (restarted when it dies, reopening its shard
    folders on demand; requests in flight are retried: they are pure functions of their arguments).
    ``num_cpus=0``: the actors hold no CPU reservation, so any number of shards fit on a machine."""
    import ray

    return ray.remote(num_cpus=num_cpus, max_restarts=max_restarts, max_task_retries=max_task_retries)(ShardServer)


_HOSTS: dict[str, Any] = {"session": None, "actors": []}


def _session_key() -> str:
    import ray

    ctx = ray.get_runtime_context()
    return f"{getattr(ctx, 'gcs_address', '')}/{ctx.get_job_id()}"


def host_actors(n: int) -> list[Any]:
    """The first ``n`` shared :class:`ShardServer` actors of this Ray session (started on demand).
    Shard ``k`` of every graph opened with shared actors is served by actor ``k``: a process opens
    several graphs (or reopens one) without starting new processes."""
    key = _session_key()
    if _HOSTS["session"] != key:
        _HOSTS["session"], _HOSTS["actors"] = key, []
    actors = _HOSTS["actors"]
    if len(actors) < n:
        cls = shard_actor_class()
        actors.extend(cls.remote() for _ in range(n - len(actors)))
    return actors[:n]


def release_hosts() -> int:
    """Stop the shared shard actors of this process (graphs using them become unusable); returns
    how many were stopped."""
    import ray

    actors, _HOSTS["actors"], _HOSTS["session"] = _HOSTS["actors"], [], None
    if ray.is_initialized():
        for a in actors:
            ray.kill(a, no_restart=True)
    return len(actors)


class ShardHandle:
    """Shard ``index`` of ``root`` on a :class:`ShardServer` actor: ``handle.METHOD.remote(*args)``
    calls ``GraphShard.METHOD`` there (``.options(**ray_options)`` first, e.g. ``num_returns``)."""

    def __init__(self, actor: Any, root: str, index: int) -> None:
        self.actor, self.root, self.index = actor, root, int(index)

    def __getattr__(self, name: str) -> "_Method":
        if name.startswith("__"):
            raise AttributeError(name)
        return _Method(self, name, None)


class _Method:
    def __init__(self, handle: ShardHandle, name: str, opts: dict[str, Any] | None) -> None:
        self.handle, self.name, self.opts = handle, name, opts

    def options(self, **opts: Any) -> "_Method":
        return _Method(self.handle, self.name, opts)

    def remote(self, *args: Any) -> Any:
        call = self.handle.actor.call
        if self.opts:
            call = call.options(**self.opts)
        return call.remote(self.handle.root, self.handle.index, self.name, *args)
