"""Endpoint tests of vastgraph.serve with FastAPI's TestClient: reads, embeddings, ads, ingestion, ops, page."""

from __future__ import annotations

import numpy as np
import pytest

import serve_util as U


def _neighbors(graph, node, reverse=False):
    d = graph.lookup("node", [node])[0]
    et = graph.edge_type()
    nb = graph.neighbors(int(d), et, reverse=reverse)
    return sorted(graph.external_ids("node", nb).tolist())


def test_graph_reads_name_their_version(store, make_client):
    from vastgraph.graph.view import open_graph

    g = open_graph(store)
    node = int(g.external_ids("node")[np.argmax(g.out_degree())])
    with make_client(store=str(store), start_worker=False) as c:
        info = c.get("/v1/info").json()
        assert info["version"] == g.version and info["store_version"] == 0
        assert info["edge_types"] == {"node:to:node": g.num_edges()} or sum(info["edge_types"].values()) == g.num_edges()
        r = c.get("/v1/neighbors", params={"id": str(node)}).json()
        assert sorted(n["id"] for n in r["neighbors"]) == _neighbors(g, node) and r["degree"] == len(r["neighbors"])
        assert r["version"] == g.version
        r = c.get("/v1/neighbors", params={"id": str(node), "reverse": "true"}).json()
        assert sorted(n["id"] for n in r["neighbors"]) == _neighbors(g, node, reverse=True)
        r = c.get("/v1/neighbors", params={"id": str(node), "k": 2, "seed": 3}).json()
        assert len(r["neighbors"]) == 2 and {n["id"] for n in r["neighbors"]} <= set(_neighbors(g, node))
        f = c.post("/v1/fanout", json={"seeds": [node], "fanouts": [3, 2], "seed": 1}).json()
        assert f["nodes"]["node"][0] == node and f["hops"] == 2
        (et, e), = f["edges"].items()
        for s, d in zip(e["src"], e["dst"]):  # fanout edges are neighbour -> target, stored direction
            assert s in _neighbors(g, d, reverse=True)
        w = c.post("/v1/walks", json={"start": [node], "walk_length": 5, "walks_per_node": 3, "seed": 0}).json()
        assert len(w["walks"]) == 3
        for walk in w["walks"]:
            assert walk[0] == node
            for a, b in zip(walk, walk[1:]):
                assert b in _neighbors(g, a)
        q = c.post("/v1/query", json={"query": f'g.V("node", [{node}]).outV().values("id")'}).json()
        assert q["columns"] == ["origin", "id"] or "id" in q["columns"]
        ids = [row[q["columns"].index("id")] for row in q["rows"]]
        assert sorted(ids) == _neighbors(g, node) and q["total_rows"] == len(ids) and not q["truncated"]


def test_embedding_lookup_and_nearest_neighbours_match_in_process(store, dne, make_client):
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    kv = KeyedEmbeddings.load(dne)
    with make_client(store=str(store), artifacts=str(dne), start_worker=False) as c:
        r = c.get("/v1/embedding", params={"id": "5"}).json()
        np.testing.assert_allclose(r["vector"], kv[5], rtol=1e-6)
        assert r["embedding_version"] == 0 and r["store_version"] == 0
        r = c.post("/v1/embeddings", json={"ids": [1, "2"]}).json()
        np.testing.assert_allclose(r["vectors"], kv.get([1, 2]), rtol=1e-6)
        r = c.get("/v1/similar", params={"id": "5", "k": 5}).json()
        want = kv.most_similar(5, topn=5)
        assert [x["id"] for x in r["results"]] == [w[0] for w in want]
        np.testing.assert_allclose([x["score"] for x in r["results"]], [w[1] for w in want], rtol=1e-5)
        assert r["index"] == "flat" and r["metric"] == "cosine" and r["order"] == "desc"
        r = c.get("/v1/similar", params={"id": "5", "k": 3, "metric": "l2"}).json()
        assert r["order"] == "asc" and r["index"] == "exact"
        assert [x["id"] for x in r["results"]] == [w[0] for w in kv.most_similar(5, topn=3, metric="l2")]


def test_geodesic_similar_for_curvature_artifacts(tmp_path, make_client):
    from vastgraph.embed.manifold_keyed import ManifoldKeyedEmbeddings

    store, emb = U.make_curvature(tmp_path)
    kv = ManifoldKeyedEmbeddings.load(emb)
    with make_client(store=str(store), artifacts=str(emb), start_worker=False) as c:
        info = c.get("/v1/info").json()
        assert info["embeddings"]["manifold"] and info["embeddings"]["index"]["kind"] == "geodesic"
        r = c.get("/v1/similar", params={"id": "3", "k": 4}).json()
        assert r["metric"] == "geodesic" and r["order"] == "asc" and r["index"].startswith("geodesic")
        want = kv.most_similar(3, topn=4)
        assert [x["id"] for x in r["results"]] == [w[0] for w in want]
        np.testing.assert_allclose([x["score"] for x in r["results"]], [w[1] for w in want], rtol=1e-5)
        assert c.get("/v1/similar", params={"id": "3", "metric": "cosine"}).json()["metric"] == "cosine"


