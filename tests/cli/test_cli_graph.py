"""CLI tests for build / info / datasets: exit codes, messages, and nothing partial left behind."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from vastgraph.cli.main import app
from vastgraph.graph import open_graph

runner = CliRunner()


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_build_and_info(tmp_path):
    src = _write(tmp_path / "e.txt", "# comment\na b 1.5\nb c 2\nc a 0.5\n")
    out = tmp_path / "store"
    r = runner.invoke(app, ["build", src, str(out), "--undirected", "--weight-col", "2"])
    assert r.exit_code == 0, r.output
    g = open_graph(out)
    assert g.num_nodes() == 3 and g.num_edges() == 6
    assert sorted(g.external_ids().tolist()) == ["a", "b", "c"]
    r = runner.invoke(app, ["info", str(out), "--verify"])
    assert r.exit_code == 0, r.output
    assert "checksums ok" in r.output
    r = runner.invoke(app, ["info", str(out), "--json"])
    assert r.exit_code == 0
    summary = json.loads(r.output)
    assert summary["node_types"]["node"]["count"] == 3


def test_build_bad_weight_names_file_line_field(tmp_path):
    src = _write(tmp_path / "bad.txt", "a b 1\nb c x\n")
    out = tmp_path / "store"
    r = runner.invoke(app, ["build", src, str(out), "--weight-col", "2"])
    assert r.exit_code == 2
    assert "bad.txt" in r.output and "line 2" in r.output and "weight" in r.output
    assert not out.exists()


def test_build_refuses_existing_store_without_overwrite(tmp_path):
    src = _write(tmp_path / "e.txt", "1 2\n2 3\n")
    out = tmp_path / "store"
    assert runner.invoke(app, ["build", src, str(out)]).exit_code == 0
    before = open_graph(out).num_edges()
    src2 = _write(tmp_path / "e2.txt", "1 2\n2 3\n3 4\n4 5\n")
    r = runner.invoke(app, ["build", src2, str(out)])
    assert r.exit_code == 2 and "overwrite" in r.output
    assert open_graph(out).num_edges() == before
    # a failing rebuild with --overwrite keeps the old store
    bad = _write(tmp_path / "bad.txt", "1 2\n2\n")
    r = runner.invoke(app, ["build", bad, str(out), "--overwrite"])
    assert r.exit_code == 2
    assert open_graph(out).num_edges() == before
    r = runner.invoke(app, ["build", src2, str(out), "--overwrite"])
    assert r.exit_code == 0
    assert open_graph(out).num_edges() == 4
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_info_on_newer_format_version(tmp_path):
    src = _write(tmp_path / "e.txt", "1 2\n")
    out = tmp_path / "store"
    assert runner.invoke(app, ["build", src, str(out)]).exit_code == 0
    meta = json.loads((out / "meta.json").read_text())
    meta["version"] = 99
    (out / "meta.json").write_text(json.dumps(meta))
    r = runner.invoke(app, ["info", str(out)])
    assert r.exit_code == 2 and "99" in r.output


def test_info_verify_detects_corruption(tmp_path):
    src = _write(tmp_path / "e.txt", "\n".join(f"{i} {i + 1}" for i in range(200)) + "\n")
    out = tmp_path / "store"
    assert runner.invoke(app, ["build", src, str(out)]).exit_code == 0
    f = out / "edge0.csr.indices.npy"
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF
    f.write_bytes(bytes(data))
    r = runner.invoke(app, ["info", str(out), "--verify"])
    assert r.exit_code == 2 and "checksum" in r.output and "edge0.csr.indices.npy" in r.output


def test_build_empty_input(tmp_path):
    src = _write(tmp_path / "empty.txt", "# only a comment\n")
    r = runner.invoke(app, ["build", src, str(tmp_path / "s")])
    assert r.exit_code == 2 and "empty.txt" in r.output
    assert not (tmp_path / "s").exists()


def test_datasets_list_and_unknown():
    r = runner.invoke(app, ["datasets", "list"])
    assert r.exit_code == 0 and "cora" in r.output and "search-ads" in r.output
    r = runner.invoke(app, ["datasets", "show", "nope", "--no-load"])
    assert r.exit_code == 2 and "cora" in r.output


def test_info_missing_store(tmp_path):
    r = runner.invoke(app, ["info", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "nothing" in r.output


def test_build_typed_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    t = pa.table({"u": np.array([1, 2, 3]), "v": np.array([2, 3, 1]), "t": np.array([10, 20, 30])})
    pq.write_table(t, tmp_path / "e.parquet")
    out = tmp_path / "store"
    r = runner.invoke(app, ["build", str(tmp_path / "e.parquet"), str(out), "--src-col", "u", "--dst-col", "v",
                            "--time-col", "t"])
    assert r.exit_code == 0, r.output
    g = open_graph(out)
    assert g.adjacency().time is not None and int(np.asarray(g.adjacency().time).max()) == 30
