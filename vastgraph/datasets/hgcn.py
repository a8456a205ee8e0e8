"""HGCN's Airport and Disease (link-prediction variant) graphs, the hyperbolic-GNN benchmarks.

Chami, Ying, Ré, Leskovec, *Hyperbolic Graph Convolutional Neural Networks*, NeurIPS 2019
(repository ``HazyResearch/hgcn``, ``data/airport`` and ``data/disease_lp``).

**airport** (3,188 airports, flight routes, one self-loop row). Files, converted from HGCN's
pickled networkx graph ``airport.p`` so that no pickle is opened: ``airport.edges.txt`` (``u v`` per
line) and ``airport.feats.txt`` (``node f0 f1 f2 f3 f4`` per line); blank lines and ``#`` comments
are skipped. Loaded as node type ``"airport"`` (external ids = the pickle's node ids, dense ids in
the order of the features file) and one undirected edge type ``("airport", "route", "airport")``.
As in HGCN's node-classification loader, ``f0..f3`` are the features (float32 ``(n, 4)``) and
``f4`` (log population) is binned into the 4 classes ``np.digitize(f4, [7/7, 8/7, 9/7])``
(class ``k`` holds ``bins[k-1] <= f4 < bins[k]``). HGCN's ``bin_feat`` also subtracts the smallest
bin index, which is 0 on the full file; this loader keeps bin indices fixed so the class meanings do
not depend on which rows a file holds. ``f4`` itself is node data ``"f4"`` (HGCN's link-prediction
runs use all five columns as input).

**disease_lp** (2,665 nodes, a tree of 2,664 edges from an SIR disease-spreading simulation):
``disease_lp.edges.csv`` (``u,v``, no header, 0-based ids), ``disease_lp.feats.npz`` (scipy
sparse ``(n, 11)``, read with ``allow_pickle=False``), ``disease_lp.labels.npy`` (int ``(n,)``,
1 = infected). Loaded as node type ``"node"`` (dense ids = file ids) and one undirected edge type
``("node", "contact", "node")``.

Both keep self-loops and merge duplicate pairs, like the other loaders; ``num_undirected_edges()``
counts unique undirected edges excluding self-loops (the manifest's convention). No split is stored:
HGCN draws its 85/5/10 link-prediction edge split at random per run. ``info["reference"]`` holds
the published link-prediction ROC AUCs (percent).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.source import FileSpec, github_raw
from vastgraph.errors import DatasetError
from vastgraph.graph.builder import GraphBuilder

REPO = "HazyResearch/hgcn"
COMMIT = "3979184083dab35101bd635559cd496ec32cf334"  # serves data/disease_lp/ as at a526385
LABEL_BINS = (7.0 / 7, 8.0 / 7, 9.0 / 7)
AIRPORT_FILES = (  # converted from data/airport/airport.p: no public URL serves these two files
    FileSpec("airport.edges.txt", (), "7d9d093e2f0fefff9529fbe205b04c821f6c4809871abbf5edf3f2bcb6a5bfbe", 178738),
    FileSpec("airport.feats.txt", (), "62dbb09f345ac8a9cb7b851de72fa3887800ae269a45f345574517a9fcc2bb13", 303343),
)
DISEASE_FILES = tuple(
    FileSpec(f"disease_lp.{suffix}", (github_raw(REPO, COMMIT, f"data/disease_lp/disease_lp.{suffix}"),), sha, size)
    for suffix, sha, size in (
        ("edges.csv", "b5b7e41bbfd28fc7f61590e5587622103ee9c3aa1b59911c74873a6f328dca07", 22152),
        ("feats.npz", "b4a726b13598c036a75e1b49f08e92820553b972966ad950b8d4d5416eb339f8", 227859),
        ("labels.npy", "8f2b26602764fbb785b93775d9f71194f1f36920e185af8bc5c31aea07dde858", 21448),
    ))
CITATION = ("I. Chami, R. Ying, C. Ré, J. Leskovec. Hyperbolic Graph Convolutional Neural Networks. "
            "NeurIPS 2019.")
_HGCN_TABLE = "Chami et al., NeurIPS 2019, Table 2 (link prediction ROC AUC, 85/5/10 edge split)"
REFERENCE: dict[str, dict[str, Any]] = {
    "airport": {
        "metric": "link prediction ROC AUC (%)",
        "hgcn_table2": {"source": _HGCN_TABLE, "GCN": 89.3, "HNN": 90.8, "HGCN": 96.4},
        "curvlearn": {"source": "alibaba/Curvature-Learning-Framework README, airport link prediction",
                      "euclidean": 93.68, "poincare": 94.51, "stereographic": 95.13},
    },
    "disease_lp": {
        "metric": "link prediction ROC AUC (%)",
        "hgcn_table2": {"source": _HGCN_TABLE, "GCN": 64.7, "GAT": 69.8, "HNN": 75.1, "HGCN": 90.8},
    },
}
_FACTS: dict[str, dict[str, Any]] = {
    "airport": {"nodes": 3188, "undirected_edges": 18630, "self_loops": 1, "classes": 4, "features": 4,
                "task": "link prediction, node classification (binned log population)", "directed": False},
    "disease_lp": {"nodes": 2665, "undirected_edges": 2664, "classes": 2, "features": 11, "tree": True,
                   "task": "link prediction", "directed": False},
}
_DESCRIPTIONS = {
    "airport": "Airport flight-route network of HGCN (Chami et al. 2019), 4 population classes; files "
               "converted from HGCN's airport.p (no download URL: place them under $VASTGRAPH_DATA/airport/)",
    "disease_lp": "Disease-spreading tree of HGCN, link-prediction variant (Chami et al. 2019)",
}


def registry_entry(name: str) -> dict[str, Any]:
    """Keyword arguments of the registry's ``DatasetSpec`` for ``"airport"`` or ``"disease_lp"``."""
    loader, files = {"airport": (load_airport, AIRPORT_FILES), "disease_lp": (load_disease_lp, DISEASE_FILES)}[name]
    facts = dict(_FACTS[name], reference=REFERENCE[name])
    return {"description": _DESCRIPTIONS[name], "loader": loader, "files": files, "facts": facts}


