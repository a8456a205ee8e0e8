"""Bitcoin Alpha loader: signed weights, timestamps, original ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vastgraph.datasets.registry import load_dataset
from vastgraph.errors import DatasetError

pytestmark = pytest.mark.datasets


def test_signed_weights_times_and_ids(real_dataset, shared_datasets):
    ds = real_dataset("bitcoin-alpha")
    g = ds.graph
    raw = pd.read_csv(shared_datasets / "bitcoin-alpha" / "soc-sign-bitcoinalpha.csv", header=None).to_numpy()
    adj = g.adjacency()
    assert adj.weight.dtype == np.float32 and adj.time.dtype == np.int64
    assert (adj.weight < 0).sum() == 1536 and (adj.weight > 0).sum() == 22650
    ext = g.external_ids()
    assert ext.dtype == np.int64 and np.all(np.diff(ext) > 0) and ext.max() == 7604
    # a few rows, looked up through the original ids, carry their rating and time
    rows = raw[[0, 100, 5000, 24185]]
    s, d = g.lookup("user", rows[:, 0]), g.lookup("user", rows[:, 1])
    pos = g.find_edges(s, d)
    assert (pos >= 0).all()
    np.testing.assert_array_equal(adj.weight[pos], rows[:, 2].astype(np.float32))
    np.testing.assert_array_equal(adj.time[pos], rows[:, 3])
    # directed: the reverse CSC holds the same edges
    assert g.adjacency(reverse=True).nnz == 24186 and not g.is_undirected()
    assert ds.info["duplicate_pairs"] == 0


def _write(tmp_path: Path, text: str) -> None:
    (tmp_path / "bitcoin-alpha").mkdir()
    (tmp_path / "bitcoin-alpha" / "soc-sign-bitcoinalpha.csv").write_text(text)


def test_tiny_file_loads(tmp_path):
    _write(tmp_path, "10,20,-3,1000\n20,10,5,2000\n")
    g = load_dataset("bitcoin-alpha", tmp_path).graph
    assert g.num_nodes() == 2 and g.num_edges() == 2
    assert g.edge_weights(g.lookup("user", [10]), g.lookup("user", [20])).tolist() == [-3.0]


@pytest.mark.parametrize("text,match", [
    ("1,2,3,100\n1,x,3,100\n", "line 2: TARGET is 'x'"),
    ("1,2,3,100\n1,2,3\n", "line 2: TIME is missing"),
    ("1,2,3,100\n1,2,3,4,5\n", "malformed CSV"),
    ("", "empty"),
])
def test_malformed_csv_is_reported(tmp_path, text, match):
    _write(tmp_path, text)
    with pytest.raises(DatasetError, match=match):
        load_dataset("bitcoin-alpha", tmp_path)
