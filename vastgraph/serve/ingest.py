"""Durable ingestion: an inbox log in the serving folder, drained in batches through the Updater.

Two logs, one protocol. The **inbox** (``SERVING/inbox.log``) is this module's: every accepted
ingestion request (or stream chunk) is checked (:mod:`vastgraph.serve.records`), turned into a
:class:`~vastgraph.graph.delta.GraphDelta` and appended as one checksummed record, written and
``fsync``'ed *before* the HTTP 202 answer (:meth:`InboxLog.append`). The **store's delta log** is the
:class:`~vastgraph.embed.updater.Updater`'s: the background worker (:class:`Ingestor`) merges
pending inbox records into one delta per batch and calls ``Updater.apply``, which logs the batch in
the store's ``delta.log`` (fsync'ed), writes the next store version, and updates the DNE /
incremental-walk embeddings and their vector index, log first and crash-safe. The inbox is kept
apart because ``Updater.apply`` must log a batch itself (its digest, its recovery); logging each
request in the store's log as well would apply it twice.

**Exactly once.** ``SERVING/applied.json`` holds ``applied_seq`` (the last inbox record applied)
and, while a batch is in flight, its *intent*: first and last inbox record, the store version
before it, and the batch's content digest (:meth:`GraphDelta.digest`). It is written before
``Updater.apply``. On restart (:meth:`Ingestor.resume`) an intent is settled by the store's log:
if a record newer than the base version carries the digest, the batch was logged (the Updater's
recovery then completes the embeddings: :meth:`Updater.recover`); otherwise nothing of it was
applied and the records are drained again. So every inbox record is applied exactly once, even when
two batches have equal content (``allow_duplicate`` is safe because the intent, not a global digest
search, decides). Batching is deterministic given ``batch_records``: with ``batch_records=1`` a
replay after a crash reproduces an undisturbed run bit for bit.

A batch that the store refuses as a whole (e.g. two requests declaring the same new node) is
retried record by record; a record refused on its own is written to ``SERVING/rejected.jsonl``
with the reason and skipped. A record holding deletions is applied in a batch of its own, after
the insertions before it (deletions in a delta match the graph before the delta).

Example:
    >>> import os, tempfile
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.graph.dynamic_store import DynamicStore
    >>> root = tempfile.mkdtemp()
    >>> b = GraphBuilder(directed=True)
    >>> _ = b.add_edges([0, 1], [1, 2])
    >>> _ = DynamicStore.create(os.path.join(root, "store"), b.build())
    >>> ing = Ingestor(os.path.join(root, "store"), None, os.path.join(root, "serving"))
    >>> seq = ing.submit(GraphDelta().add_edges([2], [7]), kind="edges", records=1)
    >>> ing.run_once(), ing.applied_seq == seq
    (1, True)
    >>> DynamicStore.open(os.path.join(root, "store")).graph.num_edges()
    3
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vastgraph.errors import CorruptStoreError, SchemaError, ValidationError
from vastgraph.graph.delta import GraphDelta
from vastgraph.graph.delta_log import atomic_write_bytes, fsync_dir, pack, unpack
from vastgraph.serve.records import merge_deltas
from vastgraph.validation import check_int

log = logging.getLogger("vastgraph.serve.ingest")

INBOX_MAGIC = b"VGINBOX1"
PAYLOAD_MAGIC = b"VGINREC1"
_REC = struct.Struct("<4sQQ16s")
_REC_MAGIC = b"REC1"


def _blake(data: bytes) -> bytes:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass(frozen=True)
class InboxRecord:
    """One inbox record: sequence number, byte offset after it, header and delta."""

    seq: int
    end: int
    header: dict[str, Any]
    delta: GraphDelta


class InboxLog:
    """Append-only, checksummed, fsync'ed log of accepted ingestion requests (one writer process).

    Opening scans the file once: a torn tail (a crash mid-append) is cut off, a complete record with
    a bad checksum raises :class:`CorruptStoreError` naming the file and offset. Appends reuse the
    scanned end offset, so an append costs one write and one ``fsync``.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).absolute()
        self._lock = threading.Lock()
        self.sources: dict[str, Any] = {}  # stream name -> its position in the last record from it
        self.received: dict[int, float] = {}  # seq -> receive time of records not yet drained (lag)
        self._end, self.last_seq = self._open()

    def _open(self) -> tuple[int, int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists() or self.path.stat().st_size < len(INBOX_MAGIC):
            with open(self.path, "wb") as f:
                f.write(INBOX_MAGIC)
                f.flush()
                os.fsync(f.fileno())
            fsync_dir(self.path.parent)
            return len(INBOX_MAGIC), 0
        last, end = 0, len(INBOX_MAGIC)
        for rec in self._scan(len(INBOX_MAGIC), None, decode=False):
            last, end = rec.seq, rec.end
            self.received[rec.seq] = float(rec.header.get("received", 0.0))
            src = rec.header.get("source")
            if isinstance(src, dict) and "name" in src:
                self.sources[src["name"]] = src.get("position")
        if self.path.stat().st_size > end:  # a torn tail from a crash mid-append
            with open(self.path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
        return end, last

    def _scan(self, offset: int, limit: int | None, *, decode: bool = True) -> list[InboxRecord]:
        out: list[InboxRecord] = []
        with open(self.path, "rb") as f:
            head = f.read(len(INBOX_MAGIC))
            if head != INBOX_MAGIC:
                raise CorruptStoreError(f"{self.path}: not a vastgraph inbox log (magic {head!r})")
            size = os.fstat(f.fileno()).st_size
            pos = offset
            while pos + _REC.size <= size and (limit is None or len(out) < limit):
                f.seek(pos)
                magic, seq, length, digest = _REC.unpack(f.read(_REC.size))
                if magic != _REC_MAGIC:
                    raise CorruptStoreError(f"{self.path}: bad record marker at byte {pos}")
                end = pos + _REC.size + length
                if end > size:
                    break  # torn tail
                payload = f.read(length)
                if _blake(payload) != digest:
                    if end == size:
                        break  # a torn last record (its bytes never all reached the disk)
                    raise CorruptStoreError(f"{self.path}: record {seq} at byte {pos}: checksum mismatch")
                header, arrays = unpack(PAYLOAD_MAGIC, payload, source=f"{self.path} record {seq}",
                                        what="inbox record")
                delta = GraphDelta.from_bytes(arrays["delta"].tobytes(), source=f"{self.path} record {seq}") \
                    if decode else GraphDelta()
                out.append(InboxRecord(int(seq), end, header, delta))
                pos = end
        return out

    def append(self, delta: GraphDelta, header: dict[str, Any]) -> int:
        """Append one record and fsync it; returns its sequence number."""
        with self._lock:
            seq = self.last_seq + 1
            payload = pack(PAYLOAD_MAGIC, header, {"delta": np.frombuffer(delta.to_bytes(), np.uint8)})
            with open(self.path, "r+b") as f:
                f.truncate(self._end)
                f.seek(self._end)
                f.write(_REC.pack(_REC_MAGIC, seq, len(payload), _blake(payload)))
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            self._end += _REC.size + len(payload)
            self.last_seq = seq
            src = header.get("source")
            if isinstance(src, dict) and "name" in src:
                self.sources[src["name"]] = src.get("position")
            self.received[seq] = float(header.get("received", time.time()))
            return seq

    def read(self, offset: int, limit: int) -> list[InboxRecord]:
        """Up to ``limit`` records starting at byte ``offset`` (the end of an earlier record)."""
        return self._scan(max(offset, len(INBOX_MAGIC)), limit)


@dataclass
class IngestStatus:
    """Counters of the worker (what ``/v1/ingest/status`` and the metrics show)."""

    batches: int = 0
    edges: int = 0
    nodes: int = 0
    rejected: int = 0
    last_error: str | None = None
    last_apply_s: float = 0.0
    last_lag_s: float = 0.0
    lags: list[float] = field(default_factory=list)


class Ingestor:
    """The inbox, its checkpoint and the worker that applies batches through the Updater.

    Args:
        store: the store folder (a plain store is upgraded to a DynamicStore on the first batch).
        artifacts: an embeddings folder with ``state/`` (DNE / incremental walks) that follows the
            store, or None to update the store only.
        folder: the serving folder (inbox, checkpoint, rejected records).
        batch_records: inbox records merged into one update at most (1: one update per request).
        batch_edges: edges per update at most (a single larger record is applied on its own).
        time_policy: ``"allow"`` (default) or ``"reject"`` edges older than the newest stored time.
        keep_versions: store versions kept after each batch (0: keep all).
        on_applied: called after each applied batch (the server swaps its snapshot there).
        update_params: parameter overrides of the embedding updates (``Updater.set_params``).
    """

    def __init__(self, store: str | os.PathLike, artifacts: str | os.PathLike | None, folder: str | os.PathLike, *,
                 batch_records: int = 256, batch_edges: int = 200_000, time_policy: str = "allow",
                 keep_versions: int = 4, on_applied: Callable[[dict[str, Any]], Any] | None = None,
                 update_params: dict[str, Any] | None = None) -> None:
        from vastgraph.embed.updater import Updater

        if time_policy not in ("allow", "reject"):
            raise ValidationError(f"time_policy={time_policy!r}: expected 'allow' or 'reject'")
        self.batch_records = check_int("batch_records", batch_records, 1)
        self.batch_edges = check_int("batch_edges", batch_edges, 1)
        self.keep_versions = check_int("keep_versions", keep_versions, 0)
        if self.keep_versions == 1:
            raise ValidationError("keep_versions=1: keep at least 2 versions (recovery reads the previous one), or 0")
        self.time_policy = time_policy
        self.folder = Path(folder).absolute()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = Path(store).absolute()
        self.updater = Updater.open(self.store, artifacts)
        if update_params:
            self.updater.set_params(**update_params)
        self.inbox = InboxLog(self.folder / "inbox.log")
        self.on_applied = on_applied
        self.status = IngestStatus()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        cp = self._read_checkpoint()
        self.applied_seq, self.offset, self._intent = cp["applied_seq"], cp["offset"], cp.get("intent")
        for seq in [s for s in self.inbox.received if s <= self.applied_seq]:
            del self.inbox.received[seq]
        if self.applied_seq > self.inbox.last_seq:
            raise CorruptStoreError(f"{self.folder / 'applied.json'}: applied_seq {self.applied_seq} is past the "
                                    f"inbox's last record {self.inbox.last_seq}")

    # ------------------------------------------------------------------ checkpoint
    def _read_checkpoint(self) -> dict[str, Any]:
        p = self.folder / "applied.json"
        if not p.is_file():
            return {"applied_seq": 0, "offset": len(INBOX_MAGIC), "intent": None}
        try:
            data = json.loads(p.read_text())
            int(data["applied_seq"]), int(data["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStoreError(f"{p}: unreadable checkpoint ({exc})") from None
        return data

    def _write_checkpoint(self, intent: dict[str, Any] | None) -> None:
        self._intent = intent
        atomic_write_bytes(self.folder / "applied.json", json.dumps(
            {"applied_seq": self.applied_seq, "offset": self.offset, "intent": intent}).encode())

    def _logged_after(self, base: int, digest: str) -> bool:
        from vastgraph.graph.dynamic_store import DynamicStore

        if not (self.store / "DYNAMIC").is_file():
            return False
        return any(seq > base and d == digest for seq, d in DynamicStore.open(self.store, replay=True).digests())

    def resume(self) -> dict[str, Any]:
        """Settle a batch left in flight by a crash (module docstring); returns what was done."""
        intent = self._intent
        if not intent:
            self.updater.recover()
            return {"intent": None}
        if self._logged_after(int(intent["base_version"]), intent["digest"]):
            self.updater.recover()  # completes the embeddings of the logged batch
            self.applied_seq, self.offset = int(intent["last"]), int(intent["end"])
            self._write_checkpoint(None)
            return {"intent": intent, "completed": True}
        self._write_checkpoint(None)
        return {"intent": intent, "completed": False}

    # ------------------------------------------------------------------ intake
    def submit(self, delta: GraphDelta, *, kind: str, records: int, client: str | None = None,
               source: dict[str, Any] | None = None) -> int:
        """Append a checked delta to the inbox durably and wake the worker; returns its inbox sequence number."""
        header = {"kind": kind, "records": int(records), "received": time.time(), "client": client,
                  "edges": delta.num_insertions + delta.num_deletions, "nodes": delta.num_new_nodes,
                  "deletes": delta.num_deletions > 0, "source": source}
        seq = self.inbox.append(delta, header)
        with self._cond:
            self._cond.notify_all()
        return seq

    def reject(self, info: dict[str, Any]) -> None:
        """Write a refused record (or stream line) to ``rejected.jsonl``."""
        self.status.rejected += 1
        with open(self.folder / "rejected.jsonl", "a") as f:
            f.write(json.dumps(dict(info, time=time.time()), default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    # ------------------------------------------------------------------ draining
    @property
    def pending(self) -> int:
        return self.inbox.last_seq - self.applied_seq

    def oldest_pending_age(self) -> float:
        """Seconds since the oldest record not yet applied was received (0 when none)."""
        if self.pending <= 0:
            return 0.0
        t = self.inbox.received.get(self.applied_seq + 1)
        return 0.0 if t is None else max(0.0, time.time() - t)

    def _batch(self, recs: list[InboxRecord]) -> list[InboxRecord]:
        out: list[InboxRecord] = []
        edges = 0
        for r in recs:
            n = int(r.header.get("edges", 0))
            if out and (r.header.get("deletes") or out[-1].header.get("deletes") or edges + n > self.batch_edges):
                break
            out.append(r)
            edges += n
        return out

    def run_once(self) -> int:
        """Apply the next batch of pending records (if any); returns the number of inbox records consumed."""
        if self.pending <= 0:
            return 0
        batch = self._batch(self.inbox.read(self.offset, self.batch_records))
        if not batch:
            return 0
        self._apply(batch)
        return len(batch)

    def _apply(self, batch: list[InboxRecord]) -> None:
        delta = merge_deltas([r.delta for r in batch])
        if delta.is_empty:  # stream position markers: nothing to apply
            self._advance(batch[-1])
            return
        digest = delta.digest()
        base = int(self.updater.state["store_version"])
        self._write_checkpoint({"first": batch[0].seq, "last": batch[-1].seq, "end": batch[-1].end,
                                "base_version": base, "digest": digest})
        t0 = time.perf_counter()
        try:
            out = self.updater.apply(delta, time_policy=self.time_policy, missing="ignore", allow_duplicate=True,
                                     new_nodes=True)
        except (ValidationError, SchemaError) as exc:
            if self._logged_after(base, digest):
                raise  # logged, but the embedding update failed: resume() retries it
            self._write_checkpoint(None)
            if len(batch) > 1:
                log.info("batch of %d records refused (%s); applying them one by one", len(batch), exc)
                for r in batch:
                    self._apply([r])
                return
            rec = batch[0]
            self.reject({"inbox_seq": rec.seq, "kind": rec.header.get("kind"), "client": rec.header.get("client"),
                         "source": rec.header.get("source"), "error": f"{type(exc).__name__}: {exc}"})
            self._advance(rec)
            return
        self.status.last_apply_s = time.perf_counter() - t0
        self._prune()
        self.status.batches += 1
        self.status.edges += sum(int(r.header.get("edges", 0)) for r in batch)
        self.status.nodes += sum(int(r.header.get("nodes", 0)) for r in batch)
        if self.on_applied is not None:
            self.on_applied(out)  # the new version becomes visible before applied_seq moves
        now = time.time()
        lags = [now - float(r.header.get("received", now)) for r in batch]
        self.status.last_lag_s = max(lags)
        self.status.lags = (self.status.lags + lags)[-10_000:]
        for r in batch[:-1]:
            self.inbox.received.pop(r.seq, None)
        self._advance(batch[-1])

    def _advance(self, last: InboxRecord) -> None:
        self.applied_seq, self.offset = last.seq, last.end
        self.inbox.received.pop(last.seq, None)
        self._write_checkpoint(None)
        with self._cond:
            self._cond.notify_all()

    def _prune(self) -> None:
        if self.keep_versions:
            from vastgraph.graph.dynamic_store import DynamicStore

            DynamicStore.open(self.store, replay=False).prune(self.keep_versions)

    # ------------------------------------------------------------------ the worker thread
    def start(self) -> "Ingestor":
        """Settle a crashed batch, then drain the inbox in a background thread."""
        if self._thread is not None:
            return self
        self.resume()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="vastgraph-ingest", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            with self._cond:
                if self.pending <= 0:
                    self._cond.wait(0.5)
            if self._stop.is_set():
                break
            try:
                if self._intent:
                    self.resume()
                self.run_once()
                self.status.last_error = None
                backoff = 0.1
            except Exception as exc:  # keep serving reads; retry with backoff
                self.status.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("ingestion batch failed; retrying in %.1f s", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker after the batch in progress."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_applied(self, seq: int, timeout: float) -> bool:
        """Block until inbox record ``seq`` is applied and visible (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.applied_seq < seq:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def info(self) -> dict[str, Any]:
        """JSON-able status: inbox and applied sequence numbers, pending records, lag, counters."""
        s = self.status
        return {"inbox_seq": self.inbox.last_seq, "applied_seq": self.applied_seq, "pending_records": self.pending,
                "oldest_pending_s": round(self.oldest_pending_age(), 4), "batches": s.batches,
                "edges_applied": s.edges, "nodes_applied": s.nodes, "rejected": s.rejected,
                "last_apply_s": round(s.last_apply_s, 4), "last_lag_s": round(s.last_lag_s, 4),
                "worker_alive": self.alive, "last_error": s.last_error}
