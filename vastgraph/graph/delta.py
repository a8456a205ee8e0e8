"""Graph deltas: batches of new nodes and edge insertions/deletions, and applying them to a graph.

A :class:`GraphDelta` names nodes by their *external* ids, so it can be written before anyone knows
the dense ids. :func:`apply_delta` turns it into a new :class:`HeteroGraph` without touching the
input graph:

* **Nodes.** New nodes get dense ids appended after the existing ones of their type; existing
  dense ids never change. A node type with features needs features (same width) for its new nodes;
  labels default to -1 (or an all-zero multi-hot row); other per-node arrays are padded with zeros.
* **Edges.** Deletions are matched against the edges of the graph *before* the delta and remove
  every parallel copy of a ``(src, dst)`` pair; then the insertions are merged in. For an undirected
  edge type an insertion ``(u, v)`` adds both directions (as :class:`GraphBuilder` does). The
  graph's build policies (``info['build']``: ``duplicates`` sum/first, ``self_loops`` drop) are
  kept. Each changed CSR (and CSC) is rebuilt by a parallel numba merge of its sorted rows with
  the insertions sorted by (row, column), skipping deleted entries and block-copying untouched
  rows: O(E + Δ log Δ), no Python loop over edges. Edge types the delta does not change reuse
  their arrays (only ``indptr`` grows when an endpoint type gained nodes).
* **Time policy.** ``time_policy="reject"`` (default): an inserted edge whose time is earlier than
  the latest time already stored for its edge type raises :class:`ValidationError`;
  ``"allow"`` accepts it. Edges of a timestamped type take their own ``time`` or else the delta's
  batch ``time``; an edge type without times does not accept per-edge times.
* **Missing deletions.** ``missing="raise"`` (default) refuses to delete a pair that is not in the
  graph; ``missing="ignore"`` skips it.

Reference: the delta log + versioned snapshot design of dynamic graph stores (e.g. Euler's graph
updates, GraphLearn's dynamic graphs); DNE (Du et al., IJCAI 2018) consumes these deltas.

Example:
    >>> from vastgraph.graph.builder import GraphBuilder
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 1], [1, 2])
    >>> g = b.build()
    >>> d = GraphDelta().add_nodes("node", [3]).add_edges([2], [3]).delete_edges([0], [1])
    >>> g2, s = apply_delta(g, d)
    >>> g2.num_nodes(), g2.neighbors(3).tolist(), s.touched["node"].tolist()
    (4, [2], [0, 1, 2, 3])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.graph.delta_log import atomic_write_bytes, delta_from_bytes, delta_to_bytes
from vastgraph.graph.delta_merge import (_dense, _extend_adj, _grow_nodes, _rebuild, _resolve_etype, _show,
                                        carry_string_cache)

__all__ = ["GraphDelta", "DeltaSummary", "apply_delta", "declare_new_endpoints", "carry_string_cache"]
from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph
from vastgraph.graph.schema import EdgeType

DELTA_MAGIC = b"VGDELTA1"
DELTA_FORMAT_VERSION = 1
TIME_POLICIES = ("reject", "allow")
MISSING_POLICIES = ("raise", "ignore")
ApplyProgress = Callable[[float, str], Any]


# =========================================================================== input checks
def _ids(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValidationError(f"{what}: shape {arr.shape}; expected a 1-D array of ids")
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind in "OSU":
        if arr.dtype.kind == "O" and not all(isinstance(v, (str, bytes)) for v in arr.tolist()):
            raise ValidationError(f"{what}: holds values that are neither int nor str")
        return np.array([v.decode() if isinstance(v, bytes) else v for v in arr.tolist()], dtype=str) \
            if arr.size else np.zeros(0, dtype="<U1")
    raise ValidationError(f"{what}: dtype {arr.dtype}; expected int or str external ids")


def _weights(values: Any, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValidationError(f"{what}: shape {arr.shape}; expected ({n},) like src/dst")
    if arr.dtype.kind not in "fiub":
        raise ValidationError(f"{what}: dtype {arr.dtype}; expected numbers")
    w = arr.astype(np.float32)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"{what}: row {i} is {arr[i]}; expected a finite weight >= 0")
    return w


def _times(values: Any, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValidationError(f"{what}: shape {arr.shape}; expected ({n},) like src/dst")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.all(arr == np.round(arr)):
            i = int(np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))[0])
            raise ValidationError(f"{what}: row {i} is {arr[i]}; expected integer seconds")
    elif arr.dtype.kind not in "iu":
        raise ValidationError(f"{what}: dtype {arr.dtype}; expected integer seconds")
    return arr.astype(np.int64)


def _etype_key(etype: Any) -> Any:
    """A JSON-able spelling of an edge type (EdgeType/tuple → 'src:rel:dst')."""
    if etype is None or isinstance(etype, str):
        return etype
    if isinstance(etype, tuple) and len(etype) == 3 and all(isinstance(p, str) for p in etype):
        return str(EdgeType(*etype))
    raise ValidationError(f"etype={etype!r}: expected None, (src, rel, dst), 'src:rel:dst' or a relation name")


# =========================================================================== the delta
class GraphDelta:
    """A batch of graph changes in external ids: new nodes, edge insertions and edge deletions.

    Args:
        time: the batch timestamp in integer seconds (optional). Inserted edges of timestamped edge
            types without their own ``time`` take it; :class:`DynamicStore` dates versions by it.

    Every ``add_*``/``delete_*`` call checks shapes, dtypes and values at once (NaN/inf/negative
    weights, mismatched lengths, NaN features) and returns the delta, so calls chain. Ids are
    checked against a graph only in :func:`apply_delta`.

    Example:
        >>> d = GraphDelta(time=100).add_nodes("user", ["u9"]).add_edges(["u9"], ["i1"], etype="user:click:item")
        >>> d.num_new_nodes, d.num_insertions, d.num_deletions, d.is_empty
        (1, 1, 0, False)
    """

    def __init__(self, time: int | None = None) -> None:
        if time is not None and (isinstance(time, bool) or not isinstance(time, (int, np.integer))):
            raise ValidationError(f"time={time!r}: expected None or integer seconds")
        self.time = None if time is None else int(time)
        self.nodes: list[dict[str, Any]] = []       # {"ntype", "ids", "features", "labels"}
        self.insertions: list[dict[str, Any]] = []  # {"etype", "src", "dst", "weight", "time"}
        self.deletions: list[dict[str, Any]] = []   # {"etype", "src", "dst"}

    # ------------------------------------------------------------------ building
    def add_nodes(self, ntype: str, ids: Any, *, features: Any = None, labels: Any = None) -> "GraphDelta":
        """Declare new nodes of ``ntype`` (external ``ids``), with ``(n, d)`` features and labels."""
        if not isinstance(ntype, str) or not ntype:
            raise ValidationError(f"ntype={ntype!r}: expected a node type name")
        arr = _ids(ids, f"add_nodes({ntype!r}) ids")
        n = arr.shape[0]
        f = None
        if features is not None:
            f = np.asarray(features)
            if f.ndim != 2 or f.shape[0] != n or f.dtype.kind not in "fiub":
                raise ValidationError(f"add_nodes({ntype!r}) features: {f.dtype}{f.shape}; expected "
                                      f"numbers of shape ({n}, d)")
            f = f.astype(np.float32)
            if not np.isfinite(f).all():
                raise ValidationError(f"add_nodes({ntype!r}) features: row "
                                      f"{int(np.argwhere(~np.isfinite(f))[0][0])} holds NaN/inf")
        lab = None
        if labels is not None:
            lab = np.asarray(labels)
            if lab.ndim not in (1, 2) or lab.shape[0] != n or lab.dtype.kind not in "iub":
                raise ValidationError(f"add_nodes({ntype!r}) labels: {lab.dtype}{lab.shape}; expected "
                                      f"integers of shape ({n},) or ({n}, C)")
            lab = lab.astype(np.int64 if lab.ndim == 1 else np.uint8)
        self.nodes.append({"ntype": ntype, "ids": arr, "features": f, "labels": lab})
        return self

    def _pairs(self, src: Any, dst: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        s, d = _ids(src, f"{what} src"), _ids(dst, f"{what} dst")
        if s.shape != d.shape:
            raise ValidationError(f"{what}: src has {s.shape[0]} ids but dst has {d.shape[0]}; expected equal lengths")
        return s, d

    def add_edges(self, src: Any, dst: Any, *, etype: Any = None, weight: Any = None,
                  time: Any = None) -> "GraphDelta":
        """Insert edges ``src[i] → dst[i]`` of ``etype`` (None: the graph's only edge type)."""
        key = _etype_key(etype)
        s, d = self._pairs(src, dst, "add_edges")
        n = s.shape[0]
        w = None if weight is None else _weights(weight, n, "add_edges weight")
        t = None if time is None else _times(time, n, "add_edges time")
        self.insertions.append({"etype": key, "src": s, "dst": d, "weight": w, "time": t})
        return self

    def delete_edges(self, src: Any, dst: Any, *, etype: Any = None) -> "GraphDelta":
        """Delete every parallel copy of the edges ``(src[i], dst[i])`` of ``etype``."""
        key = _etype_key(etype)
        s, d = self._pairs(src, dst, "delete_edges")
        self.deletions.append({"etype": key, "src": s, "dst": d})
        return self

    # ------------------------------------------------------------------ counts
    @property
    def num_new_nodes(self) -> int:
        return sum(int(b["ids"].shape[0]) for b in self.nodes)

    @property
    def num_insertions(self) -> int:
        return sum(int(b["src"].shape[0]) for b in self.insertions)

    @property
    def num_deletions(self) -> int:
        return sum(int(b["src"].shape[0]) for b in self.deletions)

    @property
    def is_empty(self) -> bool:
        return self.num_new_nodes == 0 and self.num_insertions == 0 and self.num_deletions == 0

    def __repr__(self) -> str:
        return (f"GraphDelta(time={self.time}, new_nodes={self.num_new_nodes}, "
                f"insertions={self.num_insertions}, deletions={self.num_deletions})")

    # ------------------------------------------------------------------ persistence
    def to_bytes(self) -> bytes:
        """The self-describing, checksummed binary form (see :func:`vastgraph.graph.delta_log.delta_to_bytes`)."""
        return delta_to_bytes(self, DELTA_MAGIC, DELTA_FORMAT_VERSION)

    def digest(self) -> str:
        """Content digest (BLAKE2b-128 hex of :meth:`to_bytes`): equal deltas, equal digests.

        The updater and ``vastgraph delta apply`` refuse a delta whose digest the store's log holds.

        Example:
            >>> GraphDelta(time=1).add_edges([0], [1]).digest() == GraphDelta(time=1).add_edges([0], [1]).digest()
            True
        """
        import hashlib

        return hashlib.blake2b(self.to_bytes(), digest_size=16).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "<bytes>") -> "GraphDelta":
        """Inverse of :meth:`to_bytes`; every batch is re-checked as if added again."""
        return delta_from_bytes(cls, data, DELTA_MAGIC, DELTA_FORMAT_VERSION, source=source)

    def save(self, path: str | os.PathLike) -> str:
        """Write the delta to one file atomically (temp file + fsync + rename); returns the path."""
        return atomic_write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GraphDelta":
        """Read a file written by :meth:`save` (ParseError/CorruptStoreError naming the path)."""
        p = os.fspath(path)
        if not os.path.isfile(p):
            from vastgraph.errors import DatasetError
            raise DatasetError(f"{p}: no such delta file")
        with open(p, "rb") as f:
            return cls.from_bytes(f.read(), source=p)

    @classmethod
    def from_edgelist(cls, path: str | os.PathLike, *, etype: Any = None, delimiter: str | None = None,
                      deletions: bool = False, header: bool = False, comment: str | None = "#",
                      time: int | None = None) -> "GraphDelta":
        """Read edge insertions (or, with ``deletions=True``, deletions) from a text edge list.

        Each data line is ``src dst [weight] [time]`` (deletions use ``src dst``); malformed lines
        raise :class:`ParseError` naming the file, line and field. ``time`` is the batch time.
        """
        from vastgraph.graph.text_reader import TextEdgeReader, sniff

        lay = sniff(path, delimiter=delimiter, comment=comment, header=header, columns=None,
                    weighted=False if deletions else None, timestamped=False if deletions else None,
                    id_mode="map", id_dtype="auto", same_node_type=True)
        if deletions and lay.ncols != 2:
            from vastgraph.errors import ParseError
            raise ParseError(f"a deletions file has 2 columns (src dst), this one has {lay.ncols}",
                             path=lay.path, line=lay.first_row_line)
        reader = TextEdgeReader(lay, id_mode="map", id_dtype="auto", chunk_rows=1_000_000)
        delta = cls(time=time)
        for chunk, _ in reader.chunks():
            if deletions:
                delta.delete_edges(chunk["src"], chunk["dst"], etype=etype)
            else:
                delta.add_edges(chunk["src"], chunk["dst"], etype=etype, weight=chunk.get("weight"),
                                time=chunk.get("time"))
        return delta


