"""The ingestion worker consumes a Redis Stream (a redis-server started here on a free loopback port)."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

import serve_util as U

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (apt-get install redis-server)")


@pytest.fixture
def redis_url(tmp_path):
    redis = pytest.importorskip("redis", reason="the redis client package is not installed")
    port = U.free_port()
    proc = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.time() + 30
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert proc.poll() is None and time.time() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(30)


def _wait_inbox(svc, n, timeout=30):
    deadline = time.time() + timeout
    while svc.ingestor.inbox.last_seq < n and time.time() < deadline:
        time.sleep(0.05)
    assert svc.ingestor.inbox.last_seq >= n


def test_redis_stream_is_consumed_once_across_restarts(store, make_client, redis_url):
    import redis

    r = redis.Redis.from_url(redis_url)
    r.xadd("edges", {"src": "800", "dst": "1"})
    r.xadd("edges", {"json": '{"src": 801, "dst": 2}'})
    r.xadd("edges", {"src": "802", "dst": "not-an-id"})  # refused: written to rejected.jsonl
    with make_client(store=str(store), redis_url=redis_url, redis_stream="edges") as c:
        svc = c.app.state.service
        _wait_inbox(svc, 1)
        st = U.wait_applied(c, svc.ingestor.inbox.last_seq)
        assert st["rejected"] == 1 and st["edges_applied"] == 2
        assert c.get("/v1/neighbors", params={"id": "801"}).json()["neighbors"][0]["id"] == 2
    r.xadd("edges", {"src": "803", "dst": "3"})
    with make_client(store=str(store), redis_url=redis_url, redis_stream="edges") as c:
        svc = c.app.state.service
        _wait_inbox(svc, 2)
        st = U.wait_applied(c, svc.ingestor.inbox.last_seq)
        assert st["edges_applied"] == 1  # the restart resumed after the last entry taken
        assert {n: c.get("/v1/neighbors", params={"id": str(n)}).json()["degree"] for n in (800, 801, 803)} == \
            {800: 1, 801: 1, 803: 1}
    rejected = (svc.config.serving_path() / "rejected.jsonl").read_text()
    assert "not-an-id" in rejected and "redis:edges" in rejected
