"""SIGKILL the real server (by pid) mid-ingestion, restart it: the inbox replays to the same store and
embeddings as an undisturbed run.

Run A is killed twice: once paused inside an embedding update (the Updater's test hook, store
committed, embeddings not), once at an arbitrary point while batches are being applied. Run B gets
the same requests without interruption. Both use one update per request (``--batch-records 1``)
and one numba thread, so their results can be compared bit for bit.
"""

from __future__ import annotations

import shutil
import signal
import time

import httpx
import numpy as np
import pytest

import serve_util as U
from vastgraph.embed.updater import PAUSE_ENV, PAUSE_MARKER_ENV

pytestmark = pytest.mark.slow  # about a minute or more on 2 shared cores
N_REQUESTS = 8


def _requests() -> list[str]:
    out = []
    for i in range(N_REQUESTS):
        new = 5000 + i
        out.append(f'{{"src": {new}, "dst": {i}}}\n{{"src": {i + 7}, "dst": {new}}}\n{{"src": {new}, "dst": 40}}\n')
    return out


def _post_all(url: str) -> list[int]:
    seqs = []
    with httpx.Client(base_url=url, timeout=30) as c:
        for body in _requests():
            r = c.post("/v1/ingest/edges", content=body,
                       headers=dict(U.AUTH, **{"Content-Type": "application/x-ndjson"}))
            assert r.status_code == 202, r.text
            seqs.append(r.json()["inbox_seq"])
    return seqs


def _status(url: str) -> dict:
    return httpx.get(f"{url}/v1/ingest/status", timeout=10).json()


def _finish(url: str, proc, timeout: float = 240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = _status(url)
        if st["applied_seq"] >= N_REQUESTS:
            return st
        assert proc.poll() is None, "server died"
        time.sleep(0.1)
    raise AssertionError(f"not applied in time: {st}")


def _stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except Exception:
        proc.kill()
        proc.wait()


def _start(store, emb, token_file, log, env=None):
    port = U.free_port()
    proc = U.start_cli_server(store, emb, token_file, port, "--batch-records", "1", env=env, log=log)
    url = f"http://127.0.0.1:{port}"
    U.wait_http(f"{url}/healthz", proc)
    return proc, url


def _graph_state(store):
    from vastgraph.graph.view import open_graph

    g = open_graph(store)
    e = g.coo()
    return (g.version, g.external_ids("node").tolist(), e.src.tolist(), e.dst.tolist())


def test_sigkill_mid_ingestion_replays_to_the_undisturbed_result(tmp_path, token_file):
    a_store = U.make_store(tmp_path / "a" / "store")
    a_emb = U.make_dne(a_store, tmp_path / "a" / "emb", update_samples=20000)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    b_store, b_emb = tmp_path / "b" / "store", tmp_path / "b" / "emb"
    log = tmp_path / "server.log"

    # run A, first life: the worker pauses inside the first embedding update; SIGKILL it there
    marker = tmp_path / "paused"
    proc, url = _start(a_store, a_emb, token_file, log, {PAUSE_ENV: "training", PAUSE_MARKER_ENV: str(marker)})
    assert _post_all(url) == list(range(1, N_REQUESTS + 1))  # every request acknowledged = in the fsync'ed inbox
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert marker.exists(), log.read_text()[-3000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # second life: recovery completes the logged batch; SIGKILL again while batches are applied
    proc, url = _start(a_store, a_emb, token_file, log)
    deadline = time.time() + 120
    while _status(url)["applied_seq"] < 3 and time.time() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    # third life: drain the rest
    proc, url = _start(a_store, a_emb, token_file, log)
    st = _finish(url, proc)
    info = httpx.get(f"{url}/v1/info", timeout=10).json()
    _stop(proc)
    assert st["rejected"] == 0 and st["inbox_seq"] == N_REQUESTS
    assert info["store_version"] == N_REQUESTS and info["embedding_version"] == N_REQUESTS  # each request once

    # run B: the same requests, undisturbed
    proc, url = _start(b_store, b_emb, token_file, log)
    _post_all(url)
    _finish(url, proc)
    _stop(proc)

    assert _graph_state(a_store) == _graph_state(b_store)
    np.testing.assert_array_equal(np.load(a_emb / "vectors.npy"), np.load(b_emb / "vectors.npy"))
    np.testing.assert_array_equal(np.load(a_emb / "state" / "C.npy"), np.load(b_emb / "state" / "C.npy"))
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    ka, kb = KeyedEmbeddings.load(a_emb, index="raise"), KeyedEmbeddings.load(b_emb, index="raise")
    assert ka.ids_for("node").tolist() == kb.ids_for("node").tolist()
    q = np.asarray(ka.vectors[:5])
    np.testing.assert_array_equal(ka.search(q, 5)[1], kb.search(q, 5)[1])
