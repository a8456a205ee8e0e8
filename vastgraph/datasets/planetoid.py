"""Cora, CiteSeer and PubMed in the Planetoid ``ind.<name>.*`` format.

Yang, Cohen, Salakhutdinov, *Revisiting Semi-Supervised Learning with Graph Embeddings*, ICML 2016;
the canonical assembly (test-index reordering, zero padding) is Kipf & Welling's GCN loader
(ICLR 2017). Files: ``x``/``y`` (train features / one-hot labels), ``allx``/``ally`` (all non-test
nodes, ids ``0..n_allx-1``), ``tx``/``ty`` (test nodes, row ``i`` = node ``test.index[i]``),
``graph`` (``defaultdict(list)`` adjacency), ``test.index`` (text).

Assembly: ``features[0:n_allx] = allx``; ``features[test.index[i]] = tx[i]``; likewise labels from
``ally``/``ty`` (argmax of the one-hot rows; -1 where a node has no label row). Ids in the test range
that ``test.index`` does not list (15 in CiteSeer) keep zero features and label -1. When ``allx`` is
absent (PubMed here) only ``x`` (ids ``0..n_train-1``) and ``tx`` provide features; every other
row is zero. Node data ``has_features`` (bool) marks rows that came from a file. The adjacency is
symmetrised, duplicates merged, self-loops kept (CiteSeer: 124, PubMed: 3).

Standard split: train = ``0..n_train-1``, val = ``n_train..n_train+499``, test = ``test.index``;
also stored as node data ``train_mask``, ``val_mask``, ``test_mask``.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.safe_pickle import load_pickle
from vastgraph.datasets.source import FileSpec, github_raw
from vastgraph.errors import DatasetError
from vastgraph.graph.builder import GraphBuilder

REPO = "kimiyoung/planetoid"
COMMIT = "af6abf468a772cc055bec88c52e4d6f51b7c37e3"
N_VAL = 500

# (suffix, size, sha256); from the dataset READMEs (verified byte-identical to the source blobs)
_CHECKSUMS: dict[str, list[tuple[str, int, str]]] = {
    "cora": [
        ("x", 22119, "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab"),
        ("y", 4054, "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1"),
        ("tx", 148025, "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a"),
        ("ty", 28135, "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad"),
        ("allx", 257305, "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543"),
        ("ally", 47959, "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71"),
        ("graph", 59847, "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d"),
        ("test.index", 5000, "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875"),
    ],
    "citeseer": [
        ("x", 31087, "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6"),
        ("y", 3014, "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924"),
        ("tx", 260321, "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21"),
        ("ty", 24135, "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce"),
        ("allx", 595021, "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668"),
        ("ally", 55623, "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95"),
        ("graph", 61987, "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7"),
        ("test.index", 5000, "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4"),
    ],
    "pubmed": [
        ("x", 23172, "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33"),
        ("y", 854, "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3"),
        ("tx", 405505, "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d"),
        ("ty", 12135, "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd"),
        ("ally", 224739, "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e"),
        ("graph", 471808, "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9"),
        ("test.index", 6000, "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5"),
    ],
}
# ind.pubmed.allx is absent from the shared copy; only its git blob id is known.
_PUBMED_ALLX_BLOB = "3b86bccf08111c37c632a9dd8ab63db25ea76361"

CITATIONS = {
    "cora": "Z. Yang, W. W. Cohen, R. Salakhutdinov. Revisiting Semi-Supervised Learning with Graph "
            "Embeddings. ICML 2016. Original data: A. McCallum et al., Automating the construction of "
            "internet portals with machine learning, Information Retrieval 2000.",
    "citeseer": "Z. Yang, W. W. Cohen, R. Salakhutdinov. Revisiting Semi-Supervised Learning with Graph "
                "Embeddings. ICML 2016. Original data: P. Sen et al., Collective Classification in "
                "Network Data, AI Magazine 2008.",
    "pubmed": "Z. Yang, W. W. Cohen, R. Salakhutdinov. Revisiting Semi-Supervised Learning with Graph "
              "Embeddings. ICML 2016. Original data: G. Namata et al., Query-driven Active Surveying "
              "for Collective Classification, MLG 2012.",
}


def planetoid_files(name: str) -> tuple[FileSpec, ...]:
    """File specs of Planetoid dataset ``name`` (``cora``, ``citeseer`` or ``pubmed``)."""
    specs = [FileSpec(f"ind.{name}.{suf}", (github_raw(REPO, COMMIT, f"data/ind.{name}.{suf}"),), sha, size)
             for suf, size, sha in _CHECKSUMS[name]]
    if name == "pubmed":
        specs.append(FileSpec("ind.pubmed.allx", (github_raw(REPO, COMMIT, "data/ind.pubmed.allx"),),
                              git_blob=_PUBMED_ALLX_BLOB, optional=True))
    return tuple(specs)


def _read_index(path: Path) -> np.ndarray:
    text = path.read_text(encoding="latin1")
    try:
        return np.array(text.split(), dtype=np.int64)
    except ValueError:
        for lineno, line in enumerate(text.splitlines(), 1):
            try:
                int(line.strip() or 0)
            except ValueError:
                raise DatasetError(
                    f"{str(path)!r}: line {lineno}: {line.strip()!r} is not an integer node id") from None
        raise DatasetError(f"{str(path)!r}: not a list of integer node ids") from None


def _matrix(obj: Any, path: Path, rows: int | None = None) -> sp.csr_matrix:
    if sp.issparse(obj):
        try:
            m = sp.csr_matrix((np.asarray(obj.data, np.float32), np.asarray(obj.indices), np.asarray(obj.indptr)),
                              shape=obj.shape) if obj.format == "csr" else sp.csr_matrix(obj, dtype=np.float32)
        except (ValueError, TypeError, AttributeError) as exc:
            raise DatasetError(f"{str(path)!r}: inconsistent sparse matrix ({exc})") from exc
    elif isinstance(obj, np.ndarray) and obj.ndim == 2:
        m = sp.csr_matrix(obj.astype(np.float32))
    else:
        raise DatasetError(f"{str(path)!r}: holds {type(obj).__name__}, expected a 2-D feature matrix")
    if rows is not None and m.shape[0] != rows:
        raise DatasetError(f"{str(path)!r}: {m.shape[0]} rows, expected {rows}")
    return m


def _onehot(obj: Any, path: Path, rows: int | None = None) -> np.ndarray:
    if not isinstance(obj, np.ndarray) or obj.ndim != 2 or obj.dtype.kind not in "iufb":
        raise DatasetError(f"{str(path)!r}: holds {type(obj).__name__} "
                           f"{getattr(obj, 'shape', '')}, expected a 2-D one-hot label array")
    if rows is not None and obj.shape[0] != rows:
        raise DatasetError(f"{str(path)!r}: {obj.shape[0]} rows, expected {rows}")
    lab = np.argmax(obj, axis=1).astype(np.int64)
    lab[~np.any(obj > 0, axis=1)] = -1
    return lab


def _adjacency(obj: Any, path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(obj, dict):
        raise DatasetError(f"{str(path)!r}: holds {type(obj).__name__}, expected a dict of adjacency lists")
    try:
        keys = np.fromiter(obj.keys(), dtype=np.int64, count=len(obj))
        lens = np.fromiter(map(len, obj.values()), dtype=np.int64, count=len(obj))
        nbrs = np.fromiter(itertools.chain.from_iterable(obj.values()), dtype=np.int64, count=int(lens.sum()))
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{str(path)!r}: adjacency lists must map int node ids to lists of ints ({exc})") from exc
    src = np.repeat(keys, lens)
    if src.size and min(src.min(), nbrs.min()) < 0:
        raise DatasetError(f"{str(path)!r}: negative node id in adjacency lists")
    return src, nbrs


def load_planetoid(name: str, files: dict[str, Path], folder: Path) -> Dataset:
    """Assemble a Planetoid dataset from its ``ind.<name>.*`` files (see the module docstring).

    Args:
        name: ``"cora"``, ``"citeseer"`` or ``"pubmed"``.
        files: ``{file name: path}`` as found by :func:`~vastgraph.datasets.source.locate_files`;
            ``ind.<name>.allx`` may be absent.
        folder: the dataset folder (for provenance).

    Returns:
        A :class:`Dataset` with one node type ``"node"`` and one undirected edge type
        ``("node", "cites", "node")``; features float32 ``(n, F)``; labels int64 ``(n,)``.

    Example:
        >>> ds = load_dataset("cora")  # doctest: +SKIP
        >>> ds.graph.num_undirected_edges(), ds.splits["train"].shape  # doctest: +SKIP
        (5278, (140,))
    """
    def path(suf: str) -> Path:
        return files[f"ind.{name}.{suf}"]

    x = _matrix(load_pickle(path("x")), path("x"))
    n_train, n_feat = x.shape
    y = _onehot(load_pickle(path("y")), path("y"), rows=n_train)
    tx = _matrix(load_pickle(path("tx")), path("tx"))
    ty = _onehot(load_pickle(path("ty")), path("ty"), rows=tx.shape[0])
    ally = _onehot(load_pickle(path("ally")), path("ally"))
    n_allx = ally.shape[0]
    has_allx = f"ind.{name}.allx" in files
    allx = _matrix(load_pickle(path("allx")), path("allx"), rows=n_allx) if has_allx else None
    test_idx = _read_index(path("test.index"))
    if test_idx.shape[0] != tx.shape[0]:
        raise DatasetError(f"{str(path('test.index'))!r}: {test_idx.shape[0]} ids but "
                           f"{str(path('tx'))!r} has {tx.shape[0]} rows")
    src, dst = _adjacency(load_pickle(path("graph")), path("graph"))
    for m, what in ((tx, "tx"), (allx, "allx")):
        if m is not None and m.shape[1] != n_feat:
            raise DatasetError(f"{str(path(what))!r}: {m.shape[1]} feature columns, but "
                               f"{str(path('x'))!r} has {n_feat}")
    n = int(max(src.max(initial=-1), dst.max(initial=-1), test_idx.max(initial=-1), n_allx - 1)) + 1
    if test_idx.size and test_idx.min() < n_allx:
        raise DatasetError(f"{str(path('test.index'))!r}: test id {int(test_idx.min())} overlaps the "
                           f"allx/ally ids 0..{n_allx - 1}")

    features = np.zeros((n, n_feat), dtype=np.float32)
    has_features = np.zeros(n, dtype=bool)
    if allx is not None:
        features[:n_allx] = allx.toarray()
        has_features[:n_allx] = True
    else:
        features[:n_train] = x.toarray()
        has_features[:n_train] = True
    features[test_idx] = tx.toarray()
    has_features[test_idx] = True
    labels = np.full(n, -1, dtype=np.int64)
    labels[:n_allx] = ally
    labels[test_idx] = ty
    if not np.array_equal(labels[:n_train], y):
        raise DatasetError(f"{str(path('y'))!r}: training labels disagree with {str(path('ally'))!r}")

    train = np.arange(n_train, dtype=np.int64)
    val = np.arange(n_train, min(n_train + N_VAL, n_allx), dtype=np.int64)
    test = np.sort(test_idx)
    masks = {}
    for key, idx in (("train_mask", train), ("val_mask", val), ("test_mask", test)):
        masks[key] = np.zeros(n, dtype=bool)
        masks[key][idx] = True
    masks["has_features"] = has_features

    loops = src == dst
    test_range = np.arange(n_allx, n)
    unlisted = np.setdiff1d(test_range, test_idx)
    missing: list[str] = []
    if unlisted.size:
        missing.append(
            f"features and labels: {unlisted.size} node ids in the test range {n_allx}..{n - 1} are in no "
            f"feature/label file (ids {unlisted[:20].tolist()}{' ...' if unlisted.size > 20 else ''}); "
            "their features are zero (node data 'has_features' False) and their labels -1; they do have edges")
    if allx is None:
        no_feat = int((~has_features).sum())
        missing.append(
            f"features: ind.{name}.allx absent; features exist only for the {n_train} train + "
            f"{test_idx.size} test nodes; the other {no_feat} rows are zero and flagged False by node "
            "data 'has_features' (graph and all labels are complete)")

    b = GraphBuilder(directed=False, duplicates="first", self_loops="keep", id_mode="dense")
    b.add_nodes("node", count=n, features=features, labels=labels, data=masks)
    b.add_edges(np.minimum(src, dst), np.maximum(src, dst), etype=("node", "cites", "node"),
                source=str(path("graph")))
    info: dict[str, Any] = {
        "dataset": name,
        "source": f"{REPO}@{COMMIT} data/ind.{name}.*",
        "citation": CITATIONS.get(name, ""),
        "format": "planetoid-ind",
        "folder": str(folder),
        "counting": "num_edges = graph.num_undirected_edges() (unique undirected edges, self-loops excluded)",
        "adjacency_entries": int(src.size),
        "self_loop_nodes": int(np.unique(src[loops]).size),
        "num_features": int(n_feat),
        "split": {"train": int(train.size), "val": int(val.size), "test": int(test.size)},
        "notes": ("adjacency symmetrised, duplicate entries merged, self-loops kept; labels are argmax of "
                  "the one-hot rows, -1 where a node has none"),
    }
    b.info.update(info)
    graph = b.build()
    return Dataset(name=name, graph=graph, splits={"train": train, "val": val, "test": test},
                   info=info, missing=missing)