@dataclass(frozen=True)
class DeltaSummary:
    """What :func:`apply_delta` changed, in dense ids of the new graph.

    Attributes (``new_nodes`` and ``touched`` have every node type, with empty arrays where nothing changed):
        new_nodes: ntype → dense ids of the new nodes.
        inserted: etype → ``(src, dst, weight float32)`` of the inserted edges, each once as given
            (weight 1.0 for unweighted input).
        deleted: etype → ``(src, dst)`` of the pairs actually removed (all their parallel copies).
        touched: ntype → sorted unique dense ids whose adjacency changed (endpoints of inserted and
            deleted edges, and the new nodes).
        time: the delta's batch time.
    """

    new_nodes: dict[str, np.ndarray]
    inserted: dict[EdgeType, tuple[np.ndarray, np.ndarray, np.ndarray]]
    deleted: dict[EdgeType, tuple[np.ndarray, np.ndarray]]
    touched: dict[str, np.ndarray]
    time: int | None

    def counts(self) -> dict[str, Any]:
        """Counts by kind (JSON-able)."""
        return {"new_nodes": {k: int(v.size) for k, v in self.new_nodes.items()},
                "inserted": {str(k): int(v[0].size) for k, v in self.inserted.items()},
                "deleted": {str(k): int(v[0].size) for k, v in self.deleted.items()},
                "touched": {k: int(v.size) for k, v in self.touched.items()}, "time": self.time}


