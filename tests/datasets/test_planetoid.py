"""Planetoid loaders (cora, citeseer, pubmed): assembly, quirks, and bad files."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from vastgraph.datasets.registry import load_dataset
from vastgraph.datasets.safe_pickle import load_pickle
from vastgraph.errors import DatasetError

pytestmark = pytest.mark.datasets

CITESEER_UNLISTED = [2407, 2489, 2553, 2682, 2781, 2953, 3042, 3063, 3212, 3214, 3250, 3292, 3305, 3306, 3309]


def _copy(shared: Path, name: str, dest: Path) -> Path:
    shutil.copytree(shared / name, dest / name)
    for p in (dest / name).iterdir():
        os.chmod(p, 0o644)
    return dest / name


def test_cora_test_rows_are_reordered_by_test_index(real_dataset, shared_datasets):
    ds = real_dataset("cora")
    g = ds.graph
    folder = shared_datasets / "cora"
    test_idx = np.loadtxt(folder / "ind.cora.test.index", dtype=np.int64)
    tx = load_pickle(folder / "ind.cora.tx").toarray()
    ty = load_pickle(folder / "ind.cora.ty")
    assert not np.array_equal(test_idx, np.sort(test_idx))  # the file really is unsorted
    np.testing.assert_array_equal(g.features()[test_idx], tx)
    np.testing.assert_array_equal(g.labels()[test_idx], ty.argmax(1))
    allx = load_pickle(folder / "ind.cora.allx").toarray()
    np.testing.assert_array_equal(g.features()[:allx.shape[0]], allx)


def test_cora_splits_and_masks(real_dataset):
    ds = real_dataset("cora")
    g = ds.graph
    np.testing.assert_array_equal(ds.splits["train"], np.arange(140))
    np.testing.assert_array_equal(ds.splits["val"], np.arange(140, 640))
    assert ds.splits["test"].size == 1000 and ds.splits["test"].min() == 1708
    for key in ("train", "val", "test"):
        mask = g.node_data(None, f"{key}_mask")
        assert mask.dtype == bool and np.array_equal(np.flatnonzero(mask), ds.splits[key])
    assert g.node_data(None, "has_features").all()
    assert g.labels().dtype == np.int64 and (g.labels() >= 0).all()
    assert np.bincount(g.labels()).tolist() == [351, 217, 418, 818, 426, 298, 180]
    assert g.num_edges() == 2 * 5278  # symmetric CSR, the 302 duplicate entries merged
    assert ds.info["adjacency_entries"] == 10858


def test_citeseer_unlisted_test_ids_are_padded(real_dataset):
    ds = real_dataset("citeseer")
    g = ds.graph
    unl = np.array(CITESEER_UNLISTED)
    assert (g.labels()[unl] == -1).all() and (g.labels() == -1).sum() == 15
    has = g.node_data(None, "has_features")
    assert not has[unl].any() and has.sum() == 3327 - 15
    assert not g.features()[unl].any()
    assert (g.out_degree(nodes=unl) >= 1).all()  # they do have edges
    assert not g.node_data(None, "test_mask")[unl].any()
    assert "15 node ids" in ds.missing[0] and "2407" in ds.missing[0]
    # 124 self-loops stored once each; 4552 other edges stored in both directions
    assert g.num_edges() == 2 * 4552 + 124
    assert ds.info["self_loop_nodes"] == 124


def test_pubmed_without_allx_flags_missing_features(real_dataset):
    ds = real_dataset("pubmed")
    g = ds.graph
    has = g.node_data(None, "has_features")
    assert has.sum() == 60 + 1000
    assert has[:60].all() and has[ds.splits["test"]].all()
    assert not g.features()[~has].any()
    assert g.features()[has].any(axis=1).all()
    assert (g.labels() >= 0).all() and np.bincount(g.labels()).tolist() == [4103, 7739, 7875]
    assert len(ds.missing) == 1
    msg = ds.missing[0]
    assert "ind.pubmed.allx absent" in msg and "60 train + 1000 test" in msg and "has_features" in msg
    assert "18657" in msg


def test_pubmed_with_allx_uses_it(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, "pubmed", tmp_path)
    rng = np.random.default_rng(0)
    x = load_pickle(folder / "ind.pubmed.x")
    allx = sp.random(18717, 500, density=0.002, format="csr", dtype=np.float32, random_state=rng)
    allx = sp.vstack([x, allx[60:]]).tocsr()
    with open(folder / "ind.pubmed.allx", "wb") as f:
        pickle.dump(allx, f, protocol=4)
    ds = load_dataset("pubmed", tmp_path)
    assert ds.missing == []
    assert ds.graph.node_data(None, "has_features").all()
    np.testing.assert_allclose(ds.graph.features()[:18717], allx.toarray())


def test_truncated_pickle_names_the_file(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, "cora", tmp_path)
    target = folder / "ind.cora.graph"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError) as err:
        load_dataset("cora", tmp_path)
    assert "ind.cora.graph" in str(err.value) and "truncated or corrupt" in str(err.value)


def test_pickle_naming_other_classes_is_refused(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, "cora", tmp_path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (folder / "ind.cora.y").write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(DatasetError) as err:
        load_dataset("cora", tmp_path)
    assert "ind.cora.y" in str(err.value) and "refusing to load" in str(err.value)
    assert not marker.exists()


def test_wrong_object_in_pickle_is_reported(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, "cora", tmp_path)
    (folder / "ind.cora.graph").write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(DatasetError, match="ind.cora.graph.*expected a dict"):
        load_dataset("cora", tmp_path)


def test_bad_test_index_line_is_reported(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, "cora", tmp_path)
    lines = (folder / "ind.cora.test.index").read_text().splitlines()
    lines[4] = "12x"
    (folder / "ind.cora.test.index").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match="line 5: '12x'"):
        load_dataset("cora", tmp_path)


def test_missing_planetoid_file_names_folder_and_file(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, "cora", tmp_path)
    (folder / "ind.cora.tx").unlink()
    with pytest.raises(DatasetError) as err:
        load_dataset("cora", tmp_path)
    assert "'ind.cora.tx'" in str(err.value) and str(folder) in str(err.value)
