"""MATLAB ``.mat`` graphs: a ``network`` adjacency matrix and a ``group`` label matrix.

This is the format of the classic node-embedding benchmarks (BlogCatalog, Flickr, YouTube,
PPI as distributed with DeepWalk/node2vec/NetMF): ``network`` is an ``n x n`` sparse adjacency,
``group`` an ``n x C`` 0/1 (sparse or dense) label matrix. Read with ``scipy.io.loadmat``; MATLAB
v7.3 files (HDF5) are refused with a clear message.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vastgraph.errors import DatasetError, ValidationError


def read_mat(path: str | os.PathLike, *, network: str = "network", group: str | None = "group",
             directed: bool | None = None, out: str | os.PathLike | None = None,
             overwrite: bool = False) -> Any:
    """A graph from a ``.mat`` file's adjacency (key ``network``) and labels (key ``group``).

    Args:
        path: the ``.mat`` file.
        network: key of the ``n x n`` adjacency matrix. Default ``"network"``.
        group: key of the ``n x C`` label matrix (0/1), or None for no labels. A missing ``group``
            key is not an error (the graph is unlabelled); rows with exactly one 1 everywhere give
            single-label data, else multi-label.
        directed: as :func:`vastgraph.graph.convert.from_scipy` (None: undirected if symmetric).
        out: a store folder to write; None returns the in-memory graph. overwrite: replace it.

    Example:
        >>> import tempfile, os, scipy.io, scipy.sparse as sp
        >>> p = os.path.join(tempfile.mkdtemp(), "g.mat")
        >>> a = sp.csc_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float))
        >>> scipy.io.savemat(p, {"network": a, "group": sp.csc_matrix(np.eye(3, 2))})
        >>> g = read_mat(p)
        >>> g.num_nodes(), g.is_undirected(), g.labels().tolist()
        (3, True, [0, 1, -1])
    """
    import scipy.io
    import scipy.sparse as sp

    from vastgraph.graph.convert import from_scipy

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise DatasetError(f"{p}: no such .mat file")
    try:
        mat = scipy.io.loadmat(p)
    except NotImplementedError:
        raise DatasetError(f"{p}: a MATLAB v7.3 (HDF5) file; save it with -v7 or read it with h5py") from None
    except (ValueError, OSError, TypeError) as exc:
        raise DatasetError(f"{p}: not a readable .mat file ({exc})") from None
    keys = sorted(k for k in mat if not k.startswith("__"))
    if network not in mat:
        raise ValidationError(f"{p}: no matrix {network!r} (--mat-network); the file holds: {', '.join(keys)}")
    adj = mat[network]
    if not sp.issparse(adj):
        adj = np.asarray(adj)
        if adj.ndim != 2 or adj.dtype.kind not in "biuf":
            raise ValidationError(f"{p}: {network!r} is {adj.dtype}{adj.shape}; expected a 2-D numeric matrix")
        adj = sp.csr_matrix(adj)
    if adj.shape[0] != adj.shape[1]:
        raise ValidationError(f"{p}: {network!r} has shape {adj.shape}; expected a square adjacency matrix")
    labels = None
    if group is not None and group in mat:
        g = mat[group]
        lab = np.asarray(g.toarray() if sp.issparse(g) else g)
        if lab.ndim != 2 or lab.shape[0] != adj.shape[0]:
            raise ValidationError(f"{p}: {group!r} has shape {lab.shape}; expected ({adj.shape[0]}, classes)")
        if lab.size and not np.isin(lab, (0, 1)).all():
            raise ValidationError(f"{p}: {group!r} must hold 0/1 class memberships")
        lab = lab.astype(np.uint8)
        per_row = lab.sum(axis=1)
        labels = (np.where(per_row == 1, lab.argmax(axis=1), -1).astype(np.int64)
                  if per_row.max(initial=0) <= 1 else lab)
    graph = from_scipy(adj.tocsr(), directed=directed, labels=labels)
    graph.info["source"] = {"format": "mat", "path": os.path.abspath(p), "network": network,
                            "group": group if labels is not None else None}
    if out is None:
        return graph
    from vastgraph.graph.storage import open_store, save_graph

    return open_store(save_graph(graph, out, overwrite=overwrite))
