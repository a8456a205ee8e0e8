"""The Dataset record."""

from __future__ import annotations

import json

import numpy as np

from vastgraph.datasets.dataset import Dataset
from vastgraph.graph.builder import GraphBuilder


def _graph():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1], [1, 2])
    return b.build()


def test_summary_counts_node_and_link_splits():
    ds = Dataset("toy", _graph(), splits={
        "train": np.array([0, 1]),
        "test": {"src": np.array([0, 1, 2]), "dst": np.array([1, 2, 0]), "etype": np.zeros(3, np.int64),
                 "label": np.array([1, 0, 1])}},
        info={"source": "hand-made"}, missing=["features: none"])
    s = ds.summary()
    assert s["splits"] == {"train": {"nodes": 2}, "test": {"rows": 3, "positives": 2}}
    assert s["missing"] == ["features: none"] and not ds.complete
    json.dumps(s)  # JSON-able
    assert "missing=1" in repr(ds) and "'toy'" in repr(ds)


def test_complete_dataset():
    ds = Dataset("toy", _graph())
    assert ds.complete and ds.splits == {} and ds.summary()["graph"]["edge_types"]
