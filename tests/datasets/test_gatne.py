"""GATNE multiplex loader (amazon) and its file-format checks on small hand-made files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vastgraph.datasets.registry import load_dataset
from vastgraph.errors import DatasetError


def _unique_pairs(rows: np.ndarray) -> dict[str, int]:
    out = {}
    for t in np.unique(rows[:, 0]):
        sel = rows[rows[:, 0] == t]
        key = np.minimum(sel[:, 1], sel[:, 2]) * 10**7 + np.maximum(sel[:, 1], sel[:, 2])
        out[str(t)] = int(np.unique(key).size)
    return out


@pytest.mark.datasets
def test_amazon_counts_and_splits(real_dataset, shared_datasets):
    ds = real_dataset("amazon")
    g = ds.graph
    assert ds.info["train_rows"] == {"1": 65506, "2": 61029}
    assert [tuple(et) for et in g.edge_types] == [("node", "1", "node"), ("node", "2", "node")]
    assert ds.info["split_edge_types"] == [tuple(et) for et in g.edge_types]
    train = np.loadtxt(shared_datasets / "amazon" / "train.txt", dtype=np.int64)
    pairs = _unique_pairs(train)  # a pair listed in both orientations is one undirected edge
    assert {et.rel: g.num_undirected_edges(et) for et in g.edge_types} == pairs
    assert sum(pairs.values()) == 126535 - 12898  # README: 12898 rows reverse another row (one per pair)
    for key, rows, pos in (("valid", 14756, {"1": 3809, "2": 3569}), ("test", 29492, {"1": 7609, "2": 7137})):
        sp_ = ds.splits[key]
        assert set(sp_) == {"src", "dst", "etype", "label"}
        assert all(a.dtype == np.int64 and a.shape == (rows,) for a in sp_.values())
        for i, rel in enumerate(("1", "2")):
            assert int(((sp_["etype"] == i) & (sp_["label"] == 1)).sum()) == pos[rel]
            assert int(((sp_["etype"] == i) & (sp_["label"] == 0)).sum()) == pos[rel]
    # split ids are dense ids of the same external ids
    raw = np.loadtxt(shared_datasets / "amazon" / "valid.txt", dtype=np.int64, max_rows=5)
    np.testing.assert_array_equal(g.external_ids(None, ds.splits["valid"]["src"][:5]), raw[:, 1])
    # no validation negative is a training edge
    v = ds.splits["valid"]
    neg = v["label"] == 0
    for i, et in enumerate(g.edge_types):
        sel = neg & (v["etype"] == i)
        assert not g.has_edges(v["src"][sel], v["dst"][sel], et).any()
    assert g.features() is None and "feature.txt" in ds.missing[0]


def _write(tmp_path: Path, train: str, valid: str, test: str, feature: str | None = None) -> Path:
    d = tmp_path / "amazon"
    d.mkdir()
    (d / "train.txt").write_text(train)
    (d / "valid.txt").write_text(valid)
    (d / "test.txt").write_text(test)
    if feature is not None:
        (d / "feature.txt").write_text(feature)
    return d


def test_string_ids_and_features(tmp_path):
    _write(tmp_path,
           train="1 a b\n1 b a\n2 a c\n10 c d\n",
           valid="1 a c 1\n2 b d 0\n",
           test="10 d a 1\n1 c d 0\n",
           feature="4 2\na 1.0 2.0\nb 3.0 4.0\nd 5.0 6.0\nz 0 0\n")
    ds = load_dataset("amazon", tmp_path)
    g = ds.graph
    assert g.external_ids().tolist() == ["a", "b", "c", "d"]
    assert [et.rel for et in g.edge_types] == ["1", "2", "10"]  # numeric order of type tokens
    assert [g.num_undirected_edges(et) for et in g.edge_types] == [1, 1, 1]
    assert ds.info["train_rows"] == {"1": 2, "2": 1, "10": 1}
    np.testing.assert_array_equal(ds.splits["test"]["etype"], [2, 0])
    np.testing.assert_array_equal(ds.splits["valid"]["src"], g.lookup("node", ["a", "b"]))
    np.testing.assert_array_equal(g.features(), [[1, 2], [3, 4], [0, 0], [5, 6]])
    np.testing.assert_array_equal(g.node_data(None, "has_features"), [True, True, False, True])
    assert ds.info["feature_rows_not_in_graph"] == 1
    assert len(ds.missing) == 1 and "1 nodes have no row in feature.txt" in ds.missing[0]


@pytest.mark.parametrize("valid,match", [
    ("1 a b 2\n", "valid.txt.*line 1: label '2'"),
    ("1 a b\n", "valid.txt.*3 fields per line, expected 4"),
    ("1 a b 1\n1 a\n", "valid.txt.*line 2 has 2 fields"),
    ("", "valid.txt.*empty"),
])
def test_bad_split_rows(tmp_path, valid, match):
    _write(tmp_path, train="1 a b\n", valid=valid, test="1 a b 1\n")
    with pytest.raises(DatasetError, match=match):
        load_dataset("amazon", tmp_path)


def test_bad_feature_value(tmp_path):
    _write(tmp_path, train="1 a b\n", valid="1 a b 1\n", test="1 a b 1\n", feature="2 1\na x\nb 1\n")
    with pytest.raises(DatasetError, match="feature.txt.*non-numeric"):
        load_dataset("amazon", tmp_path)
