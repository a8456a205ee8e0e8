"""Multiplex link-prediction datasets in the GATNE format (Amazon).

Cen, Zou, Zhang, Yang, Zhou, Tang, *Representation Learning for Attributed Multiplex
Heterogeneous Network*, KDD 2019 (THUDM/GATNE).

Files: ``train.txt`` rows ``<edge_type> <u> <v>`` (positive edges); ``valid.txt``/``test.txt``
rows ``<edge_type> <u> <v> <label>`` (1 = true edge, 0 = sampled non-edge); optional
``feature.txt`` (a header line, then ``<node> <f1> ... <fd>``). One node type ``"node"``; one
undirected edge type ``("node", <edge_type>, "node")`` per GATNE type, built from ``train.txt``
only (a pair listed in both orientations is one edge). External ids are the tokens of the files
(int64 when all are integers, else strings); dense ids follow ascending external id.

Splits ``valid`` and ``test`` are dicts of equal-length arrays: ``src``, ``dst`` (dense ids, int64),
``etype`` (int64 index into ``info["split_edge_types"]``, which lists the edge types in graph
order) and ``label`` (int64 0/1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.source import FileSpec, github_raw
from vastgraph.errors import DatasetError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.schema import EdgeType

REPO = "THUDM/GATNE"
COMMIT = "e003ea7b3a8e7bd5dc986ca55cf4cb06444c4ea7"
AMAZON_FILES = (
    FileSpec("train.txt", (github_raw(REPO, COMMIT, "data/amazon/train.txt"),),
             "7f0bf710b34e020571a479b522d9cc9664e0dc5524d482b33fcc70f82293767a", 1999372),
    FileSpec("valid.txt", (github_raw(REPO, COMMIT, "data/amazon/valid.txt"),),
             "fbbc0658147b306d24ad9a8833c94fca8e603c90896b71d4f31bfde844c9676d", 261886),
    FileSpec("test.txt", (github_raw(REPO, COMMIT, "data/amazon/test.txt"),),
             "a62c291e1ac745081900db548e1972e68cb0bfe71426897401c88b289bab52db", 523706),
    FileSpec("feature.txt", (github_raw(REPO, COMMIT, "data/amazon/feature.txt"),),
             git_blob="6208add90d62b34deeb11cc2781658ff5b5f1121", optional=True),
)
CITATION = ("Y. Cen, X. Zou, J. Zhang, H. Yang, J. Zhou, J. Tang. Representation Learning for Attributed "
            "Multiplex Heterogeneous Network. KDD 2019. Source data: J. McAuley et al., Amazon product data.")


def _read_rows(path: Path, n_fields: int) -> list[np.ndarray]:
    """Space-separated rows with exactly ``n_fields`` fields -> one array per column.

    Columns of integers come back int64, anything else as an object array of strings.
    """
    try:
        df = pd.read_csv(path, sep=" ", header=None, engine="c", skip_blank_lines=True,
                         keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{str(path)!r}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise DatasetError(f"{str(path)!r}: malformed rows ({exc})") from exc
    if df.shape[1] != n_fields:
        raise DatasetError(f"{str(path)!r}: {df.shape[1]} fields per line, expected {n_fields}")
    empty = df.isna().to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty.any(axis=1))[0])
        raise DatasetError(f"{str(path)!r}: line {i + 1} has {n_fields - int(empty[i].sum())} fields, "
                           f"expected {n_fields}")
    cols = []
    for c in range(n_fields):
        col = df[c].to_numpy()
        cols.append(col.astype(np.int64) if col.dtype.kind in "iu" else col.astype(str).astype(object))
    return cols


def _as_keys(cols: list[np.ndarray], as_int: bool) -> list[np.ndarray]:
    return [c if as_int else c.astype(str).astype(object) for c in cols]


def _type_codes(col: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Distinct edge-type tokens of a column (as strings) and each row's index into them."""
    uniq, inv = np.unique(col, return_inverse=True)
    return [str(t) for t in uniq.tolist()], inv.reshape(-1).astype(np.int64)


def _type_order(types: np.ndarray) -> list[str]:
    return sorted({str(t) for t in types}, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))


