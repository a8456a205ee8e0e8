"""Every dataset in shared/datasets/manifest.json loads with the counts the manifest states."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vastgraph.datasets.registry import dataset_info, list_datasets
from vastgraph.datasets.source import FileSpec, check_file

pytestmark = pytest.mark.datasets

MANIFEST_NAMES = ["cora", "citeseer", "pubmed", "blogcatalog", "karate", "bitcoin-alpha", "amazon", "airport",
                  "disease_lp"]
# Feature widths the manifest leaves out, from the datasets' README.md files: airport's features are
# f0..f3 (HGCN bins f4 into the classes), disease_lp's npz is 2665 x 11.
README_FEATURES = {"airport": 4, "disease_lp": 11}


def _expected(name: str, entry: dict) -> dict:
    """The manifest entry, completed from the dataset's README where the manifest is silent."""
    facts = dict(entry)
    if name == "airport" and "self_loops" not in entry:
        # README: "18,631 undirected routes (one self-loop row)". The manifest's num_edges counts that
        # row against its own convention (unique undirected edges excluding self-loops).
        facts.update(self_loops=1, num_edges=entry["num_edges"] - 1)
    if facts.get("num_features") is None:
        facts["num_features"] = README_FEATURES.get(name)
    return facts


def _self_loop_nodes(graph, etype) -> int:
    src, dst = graph.edge_index(etype)
    return int(np.unique(src[src == dst]).size)


def test_manifest_lists_exactly_the_registered_real_datasets(manifest):
    real = [n for n in list_datasets() if not dataset_info(n)["synthetic"]]
    assert sorted(manifest) == sorted(real) == sorted(MANIFEST_NAMES)


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_counts_match_manifest(name, manifest, real_dataset):
    entry = _expected(name, manifest[name])
    ds = real_dataset(name)
    g = ds.graph
    assert g.num_nodes() == entry["num_nodes"]
    if name == "amazon":
        # manifest counts positive typed rows over train + valid + test
        total = sum(ds.info["train_rows"].values())
        total += sum(int(s["label"].sum()) for s in ds.splits.values())
        assert total == entry["num_edges"]
        assert len(g.edge_types) == entry["num_edge_types"]
    elif entry["directed"]:
        assert g.num_edges() == entry["num_edges"]
        assert not g.is_undirected()
    else:
        assert g.num_undirected_edges() == entry["num_edges"]
        assert g.is_undirected()
    loops = sum(_self_loop_nodes(g, et) for et in g.edge_types)
    assert loops == entry.get("self_loops", 0)
    if entry["num_classes"] is None:
        assert g.labels() is None
    else:
        assert g.num_classes() == entry["num_classes"]
        assert g.is_multilabel() == entry["multilabel"]
    if entry.get("num_features") is not None:
        assert g.features().shape == (entry["num_nodes"], entry["num_features"])
    times = [g.adjacency(et).time for et in g.edge_types]
    assert all(t is not None for t in times) == entry["temporal"]
    if entry["temporal"]:
        t = np.concatenate([np.asarray(x) for x in times])
        assert t.dtype == np.int64
        assert t.min() == entry["time_min"] and t.max() == entry["time_max"]
    # citeseer's 15 feature-less, label-less test-range ids are a documented gap of the original files
    assert bool(ds.missing) == (bool(entry.get("incomplete", False)) or name == "citeseer")
    for missing_file in entry.get("missing_files", []):
        assert any(missing_file in m for m in ds.missing), ds.missing


@pytest.mark.parametrize("name", MANIFEST_NAMES)
def test_registered_checksums_match_shared_files(name, shared_datasets: Path):
    folder = shared_datasets / name
    checked = 0
    for f in dataset_info(name)["files"]:
        spec = FileSpec(f["name"], tuple(f["urls"]), f["sha256"], f["size"], f["git_blob"], f["optional"])
        path = folder / spec.name
        if not path.is_file():
            assert spec.optional, f"{spec.name} is required but absent from {folder}"
            continue
        assert spec.sha256 is not None and check_file(spec, path) is None
        checked += 1
    assert checked >= 1