def test_query_to_ad_retrieval_matches_the_ads_retrievers(tmp_path, make_client):
    from vastgraph.ads.retrieval import CoClickRetriever, EmbeddingRetriever
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
    from vastgraph.graph.view import open_graph

    store, emb = U.make_ads(tmp_path)
    kv = KeyedEmbeddings.load(emb)
    q = str(kv.ids_for("query")[0])
    with make_client(store=str(store), artifacts=str(emb), start_worker=False) as c:
        assert c.get("/v1/info").json()["ads"] == {"embedding": True, "coclick": True}
        r = c.get("/v1/retrieve", params={"query": q, "k": 5}).json()
        emb_want = want = EmbeddingRetriever(kv).retrieve([q], 5)
        assert [x["id"] for x in r["results"]] == [a for a in want.ads[0] if a is not None]
        np.testing.assert_allclose([x["score"] for x in r["results"]], want.scores[0][:len(r["results"])], rtol=1e-4)
        r = c.get("/v1/retrieve", params={"query": q, "k": 5, "method": "coclick"}).json()
        want = CoClickRetriever(open_graph(store)).retrieve([q], 5)
        assert [x["id"] for x in r["results"]] == list(want.ads[0]) and r["metric"] == "coclick"
        assert c.get("/v1/retrieve", params={"query": "no-such-query"}).status_code == 404
        page = c.get("/", params={"id": q, "mode": "retrieve", "k": 3}).text
        assert 'id="results"' in page and f"<td class=id>{emb_want.ads[0][0]}</td>" in page, page[:3000]


def test_ingestion_updates_store_embeddings_and_index(store, dne, make_client):
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    with make_client(store=str(store), artifacts=str(dne)) as c:
        v0 = c.get("/v1/info").json()
        body = '{"src": 1000, "dst": 3}\n{"src": 1000, "dst": 4}\n{"src": 4, "dst": 1001}\n'
        r = c.post("/v1/ingest/edges", content=body, headers=dict(U.AUTH, **{"Content-Type": "application/x-ndjson"}))
        assert r.status_code == 202, r.text
        assert r.json()["accepted"] == 3 and r.json()["version"] == v0["version"]
        U.wait_applied(c, r.json()["inbox_seq"])
        info = c.get("/v1/info").json()
        assert info["store_version"] == 1 and info["embedding_version"] == 1 and info["follows"]
        assert sum(info["edge_types"].values()) == sum(v0["edge_types"].values()) + 3
        assert {n["id"] for n in c.get("/v1/neighbors", params={"id": "1000"}).json()["neighbors"]} == {3, 4}
        r = c.get("/v1/embedding", params={"id": "1001"}).json()
        assert r["store_version"] == 1 and len(r["vector"]) == 8
        sim = c.get("/v1/similar", params={"id": "1000", "k": 3}).json()
        assert len(sim["results"]) == 3 and sim["index"] == "flat"
        csv = "id\n2000\n2001\n"
        r = c.post("/v1/ingest/nodes", content=csv, headers=dict(U.AUTH, **{"Content-Type": "text/csv"}))
        assert r.status_code == 202 and r.json()["nodes"] == 2
        U.wait_applied(c, r.json()["inbox_seq"])
        assert c.get("/v1/info").json()["node_types"]["node"] == info["node_types"]["node"] + 2
        js = {"records": [{"src": 2000, "dst": 2001, "op": "add"}]}
        r = c.post("/v1/ingest/edges", json=js, headers=U.AUTH)
        st = U.wait_applied(c, r.json()["inbox_seq"])
        assert st["edges_applied"] == 4 and st["nodes_applied"] == 2 and st["rejected"] == 0
    kv = KeyedEmbeddings.load(dne, index="raise")  # the persisted index follows the vectors
    assert 2001 in kv and kv.index is not None and kv.index.ntotal == len(kv)


def test_refused_batch_is_retried_per_record_and_the_bad_one_rejected(store, make_client):
    with make_client(store=str(store), start_worker=False) as c:
        svc = c.app.state.service
        h = dict(U.AUTH, **{"Content-Type": "text/csv"})
        a = c.post("/v1/ingest/nodes", content="id\n500\n", headers=h).json()["inbox_seq"]
        b = c.post("/v1/ingest/nodes", content="id\n500\n", headers=h).json()["inbox_seq"]  # same new node again
        e = c.post("/v1/ingest/edges", content="src,dst\n500,1\n", headers=h).json()["inbox_seq"]
        while svc.ingestor.run_once():
            pass
        svc.reload()
        st = c.get("/v1/ingest/status").json()
        assert st["applied_seq"] == e and st["rejected"] == 1 and b == a + 1
        assert [n["id"] for n in c.get("/v1/neighbors", params={"id": "500"}).json()["neighbors"]] == [1]
        rejected = (svc.config.serving_path() / "rejected.jsonl").read_text()
        assert f'"inbox_seq": {b}' in rejected and "500" in rejected


