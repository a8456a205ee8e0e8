"""DynamicStore: versions, hard links, atomic swap, replay after SIGKILL, as_of, prune, upgrade."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vastgraph.errors import CorruptStoreError, StoreError, StoreExistsError, UnknownIdError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta, apply_delta
from vastgraph.graph.dynamic_store import PAUSE_ENV, PAUSE_MARKER_ENV, STAGES, DynamicStore, snapshot
from vastgraph.graph.storage import open_graph, save_graph, verify_store

REPO = Path(__file__).resolve().parents[2]
CLICK = "user:click:item"


def _graph(n_users=50, n_items=40, m=400, seed=0):
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    b.add_nodes("user", count=n_users)
    b.add_nodes("item", count=n_items, features=rng.random((n_items, 4)))
    b.add_edges(rng.integers(0, n_users, m), rng.integers(0, n_items, m), etype=CLICK,
                weight=rng.random(m) + 0.5, time=np.sort(rng.integers(0, 100, m)))
    b.add_edges(rng.integers(0, n_items, m), rng.integers(0, n_items, m), etype="item:cobid:item", directed=False)
    return b.build()


def _delta(g, n_ins, seed=1, t0=100):
    rng = np.random.default_rng(seed)
    nu = g.num_nodes("user")
    src, dst = g.edge_index(CLICK)
    pick = rng.choice(src.size, max(n_ins // 10, 1), replace=False)
    return (GraphDelta(time=t0).add_nodes("user", np.arange(nu, nu + 3))
            .add_edges(np.concatenate([rng.integers(0, nu, n_ins), [nu, nu + 1]]),
                       rng.integers(0, g.num_nodes("item"), n_ins + 2), etype=CLICK,
                       weight=rng.random(n_ins + 2), time=rng.integers(t0, t0 + 50, n_ins + 2))
            .delete_edges(src[pick], dst[pick], etype=CLICK))


def _arrays(g):
    out = {}
    for et in g.edge_types:
        e = g.edge_store(et)
        for side, adj in (("csr", e.csr), ("csc", e.csc)):
            if adj is not None:
                for k in ("indptr", "indices", "weight", "time"):
                    a = getattr(adj, k)
                    out[f"{et}.{side}.{k}"] = None if a is None else np.array(a)
    for nt in g.node_types:
        out[f"{nt}.count"] = np.array(g.num_nodes(nt))
        out[f"{nt}.features"] = None if g.features(nt) is None else np.array(g.features(nt))
    return out


def _equal(a, b):
    if a.keys() != b.keys():
        return False
    return all((a[k] is None and b[k] is None) or (a[k] is not None and b[k] is not None
                                                   and a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]))
               for k in a)


def test_create_apply_versions_links_and_readers(tmp_path):
    g = _graph()
    ds = DynamicStore.create(tmp_path / "g", g)
    assert ds.version == 0 and _equal(_arrays(ds.graph), _arrays(g))
    with pytest.raises(StoreExistsError):
        DynamicStore.create(tmp_path / "g", g)
    old = ds.graph
    old_arrays = _arrays(old)
    d = _delta(g, 20)
    seen = []
    summary = ds.apply(d, progress=lambda f, s: seen.append(f))
    assert ds.version == 1 and seen[-1] == 1.0 and summary.new_nodes["user"].tolist() == [50, 51, 52]
    want, _ = apply_delta(g, d)
    assert _equal(_arrays(ds.graph), _arrays(want))
    assert _equal(_arrays(old), old_arrays)  # the reader of version 0 still sees version 0
    assert _equal(_arrays(open_graph(tmp_path / "g")), _arrays(want))  # plain open follows CURRENT
    assert set(verify_store(tmp_path / "g")) and set(verify_store(ds.versions()[0]["path"]))
    v0, v1 = (Path(v["path"]) for v in ds.versions())
    # untouched arrays are hard links, changed ones are new files
    meta_names = {p.name for p in v1.glob("*.npy")}
    linked = {n for n in meta_names if (v0 / n).exists() and os.stat(v0 / n).st_ino == os.stat(v1 / n).st_ino}
    assert "node1.features.npy" in linked  # items got no new nodes
    assert any(n.startswith("edge1.csr.indices") for n in linked)  # cobid edges untouched
    assert not any(n.startswith("edge0.csr.indices") for n in linked)
    assert [v["version"] for v in ds.versions()] == [0, 1] and ds.versions()[1]["current"]
    # prune: the old reader keeps working on its memory maps
    assert ds.prune(keep=1) == [0]
    assert _equal(_arrays(old), old_arrays) and [v["version"] for v in ds.versions()] == [1]
    with pytest.raises(ValidationError, match="keep=0"):
        ds.prune(keep=0)
    with pytest.raises(StoreError, match="version 0 is not stored"):
        ds.open_version(0)


def test_bad_delta_leaves_store_unchanged(tmp_path):
    g = _graph()
    ds = DynamicStore.create(tmp_path / "g", g)
    ds.apply(_delta(g, 10))
    before = _arrays(ds.graph)
    log_bytes = ds.log.path.read_bytes()
    absent = int(np.flatnonzero(~g.has_edges(np.zeros(40, np.int64), np.arange(40), "cobid"))[0])
    bad = [GraphDelta(time=500).add_edges([0], [999], etype=CLICK),
           GraphDelta(time=500).add_nodes("user", [0]),
           GraphDelta().add_edges([0], [1], etype=CLICK, time=[1]),
           GraphDelta(time=500).delete_edges([0], [absent], etype="item:cobid:item"),
           GraphDelta(time=500).add_nodes("shop", [1])]
    for d in bad:
        with pytest.raises((ValidationError, UnknownIdError, KeyError)):
            ds.apply(d)
        assert ds.version == 1 and ds.log.path.read_bytes() == log_bytes
        assert [v["version"] for v in ds.versions()] == [0, 1]
        again = DynamicStore.open(tmp_path / "g")
        assert again.version == 1 and _equal(_arrays(again.graph), before)
        verify_store(tmp_path / "g")


def test_as_of_and_snapshot(tmp_path):
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1], [1, 2], time=[1, 5])
    ds = DynamicStore.create(tmp_path / "g", b.build())
    ds.apply(GraphDelta(time=10).add_nodes("node", [3]).add_edges([2], [3], time=[10]))
    ds.apply(GraphDelta(time=20).add_edges([0], [3]).delete_edges([0], [1]))
    assert ds.as_of(0).num_edges() == 0 and ds.as_of(0).num_nodes() == 3
    assert ds.as_of(5).num_edges() == 4 and ds.as_of(5).num_nodes() == 3
    g12 = ds.as_of(12)
    assert g12.num_nodes() == 4 and sorted(g12.neighbors(3).tolist()) == [2]
    g30 = ds.as_of(30)
    assert g30.neighbors(0).tolist() == [3] and g30.num_edges() == 6
    with pytest.raises(ValidationError, match="t='x'"):
        ds.as_of("x")
    s = snapshot(ds.graph, 10)
    assert s.num_edges() == 4 and s.adjacency().time.max() <= 10
    ds.prune(keep=1)
    with pytest.raises(ValidationError, match="were pruned"):
        ds.as_of(3)


def test_upgrade_plain_store_and_open_errors(tmp_path):
    g = _graph()
    save_graph(g, tmp_path / "plain")
    with pytest.raises(StoreError, match="upgrade it with DynamicStore.from_store"):
        DynamicStore.open(tmp_path / "plain")
    ds = DynamicStore.from_store(tmp_path / "plain")
    assert ds.version == 0 and _equal(_arrays(ds.graph), _arrays(g))
    assert not (tmp_path / "plain" / "meta.json").exists()
    assert _equal(_arrays(open_graph(tmp_path / "plain")), _arrays(g))
    verify_store(tmp_path / "plain")
    assert DynamicStore.from_store(tmp_path / "plain").version == 0
    # a crash after CURRENT was written but before the plain files were removed: CURRENT wins
    save_graph(g, tmp_path / "p2")
    meta = (tmp_path / "p2" / "meta.json").read_bytes()
    DynamicStore.from_store(tmp_path / "p2").apply(GraphDelta(time=500).add_edges([0], [0], etype=CLICK))
    (tmp_path / "p2" / "meta.json").write_bytes(meta)
    assert open_graph(tmp_path / "p2").num_edges(CLICK) == g.num_edges(CLICK) + 1
    assert DynamicStore.open(tmp_path / "p2").version == 1 and not (tmp_path / "p2" / "meta.json").exists()
    (tmp_path / "plain" / "CURRENT").write_text("{not json")
    with pytest.raises(CorruptStoreError, match="CURRENT"):
        DynamicStore.open(tmp_path / "plain")
    with pytest.raises(StoreError, match="not a dynamic store"):
        DynamicStore.open(tmp_path / "nowhere")


def test_time_policy_allow_through_store(tmp_path):
    g = _graph()
    ds = DynamicStore.create(tmp_path / "g", g)
    d = GraphDelta().add_edges([0], [0], etype=CLICK, time=[1])
    with pytest.raises(ValidationError, match="time_policy='reject'"):
        ds.apply(d)
    ds.apply(d, time_policy="allow")
    assert ds.version == 1 and ds.graph.num_edges(CLICK) == g.num_edges(CLICK) + 1


_CHILD = """
import sys
from vastgraph.graph.delta import GraphDelta
from vastgraph.graph.dynamic_store import DynamicStore
DynamicStore.open(sys.argv[1]).apply(GraphDelta.load(sys.argv[2]))
"""


def test_sigkill_at_each_stage_recovers_to_uninterrupted_result(tmp_path):
    g = _graph(n_users=2000, n_items=1500, m=30000)
    base = tmp_path / "base"
    DynamicStore.create(base, g)
    d = _delta(g, 5000)
    d.save(tmp_path / "d.vgd")
    shutil.copytree(base, tmp_path / "ref")
    ref = DynamicStore.open(tmp_path / "ref")
    ref.apply(GraphDelta.load(tmp_path / "d.vgd"))  # uninterrupted (also fills the numba cache)
    want, old = _arrays(ref.graph), _arrays(g)
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    procs = {}
    for stage in STAGES:
        shutil.copytree(base, tmp_path / stage)
        env = dict(os.environ, **{PAUSE_ENV: stage, PAUSE_MARKER_ENV: str(tmp_path / f"{stage}.reached")})
        procs[stage] = subprocess.Popen([sys.executable, str(script), str(tmp_path / stage), str(tmp_path / "d.vgd")],
                                        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    try:
        for stage, p in procs.items():
            while not (tmp_path / f"{stage}.reached").exists():
                assert p.poll() is None, p.stdout.read().decode()
                assert time.monotonic() < deadline, f"stage {stage} never reached"
                time.sleep(0.05)
            p.send_signal(signal.SIGKILL)
            p.wait()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    for stage in STAGES:
        path = tmp_path / stage
        verify_store(path)
        seen = DynamicStore.open(path, replay=False)  # what a reader sees right after the crash
        got = _arrays(seen.graph)
        assert (seen.version, got is not None) in ((0, True), (1, True))
        assert _equal(got, old if seen.version == 0 else want), stage
        assert _equal(_arrays(open_graph(path)), got)
        assert seen.log.last_seq == 1
        healed = DynamicStore.open(path)  # replays the log
        assert healed.version == 1 and _equal(_arrays(healed.graph), want), stage
        verify_store(path)
        assert not list(path.glob("versions/.*")), stage  # staging leftovers cleaned
        assert [v["version"] for v in healed.versions()] == [0, 1]


def test_bad_marker_and_corrupt_log_refused(tmp_path):
    g = _graph()
    ds = DynamicStore.create(tmp_path / "g", g)
    ds.apply(_delta(g, 5))
    (tmp_path / "g" / "DYNAMIC").write_text('{"format": "other", "version": 9}')
    with pytest.raises(CorruptStoreError, match="DYNAMIC"):
        DynamicStore.open(tmp_path / "g")
    ds2 = DynamicStore.create(tmp_path / "h", g)
    ds2.apply(_delta(g, 5))
    ds2.apply(GraphDelta(time=400).add_edges([0], [0], etype=CLICK))
    (tmp_path / "h" / "CURRENT").write_text('{"version": 0, "path": "versions/v0000000000"}')  # as if 1, 2 unapplied
    raw = bytearray(ds2.log.path.read_bytes())
    raw[8 + 36 + 20] ^= 0xFF  # a byte inside record 1, with record 2 after it
    ds2.log.path.write_bytes(bytes(raw))
    with pytest.raises(CorruptStoreError, match="record 1 .*checksum mismatch"):
        DynamicStore.open(tmp_path / "h")
    assert _equal(_arrays(DynamicStore.open(tmp_path / "h", replay=False).graph), _arrays(g))


def test_current_pointing_outside_the_store_is_refused(tmp_path):
    """Issue 18 item 5: a CURRENT path that resolves outside versions/ is refused, never followed."""
    g = _graph()
    DynamicStore.create(tmp_path / "g", g)
    save_graph(g, tmp_path / "elsewhere")
    good = (tmp_path / "g" / "CURRENT").read_text()
    for ptr in ('{"version": 0, "path": "../../elsewhere"}', '{"version": 0, "path": "../elsewhere"}',
                '{"version": 0, "path": "%s"}' % (tmp_path / "elsewhere"),
                '{"version": 0, "path": "versions/../../elsewhere"}', '{"version": 0, "path": "versions/v0000000001"}',
                '{"version": "0", "path": "versions/v0000000000"}'):
        (tmp_path / "g" / "CURRENT").write_text(ptr)
        with pytest.raises(CorruptStoreError, match="CURRENT"):
            DynamicStore.open(tmp_path / "g")
    os.symlink(tmp_path / "elsewhere", tmp_path / "g" / "versions" / "v0000000007")
    (tmp_path / "g" / "CURRENT").write_text('{"version": 7, "path": "versions/v0000000007"}')
    with pytest.raises(CorruptStoreError, match="outside"):
        DynamicStore.open(tmp_path / "g")
    (tmp_path / "g" / "CURRENT").write_text(good)
    assert DynamicStore.open(tmp_path / "g").version == 0


def test_repeated_delta_refused_by_digest_unless_allowed(tmp_path):
    """Issue 18 item 4: the same delta twice is refused (store unchanged) unless allow_duplicate."""
    from vastgraph.graph.dynamic_store import DuplicateDeltaError

    g = _graph()
    ds = DynamicStore.create(tmp_path / "g", g)
    d = GraphDelta(time=200).add_edges([0, 1], [2, 3], etype=CLICK)
    ds.apply(d)
    n = ds.graph.num_edges(CLICK)
    with pytest.raises(DuplicateDeltaError, match="already applied as log record 1"):
        ds.apply(GraphDelta(time=200).add_edges([0, 1], [2, 3], etype=CLICK))
    assert ds.version == 1 and ds.log.last_seq == 1 and ds.graph.num_edges(CLICK) == n
    ds.apply(d, allow_duplicate=True, time_policy="allow")
    assert ds.version == 2 and ds.graph.num_edges(CLICK) == n + 2
    assert [s for s, _ in ds.digests()] == [1, 2] and ds.find_digest(d.digest()) == 1
    assert ds.delta_at(2)[1]["digest"] == d.digest()


def test_damaged_last_record_refuses_apply_until_repair(tmp_path):
    """Issue 18 item 3: a complete, checksum-bad last record is not overwritten; repair truncates explicitly."""
    g = _graph()
    ds = DynamicStore.create(tmp_path / "g", g)
    ds.apply(GraphDelta(time=200).add_edges([0], [1], etype=CLICK))
    ds.apply(GraphDelta(time=201).add_edges([0], [2], etype=CLICK))
    raw = bytearray(ds.log.path.read_bytes())
    raw[-30] ^= 0xFF  # inside record 2's payload: a complete record, bad checksum
    ds.log.path.write_bytes(bytes(raw))
    with pytest.raises(CorruptStoreError, match=r"record 2 .*not a torn write.*--truncate-after 1"):
        DynamicStore.open(tmp_path / "g")
    opened = DynamicStore.open(tmp_path / "g", replay=False)
    with pytest.raises(CorruptStoreError, match="record 2"):
        opened.apply(GraphDelta(time=300).add_edges([0], [3], etype=CLICK))
    assert ds.log.path.read_bytes() == bytes(raw)  # nothing appended or overwritten
    with pytest.raises(ValidationError, match="choose N <= 1"):
        opened.repair(2)
    res = opened.repair(1)
    assert res["version"] == 1 and res["removed_versions"] == [2] and res["bytes_removed"] > 0
    ds = DynamicStore.open(tmp_path / "g")
    assert ds.version == 1 and ds.log.last_seq == 1
    ds.apply(GraphDelta(time=300).add_edges([0], [3], etype=CLICK))
    assert ds.version == 2 and ds.delta_at(2)[0].time == 300
    assert DynamicStore.open(tmp_path / "g").repair(0)["version"] == 0
