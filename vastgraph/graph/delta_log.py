"""Append-only, checksummed delta log, and the checksummed binary container of one delta.

**Log file.** An 8-byte magic ``VGDLOG1\\n`` followed by records. Each record is a 36-byte header
``b"REC1" | seq u64 | length u64 | blake2b-128(payload)`` (little-endian) and ``length`` payload
bytes. :meth:`DeltaLog.append` writes one record, flushes and ``fsync``\\s before returning, so a
record that was acknowledged survives a crash (write-ahead logging, as in ARIES / database WALs).

*Torn tails and damaged records.* A crash during an append leaves an *incomplete* last record: a
short header, or a payload shorter than its header says (or, on file systems that extend a file
before its data reach the disk, a full-length payload that is still all zero bytes). Readers
ignore a torn tail, and the next append truncates it first. A *complete* record whose checksum
does not match is not a torn write but damage: readers raise :class:`CorruptStoreError` naming the
file, the record number and its byte offset, :meth:`DeltaLog.append` refuses to write after it,
and only an explicit :meth:`DeltaLog.truncate_after` (``vastgraph delta repair --truncate-after
N``) drops it. :meth:`DeltaLog.check` reports either without raising.

**Container** (:func:`pack` / :func:`unpack`), used for delta files and log payloads:
``magic (8) | header length u64 | header JSON | array bytes | blake2b-128 of everything before``.
The JSON header lists each array's dtype, shape and byte offset, so the file describes itself.

Example:
    >>> import tempfile, os
    >>> log = DeltaLog(os.path.join(tempfile.mkdtemp(), "delta.log"))
    >>> log.append(b"hello"), log.append(b"world")
    (1, 2)
    >>> [(r.seq, r.payload) for r in log.records()]
    [(1, b'hello'), (2, b'world')]
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vastgraph.errors import CorruptStoreError, FormatVersionError, ParseError, StoreError, ValidationError
from vastgraph.graph.storage import fsync_dir

LOG_MAGIC = b"VGDLOG1\n"
REC_MAGIC = b"REC1"
_REC = struct.Struct("<4sQQ16s")
_U64 = struct.Struct("<Q")
DIGEST = 16


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST).digest()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> str:
    """Write ``data`` to ``path`` via a temporary file, fsync, ``os.replace`` and a folder fsync."""
    p = Path(path).absolute()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.parent / f".{p.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()
    fsync_dir(p.parent)
    return str(p)


# =========================================================================== container
def pack(magic: bytes, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise a JSON ``header`` and named arrays into one checksummed blob (see module doc)."""
    table, blobs, offset = {}, [], 0
    for name, arr in arrays.items():
        a = np.ascontiguousarray(arr)
        if a.dtype.kind == "O":
            raise StoreError(f"array {name}: object dtype cannot be stored")
        raw = a.tobytes()
        table[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "offset": offset, "bytes": len(raw)}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(dict(header, arrays=table), separators=(",", ":")).encode("utf-8")
    body = magic + _U64.pack(len(head)) + head + b"".join(blobs)
    return body + _digest(body)


