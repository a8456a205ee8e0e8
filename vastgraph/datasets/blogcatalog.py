"""BlogCatalog (the DeepWalk ``.mat`` file): 10,312 bloggers, friendship edges, 39 interest groups.

Tang & Liu, *Relational Learning via Latent Social Dimensions*, KDD 2009; used as the multi-label
benchmark of DeepWalk (Perozzi et al., KDD 2014), node2vec, LINE, NetMF and ProNE.

File ``blogcatalog.mat`` (MATLAB v5): ``network`` = symmetric 0/1 CSC adjacency ``(n, n)``;
``group`` = CSC multi-hot labels ``(n, 39)``. Loaded into one undirected edge type
``("node", "friend", "node")`` (symmetric CSR, unweighted) and a uint8 ``(n, 39)`` label matrix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.source import FileSpec, github_raw
from vastgraph.errors import DatasetError
from vastgraph.graph.builder import GraphBuilder

REPO = "phanein/deepwalk"
COMMIT = "6e6dff245e4692e9bea47e9017c1034e51afbf29"
FILES = (
    FileSpec("blogcatalog.mat", (github_raw(REPO, COMMIT, "example_graphs/blogcatalog.mat"),),
             "d4f4fb89ce1ccd4b7e2a183386c000773cc9362cc61f1be5b246a6d9c259da8f", 1255783),
)
CITATION = ("L. Tang, H. Liu. Relational Learning via Latent Social Dimensions. KDD 2009. "
            "Benchmark use: B. Perozzi, R. Al-Rfou, S. Skiena. DeepWalk: Online Learning of Social "
            "Representations. KDD 2014.")


def _read_mat(path: Path) -> dict[str, Any]:
    import scipy.io

    try:
        return scipy.io.loadmat(str(path))
    except FileNotFoundError:
        raise DatasetError(f"{str(path)!r}: file not found") from None
    except Exception as exc:  # scipy raises ValueError, TypeError, MatReadError, OSError ... on bad input
        raise DatasetError(f"{str(path)!r}: not a readable MATLAB v5 .mat file (truncated or corrupt?): "
                           f"{type(exc).__name__}: {exc}") from exc


def load_blogcatalog(name: str, files: dict[str, Path], folder: Path) -> Dataset:
    """Load BlogCatalog from ``blogcatalog.mat``.

    Args:
        name: registry name (``"blogcatalog"``).
        files: ``{"blogcatalog.mat": path}``.
        folder: the dataset folder (for provenance).

    Returns:
        A :class:`Dataset`: 10312 nodes, 333983 undirected edges, labels uint8 ``(10312, 39)``.

    Example:
        >>> ds = load_dataset("blogcatalog")  # doctest: +SKIP
        >>> ds.graph.labels().shape  # doctest: +SKIP
        (10312, 39)
    """
    path = files["blogcatalog.mat"]
    mat = _read_mat(path)
    for key in ("network", "group"):
        if key not in mat:
            have = sorted(k for k in mat if not k.startswith("__"))
            raise DatasetError(f"{str(path)!r}: variable {key!r} not found; the file holds {have}")
    net, group = mat["network"], mat["group"]
    if not (sp.issparse(net) or isinstance(net, np.ndarray)) or net.ndim != 2 or net.shape[0] != net.shape[1]:
        raise DatasetError(f"{str(path)!r}: 'network' has shape {getattr(net, 'shape', None)}, "
                           "expected a square adjacency matrix")
    n = net.shape[0]
    if getattr(group, "ndim", 0) != 2 or group.shape[0] != n:
        raise DatasetError(f"{str(path)!r}: 'group' has shape {getattr(group, 'shape', None)}, expected ({n}, C)")
    coo = sp.coo_matrix(net)
    keep = np.asarray(coo.data) != 0
    row, col = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    weights = np.unique(np.asarray(coo.data)[keep])
    adj = sp.csr_matrix(net).astype(bool)
    symmetric = (adj != adj.T).nnz == 0
    labels = (sp.csr_matrix(group).toarray() != 0).astype(np.uint8)

    b = GraphBuilder(directed=False, duplicates="first", self_loops="keep", id_mode="dense")
    b.add_nodes("node", count=n, labels=labels)
    b.add_edges(np.minimum(row, col), np.maximum(row, col), etype=("node", "friend", "node"), source=str(path))
    info: dict[str, Any] = {
        "dataset": name,
        "source": f"{REPO}@{COMMIT} example_graphs/blogcatalog.mat",
        "original": "http://leitang.net/social_dimension.html",
        "citation": CITATION,
        "format": "matlab-v5 .mat: network (csc adjacency), group (csc multi-hot labels)",
        "folder": str(folder),
        "counting": "num_edges = graph.num_undirected_edges()",
        "stored_nonzeros": int(coo.nnz),
        "symmetric_in_file": bool(symmetric),
        "edge_weights_in_file": weights.tolist()[:10],
        "notes": ("unweighted friendship graph, symmetrised (an entry in either triangle is an edge); "
                  "multi-label (uint8 matrix)"),
    }
    b.info.update(info)
    graph = b.build()
    return Dataset(name=name, graph=graph, splits={}, info=info, missing=[])
