"""Stream consumers of the ingestion worker: a file being appended to, and a Redis Stream.

Both turn new input into checked edge deltas (:func:`~vastgraph.serve.records.edges_delta`) and
append them to the inbox with their stream position in the record header
(``{"name": "tail:/path" | "redis:KEY", "position": byte offset | entry id}``); on restart a
consumer resumes after the position of the last inbox record from its stream, so a line is taken
exactly once (the inbox append is the commit point). A malformed line cannot be answered with a
4xx: it is written to ``rejected.jsonl`` with its line (file) or entry id (Redis) and skipped.

* :class:`TailSource` — follows ``PATH`` (``.csv`` with a header line, or JSON lines): complete
  lines only (a partial last line waits for its newline), polled every ``interval`` seconds.
* :class:`RedisSource` — ``XREAD`` on a stream; an entry's fields are an edge record
  (``src``, ``dst``, ``etype``, ``weight``, ``time``), or one field ``json`` holding it.

Example:
    >>> import os, tempfile
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.graph.dynamic_store import DynamicStore
    >>> from vastgraph.serve.state import ServeConfig, Service
    >>> root = tempfile.mkdtemp()
    >>> b = GraphBuilder(directed=True)
    >>> _ = b.add_edges([0, 1], [1, 2])
    >>> _ = DynamicStore.create(os.path.join(root, "store"), b.build())
    >>> feed = os.path.join(root, "feed.csv")
    >>> _ = open(feed, "w").write("src,dst\\n2,0\\n0,")
    >>> svc = Service(ServeConfig(store=os.path.join(root, "store"), start_worker=False))
    >>> src = TailSource(svc, feed)
    >>> src.poll(), src.poll()     # one complete line; the partial "0," waits for its newline
    (1, 0)
    >>> _ = open(feed, "a").write("2\\n")
    >>> src.poll(), svc.ingestor.pending
    (1, 2)
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from vastgraph.errors import ParseError, ValidationError
from vastgraph.serve.records import Record, _csv, _json_value, edges_delta

log = logging.getLogger("vastgraph.serve.sources")
MAX_CHUNK_BYTES = 4 << 20


def submit_lines(service: Any, records: list[Record], source: dict[str, Any], where: str) -> int:
    """Check ``records`` against the current snapshot; reject bad ones, append the rest; returns how many went in."""
    graph = service.snapshot.graph
    good = list(records)
    while good:
        try:
            delta = edges_delta(graph, good)
        except ParseError as exc:
            bad = exc.line
            service.ingestor.reject({"source": where, "line": bad, "field": exc.field, "error": str(exc)})
            good = [r for r in good if r[0] != bad]
            if bad is None:
                good = []
            continue
        service.ingestor.submit(delta, kind="edges", records=len(good), source=source)
        service.metrics.accepted.labels("edges").inc(len(good))
        return len(good)
    return 0


class _Thread:
    interval = 0.2

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "_Thread":
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll() == 0:
                    self._stop.wait(self.interval)
            except Exception:  # a broken stream must not take the server down; retry
                log.exception("%s failed; retrying", type(self).__name__)
                self._stop.wait(1.0)

    def poll(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


class TailSource(_Thread):
    """Follow a CSV (header line first) or JSON-lines file; see the module docstring."""

    def __init__(self, service: Any, path: str | Path) -> None:
        super().__init__()
        self.service = service
        self.path = Path(path).absolute()
        self.name = f"tail:{self.path}"
        self.csv = self.path.suffix.lower() == ".csv"
        pos = service.ingestor.inbox.sources.get(self.name)
        self.offset = int(pos["offset"]) if isinstance(pos, dict) else 0
        self.line = int(pos["line"]) if isinstance(pos, dict) else 0
        self.header: str | None = None

    def poll(self) -> int:
        """Take the complete lines appended since the last poll; returns the records taken (bad ones included)."""
        if not self.path.is_file():
            return 0
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(MAX_CHUNK_BYTES)
        cut = data.rfind(b"\n")
        if cut < 0:
            return 0
        chunk = data[:cut + 1]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            text = chunk.decode("utf-8", errors="replace")
        lines = text.splitlines()
        first = self.line + 1
        records: list[Record] = []
        if self.csv:
            if self.header is None:
                with open(self.path, "rb") as f:
                    self.header = f.readline().decode("utf-8", errors="replace").rstrip("\r\n")
                if self.offset == 0:
                    lines, first = lines[1:], first + 1
            for i, ln in enumerate(lines):
                try:
                    recs = _csv(f"{self.header}\n{ln}\n")
                except ParseError as exc:
                    self.service.ingestor.reject({"source": self.name, "line": first + i, "error": str(exc)})
                    continue
                records.extend((first + i, r) for _, r in recs)
        else:
            for i, ln in enumerate(lines):
                if not ln.strip():
                    continue
                try:
                    value = _json_value(ln, first + i)
                    if not isinstance(value, dict):
                        raise ParseError("expected a JSON object", line=first + i)
                except ParseError as exc:
                    self.service.ingestor.reject({"source": self.name, "line": first + i, "error": str(exc)})
                    continue
                records.append((first + i, value))
        new_offset, new_line = self.offset + len(chunk), self.line + chunk.count(b"\n")
        position = {"offset": new_offset, "line": new_line}
        taken = submit_lines(self.service, records, {"name": self.name, "position": position}, self.name)
        if not taken:  # nothing valid: remember the position in an empty record so a restart skips these lines
            from vastgraph.graph.delta import GraphDelta

            self.service.ingestor.submit(GraphDelta(), kind="edges", records=0,
                                         source={"name": self.name, "position": position})
        self.offset, self.line = new_offset, new_line
        return len(lines)


class RedisSource(_Thread):
    """Consume a Redis Stream with ``XREAD`` (blocking up to 0.5 s); see the module docstring."""

    def __init__(self, service: Any, url: str, stream: str, count: int = 1000) -> None:
        super().__init__()
        import redis

        self.service, self.stream, self.count = service, stream, int(count)
        self.name = f"redis:{stream}"
        self.client = redis.Redis.from_url(url, socket_timeout=5)
        pos = service.ingestor.inbox.sources.get(self.name)
        self.last_id = str(pos) if pos else "0-0"
        self.interval = 0.0

    def poll(self) -> int:
        got = self.client.xread({self.stream: self.last_id}, count=self.count, block=500)
        if not got:
            return 0
        entries = got[0][1]
        records: list[Record] = []
        for n, (eid, fields) in enumerate(entries, start=1):
            rec = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                   for k, v in fields.items()}
            if set(rec) == {"json"}:
                try:
                    rec = json.loads(rec["json"])
                    if not isinstance(rec, dict):
                        raise ValueError("not an object")
                except ValueError as exc:
                    eid_s = eid.decode() if isinstance(eid, bytes) else eid
                    self.service.ingestor.reject({"source": self.name, "entry": eid_s, "error": f"bad json: {exc}"})
                    continue
            records.append((n, rec))
        last = entries[-1][0]
        last = last.decode() if isinstance(last, bytes) else str(last)
        ids = [e[0].decode() if isinstance(e[0], bytes) else str(e[0]) for e in entries]
        position = last
        taken = submit_lines(self.service, records, {"name": self.name, "position": position},
                             f"{self.name} entries {ids[0]}..{ids[-1]}")
        if not taken:
            from vastgraph.graph.delta import GraphDelta

            self.service.ingestor.submit(GraphDelta(), kind="edges", records=0,
                                         source={"name": self.name, "position": position})
        self.last_id = last
        return len(entries)


def start_sources(service: Any) -> list[Any]:
    """Start the consumers a :class:`~vastgraph.serve.state.ServeConfig` names (tail files, Redis)."""
    cfg = service.config
    out: list[Any] = [TailSource(service, p).start() for p in cfg.tail]
    if cfg.redis_url:
        try:
            out.append(RedisSource(service, cfg.redis_url, cfg.redis_stream).start())
        except ImportError:
            raise ValidationError("--redis needs the 'redis' package (pip install redis)") from None
    return out
