"""A user's own data: forgotten headers, compressed edge lists, dense ids that cannot fit, label
files, .mat graphs, sparse labels, and temporary folders a killed run left behind."""

from __future__ import annotations

import bz2
import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from vastgraph.errors import DatasetError, ParseError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.graph import resources
from vastgraph.graph.convert import from_scipy
from vastgraph.graph.labels import read_label_file
from vastgraph.graph.mat_reader import read_mat
from vastgraph.graph.readers import from_columns, read_edgelist
from vastgraph.graph.storage import StoreWriter


# ----------------------------------------------------------------------------- item 9: headers
@pytest.mark.parametrize("text,delim", [("u,v,ts\n1,2,5\n2,3,6\n", ","), ("src dst\n1 2\n2 3\n", None)])
def test_forgotten_header_is_refused_with_a_hint(tmp_path, text, delim):
    p = tmp_path / "e.csv"
    p.write_text(text)
    with pytest.raises(ParseError, match=r"line 1: .*looks like a header.*header=True \(--header"):
        read_edgelist(p, delimiter=delim)
    g = read_edgelist(p, delimiter=delim, header=True)
    assert g.num_nodes() == 3 and sorted(g.external_ids().tolist()) == [1, 2, 3]


def test_string_ids_and_explicit_str_dtype_are_not_mistaken_for_a_header(tmp_path):
    p = tmp_path / "e.txt"
    p.write_text("alice bob\nbob carol\n")
    assert read_edgelist(p).num_nodes() == 3  # all string ids: no header guess
    p.write_text("x y\n1 2\n")
    assert read_edgelist(p, id_dtype="str").num_nodes() == 4  # the user said the ids are strings


# ----------------------------------------------------------------------------- compressed input
@pytest.mark.parametrize("opener,ext", [(gzip.open, ".gz"), (bz2.open, ".bz2")])
def test_compressed_edge_lists_are_read_transparently(tmp_path, opener, ext):
    p = tmp_path / f"e.txt{ext}"
    with opener(p, "wt") as f:
        f.write("# c\n1 2 0.5\n2 3 1.5\n")
    g = read_edgelist(p, directed=False)
    assert g.num_nodes() == 3 and g.edge_weights([0], [1]).tolist() == [0.5]
    assert g.info["sources"][0]["path"] == os.path.abspath(p)


def test_compressed_errors_name_the_original_file_and_line(tmp_path):
    p = tmp_path / "bad.txt.gz"
    with gzip.open(p, "wt") as f:
        f.write("1 2 0.5\n2 3 x\n")
    with pytest.raises(ParseError) as info:
        read_edgelist(p)
    assert str(p) in str(info.value) and "line 2" in str(info.value)
    assert "vastgraph-read-" not in str(info.value)


def test_zstd_without_the_module_is_refused_clearly(tmp_path):
    p = tmp_path / "e.txt.zst"
    p.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 20)
    try:
        import zstandard  # noqa: F401
    except ImportError:
        with pytest.raises(DatasetError, match="zstd-compressed.*zstandard"):
            read_edgelist(p)
    else:  # with the module, a damaged frame is a clear error too
        with pytest.raises(DatasetError, match="cannot decompress"):
            read_edgelist(p)


# ----------------------------------------------------------------------------- item 7: dense ids
def test_dense_id_beyond_memory_is_refused_up_front(tmp_path, monkeypatch):
    p = tmp_path / "e.txt"
    p.write_text("3000000000 1\n1 2\n")
    with pytest.raises(ValidationError, match=r"id 3000000000 in dense id mode.*--id-mode map"):
        read_edgelist(p, id_mode="dense")
    p.write_text(f"{2 ** 62} 1\n1 2\n")
    with pytest.raises(ValidationError, match="dense id mode"):
        read_edgelist(p, id_mode="dense")
    monkeypatch.setattr(resources, "available_memory", lambda: 1 << 20)  # limit: 2^20 ids
    with pytest.raises(ValidationError, match="at most 1,048,576 nodes"):
        from_columns(np.array([0, 2_000_000]), np.array([1, 2]), id_mode="dense")
    with pytest.raises(ValidationError, match="dense id mode"):
        GraphBuilder(id_mode="dense").add_nodes("node", count=5_000_000)
    assert from_columns(np.array([0, 1000]), np.array([1, 2]), id_mode="dense").num_nodes() == 1001


