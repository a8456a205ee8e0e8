"""Karate club loader: 1-based ids, weights from zachary.txt, faction labels."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vastgraph.datasets.registry import load_dataset
from vastgraph.errors import DatasetError

pytestmark = pytest.mark.datasets

MR_HI = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 17, 18, 20, 22]


def _copy(shared: Path, dest: Path, skip: tuple[str, ...] = ()) -> Path:
    (dest / "karate").mkdir()
    for p in (shared / "karate").iterdir():
        if p.name not in skip:
            shutil.copyfile(p, dest / "karate" / p.name)
    return dest / "karate"


def test_ids_labels_and_weights(real_dataset):
    ds = real_dataset("karate")
    g = ds.graph
    assert g.lookup("node", [1, 34]).tolist() == [0, 33]
    np.testing.assert_array_equal(g.external_ids(), np.arange(1, 35))
    labels = g.labels()
    assert labels.tolist().count(0) == 16 and labels.tolist().count(1) == 18
    np.testing.assert_array_equal(np.flatnonzero(labels == 0) + 1, MR_HI)
    assert labels[g.lookup("node", [9])][0] == 1  # member 9 sides with the Officer in this file
    # zachary.txt rows "1 2 4", "1 3 5", "33 34 5"; symmetric storage
    assert g.edge_weights(g.lookup("node", [1, 2, 1, 34]), g.lookup("node", [2, 1, 3, 33])).tolist() == [4, 4, 5, 5]
    assert g.adjacency().weight.dtype == np.float32
    assert ds.missing == []


def test_without_weight_file_is_unweighted_and_says_so(tmp_path, shared_datasets):
    _copy(shared_datasets, tmp_path, skip=("zachary.txt",))
    ds = load_dataset("karate", tmp_path)
    assert ds.graph.adjacency().weight is None
    assert ds.graph.num_undirected_edges() == 78
    assert any("zachary.txt absent" in m for m in ds.missing)


def test_weight_file_disagreeing_with_adjlist_is_an_error(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, tmp_path)
    with open(folder / "zachary.txt", "a") as f:
        f.write("1 34 2\n")
    with pytest.raises(DatasetError, match="zachary.txt.*edge set differs"):
        load_dataset("karate", tmp_path)


def test_non_integer_token_is_reported_with_line(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, tmp_path)
    text = (folder / "karate.adjlist").read_text().splitlines()
    text[2] += " x"
    (folder / "karate.adjlist").write_text("\n".join(text) + "\n")
    with pytest.raises(DatasetError, match="karate.adjlist.*line 3"):
        load_dataset("karate", tmp_path)


def test_community_file_needs_two_lines(tmp_path, shared_datasets):
    folder = _copy(shared_datasets, tmp_path)
    (folder / "zachary_communities.txt").write_text("1 2 3\n")
    with pytest.raises(DatasetError, match="1 community lines, expected 2"):
        load_dataset("karate", tmp_path)
