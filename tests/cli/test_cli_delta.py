"""CLI tests for `delta apply / log / snapshot`: summaries, exit codes, and a store unchanged on errors."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from vastgraph.cli.delta_cmds import delta_app
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta
from vastgraph.graph.storage import open_graph, verify_store

runner = CliRunner()


def _store(tmp_path):
    b = GraphBuilder(directed=False)
    b.add_edges(["a", "b", "c"], ["b", "c", "d"], weight=[1.0, 2.0, 3.0], time=[10, 20, 30])
    b.build(str(tmp_path / "g"))
    return str(tmp_path / "g")


def _state(path):
    g = open_graph(path)
    adj = g.adjacency()
    return g.num_nodes(), np.array(adj.indptr), np.array(adj.indices), np.array(adj.weight), np.array(adj.time)


def _same(a, b):
    return a[0] == b[0] and all(np.array_equal(x, y) for x, y in zip(a[1:], b[1:]))


def test_apply_edgelist_and_delta_file_then_log_and_snapshot(tmp_path):
    store = _store(tmp_path)
    ins = tmp_path / "ins.txt"
    ins.write_text("a d 0.5 40\nb d 1.5 41\n")
    r = runner.invoke(delta_app, ["apply", store, str(ins)])
    assert r.exit_code == 0, r.output
    assert "upgrading" in r.output and "inserted edges" in r.output and "version 0 → 1" in r.output
    g = open_graph(store)
    assert g.num_edges() == 10 and g.edge_weights(g.lookup(None, ["a"]), g.lookup(None, ["d"])).tolist() == [0.5]
    d = GraphDelta(time=50).add_nodes("node", ["e"]).add_edges(["e"], ["a"], weight=[2.0]).delete_edges(["a"], ["b"])
    d.save(tmp_path / "d.vgd")
    r = runner.invoke(delta_app, ["apply", store, str(tmp_path / "d.vgd"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert out["version"] == 2 and out["new_nodes"] == {"node": 1} and out["deleted"] == {"node:edge:node": 1}
    assert out["touched"] == {"node": 3}
    r = runner.invoke(delta_app, ["log", store])
    assert r.exit_code == 0, r.output and "delta log" in r.output
    r = runner.invoke(delta_app, ["log", store, "--json"])
    log = json.loads(r.output)
    assert log["current"] == 2 and [e["seq"] for e in log["log"]] == [1, 2]
    assert [v["version"] for v in log["versions"]] == [0, 1, 2] and log["log"][1]["new_nodes"] == 1
    r = runner.invoke(delta_app, ["snapshot", store, str(tmp_path / "snap"), "--as-of", "35"])
    assert r.exit_code == 0, r.output
    snap = open_graph(tmp_path / "snap")
    assert snap.num_nodes() == 4 and snap.num_edges() == 6 and int(snap.adjacency().time.max()) == 30
    verify_store(tmp_path / "snap")
    r = runner.invoke(delta_app, ["snapshot", store, str(tmp_path / "snap"), "--as-of", "35"])
    assert r.exit_code == 2 and "overwrite" in r.output


def test_apply_deletions_file_and_missing_policy(tmp_path):
    store = _store(tmp_path)
    dl = tmp_path / "del.txt"
    dl.write_text("a b\nb d\n")
    before = _state(store)
    r = runner.invoke(delta_app, ["apply", store, str(dl), "--deletions"])
    assert r.exit_code == 2 and "('b', 'd')" in r.output and "does not exist" in r.output
    assert _same(_state(store), before)
    r = runner.invoke(delta_app, ["apply", store, str(dl), "--deletions", "--missing", "ignore"])
    assert r.exit_code == 0, r.output
    assert open_graph(store).num_edges() == 4


def test_bad_inputs_leave_store_unchanged(tmp_path):
    store = _store(tmp_path)
    before = _state(store)
    cases = [("old.txt", "a d 1.0 5\n", [], "time_policy='reject'"),
             ("unknown.txt", "a zz 1.0 50\n", [], "'zz'"),
             ("nan.txt", "a b nan 50\n", [], "line 1"),
             ("short.txt", "a b 1.0 50\nc\n", [], "line 2")]
    for name, text, extra, msg in cases:
        (tmp_path / name).write_text(text)
        r = runner.invoke(delta_app, ["apply", store, str(tmp_path / name), *extra])
        assert r.exit_code == 2, (name, r.output)
        assert msg in r.output, (name, r.output)
        assert _same(_state(store), before)
        assert (tmp_path / "g" / "meta.json").exists()  # not even upgraded
    (tmp_path / "bad.vgd").write_bytes(b"VGDELTA1" + b"\0" * 40)
    r = runner.invoke(delta_app, ["apply", store, str(tmp_path / "bad.vgd")])
    assert r.exit_code == 2 and "bad.vgd" in r.output
    r = runner.invoke(delta_app, ["apply", store, str(tmp_path / "none.vgd")])
    assert r.exit_code == 2 and "no such delta file" in r.output
    r = runner.invoke(delta_app, ["apply", store, str(tmp_path / "old.txt"), "--time-policy", "allow"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(delta_app, ["apply", store, str(tmp_path / "unknown.txt"), "--new-nodes"])
    assert r.exit_code == 0, r.output
    g = open_graph(store)
    assert g.num_nodes() == 5 and g.external_ids(None, [4]).tolist() == ["zz"]
    r = runner.invoke(delta_app, ["log", str(tmp_path)])
    assert r.exit_code == 2 and "not a dynamic store" in r.output


def test_apply_refuses_a_repeated_file_unless_allowed(tmp_path):
    """Issue 18 item 4: re-applying the same delta file (edge list with --new-nodes too) does not double it."""
    store = _store(tmp_path)
    ins = tmp_path / "ins.txt"
    ins.write_text("a z 0.5 40\nb d 1.5 41\n")
    assert runner.invoke(delta_app, ["apply", store, str(ins), "--new-nodes"]).exit_code == 0
    before = _state(store)
    r = runner.invoke(delta_app, ["apply", store, str(ins), "--new-nodes"])
    assert r.exit_code == 2 and "already applied" in r.output and "--allow-duplicate" in r.output
    assert _same(_state(store), before)
    r = runner.invoke(delta_app, ["apply", store, str(ins), "--allow-duplicate", "--time-policy", "allow", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output[r.output.index("{"):])["version"] == 2


def test_log_reports_damage_and_repair_truncates(tmp_path):
    """Issue 18 item 3 through the CLI: `delta log` exits 2 on a damaged record, apply refuses, repair fixes."""
    store = _store(tmp_path)
    for i, line in enumerate(("a d 0.5 40\n", "b d 1.5 41\n")):
        (tmp_path / f"{i}.txt").write_text(line)
        assert runner.invoke(delta_app, ["apply", store, str(tmp_path / f"{i}.txt")]).exit_code == 0
    log = tmp_path / "g" / "delta.log"
    raw = bytearray(log.read_bytes())
    raw[-30] ^= 0xFF
    log.write_bytes(bytes(raw))
    r = runner.invoke(delta_app, ["log", store])
    assert r.exit_code == 2 and "record 2" in r.output and "--truncate-after 1" in r.output
    (tmp_path / "2.txt").write_text("c a 1.0 50\n")
    r = runner.invoke(delta_app, ["apply", store, str(tmp_path / "2.txt")])
    assert r.exit_code == 2 and "not a torn write" in r.output
    assert log.read_bytes() == bytes(raw)
    r = runner.invoke(delta_app, ["repair", store])
    assert r.exit_code == 2 and "--truncate-after 1" in r.output
    r = runner.invoke(delta_app, ["repair", store, "--truncate-after", "1"])
    assert r.exit_code == 0 and "removed versions [2]" in r.output, r.output
    assert runner.invoke(delta_app, ["apply", store, str(tmp_path / "2.txt")]).exit_code == 0
    r = runner.invoke(delta_app, ["log", store, "--json"])
    assert r.exit_code == 0 and [e["seq"] for e in json.loads(r.output)["log"]] == [1, 2]
