"""4 writers and 8 readers on loopback: no lost or torn write, every read of one version.

Runs ``VASTGRAPH_SERVE_SOAK_S`` seconds (default 5; the issue's closing run uses 30) against the
real uvicorn server (in a thread) with DNE embeddings following the graph.
"""

from __future__ import annotations

import os
import threading
import time

import serve_util as U

DURATION = float(os.environ.get("VASTGRAPH_SERVE_SOAK_S", "5"))


def test_writers_and_readers(tmp_path, store, dne):
    import httpx

    from vastgraph.graph.view import open_graph
    from vastgraph.serve.app import create_app
    from vastgraph.serve.state import ServeConfig

    g0 = open_graph(store)
    e0, n0 = g0.num_edges(), g0.num_nodes()
    app = create_app(ServeConfig(store=str(store), artifacts=str(dne), token=U.TOKEN, batch_records=64))
    posted = [0] * 4
    last_seq = [0] * 4
    reads: list[list[tuple[int, str, int, int, int | None]]] = [[] for _ in range(8)]
    errors: list[str] = []
    stop = threading.Event()

    with U.thread_server(app) as url:
        def writer(w: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as c:
                j = 0
                while not stop.is_set():
                    lines = "".join(f'{{"src": {10_000_000 + w * 1_000_000 + j + i}, "dst": {(j + i) % n0}}}\n'
                                    for i in range(5))
                    r = c.post("/v1/ingest/edges", content=lines,
                               headers=dict(U.AUTH, **{"Content-Type": "application/x-ndjson"}))
                    if r.status_code != 202:
                        errors.append(f"writer {w}: {r.status_code} {r.text}")
                        return
                    posted[w] += 5
                    last_seq[w] = max(last_seq[w], r.json()["inbox_seq"])
                    j += 5
                    time.sleep(0.01)

        def reader(k: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as c:
                while not stop.is_set():
                    r = c.get("/v1/info")
                    if r.status_code != 200:
                        errors.append(f"reader {k}: {r.status_code} {r.text}")
                        return
                    info = r.json()
                    reads[k].append((info["store_version"], info["version"], sum(info["edge_types"].values()),
                                     info["node_types"]["node"], info["embedding_version"]))
                    nb = c.get("/v1/neighbors", params={"id": "0", "reverse": "true", "k": 5})
                    if nb.status_code != 200:
                        errors.append(f"reader {k} neighbors: {nb.status_code} {nb.text}")
                        return
                    if nb.json()["store_version"] < info["store_version"]:
                        errors.append(f"reader {k}: version went back {info['store_version']} -> "
                                      f"{nb.json()['store_version']}")

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        threads += [threading.Thread(target=reader, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        time.sleep(DURATION)
        stop.set()
        for t in threads:
            t.join(60)
        assert not errors, errors[:5]
        with httpx.Client(base_url=url, timeout=30) as c:
            st = U.wait_applied(c, max(last_seq), timeout=300)
            final = c.get("/v1/info").json()
    total = sum(posted)
    assert total > 0 and st["rejected"] == 0 and st["last_error"] is None
    assert sum(final["edge_types"].values()) == e0 + total  # no lost and no doubled write
    assert final["node_types"]["node"] == n0 + total  # every posted source was a new node
    assert final["embedding_version"] == final["store_version"]
    assert open_graph(store).num_edges() == e0 + total
    seen: dict[int, tuple] = {}
    for rs in reads:
        versions = [r[0] for r in rs]
        assert versions == sorted(versions)  # a reader never goes back
        for v, name, edges, nodes, ev in rs:
            assert ev == v  # the embeddings served with a store version follow that version
            assert seen.setdefault(v, (name, edges, nodes)) == (name, edges, nodes)  # one version, one graph
    assert len(seen) >= 2, "the readers saw no write land"
    assert sum(len(r) for r in reads) > 8