def test_operations_endpoints(store, make_client):
    with make_client(store=str(store)) as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json()["ready"] is True
        c.get("/v1/info")
        m = c.get("/metrics")
        assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
        assert 'vastgraph_http_requests_total{method="GET",route="/v1/info",status="200"}' in m.text
        assert "vastgraph_store_version 0.0" in m.text and "vastgraph_ingest_pending_records" in m.text
        spec = c.get("/openapi.json").json()
        for path in ("/v1/neighbors", "/v1/similar", "/v1/retrieve", "/v1/ingest/edges", "/metrics"):
            assert path in spec["paths"]
        assert "HTTPBearer" in spec["components"]["securitySchemes"]
        stats = c.get("/v1/stats").json()
        assert len(stats["rates"]) == 60 and stats["ingestion"]["worker_alive"]


def test_page_renders_a_lookup_from_the_url(store, dne, make_client):
    with make_client(store=str(store), artifacts=str(dne), start_worker=False) as c:
        page = c.get("/").text
        assert "<form" in page and "<svg" in page and 'id="version"' in page
        page = c.get("/", params={"id": "5", "k": 4}).text
        assert page.count("<td class=id>") == 4 and "nearest neighbours of 5" in page
        page = c.get("/", params={"id": "nope"}).text
        assert 'id="error"' in page


def test_json_access_log(store, make_client, caplog):
    import json
    import logging

    from vastgraph.serve.limits import JsonFormatter

    with caplog.at_level(logging.INFO, logger="vastgraph.serve.access"):
        with make_client(store=str(store), start_worker=False) as c:
            c.get("/v1/info")
    rec = [r for r in caplog.records if r.name == "vastgraph.serve.access"][-1]
    line = json.loads(JsonFormatter().format(rec))
    assert line["path"] == "/v1/info" and line["status"] == 200 and line["store_version"] == 0 and "ms" in line


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_tail_source_takes_each_line_once_across_restarts(tmp_path, store, suffix, make_client):
    feed = tmp_path / f"feed{suffix}"
    line = (lambda s, d: f"{s},{d}\n") if suffix == ".csv" else (lambda s, d: f'{{"src": {s}, "dst": {d}}}\n')
    feed.write_text(("src,dst\n" if suffix == ".csv" else "") + line(700, 1) + line(701, 2) + "bad line\n")
    with make_client(store=str(store), tail=[str(feed)]) as c:
        svc = c.app.state.service
        deadline = __import__("time").time() + 30
        while svc.ingestor.inbox.last_seq < 1 and __import__("time").time() < deadline:
            __import__("time").sleep(0.05)
        U.wait_applied(c, svc.ingestor.inbox.last_seq)
        assert svc.ingestor.status.rejected == 1
    with open(feed, "a") as f:
        f.write(line(702, 3))
    with make_client(store=str(store), tail=[str(feed)]) as c:  # a restart resumes after the last line taken
        svc = c.app.state.service
        deadline = __import__("time").time() + 30
        while svc.ingestor.inbox.last_seq < 2 and __import__("time").time() < deadline:
            __import__("time").sleep(0.05)
        U.wait_applied(c, svc.ingestor.inbox.last_seq)
        nb = {n: c.get("/v1/neighbors", params={"id": str(n)}).json()["degree"] for n in (700, 701, 702)}
        assert nb == {700: 1, 701: 1, 702: 1}
        assert svc.ingestor.status.edges == 1  # only the new line was taken after the restart


def test_static_embeddings_are_kept_while_the_store_follows_ingestion(tmp_path, make_client):
    store, emb = U.make_ads(tmp_path)
    with make_client(store=str(store), artifacts=str(emb)) as c:
        svc = c.app.state.service
        kv, q = svc.snapshot.keyed, "q1"
        before = c.get("/v1/retrieve", params={"query": q, "k": 3}).json()
        r = c.post("/v1/ingest/edges", json={"records": [{"src": "qnew", "dst": "a1", "etype": "click", "weight": 2}]},
                   headers=U.AUTH)
        assert r.status_code == 202, r.text
        U.wait_applied(c, r.json()["inbox_seq"])
        info = c.get("/v1/info").json()
        assert info["store_version"] == 1 and info["follows"] is False and info["embedding_version"] is None
        assert svc.snapshot.keyed is kv  # not reloaded: the embeddings folder did not change
        after = c.get("/v1/retrieve", params={"query": q, "k": 3}).json()
        assert after["results"] == before["results"] and after["store_version"] == 1
        co = c.get("/v1/retrieve", params={"query": "qnew", "k": 3, "method": "coclick"}).json()
        assert co["results"][0]["id"] == "a1"  # the co-click retriever reads the new version
