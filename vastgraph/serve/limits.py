"""Safety and operations plumbing of the server: bounds, bearer tokens, rate limits, JSON logs.

* :class:`Limits` — the bounds every request is checked against (body bytes, records per request,
  ``k``, walk length, walks, seeds, fanout edges, query length and rows).
* :func:`read_token` — the bearer token from a file (first line, at least 16 characters).
* :func:`token_ok` — constant-time comparison of an ``Authorization: Bearer ...`` header.
* :class:`RateLimiter` — one token bucket per client (Turner's token bucket: ``rate`` tokens a
  second, up to ``burst``); a request takes a token or is refused with the seconds to wait.
* :class:`JsonFormatter` — one JSON object per log line (``ts``, ``level``, ``logger``, ``msg``
  and the record's ``extra`` fields), for the structured request log.

Example:
    >>> rl = RateLimiter(rate=1.0, burst=2)
    >>> [rl.take("a", now=0.0)[0] for _ in range(3)], rl.take("a", now=1.0)[0]
    ([True, True, False], True)
    >>> token_ok("Bearer s3cret-s3cret-s3cret", "s3cret-s3cret-s3cret"), token_ok(None, "x")
    (True, False)
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import os
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vastgraph.errors import ValidationError
from vastgraph.validation import check_float, check_int


@dataclass(frozen=True)
class Limits:
    """Request bounds (all checked; a request over one gets a 4xx naming it).

    Attributes:
        max_body_bytes: request body size. max_records: records per ingestion request.
        max_k: neighbours / results per lookup. max_walk_length: steps per walk.
        max_walks: walks per request (starts × walks per node). max_seeds: seeds/ids per request.
        max_fanout_edges: seeds × Π fanouts of a fanout request. max_query_chars / max_query_rows:
        query text length and rows returned (more are cut, with ``truncated: true``).
    """

    max_body_bytes: int = 8 << 20
    max_records: int = 100_000
    max_k: int = 1000
    max_walk_length: int = 200
    max_walks: int = 2000
    max_seeds: int = 1000
    max_fanout_edges: int = 200_000
    max_query_chars: int = 4000
    max_query_rows: int = 10_000

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            check_int(name, value, 1)


def read_token(path: str | os.PathLike | None) -> str | None:
    """The token in the first line of ``path`` (None for no file); too short a token is refused."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"--token-file {p}: no such file")
    text = p.read_text().strip().splitlines()
    token = text[0].strip() if text else ""
    if len(token) < 16 or any(c.isspace() for c in token):
        raise ValidationError(f"--token-file {p}: the token (first line) needs at least 16 characters and no spaces")
    return token


def token_ok(header: str | None, token: str | None) -> bool:
    """Whether an Authorization header carries ``Bearer <token>`` (constant-time compare)."""
    if token is None or not header:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class RateLimiter:
    """Per-client token buckets: ``rate`` requests a second sustained, ``burst`` at once.

    Args:
        rate: tokens added per second (> 0). burst: bucket size (>= 1).
        max_clients: buckets kept (least recently used ones are dropped). Default 100000.
    """

    def __init__(self, rate: float, burst: int, max_clients: int = 100_000) -> None:
        self.rate = check_float("rate", rate, 0.0, low_open=True)
        self.burst = check_int("burst", burst, 1)
        self.max_clients = check_int("max_clients", max_clients, 1)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> tuple[bool, float]:
        """Take one token for ``client``: ``(allowed, seconds until a token is available)``."""
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.burst), t))
            tokens = min(float(self.burst), tokens + (t - last) * self.rate)
            ok = tokens >= 1.0
            if ok:
                tokens -= 1.0
            self._buckets[client] = (tokens, t)
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return ok, 0.0 if ok else (1.0 - tokens) / self.rate


class JsonFormatter(logging.Formatter):
    """Format log records as one JSON object per line (``extra`` fields included)."""

    _skip = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": round(record.created, 3), "level": record.levelname.lower(),
                               "logger": record.name, "msg": record.getMessage()}
        for k, v in vars(record).items():
            if k not in self._skip and not k.startswith("_"):
                out[k] = v if isinstance(v, (str, int, bool)) or v is None else \
                    (round(v, 3) if isinstance(v, float) and math.isfinite(v) else str(v))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, separators=(",", ":"))


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send the ``vastgraph`` and ``uvicorn`` loggers to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("vastgraph", "uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        lg.propagate = False
