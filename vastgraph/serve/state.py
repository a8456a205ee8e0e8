"""What the server reads: immutable snapshots of (store version, embeddings), swapped after each batch.

A :class:`Snapshot` holds one opened store version (a memory-mapped
:class:`~vastgraph.graph.view.GraphView`), the embeddings that go with it (a
:class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings`, or a
:class:`~vastgraph.embed.manifold_keyed.ManifoldKeyedEmbeddings` for curvature artifacts, with the
persisted vector index they were saved with) and lazily built ads retrievers. A request takes
``service.snapshot`` once and reads only that object, so it sees one version from start to end
while the ingestion worker applies batches; after each batch the worker opens the new version and
replaces the reference (a single attribute assignment, atomic in Python). Old versions stay
readable for requests still holding them (their memory maps survive a prune).

:class:`Service` ties the snapshot, the :class:`~vastgraph.serve.ingest.Ingestor`, the Prometheus
metrics (its own registry) and the per-second request counts the page plots.

Example:
    >>> import os, tempfile
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.graph.dynamic_store import DynamicStore
    >>> root = tempfile.mkdtemp()
    >>> b = GraphBuilder(directed=True)
    >>> _ = b.add_edges([0, 1], [1, 2])
    >>> _ = DynamicStore.create(os.path.join(root, "store"), b.build())
    >>> svc = Service(ServeConfig(store=os.path.join(root, "store"), start_worker=False))
    >>> snap = svc.snapshot
    >>> snap.store_version, snap.graph.num_edges(), snap.keyed is None
    (0, 2, True)
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vastgraph.errors import SchemaError, StoreError, ValidationError
from vastgraph.graph.view import GraphView, open_graph
from vastgraph.serve.limits import Limits, RateLimiter


@dataclass
class ServeConfig:
    """Everything ``vastgraph serve`` configures (see :func:`vastgraph.serve.app.create_app`).

    Attributes:
        store: the store folder. artifacts: an embeddings folder (None: graph endpoints only).
        serving_dir: inbox / checkpoint folder; default ``<artifacts or store>.serving`` beside it.
        token: bearer token of writes (None: writes are refused). protect_reads: reads need it too.
        limits: :class:`Limits`. rate / burst: per-client token bucket (requests/s, bucket size).
        batch_records / batch_edges / time_policy / keep_versions: the ingestion worker's (Ingestor).
        start_worker: run the ingestion worker (False: accept into the inbox only).
        tail: files to follow (``.csv`` or JSON lines). redis_url / redis_stream: a Redis Stream to consume.
        update_params: embedding update overrides (``Updater.set_params``), e.g. ``{"random_state": 0}``.
        faiss_threads: OpenMP threads of faiss searches (single queries are fastest on 1).
    """

    store: str
    artifacts: str | None = None
    serving_dir: str | None = None
    token: str | None = None
    protect_reads: bool = False
    limits: Limits = field(default_factory=Limits)
    rate: float = 2000.0
    burst: int = 4000
    batch_records: int = 256
    batch_edges: int = 200_000
    time_policy: str = "allow"
    keep_versions: int = 4
    start_worker: bool = True
    tail: list[str] = field(default_factory=list)
    redis_url: str | None = None
    redis_stream: str = "vastgraph:edges"
    update_params: dict[str, Any] = field(default_factory=dict)
    faiss_threads: int | None = 1

    def serving_path(self) -> Path:
        if self.serving_dir is not None:
            return Path(self.serving_dir).absolute()
        base = Path(self.artifacts if self.artifacts is not None else self.store).absolute()
        return base.parent / f"{base.name}.serving"


def load_embeddings(path: str | Path) -> Any:
    """KeyedEmbeddings of a folder; ManifoldKeyedEmbeddings when its metadata names a manifold."""
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    p = Path(path)
    try:
        meta = json.loads((p / "meta.json").read_text()).get("meta", {})
    except (OSError, ValueError, AttributeError) as exc:
        raise StoreError(f"{p}: not an embeddings folder ({exc})") from None
    if isinstance(meta, dict) and "manifold" in meta:
        from vastgraph.embed.manifold_keyed import ManifoldKeyedEmbeddings

        return ManifoldKeyedEmbeddings.load(p)
    return KeyedEmbeddings.load(p)


def _embedding_version(path: Path) -> int | None:
    try:
        return int(json.loads((path / "state" / "meta.json").read_text())["follows"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Snapshot:
    """One consistent view: a store version, its embeddings and retrievers (read-only)."""

    def __init__(self, graph: GraphView, keyed: Any, embedding_version: int | None) -> None:
        self.graph, self.keyed, self.embedding_version = graph, keyed, embedding_version
        self.version = str(graph.version)
        head = self.version.split("-", 1)[0]
        self.store_version = int(head[1:]) if head.startswith("v") and head[1:].isdigit() else 0
        self.loaded_at = time.time()
        self._lock = threading.Lock()
        self._retrievers: dict[str, Any] = {}
        self._kinds: dict[str, str] = {}
        self.artifacts_key: tuple[int, int, int] | None = None

    def id_kind(self, ntype: str) -> str:
        """``"int"`` or ``"str"``: the id kind of an embeddings node type (cached; reading it is O(n))."""
        with self._lock:
            if ntype not in self._kinds:
                self._kinds[ntype] = "int" if np.asarray(self.keyed.ids_for(ntype)).dtype.kind in "iu" else "str"
            return self._kinds[ntype]

    def inherit(self, prev: "Snapshot") -> None:
        """Reuse what depends only on the embeddings (id kinds, embedding retriever) of a snapshot sharing them."""
        self._kinds = dict(prev._kinds)
        if "embedding" in prev._retrievers:
            self._retrievers["embedding"] = prev._retrievers["embedding"]

    def warm(self) -> None:
        """Build the lazy lookup structures (id hash indexes, the ads retriever) before readers see the snapshot."""
        for nt in self.graph.node_types:
            if self.graph.num_nodes(nt):
                self.graph.lookup(nt, self.graph.external_ids(nt, np.zeros(1, np.int64)))
        if self.keyed is not None:
            for nt in self.keyed.node_types:
                if nt in self._kinds:
                    continue
                ids = self.keyed.ids_for(nt)
                self._kinds[nt] = "int" if np.asarray(ids).dtype.kind in "iu" else "str"
                if len(ids):
                    self.keyed.index_of(ids[:1], nt)
            if self.has_ads():
                self.retriever("embedding")

    @property
    def geodesic(self) -> bool:
        return self.keyed is not None and hasattr(self.keyed, "space")

    def default_metric(self, ntype: str | None) -> str:
        """The persisted index's metric when it covers ``ntype``; else geodesic (curvature) or cosine."""
        vi = getattr(self.keyed, "index", None)
        if vi is not None and vi.ntype == ntype:
            return "geodesic" if vi.kind == "geodesic" else vi.metric
        return "geodesic" if self.geodesic else "cosine"

    def has_ads(self) -> bool:
        return self.keyed is not None and {"query", "ad"} <= set(self.keyed.node_types)

    def has_coclick(self) -> bool:
        from vastgraph.ads.retrieval import CLICK, COCLICK

        ets = {tuple(et) for et in self.graph.edge_types}
        return CLICK in ets and COCLICK in ets

    def retriever(self, method: str) -> Any:
        """The ads retriever ``"embedding"`` (over the keyed embeddings) or ``"coclick"`` (over the graph)."""
        with self._lock:
            if method not in self._retrievers:
                if method == "coclick":
                    if not self.has_coclick():
                        raise SchemaError("coclick retrieval needs the edge types query:click:ad and ad:coclick:ad "
                                          "in the store (a graph written by `vastgraph ads run`)")
                    from vastgraph.ads.retrieval import CoClickRetriever

                    self._retrievers[method] = CoClickRetriever(self.graph)
                elif method == "embedding":
                    if not self.has_ads():
                        raise SchemaError("embedding retrieval needs embeddings with node types 'query' and 'ad' "
                                          f"(these have {self.keyed.node_types if self.keyed is not None else 'none'})")
                    if self.geodesic:
                        self._retrievers[method] = None  # ranked by geodesic distance in the endpoint
                    else:
                        from vastgraph.ads.retrieval import EmbeddingRetriever

                        metric = self.default_metric("ad")
                        self._retrievers[method] = EmbeddingRetriever(
                            self.keyed, metric=metric if metric in ("cosine", "dot") else "cosine")
                else:
                    raise ValidationError(f"method={method!r}: expected 'embedding' or 'coclick'")
            return self._retrievers[method]