# ------------------------------------------------------------------------------------ text tables
def _data_line(line: str) -> str:
    """``line`` without its ``#`` comment, stripped (empty: not a data line)."""
    return line.split("#", 1)[0].strip()


def _fields(text: str, sep: str | None) -> list[str]:
    return text.split() if sep is None else [t.strip() for t in text.split(sep)]


def _line_of_row(path: Path, row: int) -> int:
    """1-based line number of data row ``row`` (0-based) of ``path`` (blank and ``#`` lines skipped)."""
    seen = -1
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            if _data_line(line):
                seen += 1
                if seen == row:
                    return lineno
    return -1  # pragma: no cover - rows come from parsing the same file


def _raise_first_bad_line(path: Path, sep: str | None, names: tuple[str, ...], kinds: str) -> None:
    """Scan ``path`` line by line (the error path only) and raise naming the first bad line."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            text = _data_line(line)
            if not text:
                continue
            fields = _fields(text, sep)
            if len(fields) != len(names):
                raise DatasetError(f"{str(path)!r}: line {lineno}: {len(fields)} field(s) in {text[:80]!r}, "
                                   f"expected {len(names)} ({(sep or ' ').join(names)})")
            for name, kind, tok in zip(names, kinds, fields):
                try:
                    value = int(tok) if kind == "i" else float(tok)
                except ValueError:
                    what = "an integer" if kind == "i" else "a number"
                    raise DatasetError(f"{str(path)!r}: line {lineno}: {name} is {tok!r}; expected {what}") from None
                if kind == "f" and not math.isfinite(value):
                    raise DatasetError(f"{str(path)!r}: line {lineno}: {name} is {tok!r}; expected a finite number")
    raise DatasetError(f"{str(path)!r}: could not be read as a table of {(sep or ' ').join(names)} rows")


def read_table(path: Path, names: tuple[str, ...], kinds: str, sep: str | None = None) -> np.ndarray:
    """Data rows of a text table as a 2-D array (int64 when every column is an int, else float64).

    Blank lines and ``#`` comments are skipped. Args: ``names`` = column names (for messages),
    ``kinds`` = one letter per column, ``"i"`` (integer) or ``"f"`` (finite float); ``sep`` = the
    field separator (None: whitespace).

    Raises:
        DatasetError: the file is unreadable or holds no rows, or a line has another field count, a
            non-numeric field, a non-integer id or a NaN/inf (names the file and the line).
    """
    all_int = set(kinds) == {"i"}
    try:
        df = pd.read_csv(path, sep=r"\s+" if sep is None else sep, header=None, comment="#",
                         skip_blank_lines=True, dtype=np.int64 if all_int else np.float64, engine="c")
    except FileNotFoundError:
        raise DatasetError(f"{str(path)!r}: file not found") from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{str(path)!r}: the file holds no data rows ({(sep or ' ').join(names)})") from None
    except (ValueError, OverflowError, pd.errors.ParserError):
        df = None
    if df is not None and df.shape[1] == len(names):
        arr = df.to_numpy()
        if all_int:
            return arr
        int_cols = [j for j, k in enumerate(kinds) if k == "i"]
        if np.isfinite(arr).all() and np.all(arr[:, int_cols] == np.round(arr[:, int_cols])):
            return arr
    _raise_first_bad_line(path, sep, names, kinds)
    raise AssertionError("unreachable")  # pragma: no cover


def _check_ids_known(path: Path, edges: np.ndarray, known: np.ndarray, where: str) -> np.ndarray:
    """Positions of the edge endpoints in sorted ``known``; raises naming the first unknown id's line."""
    pos = np.searchsorted(known, edges)
    clipped = np.minimum(pos, max(known.size - 1, 0))
    bad = (pos >= known.size) | (known[clipped] != edges) if known.size else np.ones(edges.shape, bool)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise DatasetError(f"{str(path)!r}: line {_line_of_row(path, row)}: node {int(edges[row, col])} "
                           f"is not {where}")
    return pos


