"""BlogCatalog loader: multi-label matrix, symmetric adjacency, corrupt .mat files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from vastgraph.datasets.registry import load_dataset
from vastgraph.errors import DatasetError

pytestmark = pytest.mark.datasets


def test_multilabel_and_structure(real_dataset):
    ds = real_dataset("blogcatalog")
    g = ds.graph
    lab = g.labels()
    assert lab.dtype == np.uint8 and lab.shape == (10312, 39)
    assert lab.sum() == 14476 and lab.sum(axis=1).min() == 1 and lab.sum(axis=1).max() == 11
    assert lab.sum(axis=0)[:5].tolist() == [167, 778, 619, 246, 908]
    assert g.num_edges() == 667966 and g.adjacency().weight is None
    assert g.out_degree().max() == 3992 and g.out_degree().min() >= 1


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "blogcatalog").mkdir()
    return tmp_path / "blogcatalog" / "blogcatalog.mat"


def test_corrupt_mat_names_the_file(tmp_path, shared_datasets):
    target = _folder(tmp_path)
    data = (shared_datasets / "blogcatalog" / "blogcatalog.mat").read_bytes()
    target.write_bytes(data[: len(data) // 3])
    with pytest.raises(DatasetError) as err:
        load_dataset("blogcatalog", tmp_path)
    assert "blogcatalog.mat" in str(err.value) and "MATLAB" in str(err.value)


def test_garbage_mat_names_the_file(tmp_path):
    _folder(tmp_path).write_bytes(b"this is not a mat file at all" * 10)
    with pytest.raises(DatasetError, match="blogcatalog.mat"):
        load_dataset("blogcatalog", tmp_path)


def test_mat_without_group_variable(tmp_path):
    scipy.io.savemat(_folder(tmp_path), {"network": sp.csc_matrix(np.eye(3))})
    with pytest.raises(DatasetError, match="'group' not found"):
        load_dataset("blogcatalog", tmp_path)


def test_asymmetric_network_is_symmetrised(tmp_path):
    net = sp.csc_matrix(([1.0, 1.0], ([0, 2], [1, 1])), shape=(3, 3))  # 0->1, 2->1 only
    group = sp.csc_matrix(np.array([[1, 0], [0, 1], [1, 1]], dtype=float))
    scipy.io.savemat(_folder(tmp_path), {"network": net, "group": group})
    ds = load_dataset("blogcatalog", tmp_path)
    g = ds.graph
    assert g.num_undirected_edges() == 2 and g.neighbors(1).tolist() == [0, 2]
    assert ds.info["symmetric_in_file"] is False
    assert g.labels().tolist() == [[1, 0], [0, 1], [1, 1]]
