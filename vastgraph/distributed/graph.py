""":class:`DistributedGraph`: the :class:`~vastgraph.graph.view.GraphView` of a partitioned graph
whose shards are Ray actors.

The handle keeps what the partition stores for the whole graph (schema, id maps, the owner of
every node, global degrees: O(nodes)); edges and node attributes stay on the shards and are
gathered per request (one batched call per shard). ``open_graph("ray://ADDRESS/PATH")`` opens one
once :mod:`vastgraph.distributed` is imported (``ADDRESS``: ``local`` starts a local Ray, ``auto``
joins the running cluster, ``HOST:PORT`` a head node; ``PATH`` is the absolute partition folder).

Example:
    >>> import tempfile, numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.distributed import partition_graph, open_distributed
    >>> b = GraphBuilder(directed=True, id_mode="dense")
    >>> _ = b.add_edges([0, 0, 1, 2, 3], [1, 2, 2, 3, 0], weight=[1.0, 2.0, 3.0, 4.0, 5.0])
    >>> g = b.build()
    >>> out = tempfile.mkdtemp() + "/p"
    >>> _ = partition_graph(g, out, parts=2, method="hash")
    >>> dg = open_distributed(out, address="local", num_cpus=1)
    >>> dg.coo().weight.tolist(), dg.find_edges([2, 0], [3, 3]).tolist()
    ([1.0, 2.0, 3.0, 4.0, 5.0], [3, -1])
    >>> dg.close()
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np

from vastgraph.distributed.partition import read_manifest
from vastgraph.errors import SchemaError, UnknownIdError, ValidationError
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.schema import EdgeType, resolve_edge_type, resolve_node_type
from vastgraph.graph.view import EdgeChunk

__all__ = ["DistributedGraph", "open_distributed", "open_ray_uri"]

_INT32_MAX = np.iinfo(np.int32).max


class DistributedGraph:
    """A partition folder served by one :class:`~vastgraph.distributed.shard.GraphShard` actor per shard.

    Args:
        root: the partition folder (the same path on every machine of the cluster).
        address: ``"local"`` (start or reuse an in-process local Ray), ``"auto"``, ``HOST:PORT``,
            or None to use the Ray already initialised.
        num_cpus: CPUs of a local Ray started here (default: all).
        shared_actors: serve shard ``k`` on the session's shared actor ``k``
            (:func:`~vastgraph.distributed.shard.host_actors`; opening another graph starts no
            process) rather than on actors of its own.
    """

    def __init__(self, root: str | os.PathLike, *, address: str | None = "local",
                 num_cpus: int | None = None, shared_actors: bool = True) -> None:
        from vastgraph.distributed.cluster import ensure_ray
        from vastgraph.distributed.shard import ShardHandle, host_actors, shard_actor_class

        self.root = os.path.abspath(os.fspath(root))
        self.manifest = m = read_manifest(self.root)
        self._ntypes = [t["name"] for t in m["node_types"]]
        self._nmeta = {t["name"]: t for t in m["node_types"]}
        self._etypes = [EdgeType(e["src"], e["rel"], e["dst"]) for e in m["edge_types"]]
        self._emeta = {et: e for et, e in zip(self._etypes, m["edge_types"])}
        self._eindex = {et: j for j, et in enumerate(self._etypes)}
        self.owner = np.load(os.path.join(self.root, "owner.npy"), mmap_mode="r")
        self._ids: dict[str, IdIndex] = {}
        self._deg: dict[tuple[int, str], np.ndarray] = {}
        self._labels: dict[str, Any] = {}
        ensure_ray(address, num_cpus=num_cpus)
        import ray

        self.shared_actors = bool(shared_actors)
        parts = int(m["parts"])
        if self.shared_actors:
            self.actors = host_actors(parts)
        else:
            cls = shard_actor_class()
            self.actors = [cls.remote() for _ in range(parts)]
        self.shards = [ShardHandle(a, self.root, k) for k, a in enumerate(self.actors)]
        self.pids = [p["pid"] for p in ray.get([s.ping.remote() for s in self.shards])]

    def close(self) -> None:
        """Release the shards (the handle is unusable afterwards): shared actors unmap this
        graph's folders and stay up for the next graph; own actors are stopped."""
        import ray

        if not ray.is_initialized():
            self.shards = []
            return
        for a, s in zip(getattr(self, "actors", []), getattr(self, "shards", [])):
            if self.shared_actors:
                a.drop.remote(self.root, s.index)
            else:
                ray.kill(a, no_restart=True)
        self.shards, self.actors = [], []

    def __repr__(self) -> str:
        return f"DistributedGraph({self.root!r}, parts={self.manifest['parts']}, method={self.manifest['method']!r})"

    @property
    def num_parts(self) -> int:
        return int(self.manifest["parts"])

    def etype_index(self, etype: Any) -> int:
        return self._eindex[self.edge_type(etype)]

    def edge_meta(self, etype: Any) -> dict[str, Any]:
        return self._emeta[self.edge_type(etype)]

    # ------------------------------------------------------------------ schema
    @property
    def node_types(self) -> list[str]:
        return list(self._ntypes)

    @property
    def edge_types(self) -> list[EdgeType]:
        return list(self._etypes)

    @property
    def is_homogeneous(self) -> bool:
        return len(self._ntypes) == 1 and len(self._etypes) <= 1

    @property
    def version(self) -> str:
        return str(self.manifest["source_version"])

    def node_type(self, ntype: str | None = None) -> str:
        if ntype is None:
            if len(self._ntypes) != 1:
                raise SchemaError(f"this graph has node types {', '.join(self._ntypes)}; name one")
            return self._ntypes[0]
        return resolve_node_type(ntype, self._ntypes)

    def edge_type(self, etype: Any = None) -> EdgeType:
        if etype is None:
            if len(self._etypes) != 1:
                raise SchemaError(f"this graph has edge types {', '.join(map(str, self._etypes)) or '(none)'}; "
                                  "name one")
            return self._etypes[0]
        return resolve_edge_type(etype, self._etypes)

    def is_undirected(self, etype: Any = None) -> bool:
        return bool(self.edge_meta(etype)["undirected"])

    def has_weights(self, etype: Any = None) -> bool:
        return bool(self.edge_meta(etype)["weighted"])

    def has_times(self, etype: Any = None) -> bool:
        return bool(self.edge_meta(etype)["timed"])

    # ------------------------------------------------------------------ counts and ids
    def num_nodes(self, ntype: str | None = None) -> int:
        if ntype is None and len(self._ntypes) != 1:
            return self.num_nodes_total()
        return int(self._nmeta[self.node_type(ntype)]["count"])

    def num_edges(self, etype: Any = None) -> int:
        if etype is None and len(self._etypes) != 1:
            return sum(int(e["entries"]) for e in self._emeta.values())
        return int(self.edge_meta(etype)["entries"])

    def num_nodes_total(self) -> int:
        return sum(int(t["count"]) for t in self._nmeta.values())

    def node_offsets(self) -> dict[str, int]:
        out, total = {}, 0
        for nt in self._ntypes:
            out[nt] = total
            total += int(self._nmeta[nt]["count"])
        return out

    def to_global(self, ntype: str, dense: Any) -> np.ndarray:
        return self.check_nodes(ntype, dense) + self.node_offsets()[self.node_type(ntype)]

    def from_global(self, gids: Any) -> tuple[np.ndarray, np.ndarray]:
        offs = np.array(list(self.node_offsets().values()) + [self.num_nodes_total()], dtype=np.int64)
        g = np.atleast_1d(np.asarray(gids, dtype=np.int64))
        if g.size and (g.min() < 0 or g.max() >= offs[-1]):
            raise UnknownIdError(f"global node id(s) out of range [0, {offs[-1]})")
        t = np.searchsorted(offs, g, side="right") - 1
        return t, g - offs[t]

    def id_index(self, ntype: str | None = None) -> IdIndex:
        nt = self.node_type(ntype)
        if nt not in self._ids:
            meta = self._nmeta[nt]
            folder = os.path.join(self.root, "ids", nt)
            arrays = {a: np.load(os.path.join(folder, f"{a}.npy"), mmap_mode="r") for a in meta["id_arrays"]}
            self._ids[nt] = IdIndex(meta["id_kind"], int(meta["count"]), arrays)
        return self._ids[nt]

    def lookup(self, ntype: str | None, ids: Any) -> np.ndarray:
        nt = self.node_type(ntype)
        return self.id_index(nt).lookup(ids, ntype=nt)

    def external_ids(self, ntype: str | None = None, dense: Any = None) -> np.ndarray:
        idx = self.id_index(ntype)
        return idx.values() if dense is None else idx.external(dense)

    def check_nodes(self, ntype: str | None, nodes: Any) -> np.ndarray:
        nt = self.node_type(ntype)
        arr = np.atleast_1d(np.asarray(nodes))
        if arr.dtype.kind not in "iu":
            raise ValidationError(f"{nt} node ids: dtype {arr.dtype}; expected integer dense ids")
        n = self.num_nodes(nt)
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            bad = arr[(arr < 0) | (arr >= n)][:5].tolist()
            raise UnknownIdError(f"{nt} node id(s) {bad} out of range [0, {n})")
        return arr.astype(np.int64, copy=False)

    def owners(self, ntype: str, dense: np.ndarray) -> np.ndarray:
        """The shard of each dense node of ``ntype``."""
        return np.asarray(self.owner[self.node_offsets()[ntype] + np.asarray(dense, np.int64)], dtype=np.int64)

    # ------------------------------------------------------------------ structure
    def _degree(self, etype: Any, side: str) -> np.ndarray:
        j = self.etype_index(etype)
        if (j, side) not in self._deg:
            self._deg[(j, side)] = np.load(os.path.join(self.root, "degrees", f"e{j}.{side}.npy"), mmap_mode="r")
        return self._deg[(j, side)]

    def row_starts(self, etype: Any, reverse: bool = False) -> np.ndarray:
        """Global storage position where each row (``reverse``: column) of ``etype`` starts."""
        deg = self._degree(etype, "in" if reverse and not self.edge_meta(etype)["symmetric"] else "out")
        out = np.zeros(deg.size + 1, dtype=np.int64)
        np.cumsum(deg, out=out[1:])
        return out

    def index_dtype(self, etype: Any, reverse: bool = False) -> Any:
        """dtype of neighbour ids in ``etype``'s rows (as the local store keeps them)."""
        et = self.edge_type(etype)
        if reverse and not self.edge_meta(et)["symmetric"]:
            return np.int32 if self.num_nodes(et.src) <= _INT32_MAX else np.int64
        return np.int32 if max(self.num_nodes(et.src), self.num_nodes(et.dst)) <= _INT32_MAX else np.int64

    def out_degree(self, etype: Any = None, nodes: Any = None) -> np.ndarray:
        deg = np.asarray(self._degree(etype, "out"))
        return deg if nodes is None else deg[self.check_nodes(self.edge_type(etype).src, nodes)]

    def in_degree(self, etype: Any = None, nodes: Any = None) -> np.ndarray:
        deg = np.asarray(self._degree(etype, "in"))
        return deg if nodes is None else deg[self.check_nodes(self.edge_type(etype).dst, nodes)]

    def route(self, ntype: str, dense: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """``[(shard, positions into dense)]`` for the shards that own some of ``dense``."""
        own = self.owners(ntype, dense)
        order = np.argsort(own, kind="stable")
        cuts = np.searchsorted(own[order], np.arange(self.num_parts + 1))
        return [(k, order[cuts[k]:cuts[k + 1]]) for k in range(self.num_parts) if cuts[k + 1] > cuts[k]]

    def neighbors(self, node: int, etype: Any = None, reverse: bool = False) -> np.ndarray:
        import ray

        from vastgraph.sampling.local.neighbor_kernels import FULL

        et = self.edge_type(etype)
        (u,) = self.check_nodes(et.dst if reverse else et.src, [node])
        k = int(self.owners(et.dst if reverse else et.src, np.array([u]))[0])
        res = ray.get(self.shards[k].row_samples.remote(self._eindex[et], bool(reverse), np.array([u]), -1, False,
                                                        FULL, (False, 0, 0), 0))
        return np.asarray(res[3], dtype=self.index_dtype(et, reverse))

    def find_edges(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray:
        import ray

        et = self.edge_type(etype)
        s = self.check_nodes(et.src, src)
        d = self.check_nodes(et.dst, dst)
        if s.shape != d.shape:
            raise ValidationError(f"find_edges: src has {s.size} ids but dst has {d.size}")
        out = np.full(s.size, -1, dtype=np.int64)
        parts = self.route(et.src, s)
        res = ray.get([self.shards[k].find.remote(self._eindex[et], s[idx], d[idx]) for k, idx in parts])
        for (_, idx), r in zip(parts, res):
            out[idx] = r
        return out

    def has_edges(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray:
        return self.find_edges(src, dst, etype) >= 0

    def edge_weights(self, src: Any, dst: Any, etype: Any = None) -> np.ndarray:
        from vastgraph.sampling.engine import engine_for

        pos = self.find_edges(src, dst, etype)
        if pos.size and pos.min() < 0:
            i = int(np.argmin(pos))
            raise SchemaError(f"edge ({np.atleast_1d(src)[i]}, {np.atleast_1d(dst)[i]}) is not in "
                              f"edge type {self.edge_type(etype)}")
        if not self.has_weights(etype):
            return np.ones(pos.size, np.float32)
        return engine_for(self).edge_attributes(etype, pos)[0]

    def iter_edges(self, etype: Any = None, *, chunk_size: int = 1 << 22,
                   reverse: bool = False) -> Iterator[EdgeChunk]:
        """Edges in the full graph's storage order, ``chunk_size`` at a time (each chunk gathered
        from the shards owning its rows in one call per shard)."""
        import ray

        from vastgraph.validation import check_int

        step = check_int("chunk_size", chunk_size, 1)
        et = self.edge_type(etype)
        j = self._eindex[et]
        starts = self.row_starts(et, reverse)
        nnz = int(starts[-1])
        row_type = et.dst if reverse else et.src
        dtype_w = np.float32 if self.has_weights(et) else None
        for lo in range(0, nnz, step):
            hi = min(lo + step, nnz)
            r0 = int(np.searchsorted(starts, lo, side="right")) - 1
            r1 = int(np.searchsorted(starts, hi, side="left"))
            rows = np.arange(r0, max(r1, r0 + 1), dtype=np.int64)
            counts = np.minimum(starts[rows + 1], hi) - np.maximum(starts[rows], lo)
            offsets = np.maximum(lo - starts[rows], 0)
            keep = counts > 0
            rows, counts, offsets = rows[keep], counts[keep], offsets[keep]
            src = np.repeat(rows, counts)
            # entry i of the chunk: row src[i], offset within its row
            first = np.repeat(offsets - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
            off_in_row = first + np.arange(src.size, dtype=np.int64)
            dst = np.empty(src.size, np.int64)
            w = None if dtype_w is None else np.empty(src.size, np.float32)
            t = np.empty(src.size, np.int64) if self.has_times(et) else None
            parts = self.route(row_type, src)
            res = ray.get([self.shards[k].entries.remote(j, bool(reverse), src[idx], off_in_row[idx])
                           for k, idx in parts])
            for (_, idx), (nb, ww, tt) in zip(parts, res):
                dst[idx] = nb
                if w is not None:
                    w[idx] = ww
                if t is not None:
                    t[idx] = tt
            yield EdgeChunk(et, src, dst, w, t, lo)

    def coo(self, etype: Any = None, *, reverse: bool = False) -> EdgeChunk:
        et = self.edge_type(etype)
        chunks = list(self.iter_edges(et, chunk_size=max(1, self.num_edges(et)), reverse=reverse))
        if chunks:
            return chunks[0]
        return EdgeChunk(et, np.zeros(0, np.int64), np.zeros(0, np.int64),
                         np.zeros(0, np.float32) if self.has_weights(et) else None,
                         np.zeros(0, np.int64) if self.has_times(et) else None, 0)

    # ------------------------------------------------------------------ attributes
    def _gather(self, ntype: str, name: str) -> np.ndarray | None:
        import ray

        res = ray.get([s.attribute.remote(ntype, name) for s in self.shards])
        if all(r is None for r in res):
            return None
        first = next(r for r in res if r is not None)[1]
        out = np.empty((self.num_nodes(ntype),) + first.shape[1:], dtype=first.dtype)
        for r in res:
            if r is not None:
                out[r[0]] = r[1]
        return out

    def features(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None:
        nt = self.node_type(ntype)
        if not self._nmeta[nt]["features"]:
            return None
        f = self._gather(nt, "features")
        return f if nodes is None else f[self.check_nodes(nt, nodes)]

    def labels(self, ntype: str | None = None, nodes: Any = None) -> np.ndarray | None:
        nt = self.node_type(ntype)
        if not self._nmeta[nt]["labels"]:
            return None
        if nt not in self._labels:
            self._labels[nt] = self._gather(nt, "labels")
        lab = self._labels[nt]
        return lab if nodes is None else lab[self.check_nodes(nt, nodes)]

    def is_multilabel(self, ntype: str | None = None) -> bool:
        return bool(self._nmeta[self.node_type(ntype)]["multilabel"])

    def num_classes(self, ntype: str | None = None) -> int:
        return int(self._nmeta[self.node_type(ntype)]["num_classes"])

    def node_data(self, ntype: str | None, name: str) -> np.ndarray:
        nt = self.node_type(ntype)
        if name not in self._nmeta[nt]["data"]:
            raise SchemaError(f"node type {nt!r} has no array {name!r}; it has: "
                              f"{', '.join(self._nmeta[nt]['data']) or '(none)'}")
        return self._gather(nt, f"data.{name}")

    def node_data_names(self, ntype: str | None = None) -> list[str]:
        return sorted(self._nmeta[self.node_type(ntype)]["data"])

    def summary(self) -> dict[str, Any]:
        nodes = {nt: {"count": int(m["count"]), "id_kind": m["id_kind"], "features": m["features"],
                      "labels": m["labels"], "data": m["data"]} for nt, m in self._nmeta.items()}
        edges = {}
        for et in self._etypes:
            deg = np.asarray(self._degree(et, "out"))
            em = self._emeta[et]
            edges[str(et)] = {"entries": int(em["entries"]), "undirected": em["undirected"],
                              "weighted": em["weighted"], "timestamped": em["timed"],
                              "degree_min": int(deg.min()) if deg.size else 0,
                              "degree_mean": float(deg.mean()) if deg.size else 0.0,
                              "degree_max": int(deg.max()) if deg.size else 0,
                              "isolated_sources": int((deg == 0).sum())}
        return {"node_types": nodes, "edge_types": edges, "path": self.root,
                "partition": {"parts": self.num_parts, "method": self.manifest["method"],
                              "stats": self.manifest["stats"]}}


def open_distributed(path: str | os.PathLike, *, address: str | None = "local",
                     num_cpus: int | None = None) -> DistributedGraph:
    """Open a partition folder on Ray (see :class:`DistributedGraph`)."""
    return DistributedGraph(path, address=address, num_cpus=num_cpus)


def open_ray_uri(uri: str, **kwargs: Any) -> DistributedGraph:
    """``ray://ADDRESS/PATH`` → :class:`DistributedGraph` (the ``open_graph`` hook)."""
    rest = uri.split("://", 1)[1]
    address, sep, path = rest.partition("/")
    if not sep or not path or not address:
        raise ValidationError(f"{uri}: expected ray://ADDRESS/PATH, e.g. ray://local/data/blog.parts "
                              "(ADDRESS: local, auto or HOST:PORT; PATH: the absolute partition folder)")
    return DistributedGraph("/" + path, address=address, **kwargs)