def declare_new_endpoints(graph: HeteroGraph, delta: GraphDelta) -> GraphDelta:
    """Add ``add_nodes`` batches for insertion endpoints that are neither in ``graph`` nor declared.

    For deltas read from plain edge lists, where new nodes appear only as endpoints. Node types
    with features cannot be extended this way (their new nodes need features). Returns ``delta``.
    """
    declared: dict[str, list[np.ndarray]] = {}
    for b in delta.nodes:
        declared.setdefault(b["ntype"], []).append(b["ids"])
    fresh: dict[str, list[np.ndarray]] = {}
    for b in delta.insertions:
        et = _resolve_etype(graph, b["etype"])
        for nt, ext in ((et.src, b["src"]), (et.dst, b["dst"])):
            ids = graph.node_store(nt).ids
            ext = ext.astype(str) if ids.kind == "str" else ext
            new = ext[ids.lookup(ext, ntype=nt, missing="-1") < 0]
            if declared.get(nt):
                new = new[~np.isin(new, np.concatenate(declared[nt]))]
            fresh.setdefault(nt, []).append(new)
    for nt, parts in fresh.items():
        new = np.concatenate(parts)
        if new.size:
            _, first = np.unique(new, return_index=True)
            delta.add_nodes(nt, new[np.sort(first)])
    return delta


