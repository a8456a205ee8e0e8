"""``vastgraph serve``: the HTTP service over a store and its embeddings (vastgraph.serve)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vastgraph.cli._common import console, handle_errors


@handle_errors
def serve(
    store: Path = typer.Argument(..., help="Store folder (a plain store becomes a dynamic one on the first "
                                           "ingested batch)."),
    artifacts: Optional[Path] = typer.Option(None, help="Embeddings folder; with state/ (DNE, incremental walks) "
                                                        "it follows the ingested graph."),
    port: int = typer.Option(8000, help="Port."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    token_file: Optional[Path] = typer.Option(None, help="File whose first line is the bearer token of writes "
                                                         "(without it, writes are refused)."),
    protect_reads: bool = typer.Option(False, help="Reads need the token too."),
    serving_dir: Optional[Path] = typer.Option(None, help="Inbox/checkpoint folder "
                                                          "(default <artifacts or store>.serving)."),
    rate: float = typer.Option(2000.0, help="Per-client rate limit, requests/s."),
    burst: int = typer.Option(4000, help="Per-client burst (token bucket size)."),
    max_body_mb: float = typer.Option(8.0, help="Largest request body, MiB."),
    max_records: int = typer.Option(100_000, help="Records per ingestion request."),
    max_k: int = typer.Option(1000, help="Largest k (neighbours, results)."),
    max_walk_length: int = typer.Option(200, help="Longest walk."),
    batch_records: int = typer.Option(256, help="Inbox records merged into one update (1: one update per request)."),
    batch_edges: int = typer.Option(200_000, help="Edges per update at most."),
    keep_versions: int = typer.Option(4, help="Store versions kept after each update (0: all)."),
    time_policy: str = typer.Option("allow", help="allow | reject edges older than the newest stored time."),
    tail: list[Path] = typer.Option([], help="Follow this file (.csv with a header, or JSON lines); repeatable."),
    redis: Optional[str] = typer.Option(None, help="Redis URL (redis://127.0.0.1:6379/0) of a stream to consume."),
    redis_stream: str = typer.Option("vastgraph:edges", help="Redis Stream key."),
    seed: Optional[int] = typer.Option(None, help="random_state of the embedding updates (reproducible replays)."),
    workers_faiss: int = typer.Option(1, "--faiss-threads", help="OpenMP threads of faiss searches."),
    log_level: str = typer.Option("info", help="debug | info | warning | error."),
) -> None:
    """Serve reads, nearest neighbours, ads retrieval and live ingestion over HTTP (JSON logs on stderr)."""
    import logging

    import uvicorn

    from vastgraph.serve.app import create_app
    from vastgraph.serve.limits import Limits, configure_json_logging, read_token
    from vastgraph.serve.state import ServeConfig

    level = getattr(logging, log_level.upper(), None)
    if not isinstance(level, int):
        raise typer.BadParameter(f"--log-level {log_level!r}: expected debug, info, warning or error")
    configure_json_logging(level)
    limits = Limits(max_body_bytes=max(1, int(max_body_mb * (1 << 20))), max_records=max_records, max_k=max_k,
                    max_walk_length=max_walk_length)
    cfg = ServeConfig(store=str(store), artifacts=None if artifacts is None else str(artifacts),
                      serving_dir=None if serving_dir is None else str(serving_dir), token=read_token(token_file),
                      protect_reads=protect_reads, limits=limits, rate=rate, burst=burst, batch_records=batch_records,
                      batch_edges=batch_edges, time_policy=time_policy, keep_versions=keep_versions,
                      tail=[str(p) for p in tail], redis_url=redis, redis_stream=redis_stream,
                      update_params={} if seed is None else {"random_state": seed}, faiss_threads=workers_faiss)
    app = create_app(cfg)
    console.print(f"[green]serving[/] {store} on http://{host}:{port}  (docs: /docs, page: /)")
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, log_level=log_level.lower())