class RequestRates:
    """Requests per second over the last ``window`` seconds (for the page's chart)."""

    def __init__(self, window: int = 60) -> None:
        self.window = window
        self._counts: deque[list[int]] = deque(maxlen=window)
        self._lock = threading.Lock()

    def hit(self, now: float | None = None) -> None:
        sec = int(time.time() if now is None else now)
        with self._lock:
            if self._counts and self._counts[-1][0] == sec:
                self._counts[-1][1] += 1
            else:
                self._counts.append([sec, 1])

    def series(self, now: float | None = None) -> list[int]:
        """Counts of the last ``window`` whole seconds, oldest first (0 where none)."""
        sec = int(time.time() if now is None else now)
        with self._lock:
            by = {s: c for s, c in self._counts}
        return [by.get(s, 0) for s in range(sec - self.window, sec)]


class Service:
    """The server's state: config, current snapshot, ingestor, metrics, limiter and request rates."""

    def __init__(self, config: ServeConfig) -> None:
        from vastgraph.serve.ingest import Ingestor

        self.config = config
        self.store = Path(config.store).absolute()
        self.artifacts = None if config.artifacts is None else Path(config.artifacts).absolute()
        if not self.store.is_dir():
            raise StoreError(f"{self.store}: no such store folder")
        if self.artifacts is not None and not (self.artifacts / "meta.json").is_file():
            raise StoreError(f"{self.artifacts}: not an embeddings folder (no meta.json)")
        if config.faiss_threads is not None:
            import faiss

            faiss.omp_set_num_threads(int(config.faiss_threads))
        self.limiter = RateLimiter(config.rate, config.burst)
        self.rates = RequestRates()
        self.metrics = Metrics()
        dynamic = self.artifacts is not None and (self.artifacts / "state" / "meta.json").is_file()
        self.follows = dynamic
        self.ingestor = Ingestor(self.store, self.artifacts if dynamic else None, config.serving_path(),
                                 batch_records=config.batch_records, batch_edges=config.batch_edges,
                                 time_policy=config.time_policy, keep_versions=config.keep_versions,
                                 on_applied=self._applied, update_params=config.update_params)
        self._swap_lock = threading.Lock()
        self.snapshot = self._load()
        self.sources: list[Any] = []
        self.started = False

    def _artifacts_key(self) -> tuple[int, int, int] | None:
        if self.artifacts is None:
            return None
        st = (self.artifacts / "meta.json").stat()  # the Updater swaps the folder: a new file, a new inode
        return st.st_ino, st.st_mtime_ns, st.st_ctime_ns

    def _load(self) -> Snapshot:
        graph = open_graph(self.store)
        prev: Snapshot | None = getattr(self, "snapshot", None)
        key = self._artifacts_key()
        reuse = prev is not None and key is not None and getattr(prev, "artifacts_key", None) == key
        if reuse:  # embeddings that do not follow the store (no state/): keep the loaded ones
            keyed = prev.keyed
        else:
            keyed = None if self.artifacts is None else load_embeddings(self.artifacts)
        snap = Snapshot(graph, keyed, None if self.artifacts is None else _embedding_version(self.artifacts))
        snap.artifacts_key = key
        if reuse:
            snap.inherit(prev)
        snap.warm()
        return snap

    def reload(self) -> Snapshot:
        """Open the store's current version (and the embeddings) and make it the snapshot."""
        with self._swap_lock:
            snap = self._load()
            self.snapshot = snap
            self.metrics.store_version.set(snap.store_version)
            return snap

    def _applied(self, summary: dict[str, Any]) -> None:
        self.reload()
        self.metrics.batches.inc()

    def start(self) -> None:
        """Start the ingestion worker and the stream consumers (idempotent)."""
        if self.started:
            return
        self.started = True
        if self.config.start_worker:
            self.ingestor.start()
            self.reload()  # resume() may have completed a batch left by a crash
        from vastgraph.serve.sources import start_sources

        self.sources = start_sources(self)

    def stop(self) -> None:
        for s in self.sources:
            s.stop()
        self.ingestor.stop()
        self.started = False

    def ready(self) -> tuple[bool, str]:
        if self.config.start_worker and self.started and not self.ingestor.alive:
            return False, "the ingestion worker is not running"
        if self.ingestor.status.last_error and self.ingestor.oldest_pending_age() > 30:
            return False, f"ingestion is failing: {self.ingestor.status.last_error}"
        return True, "ok"


class Metrics:
    """Prometheus metrics in the service's own registry (``/metrics`` renders it)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("vastgraph_http_requests", "HTTP requests", ["route", "method", "status"], registry=r)
        self.latency = Histogram("vastgraph_http_request_seconds", "HTTP request latency", ["route"], registry=r,
                                 buckets=(.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10))
        self.rate_limited = Counter("vastgraph_rate_limited", "Requests refused by the rate limit", registry=r)
        self.batches = Counter("vastgraph_ingest_batches", "Batches applied by the ingestion worker", registry=r)
        self.accepted = Counter("vastgraph_ingest_records", "Records accepted into the inbox", ["kind"], registry=r)
        self.store_version = Gauge("vastgraph_store_version", "Store version served", registry=r)
        self.pending = Gauge("vastgraph_ingest_pending_records", "Inbox records not yet applied", registry=r)
        self.lag = Gauge("vastgraph_ingest_lag_seconds", "Age of the oldest unapplied inbox record", registry=r)
        self.rejected = Gauge("vastgraph_ingest_rejected", "Inbox records refused when applied", registry=r)
