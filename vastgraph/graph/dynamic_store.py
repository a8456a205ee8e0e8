"""A versioned store folder that follows a changing graph: delta log, versions, atomic swap, snapshots.

Layout of a dynamic store folder::

    DYNAMIC              marker: {"format": "vastgraph-dynamic", "version": 1}
    CURRENT              pointer: {"version": k, "path": "versions/v000000000k"}
    delta.log            the append-only delta log (:class:`~vastgraph.graph.delta_log.DeltaLog`)
    versions/v...k/      one plain store per version (version k = the graph after log record k)

Applying a delta (:meth:`DynamicStore.apply`), write-ahead style:

1. the delta is checked and applied in memory (:func:`~vastgraph.graph.delta.apply_delta`), so a
   bad delta raises before anything is written and the store is unchanged;
2. it is appended to the log and fsync'ed;
3. the new version is written aside (staging folder, renamed when complete); array files of node
   and edge types the delta did not change are *hard-linked* from the previous version, not copied;
4. ``CURRENT`` is switched atomically (temp file + fsync + ``os.replace`` + fsync of the folder).

Every log record carries the delta's content digest (:meth:`GraphDelta.digest`): :meth:`apply`
refuses a delta the log already holds unless ``allow_duplicate=True``, so a retry after a kill
cannot apply a delta twice. ``CURRENT`` must name a version folder inside the store (a pointer
that resolves elsewhere is refused). A damaged (complete, checksum-bad) log record stops replay and
appends until :meth:`DynamicStore.repair` truncates the log after an intact record.

A crash at any point leaves ``CURRENT`` on the old or the new version; :meth:`DynamicStore.replay`
(run on open) re-applies logged deltas newer than ``CURRENT``, so the store always ends at the new
version. Old versions stay readable: readers holding one keep their memory maps (also after
:meth:`DynamicStore.prune` unlinks it). :func:`vastgraph.graph.storage.open_graph` on the folder
opens the current version.

Test hook (harmless in normal use): when the environment variable ``VASTGRAPH_DYNAMIC_PAUSE_AT``
names a stage (``after_log_append``, ``mid_version_write``, ``after_version_written``,
``after_pointer_swap``), the process writes that stage name to the file named by
``VASTGRAPH_DYNAMIC_PAUSE_MARKER`` (if set) on reaching it and sleeps, so a crash test can SIGKILL
it there. Unset, nothing happens.

Example:
    >>> import tempfile, os
    >>> from vastgraph.graph.builder import GraphBuilder
    >>> from vastgraph.graph.delta import GraphDelta
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 1], [1, 2], time=[1, 2])
    >>> ds = DynamicStore.create(os.path.join(tempfile.mkdtemp(), "g"), b.build())
    >>> s = ds.apply(GraphDelta(time=5).add_edges([0], [2]))
    >>> ds.version, ds.graph.num_edges(), ds.as_of(2).num_edges()
    (1, 6, 4)
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import struct
import time as _time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from vastgraph.errors import CorruptStoreError, StoreError, StoreExistsError, ValidationError
from vastgraph.graph.delta import ApplyProgress, DeltaSummary, GraphDelta, apply_delta, carry_string_cache
from vastgraph.graph.delta_log import DeltaLog, atomic_write_bytes, fsync_dir, pack, unpack
from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph
from vastgraph.graph.storage import (CURRENT, META, StoreWriter, _json_default, file_checksum, graph_meta,
                                     is_store, open_graph, read_meta, save_graph)
from vastgraph.graph.store import Adjacency

MARKER = "DYNAMIC"
LOG = "delta.log"
VERSIONS = "versions"
DYNAMIC_FORMAT = "vastgraph-dynamic"
PAUSE_ENV = "VASTGRAPH_DYNAMIC_PAUSE_AT"
PAUSE_MARKER_ENV = "VASTGRAPH_DYNAMIC_PAUSE_MARKER"
STAGES = ("after_log_append", "mid_version_write", "after_version_written", "after_pointer_swap")
_REC_MAGIC = b"VGDREC01"
_VDIR = re.compile(r"v(\d{10})\Z")


class DuplicateDeltaError(ValidationError):
    """The delta's content digest is already in the store's log (pass ``allow_duplicate`` to apply it again)."""


@contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block.

    The writer lock of a :class:`DynamicStore` (``STORE/.lock``) and of an embeddings folder that
    :class:`~vastgraph.embed.updater.Updater` updates (``.NAME.lock`` beside it). Readers never lock.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def record_header(payload: bytes, source: str) -> dict[str, Any]:
    """The JSON header of a log record's payload (options, digest) without copying its arrays."""
    n = len(_REC_MAGIC)
    if payload[:n] != _REC_MAGIC or len(payload) < n + 8:
        raise CorruptStoreError(f"{source}: not a delta log record (magic {bytes(payload[:n])!r})")
    (hlen,) = struct.unpack_from("<Q", payload, n)
    try:
        head = json.loads(bytes(payload[n + 8:n + 8 + hlen]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptStoreError(f"{source}: record header is malformed ({exc})") from None
    if not isinstance(head, dict):
        raise CorruptStoreError(f"{source}: record header is not an object")
    return head


def _pause(stage: str) -> None:
    """The test-only crash hook (see the module docstring); a no-op unless the variable is set."""
    if os.environ.get(PAUSE_ENV) != stage:
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        atomic_write_bytes(marker, stage.encode())
    while True:
        _time.sleep(3600)


def _vname(version: int) -> str:
    return f"v{version:010d}"


def _write_pointer(root: Path, version: int) -> None:
    """Switch ``CURRENT`` atomically (temp file + fsync + os.replace + fsync of the folder)."""
    ptr = {"version": version, "path": f"{VERSIONS}/{_vname(version)}"}
    atomic_write_bytes(root / CURRENT, json.dumps(ptr).encode())


def _remove_plain_files(root: Path) -> None:
    """Remove the top-level files of a plain store that :meth:`DynamicStore.from_store` upgraded
    (``meta.json`` first, so the folder never looks like a half plain store)."""
    if not (root / META).is_file():
        return
    names = list(read_meta(root)["arrays"])
    os.remove(root / META)
    for name in names:
        (root / name).unlink(missing_ok=True)
    fsync_dir(root)


def _write_markers(root: Path) -> None:
    """The ``DYNAMIC`` marker, then ``CURRENT`` on version 0 (the pointer last: it makes the folder dynamic)."""
    atomic_write_bytes(root / MARKER, json.dumps({"format": DYNAMIC_FORMAT, "version": 1}).encode())
    _write_pointer(root, 0)


# =========================================================================== snapshot
def _filter_adj(adj: Adjacency, t: int) -> Adjacency:
    keep = np.asarray(adj.time) <= t
    ck = np.zeros(keep.shape[0] + 1, dtype=np.int64)
    np.cumsum(keep, out=ck[1:])
    return Adjacency(ck[np.asarray(adj.indptr)], np.asarray(adj.indices)[keep],
                     None if adj.weight is None else np.asarray(adj.weight)[keep], np.asarray(adj.time)[keep],
                     adj.n_cols)


def snapshot(graph: HeteroGraph, t: int) -> HeteroGraph:
    """The graph as of time ``t``: every timestamped edge type keeps only edges with time ≤ t.

    Nodes and edge types without times are kept whole (a :class:`DynamicStore` picks the version
    whose delta time is ≤ t first, so nodes that arrived later are absent there). Vectorised:
    O(E) with one mask and a prefix sum per CSR.

    Args:
        graph: any graph. t: integer seconds.

    Example:
        >>> from vastgraph.graph.builder import GraphBuilder
        >>> b = GraphBuilder()
        >>> _ = b.add_edges([0, 1], [1, 2], time=[10, 20])
        >>> snapshot(b.build(), 15).num_edges()
        1
    """
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
        raise ValidationError(f"t={t!r}: expected integer seconds")
    edges = {}
    for et in graph.edge_types:
        e = graph.edge_store(et)
        if e.csr.time is None:
            edges[et] = e
            continue
        edges[et] = EdgeTypeData(et, _filter_adj(e.csr, int(t)),
                                 None if e.csc is None else _filter_adj(e.csc, int(t)), e.undirected)
    nodes = {nt: graph.node_store(nt) for nt in graph.node_types}
    return HeteroGraph(nodes, edges, info=dict(graph.info, as_of=int(t)))


# =========================================================================== version writer
class _VersionWriter(StoreWriter):
    """A :class:`StoreWriter` that can hard-link unchanged array files of the previous version."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.linked: dict[str, dict[str, Any]] = {}

    def link(self, name: str, source: Path, spec: dict[str, Any]) -> None:
        try:
            os.link(source, self.staging / name)
        except OSError:  # another file system, or links not supported: copy
            shutil.copyfile(source, self.staging / name)
        self.linked[name] = dict(spec)

    def commit(self, meta: dict[str, Any]) -> str:
        """As :meth:`StoreWriter.commit`, but linked files keep their known checksums (not re-hashed)."""
        table = {}
        for name in self.arrays:
            p = self.staging / name
            with open(p, "rb") as f:
                os.fsync(f.fileno())
            arr = np.load(p, mmap_mode="r") if os.path.getsize(p) > 128 else np.load(p)
            table[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape),
                           "bytes": os.path.getsize(p), "blake2b": file_checksum(p)}
            del arr
        table.update(self.linked)
        with open(self.staging / META, "w") as f:
            json.dump(dict(meta, arrays=table), f, indent=1, default=_json_default)
            f.flush()
            os.fsync(f.fileno())
        fsync_dir(self.staging)
        os.rename(self.staging, self.target)
        fsync_dir(self.target.parent)
        self._done = True
        return str(self.target)


# =========================================================================== the store
class DynamicStore:
    """A store folder holding versions of a graph, a delta log and a ``CURRENT`` pointer.

    Use :meth:`create` (new folder from a graph), :meth:`from_store` (upgrade a plain store folder
    in place) or :meth:`open`. See the module docstring for the layout and the crash guarantees.

    Attributes:
        path: the folder. graph: the current version (memory-mapped). version: its number.
        log: the :class:`DeltaLog`.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).absolute()
        self.log = DeltaLog(self.path / LOG)
        self.version = -1
        self.graph: HeteroGraph | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, path: str | os.PathLike, graph: HeteroGraph) -> "DynamicStore":
        """Write ``graph`` as version 0 of a new dynamic store folder at ``path`` (atomically)."""
        p = Path(path).absolute()
        if p.exists():
            raise StoreExistsError(f"{p} already exists; DynamicStore.create needs a new folder "
                                   "(use DynamicStore.from_store to upgrade a plain store)")
        p.parent.mkdir(parents=True, exist_ok=True)
        staging = p.parent / f".{p.name}.staging-{uuid.uuid4().hex[:8]}"
        try:
            (staging / VERSIONS).mkdir(parents=True)
            g = HeteroGraph({nt: graph.node_store(nt) for nt in graph.node_types},
                            {et: graph.edge_store(et) for et in graph.edge_types},
                            info=dict(graph.info, dynamic={"version": 0, "time": None}))
            save_graph(g, staging / VERSIONS / _vname(0))
            _write_markers(staging)
            os.rename(staging, p)
            fsync_dir(p.parent)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return cls.open(p)

    @classmethod
    def from_store(cls, path: str | os.PathLike) -> "DynamicStore":
        """Upgrade the plain store folder ``path`` in place to a dynamic store (version 0).

        The arrays are hard-linked into ``versions/v0``; ``CURRENT`` is written last, and only then
        are the top-level files removed, so a crash leaves either the plain store or the dynamic one.
        A folder that is already dynamic is just opened.
        """
        p = Path(path).absolute()
        if (p / CURRENT).is_file() and (p / MARKER).is_file():
            return cls.open(p)
        meta = read_meta(p)
        vdir = p / VERSIONS
        shutil.rmtree(vdir, ignore_errors=True)  # a crashed earlier upgrade
        w = _VersionWriter(vdir / _vname(0))
        try:
            for name, spec in meta["arrays"].items():
                w.link(name, p / name, spec)
            body = {k: v for k, v in meta.items() if k != "arrays"}
            body["info"] = dict(body.get("info") or {}, dynamic={"version": 0, "time": None})
            w.commit(body)
        except BaseException:
            w.abort()
            raise
        _write_markers(p)
        _remove_plain_files(p)
        return cls.open(p)

    @classmethod
    def open(cls, path: str | os.PathLike, *, replay: bool = True) -> "DynamicStore":
        """Open a dynamic store; with ``replay`` (default) first bring it up to the end of its log."""
        ds = cls(path)
        if not (ds.path / MARKER).is_file() or not (ds.path / CURRENT).is_file():
            hint = "; upgrade it with DynamicStore.from_store" if is_store(ds.path) else ""
            raise StoreError(f"{ds.path}: not a dynamic store (no {MARKER}/{CURRENT}){hint}")
        try:
            marker = json.loads((ds.path / MARKER).read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CorruptStoreError(f"{ds.path / MARKER}: not valid JSON ({exc})") from None
        if not isinstance(marker, dict) or marker.get("format") != DYNAMIC_FORMAT or marker.get("version") != 1:
            raise CorruptStoreError(f"{ds.path / MARKER}: {marker!r} is not a version-1 {DYNAMIC_FORMAT} marker")
        if replay:
            ds.replay()
        else:
            ds.refresh()
        return ds

    # ------------------------------------------------------------------ state
    def _pointer(self) -> dict[str, Any]:
        """``CURRENT`` as ``{"version", "path"}``; the path must resolve to a version folder inside the store."""
        where = self.path / CURRENT
        try:
            ptr = json.loads(where.read_text())
            version, rel = ptr["version"], ptr["path"]
            if isinstance(version, bool) or not isinstance(version, int) or version < 0 or not isinstance(rel, str):
                raise TypeError(f"version {version!r} / path {rel!r}")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptStoreError(f"{where}: unreadable pointer ({exc})") from None
        root = self.path.resolve()
        target = (self.path / rel).resolve()
        if Path(rel).is_absolute() or not target.is_relative_to(root / VERSIONS) or target.parent != root / VERSIONS:
            raise CorruptStoreError(f"{where}: path {rel!r} resolves to {target}, outside the store's "
                                    f"{VERSIONS}/ folder; refusing to follow it")
        if target.name != _vname(version):
            raise CorruptStoreError(f"{where}: path {rel!r} does not name version {version} ({VERSIONS}/{_vname(version)})")
        return {"version": version, "path": f"{VERSIONS}/{target.name}"}

    def refresh(self) -> HeteroGraph:
        """Re-read ``CURRENT`` (another process may have applied deltas) and open that version."""
        ptr = self._pointer()
        if ptr["version"] != self.version or self.graph is None:
            self.graph = open_graph(self.path / ptr["path"])
            self.version = ptr["version"]
        return self.graph

    def _lock(self) -> Any:
        """Exclusive writer lock (``STORE/.lock``; readers never lock)."""
        return file_lock(self.path / ".lock")

    def _cleanup(self) -> None:
        """Remove staging folders, temporary files and plain-store files that a crash left behind."""
        _remove_plain_files(self.path)
        for d in (self.path, self.path / VERSIONS):
            for q in d.glob(".*.staging-*"):
                shutil.rmtree(q, ignore_errors=True)
            for q in d.glob(".*.tmp-*"):
                q.unlink(missing_ok=True)

    # ------------------------------------------------------------------ writing
    def _write_version(self, version: int, new: HeteroGraph, old: HeteroGraph, vtime: int | None,
                       counts: dict[str, Any], progress: Callable[[float], None]) -> Path:
        target = self.path / VERSIONS / _vname(version)
        g = HeteroGraph({nt: new.node_store(nt) for nt in new.node_types},
                        {et: new.edge_store(et) for et in new.edge_types},
                        info=dict(new.info, dynamic={"version": version, "time": vtime, "delta": counts}))
        meta, arrays = graph_meta(g)
        _, old_arrays = graph_meta(old)
        old_dir = Path(old.path) if old.path else None
        old_table = read_meta(old_dir)["arrays"] if old_dir is not None else {}
        by_id = {id(a): name for name, a in old_arrays.items()}
        w = _VersionWriter(target)
        try:
            for i, (name, arr) in enumerate(arrays.items()):
                src = by_id.get(id(arr))
                if src is not None and src in old_table:
                    w.link(name, old_dir / src, old_table[src])
                else:
                    w.put(name, np.asarray(arr))
                if i == len(arrays) // 2:
                    _pause("mid_version_write")
                progress((i + 1) / max(len(arrays), 1))
            w.commit(meta)
        except BaseException:
            w.abort()
            raise
        return target

    def _swap(self, version: int) -> None:
        _write_pointer(self.path, version)

    def _version_time(self, delta: GraphDelta, summary: DeltaSummary) -> int | None:
        """The delta's batch time, else the previous version's (versions without times inherit it)."""
        if delta.time is not None:
            return delta.time
        return (self.graph.info.get("dynamic") or {}).get("time") if self.graph is not None else None

    def apply(self, delta: GraphDelta, *, time_policy: str = "reject", missing: str = "raise",
              progress: ApplyProgress | None = None, allow_duplicate: bool = False,
              digest: str | None = None) -> DeltaSummary:
        """Log ``delta``, write the next version aside and switch ``CURRENT`` to it.

        Args:
            delta: the changes. time_policy: ``"reject"`` (default) or ``"allow"`` (see
                :func:`apply_delta`). missing: ``"raise"`` (default) or ``"ignore"`` for deletions
                of absent edges. progress: optional ``progress(done_fraction, stage)``.
            allow_duplicate: apply a delta whose content digest the log already holds (default:
                refuse it with :class:`DuplicateDeltaError`, so a retry cannot apply it twice).
            digest: the content digest to log and check (default ``delta.digest()``; a caller that
                completed the delta from the user's input, e.g. declared new endpoints, passes the
                digest of the input so a repeat of the same input is recognised).

        Returns:
            The :class:`DeltaSummary` (dense ids of the new version). A bad or repeated delta raises
            before anything is logged or written: the store is unchanged.
        """
        if progress is not None and not callable(progress):
            raise ValidationError(f"progress={progress!r}: expected None or a callable(done_fraction, stage)")
        report = progress or (lambda f, s: None)
        if not isinstance(delta, GraphDelta):
            raise ValidationError(f"delta: {type(delta).__name__}; expected a GraphDelta")
        digest = delta.digest() if digest is None else str(digest)
        with self._lock():
            self._catch_up()
            if not allow_duplicate:
                seen = self.find_digest(digest)
                if seen is not None:
                    raise DuplicateDeltaError(f"{self.path}: this delta (digest {digest}) is already applied as log "
                                              f"record {seen}; pass --allow-duplicate (allow_duplicate=True) "
                                              "to apply it again")
            old = self.graph
            new, summary = apply_delta(old, delta, time_policy=time_policy, missing=missing,
                                       progress=lambda f, s: report(0.5 * f, s))
            payload = pack(_REC_MAGIC, {"time_policy": time_policy, "missing": missing, "digest": digest},
                           {"delta": np.frombuffer(delta.to_bytes(), np.uint8)})
            seq = self.log.append(payload)
            if seq != self.version + 1:
                raise CorruptStoreError(f"{self.log.path}: appended record {seq} but the current version "
                                        f"is {self.version}; the log and the versions disagree")
            report(0.55, "logged")
            _pause("after_log_append")
            self._commit(seq, new, old, self._version_time(delta, summary), summary.counts(),
                         lambda f: report(0.55 + 0.45 * f, "writing version"))
        report(1.0, "done")
        return summary

    def _commit(self, seq: int, new: HeteroGraph, old: HeteroGraph, vtime: int | None,
                counts: dict[str, Any], progress: Callable[[float], None]) -> None:
        self._write_version(seq, new, old, vtime, counts, progress)
        _pause("after_version_written")
        self._swap(seq)
        _pause("after_pointer_swap")
        for nt in self.refresh().node_types:  # keep string-id hash indexes built in memory
            carry_string_cache(new.node_store(nt).ids, self.graph.node_store(nt).ids)

    def _catch_up(self) -> int:
        """Under the lock: clean up, open CURRENT and re-apply logged deltas newer than it."""
        self._cleanup()
        self.refresh()
        done = 0
        for rec in self.log.records(after=self.version):
            if rec.seq != self.version + 1:
                raise CorruptStoreError(f"{self.log.path}: record seq {rec.seq} does not follow the current "
                                        f"version {self.version}")
            delta, opts = self._decode(rec)
            target = self.path / VERSIONS / _vname(rec.seq)
            if target.exists():  # written completely before a crash (staging is renamed when done)
                self._swap(rec.seq)
                self.refresh()
            else:
                old = self.graph
                new, summary = apply_delta(old, delta, time_policy=opts["time_policy"], missing=opts["missing"])
                self._commit(rec.seq, new, old, self._version_time(delta, summary), summary.counts(),
                             lambda f: None)
            done += 1
        return done

    def _decode(self, rec: Any) -> tuple[GraphDelta, dict[str, Any]]:
        where = f"{self.log.path} record {rec.seq}"
        opts, arrays = unpack(_REC_MAGIC, rec.payload, source=where, what="delta log record")
        return GraphDelta.from_bytes(arrays["delta"].tobytes(), source=where), opts

    def digests(self) -> list[tuple[int, str]]:
        """``(seq, content digest)`` of every log record (read from the record headers)."""
        out = []
        for rec in self.log.records():
            where = f"{self.log.path} record {rec.seq}"
            d = record_header(rec.payload, where).get("digest")
            if not isinstance(d, str):  # a record written before digests were logged
                d = self._decode(rec)[0].digest()
            out.append((rec.seq, d))
        return out

    def find_digest(self, digest: str) -> int | None:
        """The sequence number of the log record holding a delta with this content digest, or None."""
        for seq, d in self.digests():
            if d == digest:
                return seq
        return None

    def delta_at(self, seq: int) -> tuple[GraphDelta, dict[str, Any]]:
        """The delta of log record ``seq`` and its options (``time_policy``, ``missing``, ``digest``)."""
        for rec in self.log.records(after=int(seq) - 1):
            if rec.seq == seq:
                delta, opts = self._decode(rec)
                return delta, dict(opts, digest=opts.get("digest") or delta.digest())
            break
        raise StoreError(f"{self.log.path}: holds no record {seq} (last record {self.log.last_seq})")

    def repair(self, truncate_after: int) -> dict[str, Any]:
        """Drop log records after ``truncate_after`` (damaged or torn ones included); roll back versions.

        When ``CURRENT`` is past ``truncate_after`` it is switched back to that version (which must
        still be stored) and the newer versions are removed, so versions and log agree again. Order:
        pointer, then versions, then the log, so a crash midway is finished by running it again.
        Returns ``{"version", "removed_versions", "bytes_removed"}``.
        """
        n = truncate_after
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValidationError(f"--truncate-after {n!r}: expected an integer >= 0")
        n = int(n)
        with self._lock():
            self._cleanup()
            info = self.log.check()
            if n > info["records"]:
                raise ValidationError(f"--truncate-after {n}: {self.log.path} holds {info['records']} intact "
                                      f"record(s); choose N <= {info['records']}")
            cur = self._pointer()["version"]
            removed = []
            if cur > n:
                if not (self.path / VERSIONS / _vname(n) / META).is_file():
                    raise StoreError(f"--truncate-after {n}: the store is at version {cur} and version {n} was "
                                     "pruned, so it cannot be rolled back there; choose a stored version")
                self._swap(n)
            for d in sorted((self.path / VERSIONS).iterdir()):
                m = _VDIR.match(d.name)
                if m and int(m.group(1)) > n:
                    shutil.rmtree(d, ignore_errors=True)
                    removed.append(int(m.group(1)))
            fsync_dir(self.path / VERSIONS)
            dropped = self.log.truncate_after(n)
            self.graph = None
            self.refresh()
        return {"version": self.version, "removed_versions": removed, "bytes_removed": dropped}

    def log_entries(self) -> list[dict[str, Any]]:
        """One row per intact log record: sequence number, size, batch time, counts, options, applied or not.

        A damaged last record is not listed (see :meth:`DeltaLog.check`); readers of the rows see
        the intact ones.
        """
        out = []
        for rec in self.log.valid_records():
            delta, opts = self._decode(rec)
            out.append({"seq": rec.seq, "bytes": len(rec.payload), "time": delta.time,
                        "new_nodes": delta.num_new_nodes, "insertions": delta.num_insertions,
                        "deletions": delta.num_deletions, "time_policy": opts.get("time_policy"),
                        "missing": opts.get("missing"), "applied": rec.seq <= self.version})
        return out

    def replay(self) -> int:
        """Re-apply logged deltas that the current version does not hold yet; returns how many."""
        with self._lock():
            return self._catch_up()

    # ------------------------------------------------------------------ reading
    def versions(self) -> list[dict[str, Any]]:
        """Every stored version: number, time, node/edge counts, path and whether it is current."""
        cur = self._pointer()["version"]
        out = []
        for d in sorted((self.path / VERSIONS).iterdir()):
            m = _VDIR.match(d.name)
            if not m or not (d / META).is_file():
                continue
            meta = read_meta(d)
            dyn = (meta.get("info") or {}).get("dynamic") or {}
            out.append({"version": int(m.group(1)), "time": dyn.get("time"),
                        "nodes": sum(n["count"] for n in meta["node_types"]),
                        "edges": sum(e["entries"] for e in meta["edge_types"]),
                        "current": int(m.group(1)) == cur, "path": str(d)})
        return out

    def open_version(self, version: int) -> HeteroGraph:
        """Open one stored version (memory-mapped)."""
        d = self.path / VERSIONS / _vname(int(version))
        if not (d / META).is_file():
            have = [v["version"] for v in self.versions()]
            raise StoreError(f"{self.path}: version {version} is not stored; stored versions: {have}")
        return open_graph(d)

    def as_of(self, t: int) -> HeteroGraph:
        """The graph as of time ``t``: the latest version whose delta time is ≤ t, edges filtered to ≤ t."""
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise ValidationError(f"t={t!r}: expected integer seconds")
        vs = [v for v in self.versions() if v["version"] <= self._pointer()["version"]]
        ok = [v for v in vs if v["time"] is None or v["time"] <= t]
        if not ok:
            raise ValidationError(f"as_of t={t}: the oldest stored version (v{vs[0]['version']}) has time "
                                  f"{vs[0]['time']} > t; older versions were pruned")
        return snapshot(self.open_version(ok[-1]["version"]), int(t))

    def prune(self, keep: int = 1) -> list[int]:
        """Remove all but the newest ``keep`` versions (never the current one); returns the removed numbers.

        Readers that opened a removed version keep working (their memory maps hold the files).
        """
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValidationError(f"keep={keep!r}: expected an integer >= 1")
        with self._lock():
            cur = self._pointer()["version"]
            vs = [v["version"] for v in self.versions()]
            drop = [v for v in vs[:-keep] if v != cur]
            for v in drop:
                shutil.rmtree(self.path / VERSIONS / _vname(v), ignore_errors=True)
            fsync_dir(self.path / VERSIONS)
        return drop

    def __repr__(self) -> str:
        return f"DynamicStore({str(self.path)!r}, version={self.version})"
