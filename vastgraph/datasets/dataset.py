"""The :class:`Dataset` record returned by every loader and generator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vastgraph.graph.hetero_graph import HeteroGraph

SplitArrays = np.ndarray | dict[str, np.ndarray]


@dataclass
class Dataset:
    """A loaded dataset: its graph, named splits, provenance and what is missing.

    Attributes:
        name: registry name (``"cora"``, ``"amazon"``, ``"sbm"`` ...).
        graph: the :class:`~vastgraph.graph.HeteroGraph`; node features, labels (int64 with -1 for
            unknown, or a uint8 ``(n, C)`` multi-hot matrix) and per-node arrays (split masks,
            ``has_features``) live on it.
        splits: named splits. A node split is an int64 array of dense node ids (e.g. Planetoid
            ``train``/``val``/``test``); a link split is a dict of equal-length arrays
            ``{"src", "dst", "etype", "label"}`` (dense ids, index into
            ``info["split_edge_types"]``, 1 = true edge / 0 = sampled non-edge).
        info: provenance and notes (source repository and commit, citation, format, counting
            conventions, parameters of a synthetic generator).
        missing: human-readable sentences, one per piece of the original data that is absent
            (empty when the dataset is complete).

    Example:
        >>> from vastgraph.datasets.registry import load_dataset
        >>> ds = load_dataset("sbm", n_nodes=200, n_blocks=4, random_state=0)
        >>> ds.graph.num_nodes(), ds.missing
        (200, [])
    """

    name: str
    graph: HeteroGraph
    splits: dict[str, SplitArrays] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when no piece of the original data is missing."""
        return not self.missing

    def summary(self) -> dict[str, Any]:
        """Graph summary plus split sizes, info and missing pieces, as a JSON-able dict."""
        splits: dict[str, Any] = {}
        for key, val in self.splits.items():
            if isinstance(val, dict):
                lab = val.get("label")
                splits[key] = {"rows": int(len(next(iter(val.values())))) if val else 0,
                               "positives": None if lab is None else int(np.sum(np.asarray(lab) == 1))}
            else:
                splits[key] = {"nodes": int(np.asarray(val).shape[0])}
        return {"name": self.name, "graph": self.graph.summary(), "splits": splits,
                "info": self.info, "missing": list(self.missing)}

    def __repr__(self) -> str:
        miss = f", missing={len(self.missing)}" if self.missing else ""
        return f"Dataset({self.name!r}, {self.graph!r}, splits={sorted(self.splits)}{miss})"
