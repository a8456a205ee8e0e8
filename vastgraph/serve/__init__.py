"""HTTP service over a store and trained artifacts, with live graph ingestion (issue 15).

Imports artifacts (embeddings, vector indexes, the updater, retrievers), never trainers; nothing
else in the library imports this package.

* :mod:`vastgraph.serve.app` — the FastAPI app (``create_app``) and its endpoints;
* :mod:`vastgraph.serve.state` — :class:`ServeConfig`, the snapshots and the service state;
* :mod:`vastgraph.serve.ingest` — the durable inbox and the worker that applies it through the Updater;
* :mod:`vastgraph.serve.records` — JSON lines / CSV ingestion bodies → checked deltas;
* :mod:`vastgraph.serve.sources` — tail-a-file and Redis Stream consumers;
* :mod:`vastgraph.serve.limits` — bounds, bearer tokens, the per-client rate limit, JSON logs;
* :mod:`vastgraph.serve.page` — the HTML page at ``/``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServeConfig", "create_app"]


def __getattr__(name: str) -> Any:  # lazy: importing vastgraph.serve does not import fastapi
    if name == "create_app":
        from vastgraph.serve.app import create_app

        return create_app
    if name == "ServeConfig":
        from vastgraph.serve.state import ServeConfig

        return ServeConfig
    raise AttributeError(name)
