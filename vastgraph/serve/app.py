"""The HTTP service: FastAPI app over a store, its embeddings and the ingestion worker.

``create_app(ServeConfig(store=..., artifacts=...))`` builds the app; ``vastgraph serve STORE
--artifacts DIR --port P`` runs it with uvicorn. Endpoints (JSON unless noted; the OpenAPI schema
is at ``/openapi.json``, the docs at ``/docs``):

* reads (``Authorization: Bearer TOKEN`` needed only with ``protect_reads``): ``GET /v1/info``,
  ``GET /v1/neighbors``, ``POST /v1/fanout``, ``POST /v1/walks``, ``POST /v1/query`` (traversal
  text in, a table out), ``GET /v1/embedding``, ``POST /v1/embeddings``, ``GET /v1/similar``
  (nearest neighbours from the persisted vector index; geodesic, with exact re-ranking, for
  curvature artifacts), ``GET /v1/retrieve`` (query → ads: ``embedding`` or ``coclick``),
  ``GET /v1/ingest/status``, ``GET /v1/stats``, and the page ``GET /`` (HTML);
* writes (bearer token required): ``POST /v1/ingest/edges``, ``POST /v1/ingest/nodes`` (JSON lines,
  CSV or ``{"records": [...]}``; answered 202 once the request is in the fsync'ed inbox, see
  :mod:`vastgraph.serve.ingest`);
* operations: ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` (Prometheus text).

Each request reads one :class:`~vastgraph.serve.state.Snapshot` (its version is in the response).
Bounds (:class:`~vastgraph.serve.limits.Limits`) and the per-client token bucket apply to every
request; every 4xx is ``{"error": {"status", "code", "message", "line", "field"}}``. One JSON log
line per request goes to the ``vastgraph.serve.access`` logger.

Example:
    >>> import os, tempfile
    >>> from fastapi.testclient import TestClient
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.graph.dynamic_store import DynamicStore
    >>> root = tempfile.mkdtemp()
    >>> b = GraphBuilder(directed=True)
    >>> _ = b.add_edges([0, 1, 1], [1, 2, 0])
    >>> _ = DynamicStore.create(os.path.join(root, "store"), b.build())
    >>> app = create_app(ServeConfig(store=os.path.join(root, "store"), start_worker=False))
    >>> r = TestClient(app).get("/v1/neighbors", params={"id": "1"})
    >>> r.status_code, sorted(n["id"] for n in r.json()["neighbors"]), r.json()["version"][:11]
    (200, [0, 2], 'v0000000000')
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from contextlib import asynccontextmanager
from typing import Any, Optional

import numpy as np
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from vastgraph.errors import EmptyInputError, ParseError, SchemaError, UnknownIdError, VastgraphError
from vastgraph.serve import models as M
from vastgraph.serve.limits import token_ok
from vastgraph.serve.records import (JSON_TYPES, JSONL_TYPES, UnsupportedMediaType, edges_delta, nodes_delta,
                                     read_records)
from vastgraph.serve.state import ServeConfig, Service

access_log = logging.getLogger("vastgraph.serve.access")
OPS_PATHS = ("/healthz", "/readyz", "/metrics")


class ApiError(Exception):
    """An HTTP error with the uniform body (status, code, message, line, field)."""

    def __init__(self, status: int, code: str, message: str, *, line: int | None = None, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.line, self.field = status, code, message, line, field
        self.headers = headers

    def response(self) -> JSONResponse:
        body = {"error": {"status": self.status, "code": self.code, "message": self.message, "line": self.line,
                          "field": self.field}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def _from_library(exc: VastgraphError) -> ApiError:
    if isinstance(exc, UnsupportedMediaType):
        return ApiError(415, "unsupported_media_type", str(exc), field="Content-Type")
    if isinstance(exc, ParseError):
        return ApiError(422, "parse", str(exc), line=exc.line, field=exc.field)
    if isinstance(exc, UnknownIdError):
        return ApiError(404, "unknown_id", str(exc))
    if isinstance(exc, SchemaError):
        return ApiError(422, "schema", str(exc))
    if isinstance(exc, (ValueError, EmptyInputError)):
        return ApiError(422, "validation", str(exc))
    return ApiError(503, "unavailable", f"{type(exc).__name__}: {exc}")


ERRORS = {s: {"model": M.ErrorBody} for s in (400, 401, 404, 413, 415, 422, 429)}
ERRORS[401]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
ERRORS[429]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
# routes whose own media type is not JSON (the page, /metrics) still answer errors in JSON
JSON_ERRORS = {s: dict(v, content={"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}})
               for s, v in ERRORS.items()}
_ID_SCHEMA = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
_RECORD = {"edges": {"type": "object", "required": ["src", "dst"], "additionalProperties": False,
                     "properties": {"src": _ID_SCHEMA, "dst": _ID_SCHEMA, "etype": {"type": "string"},
                                    "weight": {"type": "number"}, "time": {"type": "integer"},
                                    "op": {"type": "string", "enum": ["add", "delete"]}}},
           "nodes": {"type": "object", "required": ["id"], "additionalProperties": False,
                     "properties": {"id": _ID_SCHEMA, "ntype": {"type": "string"}, "label": {"type": "integer"},
                                    "features": {"type": "array", "items": {"type": "number"}}}}}


def _ingest_body(kind: str) -> dict[str, Any]:
    doc = {"type": "object", "required": ["records"], "properties": {"records": {"type": "array",
                                                                               "items": _RECORD[kind]}}}
    content = {JSON_TYPES[0]: {"schema": doc}, JSONL_TYPES[0]: {"schema": {"type": "string"}},
               "text/csv": {"schema": {"type": "string"}}}
    return {"requestBody": {"required": True, "content": content}}


class ServeMiddleware:
    """Rate limit, request metrics, request-rate series and one JSON access-log line per request."""

    def __init__(self, app: Any, service: Service, routes: set[str]) -> None:
        self.app, self.service, self.routes = app, service, routes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        svc, path, t0 = self.service, scope["path"], time.perf_counter()
        route = path if path in self.routes else "other"
        client = _client_key(scope)
        status = [500]
        if path not in OPS_PATHS:
            ok, wait = svc.limiter.take(client)
            if not ok:
                svc.metrics.rate_limited.inc()
                err = ApiError(429, "rate_limited", f"rate limit of {svc.config.rate:g} requests/s "
                               f"(burst {svc.config.burst}) exceeded; retry in {wait:.2f} s",
                               headers={"Retry-After": str(max(1, math.ceil(wait)))})
                await err.response()(scope, receive, send)
                self._done(scope, route, client, 429, t0)
                return

        async def send_wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapped)
        finally:
            self._done(scope, route, client, status[0], t0)

    def _done(self, scope: dict[str, Any], route: str, client: str, status: int, t0: float) -> None:
        svc, dt = self.service, time.perf_counter() - t0
        svc.metrics.requests.labels(route, scope["method"], str(status)).inc()
        svc.metrics.latency.labels(route).observe(dt)
        svc.rates.hit()
        if access_log.isEnabledFor(logging.INFO):
            access_log.info("request", extra={"method": scope["method"], "path": scope["path"], "status": status,
                                              "ms": round(dt * 1000, 3), "client": client,
                                              "store_version": svc.snapshot.store_version})


def _client_key(scope: dict[str, Any]) -> str:
    for k, v in scope.get("headers", []):
        if k == b"authorization":
            return "token:" + hashlib.blake2b(v, digest_size=8).hexdigest()
    c = scope.get("client")
    return f"ip:{c[0]}" if c else "ip:unknown"


# ----------------------------------------------------------------------------- helpers
def _bound(name: str, value: int, limit: int) -> None:
    if value > limit:
        raise ApiError(422, "validation", f"{name}={value} exceeds this server's limit of {limit}", field=name)


def _ext(kind: str, value: Any, field: str) -> Any:
    """An external id of an id kind ('str' or an integer kind) from a query string or JSON value."""
    if kind == "str":
        return str(value)
    if isinstance(value, str):
        v = value.strip()
        if not (v.lstrip("-").isdigit() and len(v) < 20):
            raise ApiError(404, "unknown_id", f"{field}={value!r}: this node type has integer ids", field=field)
        value = int(v)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(404, "unknown_id", f"{field}={value!r}: this node type has integer ids", field=field)
    return value


def _node_type(graph: Any, ntype: str | None, field: str = "ntype") -> str:
    try:
        return graph.node_type(ntype)
    except (SchemaError, ValueError) as exc:
        raise ApiError(422, "schema", str(exc), field=field) from None


def _edge_type(graph: Any, etype: str | None) -> Any:
    try:
        return graph.edge_type(etype)
    except (SchemaError, ValueError) as exc:
        raise ApiError(422, "schema", str(exc), field="etype") from None


def _dense(graph: Any, ntype: str, ids: list[Any], field: str) -> np.ndarray:
    kind = "str" if graph.id_index(ntype).kind == "str" else "int"
    ext = [_ext(kind, v, field) for v in ids]
    arr = np.array(ext, dtype=str) if kind == "str" else np.array(ext, dtype=np.int64)
    found = graph.id_index(ntype).lookup(arr, ntype=ntype, missing="-1")
    if (found < 0).any():
        bad = [ext[i] for i in np.flatnonzero(found < 0)[:3]]
        raise ApiError(404, "unknown_id", f"{field}: node type {ntype!r} has no node {bad[0]!r}"
                       + (f" (and {int((found < 0).sum()) - 1} more)" if (found < 0).sum() > 1 else ""), field=field)
    return found.astype(np.int64)


def _py(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list):
        return [_py(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return v


def _versions(snap: Any) -> dict[str, Any]:
    return {"version": snap.version, "store_version": snap.store_version, "embedding_version": snap.embedding_version}


def _keyed_ntype(kv: Any, ntype: str | None, field: str = "ntype") -> str:
    if kv is None:
        raise ApiError(404, "not_found", "this server has no embeddings (start it with --artifacts DIR)")
    types = list(kv.node_types)
    if ntype is None:
        if len(types) != 1:
            raise ApiError(422, "schema", f"the embeddings have node types {', '.join(types)}; name one", field=field)
        return types[0]
    if ntype not in types:
        raise ApiError(422, "schema", f"{field}={ntype!r}: not a node type of the embeddings ({', '.join(types)})",
                       field=field)
    return ntype


def _keyed_row(snap: Any, ntype: str, value: Any, field: str = "id") -> tuple[Any, int]:
    ext = _ext(snap.id_kind(ntype), value, field)
    try:
        return ext, int(snap.keyed.index_of([ext], ntype)[0])
    except UnknownIdError:
        raise ApiError(404, "unknown_id", f"{field}: the embeddings hold no {ntype!r} node {ext!r}",
                       field=field) from None


def _scored(kv: Any, scores: np.ndarray, rows: np.ndarray, skip: int, k: int) -> list[dict[str, Any]]:
    keep = (rows >= 0) & (rows != skip) & np.isfinite(scores)
    rows, scores = rows[keep][:k], scores[keep][:k]
    offsets, types = np.asarray(kv.offsets), list(kv.node_types)
    out = []
    for r, s, key in zip(rows.tolist(), scores.tolist(), kv.key_of(rows) if rows.size else []):
        nt = types[int(np.searchsorted(offsets, r, side="right") - 1)]
        out.append({"ntype": nt, "id": _py(key[1] if isinstance(key, tuple) else key), "score": float(s)})
    return out


# ----------------------------------------------------------------------------- the app
def create_app(config: ServeConfig | None = None, *, service: Service | None = None) -> FastAPI:
    """The FastAPI app of a :class:`ServeConfig` (or of an existing :class:`Service`)."""
    from vastgraph.serve.page import render_page

    svc = service if service is not None else Service(config)  # type: ignore[arg-type]
    cfg, lim = svc.config, svc.config.limits

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        await run_in_threadpool(svc.start)
        try:
            yield
        finally:
            await run_in_threadpool(svc.stop)

    app = FastAPI(title="vastgraph", version="1", lifespan=lifespan, responses=ERRORS,
                  description="Graph reads, embeddings, nearest neighbours, ads retrieval and live ingestion "
                              "over a vastgraph store.")
    app.state.service = svc
    bearer = HTTPBearer(auto_error=False, description="the server's --token-file token")

    def write_auth(request: Request, _: Any = Depends(bearer)) -> None:
        if cfg.token is None:
            raise ApiError(401, "auth", "writes are disabled: start the server with --token-file",
                           headers={"WWW-Authenticate": "Bearer"})
        if not token_ok(request.headers.get("authorization"), cfg.token):
            raise ApiError(401, "auth", "writes need 'Authorization: Bearer <token>'",
                           headers={"WWW-Authenticate": "Bearer"})

    def read_auth(request: Request, _: Any = Depends(bearer)) -> None:
        if cfg.protect_reads and not token_ok(request.headers.get("authorization"), cfg.token):
            raise ApiError(401, "auth", "reads need 'Authorization: Bearer <token>' on this server",
                           headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(VastgraphError)
    async def _lib_error(_: Request, exc: VastgraphError) -> JSONResponse:
        return _from_library(exc).response()

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query")]
        return ApiError(422, "validation", f"{'.'.join(loc) or 'request'}: {first.get('msg', 'invalid')}",
                        field=".".join(loc) or None).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        return ApiError(exc.status_code, code, str(exc.detail)).response()

    reads = [Depends(read_auth)]

    # ---------------------------------------------------------------- operations
    @app.get("/healthz", response_model=M.Health, tags=["operations"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/readyz", response_model=M.Ready, tags=["operations"], responses={503: {"model": M.Ready}})
    def readyz() -> Any:
        ok, why = svc.ready()
        return JSONResponse({"ready": ok, "reason": why}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response,
             responses={**JSON_ERRORS, 200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
    def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        svc.metrics.pending.set(svc.ingestor.pending)
        svc.metrics.lag.set(svc.ingestor.oldest_pending_age())
        svc.metrics.rejected.set(svc.ingestor.status.rejected)
        svc.metrics.store_version.set(svc.snapshot.store_version)
        return Response(generate_latest(svc.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # ---------------------------------------------------------------- graph reads
    @app.get("/v1/info", response_model=M.InfoOut, dependencies=reads, tags=["graph"])
    def info() -> dict[str, Any]:
        snap = svc.snapshot
        g, kv = snap.graph, snap.keyed
        emb = None
        if kv is not None:
            vi = kv.index
            emb = {"count": len(kv), "dim": kv.dim, "node_types": list(kv.node_types),
                   "index": None if vi is None else {"kind": vi.kind, "metric": getattr(vi, "metric", "geodesic"),
                                                     "ntype": vi.ntype},
                   "manifold": kv.space.spec_string() if snap.geodesic else None}
        return dict(_versions(snap), node_types={nt: g.num_nodes(nt) for nt in g.node_types},
                    edge_types={str(et): g.num_edges(et) for et in g.edge_types}, embeddings=emb,
                    ads={"embedding": snap.has_ads(), "coclick": snap.has_coclick()}, follows=svc.follows)

    @app.get("/v1/neighbors", response_model=M.NeighborsOut, dependencies=reads, tags=["graph"])
    def neighbors(id: str = Query(..., max_length=1024, description="external id of the node"),
                  ntype: Optional[str] = Query(None, description="node type (default: the edge type's source)"),
                  etype: Optional[str] = None, reverse: bool = False,
                  k: Optional[int] = Query(None, ge=1,
                                           description="sample k neighbours (default: all, up to the limit)"),
                  seed: Optional[int] = Query(None, ge=0, le=M.MAX_SEED)) -> dict[str, Any]:
        from vastgraph.sampling.neighbors import sample_neighbors

        snap = svc.snapshot
        g = snap.graph
        et = _edge_type(g, etype)
        nt = _node_type(g, ntype) if ntype is not None else (et.dst if reverse else et.src)
        if nt != (et.dst if reverse else et.src):
            raise ApiError(422, "schema", f"ntype={nt!r}: edge type {et} {'ends' if reverse else 'starts'} at "
                           f"{et.dst if reverse else et.src!r}", field="ntype")
        if k is not None:
            _bound("k", k, lim.max_k)
        node = _dense(g, nt, [id], "id")
        degree = int((g.in_degree if reverse else g.out_degree)(et, node)[0])
        s = sample_neighbors(g, node, k if k is not None else min(degree, lim.max_k) or 1, etype=et, reverse=reverse,
                             method="uniform" if k is not None else "full" if degree <= lim.max_k else "uniform",
                             random_state=seed)
        other = et.src if reverse else et.dst
        ids = g.external_ids(other, np.asarray(s.indices, np.int64)).tolist() if len(s.indices) else []
        w = s.weights.tolist() if s.weights is not None else [None] * len(ids)
        t = s.times.tolist() if s.times is not None else [None] * len(ids)
        out = [{"id": _py(i), "weight": _py(a), "time": b} for i, a, b in zip(ids, w, t)]
        return dict(_versions(snap), ntype=nt, id=_ext("str" if g.id_index(nt).kind == "str" else "int", id, "id"),
                    etype=str(et), reverse=reverse, degree=degree, truncated=k is None and degree > lim.max_k,
                    neighbors=out)

    @app.post("/v1/fanout", response_model=M.FanoutOut, dependencies=reads, tags=["graph"])
    def fanout(body: M.FanoutIn) -> dict[str, Any]:
        from vastgraph.sampling.fanout import sample_fanout

        snap = svc.snapshot
        g = snap.graph
        _bound("seeds", len(body.seeds), lim.max_seeds)
        total = len(body.seeds)
        for i, f in enumerate(body.fanouts):
            if f == 0 or f < -1:
                raise ApiError(422, "validation", f"fanouts[{i}]={f}: expected >= 1 or -1 (all)", field="fanouts")
            _bound(f"fanouts[{i}]", f, lim.max_k)
            total *= lim.max_k if f == -1 else f
        _bound("seeds × Π fanouts", total, lim.max_fanout_edges)
        et = _edge_type(g, body.etype) if body.etype is not None else None
        if body.ntype is not None:
            nt = _node_type(g, body.ntype)
        else:
            nt = et.dst if et is not None else _node_type(g, None)
        seeds = _dense(g, nt, body.seeds, "seeds")
        sub = sample_fanout(g, {nt: seeds}, list(body.fanouts), etype=et, random_state=body.seed)
        ext = {t: g.external_ids(t, d).tolist() if len(d) else [] for t, d in sub.node_dict.items()}
        edges = {}
        for e, ei in sub.edge_index_dict.items():
            src = [_py(ext[e.src][i]) for i in ei[0].tolist()]
            dst = [_py(ext[e.dst][i]) for i in ei[1].tolist()]
            edges[str(e)] = {"src": src, "dst": dst}
        return dict(_versions(snap), nodes={t: [_py(v) for v in vs] for t, vs in ext.items()}, edges=edges,
                    hops=len(body.fanouts))

    @app.post("/v1/walks", response_model=M.WalksOut, dependencies=reads, tags=["graph"])
    def walks(body: M.WalksIn) -> dict[str, Any]:
        from vastgraph.sampling.walks import random_walks

        snap = svc.snapshot
        g = snap.graph
        _bound("walk_length", body.walk_length, lim.max_walk_length)
        _bound("start", len(body.start), lim.max_seeds)
        _bound("start × walks_per_node", len(body.start) * body.walks_per_node, lim.max_walks)
        et = _edge_type(g, body.etype)
        if et.src != et.dst:
            raise ApiError(422, "schema", f"etype {et}: walks need an edge type between nodes of one type",
                           field="etype")
        start = _dense(g, et.src, body.start, "start")
        w = random_walks(g, start=start, walks_per_node=body.walks_per_node, walk_length=body.walk_length,
                         etype=et, p=body.p, q=body.q, random_state=body.seed)
        w = np.asarray(w, np.int64)
        valid = w >= 0
        flat = g.external_ids(et.src, w[valid]).tolist() if valid.any() else []
        lens = valid.sum(axis=1).tolist()
        out, pos = [], 0
        for n in lens:  # -1 only after a dead end: each row's valid entries are a prefix
            out.append([_py(v) for v in flat[pos:pos + n]])
            pos += n
        return dict(_versions(snap), ntype=et.src, etype=str(et), walks=out)

    @app.post("/v1/query", response_model=M.QueryOut, dependencies=reads, tags=["graph"])
    def query(body: M.QueryIn) -> dict[str, Any]:
        from vastgraph.sampling.query import run_query

        _bound("query length", len(body.query), lim.max_query_chars)
        snap = svc.snapshot
        try:
            res = run_query(snap.graph, body.query, random_state=body.seed)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            if isinstance(exc, VastgraphError):
                raise
            raise ApiError(422, "parse", f"query: {type(exc).__name__}: {exc}", field="query") from None
        cols = list(res.keys())
        n = len(res)
        m = min(n, lim.max_query_rows)
        data = [[_py(v) for v in np.asarray(res[c])[:m].tolist()] for c in cols]
        rows = [list(r) for r in zip(*data)] if cols else []
        return dict(_versions(snap), columns=cols, rows=rows, total_rows=n, truncated=n > m)

    # ---------------------------------------------------------------- embeddings
    @app.get("/v1/embedding", response_model=M.EmbeddingOut, dependencies=reads, tags=["embeddings"])
    def embedding(id: str = Query(..., max_length=1024), ntype: Optional[str] = None) -> dict[str, Any]:
        snap = svc.snapshot
        kv = snap.keyed
        nt = _keyed_ntype(kv, ntype)
        ext, row = _keyed_row(snap, nt, id)
        return dict(_versions(snap), ntype=nt, id=_py(ext), vector=np.asarray(kv.vectors[row], np.float64).tolist())

    @app.post("/v1/embeddings", response_model=M.EmbeddingsOut, dependencies=reads, tags=["embeddings"])
    def embeddings(body: M.EmbeddingsIn) -> dict[str, Any]:
        snap = svc.snapshot
        kv = snap.keyed
        nt = _keyed_ntype(kv, body.ntype)
        _bound("ids", len(body.ids), lim.max_seeds)
        got = [_keyed_row(snap, nt, v, "ids") for v in body.ids]
        vecs = np.asarray(kv.vectors[[r for _, r in got]], np.float64)
        return dict(_versions(snap), ntype=nt, ids=[_py(e) for e, _ in got], vectors=vecs.tolist())

    @app.get("/v1/similar", response_model=M.SimilarOut, dependencies=reads, tags=["embeddings"])
    def similar(id: str = Query(..., max_length=1024), ntype: Optional[str] = None,
                k: int = Query(10, ge=1), target: Optional[str] = Query(None, description="rank only this node type"),
                metric: Optional[str] = Query(None, description="cosine, dot, l2 (or geodesic for curvature "
                                                               "embeddings); default the persisted index's")
                ) -> dict[str, Any]:
        snap = svc.snapshot
        kv = snap.keyed
        nt = _keyed_ntype(kv, ntype)
        _bound("k", k, lim.max_k)
        tgt = None if target is None else _keyed_ntype(kv, target, "target")
        ext, row = _keyed_row(snap, nt, id)
        allowed = ("cosine", "dot", "l2") + (("geodesic",) if snap.geodesic else ())
        m = metric if metric is not None else snap.default_metric(tgt)
        if m not in allowed:
            raise ApiError(422, "validation", f"metric={m!r}: expected one of {', '.join(allowed)}", field="metric")
        scores, rows = kv.search(np.asarray(kv.vectors[row], np.float32), k + 1, ntype=tgt, metric=m)
        vi = kv.index
        used = vi.kind if vi is not None and vi.ntype == tgt and vi.metric == m else "exact"
        if m == "geodesic":
            used = "geodesic-exact" if kv.geodesic_index(tgt)[0].exact else "faiss+geodesic-rerank"
        order = "asc" if m in ("l2", "geodesic") else "desc"
        return dict(_versions(snap), ntype=nt, id=_py(ext), metric=m, order=order,
                    index=used, results=_scored(kv, scores[0], rows[0], row, k))

    @app.get("/v1/retrieve", response_model=M.RetrieveOut, dependencies=reads, tags=["ads"])
    def retrieve(query: str = Query(..., max_length=1024, description="external id of the search query"),
                 k: int = Query(10, ge=1), method: str = Query("embedding", pattern="^(embedding|coclick)$")
                 ) -> dict[str, Any]:
        snap = svc.snapshot
        _bound("k", k, lim.max_k)
        r = snap.retriever(method)
        if method == "embedding" and r is None:  # curvature embeddings: geodesic nearest ads
            kv = snap.keyed
            ext, row = _keyed_row(snap, "query", query, "query")
            d, rows = kv.search(np.asarray(kv.vectors[row], np.float32), k, ntype="ad", metric="geodesic")
            return dict(_versions(snap), query=_py(ext), method=method, metric="geodesic",
                        results=_scored(kv, d[0], rows[0], -1, k))
        kind = "int" if len(r.query_ids) and isinstance(r.query_ids[0], (int, np.integer)) else "str"
        qid = _ext(kind, query, "query")
        got = r.retrieve([qid], k)
        res = [{"ntype": "ad", "id": _py(a), "score": float(s)} for a, s in zip(got.ads[0], got.scores[0])
               if a is not None and math.isfinite(s)]
        metric = getattr(r, "metric", "coclick")
        return dict(_versions(snap), query=_py(qid), method=method, metric=metric, results=res)

    # ---------------------------------------------------------------- ingestion
    async def _ingest(request: Request, kind: str) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > lim.max_body_bytes:
            raise ApiError(413, "too_large", f"body of {declared} bytes exceeds the limit of {lim.max_body_bytes}",
                           field="body")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > lim.max_body_bytes:
                raise ApiError(413, "too_large", f"body exceeds the limit of {lim.max_body_bytes} bytes", field="body")
            chunks.append(chunk)
        body = b"".join(chunks)
        snap = svc.snapshot
        records = read_records(body, request.headers.get("content-type"))
        if len(records) > lim.max_records:
            raise ApiError(413, "too_large", f"{len(records)} records exceed the limit of {lim.max_records} per "
                           "request", line=records[lim.max_records][0], field="records")
        build = edges_delta if kind == "edges" else nodes_delta
        delta = await run_in_threadpool(build, snap.graph, records)
        client = _client_key(request.scope)
        seq = await run_in_threadpool(lambda: svc.ingestor.submit(delta, kind=kind, records=len(records),
                                                                  client=client))
        svc.metrics.accepted.labels(kind).inc(len(records))
        return {"accepted": len(records), "inbox_seq": seq, "edges": delta.num_insertions + delta.num_deletions,
                "nodes": delta.num_new_nodes, "version": snap.version}

    @app.post("/v1/ingest/edges", status_code=202, response_model=M.IngestOut, tags=["ingestion"],
              dependencies=[Depends(write_auth)], openapi_extra=_ingest_body("edges"))
    async def ingest_edges(request: Request) -> dict[str, Any]:
        return await _ingest(request, "edges")

    @app.post("/v1/ingest/nodes", status_code=202, response_model=M.IngestOut, tags=["ingestion"],
              dependencies=[Depends(write_auth)], openapi_extra=_ingest_body("nodes"))
    async def ingest_nodes(request: Request) -> dict[str, Any]:
        return await _ingest(request, "nodes")

    @app.get("/v1/ingest/status", response_model=M.IngestStatusOut, dependencies=reads, tags=["ingestion"])
    def ingest_status() -> dict[str, Any]:
        return dict(_versions(svc.snapshot), **svc.ingestor.info())

    @app.get("/v1/stats", response_model=M.StatsOut, dependencies=reads, tags=["operations"])
    def stats() -> dict[str, Any]:
        snap = svc.snapshot
        return dict(_versions(snap), rates=svc.rates.series(), ingestion=dict(_versions(snap), **svc.ingestor.info()))

    @app.get("/", response_class=HTMLResponse, dependencies=reads, tags=["page"],
             responses={**JSON_ERRORS, 200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
    def page(id: Optional[str] = Query(None, max_length=1024), ntype: Optional[str] = Query(None, max_length=200),
             mode: str = Query("similar", pattern="^(similar|retrieve|neighbors)$"),
             k: int = Query(10, ge=1, le=100)) -> HTMLResponse:
        return HTMLResponse(render_page(svc, id=id, ntype=ntype, mode=mode, k=k))

    routes = {r.path for r in app.routes if hasattr(r, "path")}
    app.add_middleware(ServeMiddleware, service=svc, routes=routes)
    return app