def _read_features(path: Path, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """GATNE ``feature.txt`` -> ``(features (n, d) float32, has_features (n,), rows not in graph)``.

    ``ids`` are the external ids in dense order.
    """
    try:
        df = pd.read_csv(path, sep=" ", header=None, skiprows=1, dtype=str, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"{str(path)!r}: malformed feature rows ({exc})") from exc
    if df.shape[1] < 2:
        raise DatasetError(f"{str(path)!r}: expected '<node> <f1> ... <fd>' rows after the header line")
    try:
        vals = df.iloc[:, 1:].to_numpy(dtype=np.float32)
    except ValueError as exc:
        raise DatasetError(f"{str(path)!r}: non-numeric feature value ({exc})") from exc
    if not np.isfinite(vals).all():
        i = int(np.argwhere(~np.isfinite(vals))[0][0])
        raise DatasetError(f"{str(path)!r}: line {i + 2}: missing or non-finite feature value")
    index = pd.Index([str(k) for k in ids.tolist()])
    dense = index.get_indexer(df.iloc[:, 0].astype(str).to_numpy())
    feats = np.zeros((ids.shape[0], vals.shape[1]), dtype=np.float32)
    has = np.zeros(ids.shape[0], dtype=bool)
    ok = dense >= 0
    feats[dense[ok]] = vals[ok]
    has[dense[ok]] = True
    return feats, has, int((~ok).sum())


def load_gatne(name: str, files: dict[str, Path], folder: Path) -> Dataset:
    """Load a GATNE-format multiplex dataset (see the module docstring).

    Args:
        name: registry name (``"amazon"``).
        files: paths of ``train.txt``, ``valid.txt``, ``test.txt`` (``feature.txt`` optional).
        folder: the dataset folder (for provenance).

    Returns:
        A :class:`Dataset` with edge types ``("node", "1", "node")``, ``("node", "2", "node")``...,
        splits ``valid``/``test``, and ``info["train_rows"]`` (train rows per edge type).

    Example:
        >>> ds = load_dataset("amazon")  # doctest: +SKIP
        >>> ds.graph.num_nodes(), sorted(ds.info["train_rows"].items())  # doctest: +SKIP
        (10099, [('1', 65506), ('2', 61029)])
    """
    train = _read_rows(files["train.txt"], 3)
    splits_raw = {key: _read_rows(files[f"{key}.txt"], 4) for key in ("valid", "test")}
    for key, cols in splits_raw.items():
        lab = cols[3]
        bad = ~np.isin(lab, [0, 1]) if lab.dtype.kind in "iu" else np.ones(lab.shape, bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DatasetError(f"{str(files[key + '.txt'])!r}: line {i + 1}: label {str(lab[i])!r}, expected 0 or 1")

    id_cols = [train[1], train[2]] + [cols[c] for cols in splits_raw.values() for c in (1, 2)]
    as_int = all(c.dtype.kind in "iu" for c in id_cols)
    ids = np.unique(np.concatenate(_as_keys(id_cols, as_int)))
    n_train = train[0].shape[0]
    type_codes = [_type_codes(c) for c in [train[0]] + [cols[0] for cols in splits_raw.values()]]
    etypes = _type_order(np.array([t for uniq, _ in type_codes for t in uniq], dtype=object))
    type_pos = {t: i for i, t in enumerate(etypes)}
    type_idx = [np.array([type_pos[t] for t in uniq], dtype=np.int64)[inv] for uniq, inv in type_codes]
    edge_types = [EdgeType("node", t, "node") for t in etypes]

    missing: list[str] = []
    extra_info: dict[str, Any] = {}
    node_kw: dict[str, Any] = {}
    if "feature.txt" in files:
        features, has_features, extra = _read_features(files["feature.txt"], ids)
        extra_info["feature_rows_not_in_graph"] = extra
        node_kw = {"features": features, "data": {"has_features": has_features}}
        if not has_features.all():
            missing.append(f"features: {int((~has_features).sum())} nodes have no row in feature.txt; "
                           "their features are zero (node data 'has_features' False)")
    else:
        missing.append(f"features: feature.txt (GATNE node attributes) absent; the {name} graph has no "
                       "node features (attribute-free multiplex link prediction only)")

    b = GraphBuilder(directed=False, duplicates="first", self_loops="keep")
    b.add_nodes("node", ids=ids, **node_kw)
    tr_type = type_idx[0]
    u, v = _as_keys([train[1], train[2]], as_int)
    train_rows = {}
    for k, et in enumerate(edge_types):
        sel = tr_type == k
        train_rows[et.rel] = int(sel.sum())
        b.add_edge_type(et)
        if sel.any():
            b.add_edges(u[sel], v[sel], etype=et, source=str(files["train.txt"]))

    info: dict[str, Any] = {
        "dataset": name,
        "source": f"{REPO}@{COMMIT} data/{name}/{{train,valid,test}}.txt",
        "citation": CITATION,
        "format": 'GATNE multiplex: train "<type> <u> <v>", valid/test "<type> <u> <v> <label>"',
        "folder": str(folder),
        "counting": ("num_edges = positive typed rows over train+valid+test = sum(info['train_rows']) + "
                     "positives of splits 'valid' and 'test'; the graph holds train edges only, a pair "
                     "listed in both orientations counted once (graph.num_undirected_edges(etype))"),
        "train_rows": train_rows,
        "split_edge_types": [tuple(et) for et in edge_types],
        "notes": ("edge types are undirected; some valid/test positives occur in train in the reverse "
                  "orientation (a property of the original files)"),
    }
    info.update(extra_info)
    b.info.update(info)
    graph = b.build()

    splits: dict[str, Any] = {}
    for j, (key, cols) in enumerate(splits_raw.items()):
        src, dst = _as_keys([cols[1], cols[2]], as_int)
        splits[key] = {
            "src": graph.lookup("node", src),
            "dst": graph.lookup("node", dst),
            "etype": type_idx[j + 1],
            "label": cols[3].astype(np.int64),
        }
    info["split_rows"] = {k: int(v["label"].size) for k, v in splits.items()}
    info["split_positives"] = {k: int(v["label"].sum()) for k, v in splits.items()}
    info["positive_typed_rows"] = n_train + sum(info["split_positives"].values())
    return Dataset(name=name, graph=graph, splits=splits, info=info, missing=missing)
