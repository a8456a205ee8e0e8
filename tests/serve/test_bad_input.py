"""Bad input: each 4xx names the problem (line and field for ingestion bodies) and nothing is applied."""

from __future__ import annotations

import pytest

import serve_util as U
from vastgraph.serve.limits import Limits

JL = dict(U.AUTH, **{"Content-Type": "application/x-ndjson"})
CSV = dict(U.AUTH, **{"Content-Type": "text/csv"})


def _err(r, status):
    assert r.status_code == status, r.text
    e = r.json()["error"]
    assert e["status"] == status and e["message"]
    return e


@pytest.mark.parametrize("body, headers, line, field, words", [
    ('{"src": 1, "dst": 2}\n{"src": 1, "dst": 2}\n{"src": 1, "dst": }\n', JL, 3, None, "invalid JSON"),
    ('{"src": 1, "dst": 2}\n{"src": 1}\n', JL, 2, "dst", "missing"),
    ('{"src": 1, "dst": 2, "colour": "red"}\n', JL, 1, "colour", "unknown field"),
    ('{"src": 1, "dst": "x"}\n', JL, 1, "dst", "integer id"),
    ('{"src": 1, "dst": 2, "etype": "likes"}\n', JL, 1, "etype", "likes"),
    ('{"src": 1, "dst": 2, "weight": 1.5}\n', JL, 1, "weight", "no weights"),
    ('{"src": 1, "dst": 2, "op": "upsert"}\n', JL, 1, "op", "add"),
    ('{"src": 1, "dst": 2, "time": NaN}\n', JL, 1, None, "NaN"),
    ('[1, 2]\n', JL, 1, None, "JSON object"),
    ("src,dst\n1,2\n3\n", CSV, 3, None, "fields"),
    ("src,dst\n1,2\n3,-4\n", CSV, 3, "dst", "outside"),
    ("src,dst,colour\n1,2,red\n", CSV, 2, "colour", "unknown field"),
])
def test_malformed_edges_name_line_and_field_and_apply_nothing(store, make_client, body, headers, line, field, words):
    with make_client(store=str(store)) as c:
        before = c.get("/v1/info").json()
        e = _err(c.post("/v1/ingest/edges", content=body, headers=headers), 422)
        assert e["line"] == line and e["field"] == field and words in e["message"], e
        svc = c.app.state.service
        assert svc.ingestor.inbox.last_seq == 0  # nothing reached the inbox
        assert c.get("/v1/info").json() == before


def test_malformed_nodes(store, make_client):
    with make_client(store=str(store)) as c:
        e = _err(c.post("/v1/ingest/nodes", content="id\n900\n5\n", headers=CSV), 422)
        assert e["line"] == 3 and e["field"] == "id" and "exists already" in e["message"]
        e = _err(c.post("/v1/ingest/nodes", content="id\n900\n900\n", headers=CSV), 422)
        assert e["line"] == 3 and "repeats line 2" in e["message"]
        e = _err(c.post("/v1/ingest/nodes", json={"records": [{"id": 901, "ntype": "user"}]}, headers=U.AUTH), 422)
        assert e["line"] == 1 and e["field"] == "ntype"
        e = _err(c.post("/v1/ingest/nodes", json={"records": [{"id": 901, "features": [1.0]}]}, headers=U.AUTH), 422)
        assert e["field"] == "features"
        e = _err(c.post("/v1/ingest/nodes", json={"rows": []}, headers=U.AUTH), 422)
        assert e["field"] == "records"
        assert c.app.state.service.ingestor.inbox.last_seq == 0


