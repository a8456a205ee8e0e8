"""Builders and helpers of the serving tests: small stores and artifacts, a loopback server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def directed_graph(n: int = 60, m: int = 300, seed: int = 0) -> Any:
    from vastgraph.graph import GraphBuilder

    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = src != dst
    pairs = np.unique(np.stack([src[keep], dst[keep]], 1), axis=0)
    b = GraphBuilder(directed=True)
    b.add_edges(pairs[:, 0], pairs[:, 1])
    return b.build()


def make_store(folder: Path, graph: Any = None) -> Path:
    from vastgraph.graph.dynamic_store import DynamicStore

    DynamicStore.create(folder, graph if graph is not None else directed_graph())
    return folder


def make_dne(store: Path, folder: Path, index: dict[str, Any] | None = None, **params: Any) -> Path:
    """DNE embeddings of the store's current version, with state, following it (an Updater folder)."""
    from vastgraph.embed.dne import DNE
    from vastgraph.embed.updater import write_embeddings
    from vastgraph.graph.dynamic_store import DynamicStore

    ds = DynamicStore.open(store)
    model = DNE(**dict(dict(dimensions=8, samples=20000, update_samples=4000, random_state=0), **params)).fit(ds.graph)
    write_embeddings(model, folder, {"store": str(store), "version": ds.version, "digest": None},
                     index if index is not None else {"kind": "flat", "metric": "cosine"})
    return folder


def make_ads(root: Path) -> tuple[Path, Path]:
    """A search-ads store (query:click:ad, ad:coclick:ad) and query/ad embeddings with an HNSW ad index."""
    import pandas as pd

    from vastgraph.ads.graph_build import build_ads_graph
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
    from vastgraph.graph.dynamic_store import DynamicStore

    rng = np.random.default_rng(1)
    n = 400
    ev = pd.DataFrame({"time": np.arange(n), "day": 0, "query": [f"q{i}" for i in rng.integers(0, 30, n)],
                       "ad": [f"a{i}" for i in rng.integers(0, 50, n)], "advertiser": "v", "click": 1})
    g = build_ads_graph(ev, min_cooccurrence=1)
    store = root / "ads-store"
    DynamicStore.create(store, g)
    graph = DynamicStore.open(store).graph
    kv = KeyedEmbeddings.from_graph(graph, rng.normal(size=(graph.num_nodes_total(), 16)).astype(np.float32))
    kv.build_index("hnsw", "cosine", ntype="ad")
    kv.save(root / "ads-emb")
    return store, root / "ads-emb"


def make_curvature(root: Path) -> tuple[Path, Path]:
    """A store and curvature (Poincaré × sphere) embeddings saved with a persisted geodesic index."""
    from vastgraph.embed.manifold_keyed import ManifoldKeyedEmbeddings
    from vastgraph.geometry.manifolds import ProductSpace

    store = make_store(root / "curv-store")
    from vastgraph.graph.dynamic_store import DynamicStore

    g = DynamicStore.open(store).graph
    space = ProductSpace.parse("poincare", 2)
    rng = np.random.default_rng(2)
    pts = rng.uniform(-0.6, 0.6, size=(g.num_nodes(), 2))
    kv = ManifoldKeyedEmbeddings(pts, ["node"], [0, g.num_nodes()], {"node": g.external_ids("node")}, space=space)
    kv.build_index("geodesic")
    kv.save(root / "curv-emb")
    return store, root / "curv-emb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def thread_server(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free loopback port; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline and t.is_alive():
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(30)


def start_cli_server(store: Path, artifacts: Path | None, token_file: Path, port: int, *extra: str,
                     env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
    """``vastgraph serve`` in a subprocess (the real server), one numba thread; returns the process."""
    args = [sys.executable, "-m", "vastgraph.cli.main", "serve", str(store), "--port", str(port),
            "--token-file", str(token_file), "--log-level", "warning", *extra]
    if artifacts is not None:
        args += ["--artifacts", str(artifacts)]
    e = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(REPO))
    e.update(env or {})
    out = open(log, "ab") if log is not None else subprocess.DEVNULL
    return subprocess.Popen(args, env=e, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 120.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def wait_applied(client: Any, seq: int, timeout: float = 120.0, headers: dict[str, str] | None = None) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = client.get("/v1/ingest/status", headers=headers or {}).json()
        if st["applied_seq"] >= seq:
            return st
        time.sleep(0.05)
    raise AssertionError(f"inbox record {seq} not applied within {timeout} s: {st}")