def _edge_stats(u: np.ndarray, v: np.ndarray, n: int) -> dict[str, Any]:
    from scipy.sparse.csgraph import connected_components

    a, b = np.minimum(u, v), np.maximum(u, v)
    loops = a == b
    pairs = np.unique(a[~loops] * n + b[~loops]).size
    m = sp.coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(n, n))
    comps = int(connected_components(m, directed=False)[0])
    touched = np.zeros(n, bool)
    touched[a], touched[b] = True, True
    return {"edge_rows": int(a.size), "self_loops": int(loops.sum()), "undirected_edges": int(pairs),
            "duplicate_rows": int((~loops).sum() - pairs), "isolated_nodes": int((~touched).sum()),
            "components": comps, "tree": bool(comps == 1 and pairs == n - 1 and not loops.any())}


# ---------------------------------------------------------------------------------------- loaders
def load_airport(name: str, files: dict[str, Path], folder: Path) -> Dataset:
    """Load HGCN's Airport graph from ``airport.edges.txt`` and ``airport.feats.txt``.

    Args:
        name: registry name (``"airport"``).
        files: ``{"airport.edges.txt": path, "airport.feats.txt": path}``.
        folder: the dataset folder (for provenance).

    Returns:
        A :class:`Dataset`: 3188 airports, 18630 undirected routes plus one self-loop, features
        float32 ``(3188, 4)``, labels int64 in 0..3 (521/1443/999/225), node data ``"f4"``.

    Raises:
        DatasetError: a malformed line, a duplicate node id in the features file, or an edge naming
            a node the features file does not list (names the file and the line).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "airport.edges.txt").write_text("# u v\\n10 20\\n20 30\\n30 30\\n")
        >>> _ = (folder / "airport.feats.txt").write_text(
        ...     "# node f0 f1 f2 f3 f4\\n10 0.1 0.2 0.3 0.4 0.9\\n20 0 0 0 0 1.2\\n30 1 1 1 1 1.3\\n")
        >>> files = {p.name: p for p in folder.iterdir()}
        >>> ds = load_airport("airport", files, folder)
        >>> ds.graph.num_undirected_edges(), ds.info["self_loops"], ds.graph.labels().tolist()
        (2, 1, [0, 2, 3])
        >>> ds.graph.features().shape  # the full files: (3188, 4), 18630 routes, 1 self-loop
        (3, 4)
    """
    epath, fpath = files["airport.edges.txt"], files["airport.feats.txt"]
    feats = read_table(fpath, ("node", "f0", "f1", "f2", "f3", "f4"), "ifffff")
    edges = read_table(epath, ("u", "v"), "ii")
    ids = feats[:, 0].astype(np.int64)
    order = np.argsort(ids, kind="stable")
    dup = np.flatnonzero(np.diff(ids[order]) == 0)
    if dup.size:
        row = int(order[dup[0] + 1])
        raise DatasetError(f"{str(fpath)!r}: line {_line_of_row(fpath, row)}: node {int(ids[row])} is listed twice")
    pos = _check_ids_known(epath, edges, ids[order], f"listed in {fpath.name}")
    dense = order[pos]  # dense id = row of the features file
    f4 = feats[:, 5]
    labels = np.digitize(f4, LABEL_BINS).astype(np.int64)
    stats = _edge_stats(dense[:, 0], dense[:, 1], ids.size)

    b = GraphBuilder(directed=False, duplicates="first", self_loops="keep")
    b.add_nodes("airport", ids=ids, features=feats[:, 1:5].astype(np.float32), labels=labels, data={"f4": f4})
    u, v = edges[:, 0], edges[:, 1]
    b.add_edges(np.where(dense[:, 0] <= dense[:, 1], u, v), np.where(dense[:, 0] <= dense[:, 1], v, u),
                etype=("airport", "route", "airport"), source=str(epath))
    info: dict[str, Any] = {
        "dataset": name,
        "source": f"{REPO}@a526385 data/airport/airport.p (converted: edge list + 'feat' node attribute)",
        "original": "https://github.com/HazyResearch/hgcn",
        "citation": CITATION,
        "format": "edge list 'u v' + features 'node f0..f4' (one # line each)",
        "folder": str(folder),
        "counting": "num_edges = graph.num_undirected_edges() (unique undirected edges excluding self-loops; "
                    "the self-loop row is kept in the graph)",
        **stats,
        "label_bins": list(LABEL_BINS),
        "class_counts": np.bincount(labels, minlength=len(LABEL_BINS) + 1).tolist(),
        "classes": {"0": "f4 < 1", "1": "1 <= f4 < 8/7", "2": "8/7 <= f4 < 9/7", "3": "f4 >= 9/7"},
        "reference": REFERENCE["airport"],
        "notes": "features = f0..f3 (float32); f4 (log population) is node data 'f4' and, binned, the label; "
                 "dense ids in features-file order; no split stored (HGCN draws 85/5/10 per run)",
    }
    b.info.update(info)
    return Dataset(name=name, graph=b.build(), splits={}, info=info, missing=[])