def test_auth_media_type_and_size_limits(store, make_client):
    lim = Limits(max_body_bytes=2000, max_records=3, max_k=20, max_walk_length=10, max_walks=6)
    with make_client(store=str(store), limits=lim) as c:
        body = '{"src": 1, "dst": 2}\n'
        e = _err(c.post("/v1/ingest/edges", content=body, headers={"Content-Type": "application/x-ndjson"}), 401)
        assert e["code"] == "auth"
        r = c.post("/v1/ingest/edges", content=body, headers={"Content-Type": "application/x-ndjson",
                                                               "Authorization": "Bearer wrong-token-0000000000"})
        assert _err(r, 401) and r.headers["www-authenticate"] == "Bearer"
        e = _err(c.post("/v1/ingest/edges", content=body, headers=dict(U.AUTH, **{"Content-Type": "text/xml"})), 415)
        assert e["field"] == "Content-Type"
        e = _err(c.post("/v1/ingest/edges", content=body * 200, headers=JL), 413)
        assert e["field"] == "body"
        e = _err(c.post("/v1/ingest/edges", content=body * 4, headers=JL), 413)
        assert e["line"] == 4 and "limit of 3" in e["message"]
        assert _err(c.get("/v1/neighbors", params={"id": "1", "k": 21}), 422)["field"] == "k"
        assert _err(c.get("/v1/neighbors", params={"id": "1", "k": 0}), 422)["field"] == "k"
        assert _err(c.post("/v1/walks", json={"start": [1], "walk_length": 11}), 422)["field"] == "walk_length"
        assert "walks_per_node" in _err(c.post("/v1/walks", json={"start": [1, 2], "walks_per_node": 4}), 422)["field"]
        assert _err(c.post("/v1/fanout", json={"seeds": [1], "fanouts": [0]}), 422)["field"] == "fanouts"
        assert _err(c.get("/v1/neighbors", params={"id": "123456"}), 404)["code"] == "unknown_id"
        assert _err(c.get("/v1/neighbors", params={"id": "abc"}), 404)["field"] == "id"
        assert _err(c.get("/v1/neighbors", params={"id": "1", "etype": "nope"}), 422)["field"] == "etype"
        assert _err(c.get("/v1/similar", params={"id": "1"}), 404)["message"].startswith("this server has no embeddings")
        e = _err(c.post("/v1/query", json={"query": 'g.V("node", [1]).nosuchstep()'}), 422)
        assert "nosuchstep" in e["message"]
        assert _err(c.post("/v1/walks", content=b"{", headers={"Content-Type": "application/json"}), 422)
        assert c.app.state.service.ingestor.inbox.last_seq == 0


def test_writes_refused_without_a_configured_token(store, make_client):
    with make_client(store=str(store), token=None) as c:
        e = _err(c.post("/v1/ingest/edges", json={"records": [{"src": 1, "dst": 2}]}, headers=U.AUTH), 401)
        assert "--token-file" in e["message"]


def test_protected_reads(store, make_client):
    with make_client(store=str(store), protect_reads=True) as c:
        assert _err(c.get("/v1/info"), 401)["code"] == "auth"
        assert c.get("/v1/info", headers=U.AUTH).status_code == 200
        assert c.get("/healthz").status_code == 200  # operations stay open


def test_rate_limit_per_client(store, make_client):
    with make_client(store=str(store), rate=0.5, burst=3, start_worker=False) as c:
        codes = [c.get("/v1/info").status_code for _ in range(3)]
        r = c.get("/v1/info")
        assert codes == [200, 200, 200] and r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1 and r.json()["error"]["code"] == "rate_limited"
        assert c.get("/v1/info", headers=U.AUTH).status_code == 200  # another client (by token) has its own bucket
        assert c.get("/healthz").status_code == 200
        assert "vastgraph_rate_limited_total 1.0" in c.get("/metrics").text


def test_bad_config(tmp_path, store):
    from vastgraph.errors import StoreError, ValidationError
    from vastgraph.serve.limits import read_token
    from vastgraph.serve.state import ServeConfig, Service

    (tmp_path / "short").write_text("abc\n")
    with pytest.raises(ValidationError, match="at least 16"):
        read_token(tmp_path / "short")
    with pytest.raises(StoreError, match="no such store"):
        Service(ServeConfig(store=str(tmp_path / "nope")))
    with pytest.raises(StoreError, match="not an embeddings folder"):
        Service(ServeConfig(store=str(store), artifacts=str(tmp_path)))
    with pytest.raises(ValidationError, match="keep_versions=1"):
        Service(ServeConfig(store=str(store), keep_versions=1))