# ----------------------------------------------------------------------------- labels
def test_label_files_single_multi_and_csv(tmp_path):
    (tmp_path / "single.txt").write_text("# node label\na sports\nb music\nc sports\n")
    lf = read_label_file(tmp_path / "single.txt")
    assert lf.nodes == ["a", "b", "c"] and not lf.multilabel and lf.classes == ["music", "sports"]
    (tmp_path / "multi.txt").write_text("1 3,10\n2 2\n1 2\n")
    lf = read_label_file(tmp_path / "multi.txt")
    assert lf.multilabel and lf.classes == ["2", "3", "10"] and lf.labels[0] == ["3", "10", "2"]
    (tmp_path / "l.csv").write_text("node,label\na,x\nb,y\n")
    lf = read_label_file(tmp_path / "l.csv")
    assert lf.nodes == ["a", "b"] and lf.classes == ["x", "y"]
    (tmp_path / "bad.txt").write_text("a\n")
    with pytest.raises(ParseError, match="line 1"):
        read_label_file(tmp_path / "bad.txt")


def test_build_with_a_label_file_aligns_to_dense_ids_and_skips_unknown_nodes(tmp_path):
    (tmp_path / "e.txt").write_text("10 20\n20 30\n30 40\n")
    (tmp_path / "l.txt").write_text("40 b\n10 a\n20 a\n99 c\n")
    g = read_edgelist(tmp_path / "e.txt", directed=False, labels=tmp_path / "l.txt", out=tmp_path / "s")
    ext = g.external_ids().tolist()
    want = {10: 0, 20: 0, 30: -1, 40: 1}
    assert g.labels().tolist() == [want[e] for e in ext]
    info = g.info["labels"]["node"]
    assert info["skipped_unknown_nodes"] == 1 and info["classes"] == ["a", "b", "c"]
    (tmp_path / "m.txt").write_text("10 a,b\n30 b\n")
    g = read_edgelist(tmp_path / "e.txt", labels=tmp_path / "m.txt")
    lab = g.labels()
    assert g.is_multilabel() and lab.shape == (4, 2)
    assert lab[g.lookup(None, [10])[0]].tolist() == [1, 1] and lab[g.lookup(None, [20])[0]].tolist() == [0, 0]


# ----------------------------------------------------------------------------- .mat, from_scipy
def test_mat_graph_with_group_labels(tmp_path):
    rng = np.random.default_rng(0)
    a = sp.random(30, 30, density=0.15, random_state=0, format="csc")
    a = ((a + a.T) > 0).astype(np.float64)
    group = sp.csc_matrix((rng.random((30, 4)) < 0.3).astype(np.float64))
    p = tmp_path / "bc.mat"
    scipy.io.savemat(p, {"network": a, "group": group})
    g = read_mat(p, out=tmp_path / "s")
    assert g.is_undirected() and g.num_nodes() == 30 and g.num_edges() == a.nnz
    np.testing.assert_array_equal(g.labels(), group.toarray().astype(np.uint8))
    scipy.io.savemat(tmp_path / "x.mat", {"adj": a})
    with pytest.raises(ValidationError, match="no matrix 'network'.*adj"):
        read_mat(tmp_path / "x.mat")
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(DatasetError, match="junk.mat"):
        read_mat(tmp_path / "junk.mat")


def test_from_scipy_accepts_sparse_label_matrices():
    a = sp.random(20, 20, density=0.2, random_state=1, format="csr")
    a = a + a.T
    lab = sp.csr_matrix((np.random.default_rng(0).random((20, 3)) < 0.4).astype(np.float64))
    g = from_scipy(a, labels=lab)
    assert g.is_multilabel() and g.labels().tolist() == lab.toarray().astype(int).tolist()


# ----------------------------------------------------------------------------- stale temporaries
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_spill_and_staging_folders_are_removed_at_the_next_run(tmp_path):
    dead = _dead_pid()
    spill = tmp_path / f"vastgraph-read-{dead}-abc123"
    spill.mkdir()
    live = tmp_path / f"vastgraph-read-{os.getpid()}-zzz"
    live.mkdir()
    (tmp_path / "e.txt").write_text("1 2\n")
    read_edgelist(tmp_path / "e.txt", spill_dir=str(tmp_path))
    assert not spill.exists() and live.exists()
    staging = tmp_path / f".g.staging-{dead}-deadbeef"
    staging.mkdir()
    old = tmp_path / ".g.staging-cafebabe"  # an older name without a pid: removed once a day old
    old.mkdir()
    os.utime(old, (0, 0))
    fresh = tmp_path / ".g.staging-f00df00d"
    fresh.mkdir()
    with StoreWriter(tmp_path / "g") as w:
        w.put("a.npy", np.arange(3))
        w.commit({"format": "x", "version": 1})
    assert not staging.exists() and not old.exists() and fresh.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".g.staging-") and p != fresh.name]