def _load_npz_features(path: Path) -> sp.csr_matrix:
    try:
        mat = sp.load_npz(path)
    except FileNotFoundError:
        raise DatasetError(f"{str(path)!r}: file not found") from None
    except Exception as exc:  # zipfile.BadZipFile, ValueError, KeyError, OSError ... on bad input
        raise DatasetError(f"{str(path)!r}: not a scipy sparse .npz matrix (truncated or corrupt?): "
                           f"{type(exc).__name__}: {exc}") from exc
    if mat.ndim != 2 or mat.dtype.kind not in "fiub":
        raise DatasetError(f"{str(path)!r}: holds a {mat.dtype} matrix of shape {mat.shape}, expected 2-D numbers")
    mat = sp.csr_matrix(mat, dtype=np.float64)
    if not np.isfinite(mat.data).all():
        row = int(np.searchsorted(mat.indptr, int(np.flatnonzero(~np.isfinite(mat.data))[0]), side="right") - 1)
        raise DatasetError(f"{str(path)!r}: row {row} holds NaN/inf")
    return mat


def _load_npy_labels(path: Path, n: int) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DatasetError(f"{str(path)!r}: file not found") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DatasetError(f"{str(path)!r}: not a .npy array without pickles (truncated or corrupt?): {exc}") from exc
    if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype.kind not in "iub":
        raise DatasetError(f"{str(path)!r}: holds a {getattr(arr, 'dtype', type(arr).__name__)} array of shape "
                           f"{getattr(arr, 'shape', None)}, expected integer labels of shape ({n},)")
    if arr.shape[0] != n:
        raise DatasetError(f"{str(path)!r}: {arr.shape[0]} labels, expected {n} (one per features row)")
    if arr.size and arr.min() < 0:
        raise DatasetError(f"{str(path)!r}: position {int(np.argmin(arr))} holds label {int(arr.min())} < 0")
    return arr.astype(np.int64)


