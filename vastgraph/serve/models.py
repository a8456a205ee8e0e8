"""Request and response models of the HTTP API (they make the OpenAPI schema at ``/openapi.json``).

Every read response carries ``version`` (the store version string, ``v<k>-<digest>``),
``store_version`` (``k``) and ``embedding_version`` (the store version the embeddings follow, or
null): the one consistent snapshot the request read. Every error is an :class:`ErrorBody`.

Example:
    >>> ErrorBody(error=ErrorDetail(status=422, code="parse", message="missing", line=2, field="dst")).error.line
    2
"""

from __future__ import annotations

from typing import Any, Optional, Union

from pydantic import BaseModel, Field

Id = Union[int, str]
MAX_SEED = 2 ** 32 - 1


class ErrorDetail(BaseModel):
    status: int = Field(description="HTTP status code")
    code: str = Field(description="machine-readable kind: parse, validation, unknown_id, schema, auth, "
                                  "too_large, rate_limited, unsupported_media_type, not_found, unavailable")
    message: str
    line: Optional[int] = Field(None, description="input line (ingestion bodies) where the problem is")
    field: Optional[str] = Field(None, description="the field or parameter at fault")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Versioned(BaseModel):
    version: str = Field(description="store version read (v<k>-<digest>)")
    store_version: int
    embedding_version: Optional[int] = None


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    reason: str


class Neighbor(BaseModel):
    id: Id
    weight: Optional[float] = None
    time: Optional[int] = None


class NeighborsOut(Versioned):
    ntype: str
    id: Id
    etype: str
    reverse: bool
    degree: int
    truncated: bool
    neighbors: list[Neighbor]


class FanoutIn(BaseModel):
    seeds: list[Id] = Field(min_length=1, description="external ids of the seed nodes")
    ntype: Optional[str] = Field(None, description="seed node type (default: the only one)")
    fanouts: list[int] = Field(default=[10, 5], min_length=1, max_length=4,
                               description="neighbours per hop (>= 1, or -1 for all)")
    etype: Optional[str] = None
    seed: Optional[int] = Field(None, ge=0, le=MAX_SEED)


class EdgeList(BaseModel):
    src: list[Id]
    dst: list[Id]


class FanoutOut(Versioned):
    nodes: dict[str, list[Id]]
    edges: dict[str, EdgeList]
    hops: int


class WalksIn(BaseModel):
    start: list[Id] = Field(min_length=1, description="external ids of the start nodes")
    etype: Optional[str] = None
    walk_length: int = Field(10, ge=1)
    walks_per_node: int = Field(1, ge=1)
    p: float = Field(1.0, gt=0, le=1e6)
    q: float = Field(1.0, gt=0, le=1e6)
    seed: Optional[int] = Field(None, ge=0, le=MAX_SEED)


class WalksOut(Versioned):
    ntype: str
    etype: str
    walks: list[list[Id]]


class QueryIn(BaseModel):
    query: str = Field(min_length=1, description='traversal text, e.g. g.V("node", [0]).outV().values("id")')
    seed: Optional[int] = Field(None, ge=0, le=MAX_SEED)


class QueryOut(Versioned):
    columns: list[str]
    rows: list[list[Any]]
    total_rows: int
    truncated: bool


class EmbeddingOut(Versioned):
    ntype: str
    id: Id
    vector: list[float]


class EmbeddingsIn(BaseModel):
    ids: list[Id] = Field(min_length=1)
    ntype: Optional[str] = None


class EmbeddingsOut(Versioned):
    ntype: str
    ids: list[Id]
    vectors: list[list[float]]


class Scored(BaseModel):
    ntype: str
    id: Id
    score: float


class SimilarOut(Versioned):
    ntype: str
    id: Id
    metric: str
    order: str = Field(description="'desc' for similarities, 'asc' for distances")
    index: str = Field(description="what searched: the persisted index kind, or 'exact'")
    results: list[Scored]


class RetrieveOut(Versioned):
    query: Id
    method: str
    metric: str
    results: list[Scored]


class IngestOut(BaseModel):
    accepted: int = Field(description="records accepted into the durable inbox")
    inbox_seq: int = Field(description="inbox record number; applied once /v1/ingest/status applied_seq reaches it")
    edges: int
    nodes: int
    version: str = Field(description="store version served when the request was accepted")


class IngestStatusOut(Versioned):
    inbox_seq: int
    applied_seq: int
    pending_records: int
    oldest_pending_s: float
    batches: int
    edges_applied: int
    nodes_applied: int
    rejected: int
    last_apply_s: float
    last_lag_s: float
    worker_alive: bool
    last_error: Optional[str] = None


class InfoOut(Versioned):
    node_types: dict[str, int]
    edge_types: dict[str, int]
    embeddings: Optional[dict[str, Any]] = None
    ads: dict[str, bool]
    follows: bool = Field(description="whether the embeddings are updated with the ingested graph")


class StatsOut(Versioned):
    rates: list[int] = Field(description="requests per second over the last 60 s, oldest first")
    ingestion: IngestStatusOut
