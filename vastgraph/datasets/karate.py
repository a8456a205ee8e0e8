"""Zachary's karate club: 34 members, 78 weighted interaction edges, two factions.

W. W. Zachary, *An information flow model for conflict and fission in small groups*, Journal of
Anthropological Research 33(4), 1977.

Files (all 1-based ids): ``karate.adjlist`` (DeepWalk's adjacency list, every edge in both
endpoint lines; the edge set), ``zachary.txt`` (``u v w`` rows, ``w`` = interaction strength 1..7;
optional, gives the weights), ``zachary_communities.txt`` (two lines of members; line 1 = Mr. Hi's
faction -> label 0, line 2 = the Officer's faction -> label 1). This 16/18 split puts member 9 with
the Officer, unlike networkx's ``club`` attribute (17/17).

External ids are the original 1-based ints; dense id = external id - 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.source import FileSpec, github_raw
from vastgraph.errors import DatasetError
from vastgraph.graph.builder import GraphBuilder

DEEPWALK = ("phanein/deepwalk", "6e6dff245e4692e9bea47e9017c1034e51afbf29")
PANSHI = ("PanShi2016/Community_Detection", "d348af339f0eea4a2225ad74ff191f506289510f")
FILES = (
    FileSpec("karate.adjlist", (github_raw(*DEEPWALK, "example_graphs/karate.adjlist"),),
             "f4ff0d1d42fa2e475515993f82e2f38decec36708f74b7635694a85418ab984f", 500),
    FileSpec("zachary_communities.txt",
             (github_raw(*PANSHI, "Datasets/Real_Data/Processed_Data/zachary.txt"),),
             "b3e9381cdbdf8968e15cc96d35aa9cdc410f3038353ae4f44cf1376099c5f6b2", 157),
    FileSpec("zachary.txt", (github_raw(*PANSHI, "Datasets/Real_Data/Original_Data/zachary/zachary.txt"),),
             "68509b9eb1054c07507f8d2a6b0680cb15c2e26293b51d38f56122f4836b7ed9", 641, optional=True),
    FileSpec("README.KARATE", (github_raw(*PANSHI, "Datasets/Real_Data/Original_Data/zachary/README.KARATE"),),
             "4600bfd8d3df293dc20c899a14c80dc891003734eeedc4c9eb1024285e563530", 1115, optional=True),
)
CITATION = ("W. W. Zachary. An information flow model for conflict and fission in small groups. "
            "Journal of Anthropological Research 33(4):452-473, 1977.")


def _int_lines(path: Path) -> list[np.ndarray]:
    """Each non-empty line of ``path`` as an int64 array (raises naming file and line)."""
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        try:
            out.append(np.array(tokens, dtype=np.int64))
        except ValueError:
            raise DatasetError(f"{str(path)!r}: line {lineno}: {line.strip()!r} holds a non-integer token") from None
    return out


def load_karate(name: str, files: dict[str, Path], folder: Path) -> Dataset:
    """Load the karate club graph (weights from ``zachary.txt`` when present).

    Args:
        name: registry name (``"karate"``).
        files: paths of ``karate.adjlist`` and ``zachary_communities.txt`` (``zachary.txt`` optional).
        folder: the dataset folder (for provenance).

    Returns:
        A :class:`Dataset`: 34 nodes (external ids 1..34), one undirected edge type
        ``("node", "interacts", "node")`` with 78 edges, float32 weights, labels int64 in {0, 1}.

    Example:
        >>> ds = load_dataset("karate")  # doctest: +SKIP
        >>> ds.graph.lookup("node", [1, 34]).tolist(), ds.graph.labels(nodes=[0, 33]).tolist()  # doctest: +SKIP
        ([0, 33], [0, 1])
    """
    adj_path = files["karate.adjlist"]
    rows = _int_lines(adj_path)
    lens = np.array([r.size - 1 for r in rows], dtype=np.int64)
    heads = np.array([r[0] for r in rows], dtype=np.int64)
    nbrs = np.concatenate([r[1:] for r in rows]) if rows else np.zeros(0, np.int64)
    src = np.repeat(heads, lens)
    comm_path = files["zachary_communities.txt"]
    groups = _int_lines(comm_path)
    if len(groups) != 2:
        raise DatasetError(f"{str(comm_path)!r}: {len(groups)} community lines, expected 2")
    members = np.concatenate([heads, nbrs] + groups)
    if members.size == 0 or members.min() < 1:
        raise DatasetError(f"{str(adj_path)!r}: node ids must be 1-based positive integers")
    n = int(members.max())
    labels = np.full(n, -1, dtype=np.int64)
    for c, g in enumerate(groups):
        labels[g - 1] = c
    a, b_ = np.minimum(src, nbrs), np.maximum(src, nbrs)
    key = np.unique(a * (n + 1) + b_)
    ua, ub = key // (n + 1), key % (n + 1)

    missing: list[str] = []
    weight = None
    wpath = files.get("zachary.txt")
    if wpath is not None:
        wrows = _int_lines(wpath)
        if any(r.size != 3 for r in wrows):
            bad = next(i for i, r in enumerate(wrows) if r.size != 3)
            raise DatasetError(f"{str(wpath)!r}: record {bad + 1} has {wrows[bad].size} fields, expected 'u v w'")
        w = np.stack(wrows) if wrows else np.zeros((0, 3), np.int64)
        wkey = np.minimum(w[:, 0], w[:, 1]) * (n + 1) + np.maximum(w[:, 0], w[:, 1])
        order = np.argsort(wkey)
        if not np.array_equal(wkey[order], key):
            raise DatasetError(f"{str(wpath)!r}: its edge set differs from {str(adj_path)!r}")
        weight = w[order, 2].astype(np.float32)
    else:
        missing.append("weights: zachary.txt absent; edges are unweighted (structure from karate.adjlist)")
    if (labels < 0).any():
        missing.append(f"labels: {int((labels < 0).sum())} members are in no community line; label -1")

    b = GraphBuilder(directed=False, duplicates="first", self_loops="keep")
    b.add_nodes("node", ids=np.arange(1, n + 1, dtype=np.int64), labels=labels)
    b.add_edges(ua, ub, etype=("node", "interacts", "node"), weight=weight, source=str(adj_path))
    info: dict[str, Any] = {
        "dataset": name,
        "source": (f"{DEEPWALK[0]}@{DEEPWALK[1]} example_graphs/karate.adjlist; {PANSHI[0]}@{PANSHI[1]} "
                   "Datasets/Real_Data/{Original_Data/zachary/zachary.txt,Processed_Data/zachary.txt}"),
        "citation": CITATION,
        "format": "adjlist (1-based) + weighted edge list u v w (1-based) + 2-line community file",
        "folder": str(folder),
        "counting": "num_edges = graph.num_undirected_edges()",
        "classes": {"0": "Mr. Hi's faction (line 1)", "1": "Officer's faction (line 2)"},
        "notes": "16/18 faction split (member 9 with the Officer); differs from networkx's 'club' attribute",
    }
    b.info.update(info)
    return Dataset(name=name, graph=b.build(), splits={}, info=info, missing=missing)
