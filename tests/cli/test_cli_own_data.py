"""A new user's own data through the CLI: edge list + label file -> store -> embeddings -> F1 table,
.mat graphs, walks with external ids, exports, --version, method help, and clear exit-2 errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from typer.testing import CliRunner

from vastgraph.cli.main import app
from vastgraph.graph import open_graph
from vastgraph.graph.storage import file_checksum

runner = CliRunner()


def _ok(args):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    return r.output


def _fails(args, *snippets):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    for s in snippets:
        assert s in text, (s, r.output)
    return text


@pytest.fixture(scope="module")
def own_data(tmp_path_factory):
    """Two communities joined by one edge; labels by community (a node 'n<i>' naming scheme)."""
    d = tmp_path_factory.mktemp("own")
    rng = np.random.default_rng(0)
    lines, labels = [], []
    for c in range(2):
        members = [f"n{c * 20 + i}" for i in range(20)]
        for _ in range(120):
            a, b = rng.choice(members, 2, replace=False)
            lines.append(f"{a} {b}")
        labels += [f"{m} {'left' if c == 0 else 'right'}" for m in members]
    lines.append("n0 n20")
    (d / "edges.txt").write_text("\n".join(lines) + "\n")
    (d / "labels.txt").write_text("\n".join(labels) + "\n")
    return d


def test_three_commands_from_an_edge_list_and_labels_to_f1(own_data, tmp_path):
    d = own_data
    _ok(["build", d / "edges.txt", tmp_path / "g", "--undirected", "--labels", d / "labels.txt"])
    assert open_graph(tmp_path / "g").labels().min() == 0
    _ok(["embed", "deepwalk", tmp_path / "g", tmp_path / "emb", "--dimensions", "16",
         "--set", "walks_per_node=4", "--set", "walk_length=20"])
    out = _ok(["evaluate", tmp_path / "emb", "--labels", d / "labels.txt", "--json", "--repeats", "2"])
    rows = json.loads(out[out.index("["):])
    assert {"micro_f1", "macro_f1"} <= set(rows[0]) or any("f1" in k.lower() for k in rows[0])
    f1 = [v for r in rows for k, v in r.items() if "micro" in k.lower()]
    assert f1 and max(f1) > 0.8  # two well-separated communities
    same = _ok(["evaluate", tmp_path / "emb", "--store", tmp_path / "g", "--json", "--repeats", "2"])
    assert json.loads(same[same.index("["):]) == rows  # labels from the store = labels from the file


def test_evaluate_labels_needs_one_source_and_matching_ids(own_data, tmp_path):
    d = own_data
    _ok(["build", d / "edges.txt", tmp_path / "g", "--undirected"])
    _ok(["embed", "deepwalk", tmp_path / "g", tmp_path / "emb", "--dimensions", "8",
         "--set", "walks_per_node=2", "--set", "walk_length=10"])
    (tmp_path / "other.txt").write_text("x 1\ny 2\n")
    _fails(["evaluate", tmp_path / "emb", "--labels", tmp_path / "other.txt"], "only 0 labelled node(s)")
    _fails(["evaluate", tmp_path / "emb", "--labels", d / "labels.txt", "--store", tmp_path / "g"], "exactly one of")


def test_build_mat_graph(tmp_path):
    a = sp.random(25, 25, density=0.2, random_state=2, format="csc")
    a = ((a + a.T) > 0).astype(float)
    group = sp.csc_matrix((np.random.default_rng(1).random((25, 3)) < 0.4).astype(float))
    scipy.io.savemat(tmp_path / "bc.mat", {"network": a, "group": group})
    _ok(["build", tmp_path / "bc.mat", tmp_path / "g", "--format", "mat"])
    g = open_graph(tmp_path / "g")
    assert g.is_undirected() and g.is_multilabel() and g.num_edges() == a.nnz
    _ok(["build", tmp_path / "bc.mat", tmp_path / "g2"])  # auto: by extension
    _fails(["build", tmp_path / "bc.mat", tmp_path / "g3", "--mat-network", "adj"], "no matrix 'adj'")


def test_walk_with_external_ids(own_data, tmp_path):
    _ok(["build", own_data / "edges.txt", tmp_path / "g", "--undirected"])
    g = open_graph(tmp_path / "g")
    known = set(g.external_ids().tolist())
    _ok(["walk", tmp_path / "g", tmp_path / "w.txt", "--ids", "external", "--walks-per-node", "1", "--length", "5"])
    lines = (tmp_path / "w.txt").read_text().splitlines()
    assert len(lines) == 40 and all(set(line.split()) <= known for line in lines)
    assert all(len(line.split()) == 6 for line in lines)
    _ok(["walk", tmp_path / "g", tmp_path / "w.parquet", "--ids", "external", "--walks-per-node", "1", "--length", "5"])
    import pyarrow.parquet as pq

    walks = pq.read_table(tmp_path / "w.parquet").column("walk").to_pylist()
    assert len(walks) == 40 and all(set(w) <= known for w in walks)
    _ok(["walk", tmp_path / "g", tmp_path / "w.npy", "--ids", "external", "--walks-per-node", "1", "--length", "5"])
    ids = (tmp_path / "w.npy.ids.txt").read_text().splitlines()
    dense = np.load(tmp_path / "w.npy")
    assert ids == [str(x) for x in g.external_ids().tolist()]
    assert [ids[i] for i in dense[0]][0] == g.external_ids(None, [dense[0, 0]])[0]
    _fails(["walk", tmp_path / "g", tmp_path / "w2.txt"], "--ids external")


def test_walk_output_and_size_errors_exit_2(own_data, tmp_path):
    _ok(["build", own_data / "edges.txt", tmp_path / "g"])
    _fails(["walk", tmp_path / "g", tmp_path / "missing" / "w.npy"], "does not exist")
    (tmp_path / "d.npy").mkdir()
    _fails(["walk", tmp_path / "g", tmp_path / "d.npy", "--overwrite"], "is a folder")
    _fails(["walk", tmp_path / "g", tmp_path / "w.npy", "--walks-per-node", "1000000000000"],
           "--walks-per-node 1,000,000,000,000", "memory is available")
    r = runner.invoke(app, ["walk", str(tmp_path / "g"), str(tmp_path / "w.npy"), "--walks-per-node", "1e12"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert not (tmp_path / "w.npy").exists()


def test_export_formats(own_data, tmp_path):
    _ok(["build", own_data / "edges.txt", tmp_path / "g", "--undirected"])
    _ok(["embed", "deepwalk", tmp_path / "g", tmp_path / "emb", "--dimensions", "8",
         "--set", "walks_per_node=2", "--set", "walk_length=10"])
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    keyed = KeyedEmbeddings.load(tmp_path / "emb")
    _ok(["export", tmp_path / "emb", tmp_path / "e.w2v"])
    back = KeyedEmbeddings.load_word2vec_format(tmp_path / "e.w2v")
    np.testing.assert_allclose(back.get("n3"), keyed.get("n3"))
    _ok(["export", tmp_path / "emb", tmp_path / "e.parquet", "--format", "parquet"])
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "e.parquet").num_rows == len(keyed)
    _ok(["export", tmp_path / "emb", tmp_path / "e.npy", "--format", "npy"])
    ids = (tmp_path / "e.npy.ids.txt").read_text().splitlines()
    np.testing.assert_array_equal(np.load(tmp_path / "e.npy")[ids.index("n5")], keyed.get("n5"))
    assert oct(os.stat(tmp_path / "e.npy").st_mode & 0o777) == "0o644"
    _fails(["export", tmp_path / "emb", tmp_path / "e.npy", "--format", "npy"], "already exists")


def test_version_and_method_help():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.startswith("vastgraph ")
    r = runner.invoke(app, ["embed", "node2vec", "--help"])
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "Method parameters" in text and "p (float, default 1.0)" in text and "walk_length (int, default 80)" in text


def test_user_input_mistakes_exit_2(tmp_path):
    (tmp_path / "h.csv").write_text("u,v,ts\n1,2,5\n2,3,6\n")
    _fails(["build", tmp_path / "h.csv", tmp_path / "g"], "looks like a header", "--header")
    _ok(["build", tmp_path / "h.csv", tmp_path / "g", "--header"])
    (tmp_path / "big.txt").write_text("3000000000 1\n3000000000 2\n")
    _fails(["build", tmp_path / "big.txt", tmp_path / "g2", "--id-mode", "dense"], "dense id mode", "--id-mode map")
    (tmp_path / "big.txt").write_text(f"{2 ** 62} 1\n")
    _fails(["build", tmp_path / "big.txt", tmp_path / "g2", "--id-mode", "dense"], "dense id mode")
    with gzip.open(tmp_path / "e.csv.gz", "wt") as f:
        f.write("a,b\nb,c\n")
    _ok(["build", tmp_path / "e.csv.gz", tmp_path / "g3"])
    assert open_graph(tmp_path / "g3").num_nodes() == 3


def test_walk_on_a_tampered_store_exits_2_not_a_segfault(own_data, tmp_path):
    """The issue's case: indices out of range with the checksum recomputed (passes `info --verify`)."""
    _ok(["build", own_data / "edges.txt", tmp_path / "g", "--undirected"])
    name = "edge0.csr.indices.npy"
    p = tmp_path / "g" / name
    arr = np.load(p).copy()
    arr[7] = 2 ** 30
    with open(p, "wb") as f:
        np.save(f, arr)
    meta = json.loads((tmp_path / "g" / "meta.json").read_text())
    meta["arrays"][name].update(bytes=os.path.getsize(p), blake2b=file_checksum(p))
    (tmp_path / "g" / "meta.json").write_text(json.dumps(meta))
    proc = subprocess.run([sys.executable, "-m", "vastgraph.cli.main", "walk", str(tmp_path / "g"),
                           str(tmp_path / "w.npy")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "CorruptStoreError" in proc.stderr and name in proc.stderr and "position 7" in proc.stderr
