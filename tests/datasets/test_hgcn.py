"""HGCN's airport and disease_lp loaders: counts, class binning, references, malformed files."""

from __future__ import annotations

import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from vastgraph.datasets import source
from vastgraph.datasets.registry import dataset_info, load_dataset
from vastgraph.errors import DatasetError

AIRPORT_EDGES = "# u v\n10 20\n20 30\n\n30 30\n40 10\n"
AIRPORT_FEATS = ("# node f0 f1 f2 f3 f4\n10 0.1 0.2 0.3 0.4 0.5\n20 1 2 3 4 1.0\n30 0 0 0 0 1.2\n"
                 "40 -1 -2 -3 -4 1.3\n")


def _airport(tmp_path: Path, edges: str = AIRPORT_EDGES, feats: str = AIRPORT_FEATS) -> Path:
    folder = tmp_path / "airport"
    folder.mkdir()
    (folder / "airport.edges.txt").write_text(edges)
    (folder / "airport.feats.txt").write_text(feats)
    return folder


def _disease(tmp_path: Path, edges: str = "0,1\n0,2\n2,3\n", n: int = 4, labels=None) -> Path:
    folder = tmp_path / "disease_lp"
    folder.mkdir()
    (folder / "disease_lp.edges.csv").write_text(edges)
    sp.save_npz(folder / "disease_lp.feats.npz", sp.csr_matrix(np.arange(n * 3, dtype=float).reshape(n, 3)))
    np.save(folder / "disease_lp.labels.npy", np.array([1, 0] * (n // 2) + [0] * (n % 2)) if labels is None else labels)
    return folder


# ----------------------------------------------------------------------------- the shared files
@pytest.mark.datasets
def test_airport_counts_features_and_classes(real_dataset, shared_datasets):
    ds = real_dataset("airport")
    g = ds.graph
    raw = np.loadtxt(shared_datasets / "airport" / "airport.feats.txt", comments="#")
    edges = np.loadtxt(shared_datasets / "airport" / "airport.edges.txt", comments="#", dtype=np.int64)
    assert g.num_nodes() == 3188 and g.is_undirected()
    assert g.num_undirected_edges() == 18630 and edges.shape[0] == 18631
    coo = g.coo()
    assert int((coo.src == coo.dst).sum()) == 1 and ds.info["self_loops"] == 1
    assert g.num_edges() == 2 * 18630 + 1
    np.testing.assert_array_equal(g.external_ids(), raw[:, 0].astype(np.int64))
    np.testing.assert_array_equal(g.features(), raw[:, 1:5].astype(np.float32))
    np.testing.assert_array_equal(g.node_data(None, "f4"), raw[:, 5])
    # HGCN: labels = bin_feat(f4, bins=[7/7, 8/7, 9/7]); counted here without np.digitize
    f4 = raw[:, 5]
    expected = (f4 >= 1.0).astype(int) + (f4 >= 8 / 7) + (f4 >= 9 / 7)
    np.testing.assert_array_equal(g.labels(), expected)
    assert g.num_classes() == 4 and np.bincount(g.labels()).tolist() == [521, 1443, 999, 225]
    # a route looked up through the original ids
    u, v = edges[100]
    assert g.has_edges(g.lookup("airport", [u, v]), g.lookup("airport", [v, u])).all()
    assert ds.info["isolated_nodes"] == 4 and ds.missing == []


@pytest.mark.datasets
def test_disease_lp_is_a_tree_with_features_and_labels(real_dataset, shared_datasets):
    ds = real_dataset("disease_lp")
    g = ds.graph
    folder = shared_datasets / "disease_lp"
    feats = sp.load_npz(folder / "disease_lp.feats.npz").toarray()
    labels = np.load(folder / "disease_lp.labels.npy", allow_pickle=False)
    edges = pd.read_csv(folder / "disease_lp.edges.csv", header=None).to_numpy()
    assert g.num_nodes() == 2665 and g.num_undirected_edges() == 2664 == edges.shape[0]
    assert ds.info["tree"] and ds.info["components"] == 1 and ds.info["self_loops"] == 0
    np.testing.assert_array_equal(g.features(), feats.astype(np.float32))
    np.testing.assert_array_equal(g.labels(), labels)
    assert g.num_classes() == 2 and np.bincount(g.labels()).tolist() == [1605, 1060]
    assert g.has_edges(edges[:, 1], edges[:, 0]).all()


@pytest.mark.datasets
@pytest.mark.parametrize("name", ["airport", "disease_lp"])
def test_registry_facts_match_the_loaded_graph(name, real_dataset):
    facts = dataset_info(name)["facts"]
    g = real_dataset(name).graph
    assert facts["nodes"] == g.num_nodes() and facts["undirected_edges"] == g.num_undirected_edges()
    assert facts["classes"] == g.num_classes() and facts["features"] == g.features().shape[1]
    assert real_dataset(name).info["reference"] == facts["reference"]


@pytest.mark.datasets
def test_disease_lp_downloads_from_its_pinned_urls(monkeypatch, tmp_path, shared_datasets):
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    monkeypatch.setenv(source.ENV_CACHE, str(tmp_path / "cache"))
    by_url = {u: f["name"] for f in dataset_info("disease_lp")["files"] for u in f["urls"]}
    assert all(u.startswith("https://raw.githubusercontent.com/HazyResearch/hgcn/") for u in by_url)

    def serve(url: str, dest: str) -> None:
        shutil.copy(shared_datasets / "disease_lp" / by_url[url], dest)

    assert load_dataset("disease_lp", fetcher=serve).graph.num_undirected_edges() == 2664


# ----------------------------------------------------------------------------- small files
def test_reference_aucs_are_the_published_figures():
    air = dataset_info("airport")["facts"]["reference"]
    dis = dataset_info("disease_lp")["facts"]["reference"]
    assert air["hgcn_table2"]["HGCN"] == 96.4 and air["hgcn_table2"]["GCN"] == 89.3
    assert air["curvlearn"] == {"source": air["curvlearn"]["source"], "euclidean": 93.68, "poincare": 94.51,
                                "stereographic": 95.13}
    assert dis["hgcn_table2"]["HGCN"] == 90.8 and dis["hgcn_table2"]["GCN"] == 64.7


def test_airport_bins_at_the_hgcn_edges(tmp_path):
    f4 = [0.5, 1.0, 1.1, 8 / 7, 1.2, 9 / 7, 2.0]
    feats = "".join(f"{i + 1} 0 0 0 0 {x!r}\n" for i, x in enumerate(f4))
    _airport(tmp_path, edges="1 2\n", feats=feats)
    g = load_dataset("airport", tmp_path).graph
    assert g.labels().tolist() == [0, 1, 1, 2, 2, 3, 3]


def test_small_airport_keeps_ids_self_loop_and_isolated_order(tmp_path):
    _airport(tmp_path, feats=AIRPORT_FEATS.replace("10 0.1", "50 0.1") + "10 5 5 5 5 0.9\n")
    ds = load_dataset("airport", tmp_path)
    g = ds.graph
    assert g.external_ids().tolist() == [50, 20, 30, 40, 10]  # features-file order
    assert g.num_undirected_edges() == 3 and ds.info["self_loops"] == 1 and ds.info["isolated_nodes"] == 1
    assert g.features(nodes=g.lookup("airport", [10])).tolist() == [[5, 5, 5, 5]]
    assert g.has_edges(g.lookup("airport", [30]), g.lookup("airport", [30])).tolist() == [True]


@pytest.mark.parametrize("edges,feats,where,match", [
    ("10 20\n20 x\n", AIRPORT_FEATS, "airport.edges.txt", "line 2: v is 'x'; expected an integer"),
    ("# c\n10 20\n20 30 40\n", AIRPORT_FEATS, "airport.edges.txt", r"line 3: 3 field\(s\)"),
    ("10 20\n20 1.5\n", AIRPORT_FEATS, "airport.edges.txt", "line 2: v is '1.5'"),
    ("10 20\n\n20 99\n", AIRPORT_FEATS, "airport.edges.txt", "line 3: node 99 is not listed in airport.feats.txt"),
    (AIRPORT_EDGES, AIRPORT_FEATS.replace("1.2", "nan"), "airport.feats.txt", "line 4: f4 is 'nan'; expected a finite"),
    (AIRPORT_EDGES, AIRPORT_FEATS.replace("0.2 0.3", "0.2"), "airport.feats.txt", r"line 2: 5 field\(s\)"),
    (AIRPORT_EDGES, AIRPORT_FEATS + "20 1 1 1 1 1\n", "airport.feats.txt", "line 6: node 20 is listed twice"),
    ("# only a comment\n", AIRPORT_FEATS, "airport.edges.txt", "no data rows"),
])
def test_malformed_airport_file_names_file_and_line(tmp_path, edges, feats, where, match):
    _airport(tmp_path, edges=edges, feats=feats)
    with pytest.raises(DatasetError, match=match) as err:
        load_dataset("airport", tmp_path)
    assert where in str(err.value)


def test_malformed_disease_files(tmp_path):
    folder = _disease(tmp_path, edges="0,1\n0,2\n2;3\n")
    with pytest.raises(DatasetError, match=r"disease_lp.edges.csv'?: line 3: 1 field\(s\)"):
        load_dataset("disease_lp", tmp_path)
    (folder / "disease_lp.edges.csv").write_text("0,1\n0,4\n")
    with pytest.raises(DatasetError, match=r"line 2: node 4 is not in 0\.\.3"):
        load_dataset("disease_lp", tmp_path)
    (folder / "disease_lp.edges.csv").write_text("0,1\n")
    np.save(folder / "disease_lp.labels.npy", np.array([0, 1, 1]))
    with pytest.raises(DatasetError, match="disease_lp.labels.npy'?: 3 labels, expected 4"):
        load_dataset("disease_lp", tmp_path)
    (folder / "disease_lp.feats.npz").write_bytes(b"not a zip file")
    with pytest.raises(DatasetError, match="disease_lp.feats.npz'?: not a scipy sparse .npz"):
        load_dataset("disease_lp", tmp_path)


def test_disease_labels_must_not_need_pickle(tmp_path):
    _disease(tmp_path, labels=np.array([0, 1, None, 1], dtype=object))
    with pytest.raises(DatasetError, match="disease_lp.labels.npy"):
        load_dataset("disease_lp", tmp_path)


def test_small_disease_graph(tmp_path):
    _disease(tmp_path, edges="0,1\n1,0\n2,3\n", n=5)
    ds = load_dataset("disease_lp", tmp_path)
    assert ds.graph.num_nodes() == 5 and ds.graph.num_undirected_edges() == 2
    assert ds.info["duplicate_rows"] == 1 and ds.info["components"] == 3 and not ds.info["tree"]
    assert ds.graph.features().shape == (5, 3) and ds.graph.labels().tolist() == [1, 0, 1, 0, 0]


def test_airport_has_no_download_url(monkeypatch, tmp_path):
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    monkeypatch.setenv(source.ENV_CACHE, str(tmp_path / "cache"))

    def offline(url: str, dest: str) -> None:  # pragma: no cover - no URL is tried
        raise urllib.error.URLError("network is unreachable")

    with pytest.raises(DatasetError, match="VASTGRAPH_DATA") as err:
        load_dataset("airport", fetcher=offline)
    assert "airport.edges.txt" in str(err.value) and "no URL known" in str(err.value)