def load_disease_lp(name: str, files: dict[str, Path], folder: Path) -> Dataset:
    """Load HGCN's Disease graph (link-prediction variant) from its csv / npz / npy files.

    Args:
        name: registry name (``"disease_lp"``).
        files: paths of ``disease_lp.edges.csv``, ``disease_lp.feats.npz``, ``disease_lp.labels.npy``.
        folder: the dataset folder (for provenance).

    Returns:
        A :class:`Dataset`: 2665 nodes, a tree of 2664 undirected edges, features float32
        ``(2665, 11)``, labels int64 in {0, 1}.

    Raises:
        DatasetError: a malformed csv line or an edge naming a node outside ``0..n-1`` (names the
            file and the line), an unreadable npz/npy, or labels whose length differs from n.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "disease_lp.edges.csv").write_text("0,1\\n0,2\\n2,3\\n")
        >>> sp.save_npz(folder / "disease_lp.feats.npz", sp.csr_matrix(np.eye(4)))
        >>> np.save(folder / "disease_lp.labels.npy", np.array([1, 1, 0, 0]))
        >>> ds = load_disease_lp("disease_lp", {p.name: p for p in folder.iterdir()}, folder)
        >>> ds.graph.num_undirected_edges(), ds.info["tree"], ds.graph.num_classes()  # full: 2664, True, 2
        (3, True, 2)
    """
    epath = files["disease_lp.edges.csv"]
    fpath, lpath = files["disease_lp.feats.npz"], files["disease_lp.labels.npy"]
    feats = _load_npz_features(fpath)
    n = feats.shape[0]
    labels = _load_npy_labels(lpath, n)
    edges = read_table(epath, ("u", "v"), "ii", sep=",")
    _check_ids_known(epath, edges, np.arange(n, dtype=np.int64), f"in 0..{n - 1} ({fpath.name} has {n} rows)")
    u, v = edges[:, 0], edges[:, 1]
    stats = _edge_stats(u, v, n)

    b = GraphBuilder(directed=False, duplicates="first", self_loops="keep", id_mode="dense")
    b.add_nodes("node", count=n, features=feats.toarray().astype(np.float32), labels=labels)
    b.add_edges(np.minimum(u, v), np.maximum(u, v), etype=("node", "contact", "node"), source=str(epath))
    info: dict[str, Any] = {
        "dataset": name,
        "source": f"{REPO}@a526385 data/disease_lp/ (the three files byte for byte)",
        "original": "https://github.com/HazyResearch/hgcn",
        "citation": CITATION,
        "format": "edges 'u,v' csv + scipy sparse features npz + labels npy",
        "folder": str(folder),
        "counting": "num_edges = graph.num_undirected_edges()",
        **stats,
        "class_counts": np.bincount(labels).tolist(),
        "classes": {"0": "not infected", "1": "infected (SIR simulation)"},
        "reference": REFERENCE["disease_lp"],
        "notes": "features are real-valued (11 columns); dense ids = file ids; no split stored "
                 "(HGCN draws its link-prediction split per run)",
    }
    b.info.update(info)
    return Dataset(name=name, graph=b.build(), splits={}, info=info, missing=[])
