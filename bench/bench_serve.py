"""Serving latency and ingestion lag of `vastgraph serve` on loopback, next to the same faiss search in-process.

Builds a search-ads store (``query`` and ``ad`` nodes, ``query:click:ad`` edges) and query/ad
embeddings (``--ads`` × ``--dim`` ad vectors with a persisted HNSW (or ``--index flat``) index over
the ads), starts the real server (``vastgraph serve`` in a subprocess, one faiss thread), and drives
it with a bounded, self-stopping open-loop asyncio/httpx load generator at fixed request rates:
request ``i`` is scheduled at ``t0 + i / rate`` and its latency counts from that moment, so queueing
is included (no coordinated omission). Endpoints: embedding lookup (``/v1/embedding``), top-10
nearest ads (``/v1/similar``, the persisted index) and query→ad retrieval (``/v1/retrieve``).
The peer is the same index searched in-process (``KeyedEmbeddings.search``), one query at a time.
Then edges are posted at ``--ingest-rate`` edges/s (``--ingest-batch`` edges a request) and the
ingestion-to-visible lag is measured: from the 202 answer to the moment ``/v1/ingest/status``
reports the request applied (the new version is served).

    python bench/bench_serve.py --ads 100000 --dim 64 --rates 100,200 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def build(root: Path, n_ads: int, n_queries: int, dim: int, clicks: int, index: str) -> tuple[Path, Path]:
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
    from vastgraph.graph.builder import GraphBuilder
    from vastgraph.graph.dynamic_store import DynamicStore

    rng = np.random.default_rng(0)
    b = GraphBuilder(directed=True)
    b.add_nodes("query", ids=[f"q{i}" for i in range(n_queries)])
    b.add_nodes("ad", ids=[f"a{i}" for i in range(n_ads)])
    q, a = rng.integers(0, n_queries, clicks), rng.integers(0, n_ads, clicks)
    b.add_edges([f"q{i}" for i in q], [f"a{i}" for i in a], etype=("query", "click", "ad"),
                weight=np.ones(clicks, np.float32))
    store = root / "store"
    DynamicStore.create(store, b.build())
    g = DynamicStore.open(store).graph
    kv = KeyedEmbeddings.from_graph(g, rng.normal(size=(g.num_nodes_total(), dim)).astype(np.float32))
    kv.build_index(index, "cosine", ntype="ad")
    kv.save(root / "emb")
    return store, root / "emb"


def pct(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1000
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p99_ms": round(float(np.percentile(a, 99)), 3),
            "n": int(a.size)}


async def drive(url: str, paths: list[str], rate: float, seconds: float) -> dict[str, float]:
    import httpx

    n = int(rate * seconds)
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as c:
        t0 = time.perf_counter() + 0.2

        async def one(i: int) -> None:
            nonlocal errors
            due = t0 + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            r = await c.get(paths[i % len(paths)])
            lat.append(time.perf_counter() - due)
            errors += r.status_code != 200

        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
    return dict(pct(lat), rate=rate, throughput=round(n / wall, 1), errors=errors)


async def ingest(url: str, token: str, edges_per_s: float, batch: int, seconds: float, n_q: int, n_a: int) -> dict:
    import httpx

    rng = np.random.default_rng(1)
    per_s = edges_per_s / batch
    n = int(per_s * seconds)
    acked: dict[int, float] = {}
    visible: dict[int, float] = {}
    head = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        stop = asyncio.Event()

        async def poll() -> None:
            while not stop.is_set() or len(visible) < len(acked):
                st = (await c.get("/v1/ingest/status")).json()
                now = time.perf_counter()
                for s in acked:
                    if s not in visible and st["applied_seq"] >= s:
                        visible[s] = now
                await asyncio.sleep(0.01)

        warm = await c.post("/v1/ingest/edges", content='{"src": "q0", "dst": "a0"}\n', headers=head)
        while (await c.get("/v1/ingest/status")).json()["applied_seq"] < warm.json()["inbox_seq"]:
            await asyncio.sleep(0.05)  # the first batch of a process loads the compiled kernels: not measured
        poller = asyncio.create_task(poll())
        t0 = time.perf_counter() + 0.2
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + i / per_s - time.perf_counter()))
            q, a = rng.integers(0, n_q, batch), rng.integers(0, n_a, batch)
            body = "".join(f'{{"src": "q{x}", "dst": "a{y}"}}\n' for x, y in zip(q, a))
            r = await c.post("/v1/ingest/edges", content=body, headers=head)
            acked[r.json()["inbox_seq"]] = time.perf_counter()
        stop.set()
        await asyncio.wait_for(poller, timeout=300)
        st = (await c.get("/v1/ingest/status")).json()
    lags = [visible[s] - acked[s] for s in acked]
    return dict(pct(lags), edges_per_s=edges_per_s, batch=batch, requests=n, batches_applied=st["batches"])


def in_process(emb: Path, queries: int) -> dict[str, float]:
    import faiss

    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    faiss.omp_set_num_threads(1)
    kv = KeyedEmbeddings.load(emb)
    start = int(kv.offsets[kv.node_types.index("ad")])
    rng = np.random.default_rng(2)
    rows = rng.integers(start, len(kv), queries)
    lat = []
    for r in rows:
        t = time.perf_counter()
        kv.search(np.asarray(kv.vectors[r]), 11, ntype="ad")
        lat.append(time.perf_counter() - t)
    return pct(lat)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ads", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--clicks", type=int, default=200_000)
    ap.add_argument("--index", default="hnsw", choices=["hnsw", "flat", "ivf"])
    ap.add_argument("--rates", default="100,200", help="request rates (requests/s), comma-separated")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds per (endpoint, rate)")
    ap.add_argument("--ingest-rate", type=float, default=1000.0, help="edges/s posted")
    ap.add_argument("--ingest-batch", type=int, default=50, help="edges per request")
    ap.add_argument("--ingest-seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        store, emb = build(root, a.ads, a.queries, a.dim, a.clicks, a.index)
        print(f"built {a.ads} ads + {a.queries} queries × {a.dim} ({a.index}) in {time.perf_counter() - t:.1f} s",
              flush=True)
        token = "bench-token-0123456789abcdef"
        (root / "token").write_text(token)
        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
        proc = subprocess.Popen([sys.executable, "-m", "vastgraph.cli.main", "serve", str(store), "--artifacts",
                                 str(emb), "--port", str(port), "--token-file", str(root / "token"), "--rate", "1e6",
                                 "--burst", "1000000", "--log-level", "warning", "--keep-versions", "3"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            import httpx

            deadline = time.time() + 180
            while True:
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            rng = np.random.default_rng(3)
            qs, ads = rng.integers(0, a.queries, 512), rng.integers(0, a.ads, 512)
            endpoints = {
                "embedding lookup": [f"/v1/embedding?ntype=query&id=q{i}" for i in qs],
                "top-10 nearest ads": [f"/v1/similar?ntype=ad&target=ad&k=10&id=a{i}" for i in ads],
                "query→ad retrieval": [f"/v1/retrieve?k=10&query=q{i}" for i in qs],
            }
            results: dict = {"config": vars(a) | {"out": str(a.out)}, "http": [], "in_process": None, "ingest": None}
            for name, paths in endpoints.items():
                asyncio.run(drive(url, paths[:32], 50, 1.0))  # warm-up
                for rate in [float(r) for r in a.rates.split(",")]:
                    rec = dict(asyncio.run(drive(url, paths, rate, a.seconds)), endpoint=name)
                    results["http"].append(rec)
                    print(json.dumps(rec), flush=True)
            results["in_process"] = dict(in_process(emb, 2000), endpoint="top-10 nearest ads, in-process search")
            print(json.dumps(results["in_process"]), flush=True)
            results["ingest"] = asyncio.run(ingest(url, token, a.ingest_rate, a.ingest_batch, a.ingest_seconds,
                                                   a.queries, a.ads))
            print(json.dumps(dict(results["ingest"], endpoint="ingestion-to-visible lag")), flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        print("\n| endpoint | rate req/s | throughput | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|")
        for r in results["http"]:
            print(f"| {r['endpoint']} | {r['rate']:g} | {r['throughput']} | {r['p50_ms']} | {r['p99_ms']} | "
                  f"{r['errors']} |")
        ip = results["in_process"]
        print(f"| {ip['endpoint']} | - | - | {ip['p50_ms']} | {ip['p99_ms']} | 0 |")
        ig = results["ingest"]
        print(f"\ningestion at {ig['edges_per_s']:g} edges/s ({ig['batch']} per request): visible after "
              f"p50 {ig['p50_ms']} ms, p99 {ig['p99_ms']} ms ({ig['batches_applied']} batches)")
        if a.out is not None:
            a.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
