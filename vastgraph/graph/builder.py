"""Build a :class:`HeteroGraph` from edge chunks, in memory or straight into a store folder.

Edges arrive in chunks (:meth:`GraphBuilder.add_edges`) from arrays, text or Parquet readers. Chunks
are kept in memory up to ``memory_limit`` bytes and spilled to ``.npy`` files beyond it; the CSR is
then built by a counting pass and a scatter pass over the chunks into preallocated arrays, which
are memory-mapped files in the output store when a path is given. So a graph whose edge list does
not fit in memory can still be built, and nothing is copied whole.

Policies (recorded in ``graph.info['build']``):

* ``duplicates``: ``keep`` every parallel edge, ``sum`` their weights (keeping the latest time), or
  keep the ``first`` occurrence (its weight and time).
* ``self_loops``: ``keep`` or ``drop``.
* ``directed=False``: an edge type between one node type is stored in both directions in one
  symmetric CSR (no CSC); between two node types the CSC serves the reverse direction.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.graph.csr_kernels import (DUPLICATE_POLICIES, SELF_LOOP_POLICIES, compact_rows,
                                         scatter_fill, sort_rows, transpose_fill, unique_counts)
from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph, NodeTypeData
from vastgraph.graph.id_mapper import IdMapper
from vastgraph.graph.schema import EdgeType, check_name
from vastgraph.graph.store import Adjacency

INT32_MAX = np.iinfo(np.int32).max


@dataclass
class _EdgeChunks:
    src: list[np.ndarray] = field(default_factory=list)
    dst: list[np.ndarray] = field(default_factory=list)
    weight: list[np.ndarray | None] = field(default_factory=list)
    time: list[np.ndarray | None] = field(default_factory=list)
    dropped_self_loops: int = 0


def _finite_float32(values: Any, what: str, source: str, row_offset: int, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValidationError(f"{source}: {what} has shape {arr.shape}, expected ({n},)")
    if arr.dtype.kind not in "fiub":
        raise ValidationError(f"{source}: {what} has dtype {arr.dtype}; expected numbers")
    arr = arr.astype(np.float32)
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"{source}: row {row_offset + i}: {what} is {arr[i]} (NaN/inf not allowed)")
    return arr


class GraphBuilder:
    """Accumulate typed edges and nodes, then build the CSR/CSC store.

    Args:
        directed: store edges as given (True) or also their reverse (False). Default True.
        duplicates: ``"keep"`` | ``"sum"`` | ``"first"``. Default ``"keep"``.
        self_loops: ``"keep"`` | ``"drop"``. Default ``"keep"``.
        id_mode: ``"map"`` (any int/str ids, dense ids by first appearance) or ``"dense"`` (non-negative
            integer ids used as they are). Default ``"map"``.
        node_types: if given, the closed list of node types; edges naming another type are an error.
        memory_limit: bytes of edge chunks kept in memory before spilling to disk. Default 2 GiB.
        spill_dir: where spilled chunks go (default: a temporary folder).

    Example:
        >>> b = GraphBuilder(directed=False, duplicates="sum")
        >>> _ = b.add_edges(["a", "a"], ["b", "b"], weight=[1.0, 2.0])
        >>> b.build().edge_weights([0], [1]).tolist()
        [3.0]
    """

    def __init__(self, *, directed: bool = True, duplicates: str = "keep", self_loops: str = "keep",
                 id_mode: str = "map", node_types: list[str] | None = None,
                 memory_limit: int = 2 << 30, spill_dir: str | None = None) -> None:
        if duplicates not in DUPLICATE_POLICIES:
            raise ValidationError(f"duplicates={duplicates!r}: expected one of {', '.join(DUPLICATE_POLICIES)}")
        if self_loops not in SELF_LOOP_POLICIES:
            raise ValidationError(f"self_loops={self_loops!r}: expected one of {', '.join(SELF_LOOP_POLICIES)}")
        if id_mode not in ("map", "dense"):
            raise ValidationError(f"id_mode={id_mode!r}: expected 'map' or 'dense'")
        self.directed = bool(directed)
        self.duplicates = duplicates
        self.self_loops = self_loops
        self.id_mode = id_mode
        self.strict_types = node_types is not None
        self.memory_limit = int(memory_limit)
        self._spill_root = spill_dir
        self._spill_dir: str | None = None
        self._in_memory = 0
        self._mappers: dict[str, IdMapper] = {}
        self._node_attrs: dict[str, dict[str, Any]] = {}
        self._edges: dict[EdgeType, _EdgeChunks] = {}
        self._weighted: set[EdgeType] = set()
        self._timed: set[EdgeType] = set()
        self._directed: dict[EdgeType, bool] = {}
        self._label_files: dict[str, Any] = {}
        self.info: dict[str, Any] = {}
        for nt in node_types or []:
            self._mapper(nt, create=True)

    # ------------------------------------------------------------------ nodes
    def _mapper(self, ntype: str, create: bool = False) -> IdMapper:
        if ntype not in self._mappers:
            if self.strict_types and not create:
                raise SchemaError(f"node type {ntype!r} does not exist; known node types: "
                                  f"{', '.join(self._mappers) or '(none)'}")
            self._mappers[check_name("node type", ntype)] = IdMapper(ntype, self.id_mode)
            self._node_attrs[ntype] = {"data": {}}
        return self._mappers[ntype]

    def add_nodes(self, ntype: str = "node", *, ids: Any = None, count: int | None = None,
                  features: Any = None, labels: Any = None, data: dict[str, Any] | None = None) -> None:
        """Declare a node type's nodes (by external ``ids`` or a ``count``) and their attributes.

        Once declared, edges naming ids outside the set are an error. ``features`` is ``(n, d)``
        float32 (finite); ``labels`` is ``(n,)`` ints (-1 = unknown) or ``(n, C)`` 0/1 multi-hot.
        """
        m = self._mapper(ntype, create=not self.strict_types or ntype in self._mappers)
        if ids is None and count is None:
            for arr in (features, labels):
                if arr is not None:
                    count = int(np.shape(arr)[0])
                    break
        if ids is None and count is None:
            raise ValidationError(f"add_nodes({ntype!r}): give ids, count, features or labels")
        m.declare(ids=ids, count=count)
        n = m.count
        attrs = self._node_attrs[ntype]
        # Attribute rows follow the order of ``ids``; dense ids need not be their positions (ids may
        # have appeared in edges first, or be dense ids in any order), so scatter rows into place.
        order = None
        if ids is not None:
            pos = m.map(np.asarray(ids), where="declared ids", allow_new=False)
            if pos.shape[0] == n and not np.array_equal(pos, np.arange(n)):
                order = pos

        def place(a: np.ndarray) -> np.ndarray:
            if order is None or a.shape[:1] != (n,):
                return a
            out = np.empty_like(a)
            out[order] = a
            return out

        if features is not None:
            f = np.asarray(features)
            if f.ndim != 2 or f.shape[0] != n:
                raise ValidationError(f"{ntype} features: shape {f.shape}, expected ({n}, d)")
            if f.dtype.kind not in "fiub":
                raise ValidationError(f"{ntype} features: dtype {f.dtype}; expected numbers")
            f = f.astype(np.float32)
            if not np.isfinite(f).all():
                r = int(np.argwhere(~np.isfinite(f))[0][0])
                raise ValidationError(f"{ntype} features: row {r} holds NaN/inf")
            attrs["features"] = place(f)
        if labels is not None:
            lab = np.asarray(labels)
            if lab.shape[0] != n or lab.ndim not in (1, 2):
                raise ValidationError(f"{ntype} labels: shape {lab.shape}, expected ({n},) or ({n}, C)")
            if lab.dtype.kind not in "iub" and not (lab.dtype.kind == "f" and np.all(lab == np.round(lab))):
                raise ValidationError(f"{ntype} labels: dtype {lab.dtype}; expected integers")
            if lab.ndim == 2:
                if lab.size and (lab.min() < 0 or lab.max() > 1):
                    raise ValidationError(f"{ntype} labels: multi-label matrix must hold 0/1")
                lab = lab.astype(np.uint8)
            else:
                lab = lab.astype(np.int64)
                if lab.size and lab.min() < -1:
                    raise ValidationError(f"{ntype} labels: {int(lab.min())} < -1 (-1 marks unknown)")
            attrs["labels"] = place(lab)
        for key, arr in (data or {}).items():
            a = np.asarray(arr)
            if a.shape[:1] != (n,):
                raise ValidationError(f"{ntype} data {key!r}: shape {a.shape}, expected ({n}, ...)")
            attrs["data"][key] = place(a)

    def add_label_file(self, path: str, ntype: str = "node", *, header: bool | None = None) -> None:
        """Label nodes of ``ntype`` from a label file (see :mod:`vastgraph.graph.labels`), applied at
        :meth:`build` once the node set is known; labelled nodes that no edge names are skipped and
        counted in ``graph.info['labels']``."""
        from vastgraph.graph.labels import read_label_file

        self._label_files[check_name("node type", ntype)] = read_label_file(path, header=header)

    # ------------------------------------------------------------------ edges
    def _etype(self, etype: Any) -> EdgeType:
        if etype is None:
            etype = ("node", "edge", "node")
        if isinstance(etype, str):
            et = EdgeType.parse(etype) if (":" in etype or "," in etype) else EdgeType("node", etype, "node")
        elif isinstance(etype, tuple) and len(etype) == 3:
            et = EdgeType(*etype)
        else:
            raise ValidationError(f"edge type {etype!r}: expected (src, relation, dst) or 'src:rel:dst'")
        check_name("relation", et.rel)
        for t in (et.src, et.dst):
            self._mapper(t)
        return et

    def _set_directed(self, et: EdgeType, directed: bool | None) -> None:
        if directed is None:
            return
        prev = self._directed.setdefault(et, bool(directed))
        if prev != bool(directed):
            raise ValidationError(f"edge type {et}: directed={directed} conflicts with directed={prev} "
                                  "given for earlier edges of the same type")

    def is_directed(self, etype: Any) -> bool:
        """Whether ``etype`` is stored directed (its own setting, else the builder's default)."""
        return self._directed.get(self._etype(etype), self.directed)

    def add_edges(self, src: Any, dst: Any, *, etype: Any = None, weight: Any = None, time: Any = None,
                  directed: bool | None = None, source: str = "edges", row_offset: int = 0) -> int:
        """Add one chunk of edges of ``etype``; returns how many were kept.

        ``directed`` overrides the builder's default for this edge type (a heterogeneous graph may
        mix directed and undirected edge types). ``source`` and ``row_offset`` only serve error
        messages (file name, first row's number).
        """
        et = self._etype(etype)
        self._set_directed(et, directed)
        s_raw, d_raw = np.asarray(src), np.asarray(dst)
        if s_raw.ndim != 1 or s_raw.shape != d_raw.shape:
            raise ValidationError(f"{source}: src shape {s_raw.shape} and dst shape {d_raw.shape} must be equal 1-D")
        n = s_raw.shape[0]
        w = None if weight is None else _finite_float32(weight, "weight", source, row_offset, n)
        t = None
        if time is not None:
            t_arr = np.asarray(time)
            if t_arr.shape != (n,):
                raise ValidationError(f"{source}: time has shape {t_arr.shape}, expected ({n},)")
            if t_arr.dtype.kind == "f":
                if not np.isfinite(t_arr).all():
                    i = int(np.flatnonzero(~np.isfinite(t_arr))[0])
                    raise ValidationError(f"{source}: row {row_offset + i}: time is {t_arr[i]}")
            elif t_arr.dtype.kind not in "iu":
                raise ValidationError(f"{source}: time has dtype {t_arr.dtype}; expected integer seconds")
            t = t_arr.astype(np.int64)
        s = self._mappers[et.src].map(s_raw, where=f"{source} (source ids)")
        d = self._mappers[et.dst].map(d_raw, where=f"{source} (destination ids)")
        ch = self._edges.setdefault(et, _EdgeChunks())
        if self.self_loops == "drop" and et.src == et.dst:
            keep = s != d
            if not keep.all():
                ch.dropped_self_loops += int((~keep).sum())
                s, d = s[keep], d[keep]
                w = None if w is None else w[keep]
                t = None if t is None else t[keep]
        if w is not None:
            self._weighted.add(et)
        if t is not None:
            self._timed.add(et)
        ch.src.append(self._keep(s))
        ch.dst.append(self._keep(d))
        ch.weight.append(None if w is None else self._keep(w))
        ch.time.append(None if t is None else self._keep(t))
        return int(s.shape[0])

    def add_edge_type(self, etype: Any, *, directed: bool | None = None) -> EdgeType:
        """Declare an edge type that may stay empty (optionally with its own directedness)."""
        et = self._etype(etype)
        self._set_directed(et, directed)
        self._edges.setdefault(et, _EdgeChunks())
        return et

    def _keep(self, arr: np.ndarray) -> np.ndarray:
        """Hold a chunk in memory, or spill it to disk once ``memory_limit`` is reached."""
        if self._in_memory + arr.nbytes <= self.memory_limit:
            self._in_memory += arr.nbytes
            return arr
        if self._spill_dir is None:
            self._spill_dir = tempfile.mkdtemp(prefix=f"vastgraph-spill-{os.getpid()}-", dir=self._spill_root)
        path = os.path.join(self._spill_dir, f"c{len(os.listdir(self._spill_dir))}.npy")
        np.save(path, arr)
        return np.load(path, mmap_mode="r")

    # ------------------------------------------------------------------ build
    def build(self, path: str | None = None, *, overwrite: bool = False,
              progress: Callable[[str], None] | None = None) -> HeteroGraph:
        """Build the graph; with ``path`` write it as a store folder (atomically) and open it."""
        from vastgraph.graph.storage import StoreWriter, graph_meta

        if not self._mappers:
            raise EmptyInputError("no nodes and no edges were added: the graph would be empty")
        writer = StoreWriter(path, overwrite=overwrite) if path is not None else None
        try:
            nodes = {}
            for nt in self._label_files:
                if nt not in self._mappers:
                    raise SchemaError(f"labels for node type {nt!r}: no such node type; known node types: "
                                      f"{', '.join(self._mappers)}")
            for nt, m in self._mappers.items():
                a = self._node_attrs[nt]
                index = m.index()
                if nt in self._label_files:
                    from vastgraph.graph.labels import attach_info, dense_ids, label_arrays

                    lf = self._label_files[nt]
                    a["labels"], skipped = label_arrays(lf, dense_ids(lf, index), m.count)
                    self.info.setdefault("labels", {})[nt] = attach_info(lf, nt, skipped)
                nodes[nt] = NodeTypeData(nt, index, a.get("features"), a.get("labels"), dict(a["data"]))
                for key in ("features", "labels"):
                    if key in a and a[key].shape[0] != m.count:
                        raise ValidationError(f"{nt} {key}: {a[key].shape[0]} rows but edges name "
                                              f"{m.count} nodes (ids beyond the declared nodes?)")
            edges = {}
            stats = {}
            for j, (et, ch) in enumerate(self._edges.items()):
                if progress:
                    progress(f"building CSR of {et}")
                edges[et], stats[str(et)] = self._build_edge_type(j, et, ch, nodes, writer)
            self.info["build"] = {
                "directed": self.directed, "duplicates": self.duplicates,
                "undirected_edge_types": [str(et) for et in self._edges if not self.is_directed(et)],
                "duplicate_weight": {"keep": "kept as parallel edges", "sum": "summed, latest time kept",
                                     "first": "first occurrence's weight and time kept"}[self.duplicates],
                "self_loops": self.self_loops, "id_mode": self.id_mode, "edge_types": stats}
            graph = HeteroGraph(nodes, edges, info=self.info)
            if writer is None:
                return graph
            meta, arrays = graph_meta(graph)
            for name, arr in arrays.items():
                if name not in writer.arrays:
                    writer.put(name, np.asarray(arr))
            out = writer.commit(meta)
            del graph, edges, arrays
            return HeteroGraph.open(out)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        finally:
            if self._spill_dir is not None:
                shutil.rmtree(self._spill_dir, ignore_errors=True)
                self._spill_dir = None

    def _build_edge_type(self, j: int, et: EdgeType, ch: _EdgeChunks, nodes: dict[str, NodeTypeData],
                         writer: Any) -> tuple[EdgeTypeData, dict[str, int]]:
        n_src, n_dst = nodes[et.src].count, nodes[et.dst].count
        directed = self._directed.get(et, self.directed)
        symmetric = (not directed) and et.src == et.dst
        has_w, has_t = et in self._weighted, et in self._timed
        idx_dtype = np.int32 if max(n_src, n_dst) <= INT32_MAX else np.int64

        def alloc(name: str, shape: int, dtype: Any) -> np.ndarray:
            if writer is not None:
                return writer.allocate(f"edge{j}.{name}.npy", (shape,), dtype)
            return np.empty(shape, dtype=dtype)

        def passes():
            for s, d, w, t in zip(ch.src, ch.dst, ch.weight, ch.time):
                w = np.ones(s.shape[0], np.float32) if (has_w and w is None) else w
                t = np.zeros(s.shape[0], np.int64) if (has_t and t is None) else t
                if not symmetric:
                    yield s, d, w, t
                    continue
                # each edge followed by its reverse (self-loops once), so both rows see the
                # occurrences of an undirected pair in input order and "first" picks the same one
                keep = np.ones(2 * s.shape[0], dtype=bool)
                keep[1::2] = s != d
                yield (np.stack([s, d], 1).ravel()[keep], np.stack([d, s], 1).ravel()[keep],
                       None if w is None else np.repeat(w, 2)[keep], None if t is None else np.repeat(t, 2)[keep])

        counts = np.zeros(n_src, dtype=np.int64)
        for s, d, _, _ in passes():
            if s.size:
                counts += np.bincount(s, minlength=n_src)
        indptr = np.zeros(n_src + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        nnz = int(indptr[-1])
        dedup = self.duplicates != "keep"
        pre = "work" if dedup else "csr"
        indices = alloc(f"{pre}.indices", nnz, idx_dtype)
        weight = alloc(f"{pre}.weight", nnz, np.float32) if has_w else np.empty(0, np.float32)
        time = alloc(f"{pre}.time", nnz, np.int64) if has_t else np.empty(0, np.int64)
        cursor = indptr[:-1].copy()
        dummy_w, dummy_t = np.empty(0, np.float32), np.empty(0, np.int64)
        for s, d, w, t in passes():
            scatter_fill(s, d.astype(idx_dtype, copy=False), dummy_w if w is None else w,
                         dummy_t if t is None else t, cursor, indices, weight, time, has_w, has_t)
        sort_rows(indptr, indices, weight, time, has_w, has_t)
        merged = 0
        if dedup:
            ucount = unique_counts(indptr, indices)
            new_indptr = np.zeros(n_src + 1, dtype=np.int64)
            np.cumsum(ucount, out=new_indptr[1:])
            merged = nnz - int(new_indptr[-1])
            nnz = int(new_indptr[-1])
            n_ind = alloc("csr.indices", nnz, idx_dtype)
            n_w = alloc("csr.weight", nnz, np.float32) if has_w else np.empty(0, np.float32)
            n_t = alloc("csr.time", nnz, np.int64) if has_t else np.empty(0, np.int64)
            compact_rows(indptr, indices, weight, time, new_indptr, n_ind, n_w, n_t, has_w, has_t,
                         self.duplicates == "sum")
            if writer is not None:
                for name in ("indices", "weight", "time"):
                    writer.discard(f"edge{j}.work.{name}.npy")
            indptr, indices, weight, time = new_indptr, n_ind, n_w, n_t
        csr = Adjacency(indptr, indices, weight if has_w else None, time if has_t else None, n_dst)
        if writer is not None:
            writer.put(f"edge{j}.csr.indptr.npy", indptr)
        csc = None
        if not symmetric:
            ccount = np.bincount(indices, minlength=n_dst).astype(np.int64) if nnz else np.zeros(n_dst, np.int64)
            c_indptr = np.zeros(n_dst + 1, dtype=np.int64)
            np.cumsum(ccount, out=c_indptr[1:])
            c_idx_dtype = np.int32 if n_src <= INT32_MAX else np.int64
            c_ind = alloc("csc.indices", nnz, c_idx_dtype)
            c_w = alloc("csc.weight", nnz, np.float32) if has_w else np.empty(0, np.float32)
            c_t = alloc("csc.time", nnz, np.int64) if has_t else np.empty(0, np.int64)
            transpose_fill(indptr, indices, weight, time, c_indptr[:-1].copy(), c_ind, c_w, c_t, has_w, has_t)
            csc = Adjacency(c_indptr, c_ind, c_w if has_w else None, c_t if has_t else None, n_src)
            if writer is not None:
                writer.put(f"edge{j}.csc.indptr.npy", c_indptr)
        stats = {"entries": nnz, "merged_duplicates": merged, "dropped_self_loops": ch.dropped_self_loops}
        return EdgeTypeData(et, csr, csc, undirected=not directed), stats