def _unique_ids(parts: list[np.ndarray], n: int) -> np.ndarray:
    """Sorted distinct ids of ``parts`` (ids in ``[0, n)``) via a mask: O(n + Δ), no sort."""
    mask = np.zeros(n, dtype=bool)
    for p in parts:
        mask[p] = True
    return np.flatnonzero(mask).astype(np.int64)


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(f"{name}={value!r}: expected one of {', '.join(map(repr, allowed))}")
    return value


def apply_delta(graph: HeteroGraph, delta: GraphDelta, *, time_policy: str = "reject", missing: str = "raise",
                progress: ApplyProgress | None = None) -> tuple[HeteroGraph, DeltaSummary]:
    """Apply ``delta`` to ``graph`` in memory; returns a new graph and what changed.

    The input graph is not modified. See the module docstring for the semantics (dense ids of
    existing nodes never change; deletions before insertions; undirected types get both directions).

    Args:
        graph: the graph before the delta.
        delta: the changes, in external ids.
        time_policy: ``"reject"`` (default): an inserted edge older than the latest time of its edge
            type raises :class:`ValidationError`; ``"allow"``: accepted.
        missing: ``"raise"`` (default): deleting a pair that is not in the graph raises
            :class:`ValidationError` naming it; ``"ignore"``: skipped.
        progress: optional ``progress(done_fraction, stage)`` callback.

    Returns:
        ``(new_graph, DeltaSummary)``; arrays of node and edge types the delta leaves alone are the
        same objects as in ``graph``.

    Raises:
        SchemaError: unknown node or edge type. UnknownIdError: an endpoint that is neither in the
        graph nor declared new. ValidationError: duplicate new ids, time going backwards under
        ``"reject"``, feature width, missing deletions, per-edge times on an untimed edge type.
    """
    _check_choice("time_policy", time_policy, TIME_POLICIES)
    _check_choice("missing", missing, MISSING_POLICIES)
    if not isinstance(delta, GraphDelta):
        raise ValidationError(f"delta: {type(delta).__name__}; expected a GraphDelta")
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress={progress!r}: expected None or a callable(done_fraction, stage)")
    report = progress or (lambda f, s: None)
    report(0.0, "nodes")
    nodes, new_nodes, new_index = _grow_nodes(graph, delta)
    build = graph.info.get("build", {}) if isinstance(graph.info.get("build"), dict) else {}
    duplicates, drop_loops = build.get("duplicates", "keep"), build.get("self_loops") == "drop"
    # ---- group and check the edge batches by type (external ids → dense ids) ----
    ins: dict[EdgeType, list[tuple]] = {}
    dels: dict[EdgeType, list[tuple]] = {}
    for b in delta.insertions:
        et = _resolve_etype(graph, b["etype"])
        e = graph.edge_store(et)
        s = _dense(graph, new_index, et.src, b["src"], et, "source")
        d = _dense(graph, new_index, et.dst, b["dst"], et, "destination")
        t = b["time"]
        if e.csr.time is None:
            if t is not None:
                raise ValidationError(f"add_edges time: edge type {et} stores no times; build the graph "
                                      "with times to insert timestamped edges")
        elif t is None:
            if delta.time is None:
                raise ValidationError(f"add_edges: edge type {et} is timestamped; give time= per edge or "
                                      "GraphDelta(time=...)")
            t = np.full(s.shape[0], delta.time, np.int64)
        if t is not None and time_policy == "reject" and e.csr.nnz and t.size:
            latest = graph.derived.setdefault(("latest_time", et), int(np.max(e.csr.time)))
            if t.min() < latest:
                i = int(np.argmin(t))
                raise ValidationError(f"add_edges time: edge ({_show(b['src'][i])}, {_show(b['dst'][i])}) of {et} "
                                      f"has time {int(t[i])}, earlier than the latest time {latest} of that edge type "
                                      "(time_policy='reject'; pass time_policy='allow' to accept)")
        w = b["weight"]
        if drop_loops and et.src == et.dst:
            k = s != d
            s, d, w, t = s[k], d[k], None if w is None else w[k], None if t is None else t[k]
        ins.setdefault(et, []).append((s, d, w, t))
    for b in delta.deletions:
        et = _resolve_etype(graph, b["etype"])
        s = _dense(graph, new_index, et.src, b["src"], et, "source")
        d = _dense(graph, new_index, et.dst, b["dst"], et, "destination")
        dels.setdefault(et, []).append((s, d, b["src"], b["dst"]))
    # ---- rebuild ----
    edges: dict[EdgeType, EdgeTypeData] = {}
    inserted: dict[EdgeType, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    deleted: dict[EdgeType, tuple[np.ndarray, np.ndarray]] = {}
    touched: dict[str, list[np.ndarray]] = {nt: [new_nodes[nt]] if nt in new_nodes else [] for nt in nodes}
    ets = graph.edge_types
    for j, et in enumerate(ets):
        report(0.1 + 0.9 * j / max(len(ets), 1), f"edges {et}")
        e = graph.edge_store(et)
        n_src, n_dst = nodes[et.src].count, nodes[et.dst].count
        if et not in ins and et not in dels:
            if n_src == e.csr.n_rows and n_dst == e.csr.n_cols:
                edges[et] = e
            else:
                edges[et] = EdgeTypeData(et, _extend_adj(e.csr, n_src, n_dst),
                                         None if e.csc is None else _extend_adj(e.csc, n_dst, n_src), e.undirected)
            continue
        parts = ins.get(et, [])
        i_s = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        i_d = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        given_w = [p[2] for p in parts]
        i_w = None
        if e.csr.weight is not None or any(w is not None and (w != 1).any() for w in given_w):
            i_w = np.concatenate([np.ones(s.size, np.float32) if w is None else w
                                  for (s, _, _, _), w in zip(parts, given_w)]) if parts else np.zeros(0, np.float32)
        i_t = np.concatenate([p[3] for p in parts]) if parts and e.csr.time is not None else None
        dparts = dels.get(et, [])
        d_s = np.concatenate([p[0] for p in dparts]) if dparts else np.zeros(0, np.int64)
        d_d = np.concatenate([p[1] for p in dparts]) if dparts else np.zeros(0, np.int64)
        if n_src > e.csr.n_rows or n_dst > e.csr.n_cols:
            e = EdgeTypeData(et, _extend_adj(e.csr, n_src, n_dst),
                             None if e.csc is None else _extend_adj(e.csc, n_dst, n_src), e.undirected)
        new_e, found = _rebuild(e, n_src, n_dst, d_s, d_d, i_s, i_d, i_w, i_t, duplicates)
        if d_s.size and not found.all():
            if missing == "raise":
                i = int(np.flatnonzero(~found)[0])
                ext_s = np.concatenate([p[2] for p in dparts])[i]
                ext_d = np.concatenate([p[3] for p in dparts])[i]
                raise ValidationError(f"delete_edges: edge ({_show(ext_s)}, {_show(ext_d)}) of {et} does not exist "
                                      f"({int((~found).sum())} missing in all); pass missing='ignore' to skip")
            d_s, d_d = d_s[found], d_d[found]
        edges[et] = new_e
        if parts:
            inserted[et] = (i_s, i_d, i_w if i_w is not None else np.ones(i_s.size, np.float32))
        if dparts:
            deleted[et] = (d_s, d_d)
        touched.setdefault(et.src, []).extend([i_s, d_s])
        touched.setdefault(et.dst, []).extend([i_d, d_d])
    out = HeteroGraph(nodes, edges, info=dict(graph.info))
    new_nodes = {nt: new_nodes.get(nt, np.zeros(0, np.int64)) for nt in nodes}
    summary = DeltaSummary(new_nodes=new_nodes, inserted=inserted, deleted=deleted,
                           touched={nt: _unique_ids(v, nodes[nt].count) for nt, v in touched.items()},
                           time=delta.time)
    report(1.0, "done")
    return out, summary