def unpack(magic: bytes, data: bytes, *, source: str, what: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of :func:`pack`; raises ParseError (not this format) or CorruptStoreError naming ``source``."""
    n = len(magic)
    if len(data) < n or data[:n] != magic:
        raise ParseError(f"not a {what} (its first bytes are {bytes(data[:n])!r}, expected {magic!r})",
                         path=source)
    if len(data) < n + 8 + DIGEST:
        raise CorruptStoreError(f"{source}: {what} is truncated ({len(data)} bytes)")
    body, digest = data[:-DIGEST], data[-DIGEST:]
    if _digest(body) != digest:
        raise CorruptStoreError(f"{source}: {what} checksum mismatch (truncated or corrupted)")
    (hlen,) = _U64.unpack_from(body, n)
    start = n + 8 + hlen
    try:
        header = json.loads(bytes(body[n + 8:start]).decode("utf-8"))
        table = header.pop("arrays")
        arrays = {}
        for name, spec in table.items():
            lo, nb = start + int(spec["offset"]), int(spec["bytes"])
            if lo + nb > len(body):
                raise ValueError(f"array {name} runs past the end")
            dt = np.dtype(spec["dtype"])
            arrays[name] = np.frombuffer(body, dtype=dt, count=nb // max(dt.itemsize, 1),
                                         offset=lo).reshape(spec["shape"]).copy()
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CorruptStoreError(f"{source}: {what} header is malformed ({exc})") from None
    return header, arrays


def delta_to_bytes(delta: Any, magic: bytes, version: int) -> bytes:
    """Pack a :class:`~vastgraph.graph.delta.GraphDelta`: batch fields in the header, arrays by batch."""
    arrays: dict[str, np.ndarray] = {}
    parts: dict[str, list[dict[str, Any]]] = {"nodes": [], "insertions": [], "deletions": []}
    for kind in parts:
        for i, b in enumerate(getattr(delta, kind)):
            parts[kind].append({k: v for k, v in b.items() if not isinstance(v, np.ndarray) and v is not None})
            arrays.update({f"{kind}{i}.{k}": v for k, v in b.items() if isinstance(v, np.ndarray)})
    return pack(magic, {"format": "vastgraph-delta", "version": version, "time": delta.time, **parts}, arrays)


def delta_from_bytes(cls: Any, data: bytes, magic: bytes, version: int, *, source: str) -> Any:
    """Inverse of :func:`delta_to_bytes`: rebuilds ``cls`` through its checked ``add_*`` methods."""
    header, arrays = unpack(magic, data, source=source, what="vastgraph delta")
    if header.get("format") != "vastgraph-delta" or header.get("version") != version:
        raise FormatVersionError(f"{source}: delta format {header.get('format')!r} version "
                                 f"{header.get('version')!r}; this vastgraph reads version {version}")
    try:
        delta = cls(time=header.get("time"))
        for kind in ("nodes", "insertions", "deletions"):
            for i, entry in enumerate(header[kind]):
                a = {k[len(f"{kind}{i}."):]: v for k, v in arrays.items() if k.startswith(f"{kind}{i}.")}
                if kind == "nodes":
                    delta.add_nodes(entry["ntype"], a["ids"], features=a.get("features"), labels=a.get("labels"))
                elif kind == "insertions":
                    delta.add_edges(a["src"], a["dst"], etype=entry.get("etype"), weight=a.get("weight"),
                                    time=a.get("time"))
                else:
                    delta.delete_edges(a["src"], a["dst"], etype=entry.get("etype"))
    except (KeyError, TypeError) as exc:
        raise CorruptStoreError(f"{source}: delta header lacks {exc}") from None
    return delta


# =========================================================================== log
@dataclass(frozen=True)
class LogRecord:
    """One record of a :class:`DeltaLog`: its sequence number, byte offset and payload."""

    seq: int
    offset: int
    payload: bytes


class DeltaLog:
    """An append-only log of checksummed records, fsync'ed on every append.

    Args:
        path: the log file (created with its magic on first append).

    Example: see the module docstring.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).absolute()

    def _scan(self, payloads: bool = True, after: int = 0) -> tuple[list[LogRecord], int, dict[str, Any] | None]:
        """Valid records, the byte offset where they end, and the damaged complete record (or None).

        Payloads (and their checksums) are read for records with ``seq > after`` when ``payloads``,
        and always for the last record, to tell a torn tail from a complete record; other records
        come back with an empty payload (what :meth:`append` and :attr:`last_seq` need). A complete
        *last* record with a bad checksum is returned as ``damaged`` (``{"record", "seq", "offset",
        "reason"}``) rather than raised, so callers decide; a bad record with data after it raises.
        """
        if not self.path.exists():
            return [], 0, None
        size = self.path.stat().st_size
        out: list[LogRecord] = []
        with open(self.path, "rb") as f:
            head = f.read(len(LOG_MAGIC))
            if head != LOG_MAGIC:
                if LOG_MAGIC.startswith(head):
                    return [], 0, None  # a crash while the file was being created
                raise CorruptStoreError(f"{self.path}: not a vastgraph delta log (magic {head!r})")
            pos = len(LOG_MAGIC)
            while pos < size:
                k = len(out) + 1
                if size - pos < _REC.size:
                    break  # torn header at the tail
                f.seek(pos)
                magic, seq, length, digest = _REC.unpack(f.read(_REC.size))
                end = pos + _REC.size + length
                if magic != REC_MAGIC:
                    raise CorruptStoreError(f"{self.path}: record {k} at byte {pos}: bad record marker {magic!r}")
                if end > size:
                    break  # torn payload at the tail
                load = (payloads and seq > after) or end == size
                payload = f.read(length) if load else b""
                if load and _digest(payload) != digest:
                    if end == size:
                        if length and not any(payload):
                            break  # the file grew but the payload never reached the disk: torn
                        return out, pos, {"record": k, "seq": int(seq), "offset": pos,
                                          "reason": "checksum mismatch in a complete record"}
                    raise CorruptStoreError(f"{self.path}: record {k} (seq {seq}) at byte {pos}: checksum "
                                            "mismatch with records after it (the log is corrupted)")
                if seq < 1 or (out and seq != out[-1].seq + 1):
                    raise CorruptStoreError(f"{self.path}: record {k} at byte {pos}: sequence number {seq} "
                                            f"does not follow {out[-1].seq if out else 0}")
                out.append(LogRecord(int(seq), pos, payload))
                pos = end
        return out, pos, None

    def _damage_error(self, bad: dict[str, Any], doing: str) -> CorruptStoreError:
        keep = bad["record"] - 1
        return CorruptStoreError(
            f"{self.path}: record {bad['record']} (seq {bad['seq']}) at byte {bad['offset']}: {bad['reason']} "
            f"(not a torn write); {doing}. Inspect it with `vastgraph delta log`, then drop it and what "
            f"follows with `vastgraph delta repair STORE --truncate-after {keep}`")

    def records(self, after: int = 0) -> Iterator[LogRecord]:
        """Valid records with ``seq > after``, in order (a torn tail is ignored, a damaged record raises)."""
        recs, _, bad = self._scan(after=after)
        if bad is not None:
            raise self._damage_error(bad, "refusing to read past it")
        return iter([r for r in recs if r.seq > after])

    def check(self) -> dict[str, Any]:
        """``{"records", "last_seq", "torn_bytes", "damaged"}`` without raising on a damaged last record."""
        recs, end, bad = self._scan(payloads=False)
        size = self.path.stat().st_size if self.path.exists() else 0
        return {"records": len(recs), "last_seq": recs[-1].seq if recs else 0,
                "torn_bytes": 0 if bad is not None else size - end, "damaged": bad}

    def valid_records(self) -> list[LogRecord]:
        """The records before a damaged last record (with payloads), for listing a damaged log."""
        return self._scan()[0]

    @property
    def last_seq(self) -> int:
        """Sequence number of the last valid record (0 for an empty log)."""
        recs, _, _ = self._scan(payloads=False)
        return recs[-1].seq if recs else 0

    def torn_bytes(self) -> int:
        """Bytes of an incomplete tail record that readers ignore (0 when the log is clean)."""
        return int(self.check()["torn_bytes"])

    def append(self, payload: bytes) -> int:
        """Append one record durably (write, flush, fsync); returns its sequence number.

        Raises :class:`CorruptStoreError` when the last record is damaged (see the module docstring).
        """
        recs, end, bad = self._scan(payloads=False)
        if bad is not None:
            raise self._damage_error(bad, "refusing to append after it")
        seq = recs[-1].seq + 1 if recs else 1
        new_file = not self.path.exists() or end == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "r+b" if self.path.exists() else "wb") as f:
            if new_file:
                f.truncate(0)
                f.write(LOG_MAGIC)
            else:
                f.truncate(end)  # drop a torn tail left by a crash
                f.seek(end)
            f.write(_REC.pack(REC_MAGIC, seq, len(payload), _digest(payload)))
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if new_file:
            fsync_dir(self.path.parent)
        return seq

    def truncate_after(self, n: int) -> int:
        """Keep records ``1..n`` and drop everything after them (damaged or torn records included).

        Returns the bytes removed. Records ``1..n`` must be intact (a damaged record at or before
        ``n`` raises): this only ever removes the end of the log.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValidationError(f"truncate_after={n!r}: expected an integer >= 0")
        if not self.path.exists():
            if n:
                raise ValidationError(f"truncate_after={n}: {self.path} does not exist (it holds no records)")
            return 0
        recs, end, bad = self._scan(payloads=False)
        if n > len(recs):
            what = f"a damaged record {bad['record']}" if bad is not None else "no more"
            raise ValidationError(f"truncate_after={n}: {self.path} holds {len(recs)} intact record(s) and then "
                                  f"{what}; choose N <= {len(recs)}")
        cut = recs[n].offset if n < len(recs) else end
        size = self.path.stat().st_size
        with open(self.path, "r+b") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
        return size - cut

    def __len__(self) -> int:
        return len(self._scan(payloads=False)[0])

    def __repr__(self) -> str:
        return f"DeltaLog({str(self.path)!r}, records={len(self)})"
