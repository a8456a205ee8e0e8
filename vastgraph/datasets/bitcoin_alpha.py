"""Bitcoin Alpha trust network (SNAP ``soc-sign-bitcoinalpha``): signed, weighted, timestamped.

Kumar, Spezzano, Subrahmanian, Faloutsos, *Edge Weight Prediction in Weighted Signed Networks*,
ICDM 2016; Kumar et al., *REV2: Fraudulent User Prediction in Rating Platforms*, WSDM 2018.

File ``soc-sign-bitcoinalpha.csv``: no header, ``SOURCE,TARGET,RATING,TIME`` per line; rater ->
ratee, rating an integer in [-10, 10] \\ {0}, time in Unix seconds (day resolution). Loaded as one
directed edge type ``("user", "rates", "user")`` with weight = rating (float32; the sign is data,
negative = distrust) and time = int64 seconds. External ids are the original ints (non-contiguous);
dense ids follow ascending external id.
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

SNAP_URL = "https://snap.stanford.edu/data/soc-sign-bitcoinalpha.csv.gz"
MIRROR = ("sonijindal/influence_maximization", "bf24f47a8feb0a7fbe41635bf72ebb337f2e3e0e")
FILES = (
    FileSpec("soc-sign-bitcoinalpha.csv",
             (SNAP_URL, github_raw(*MIRROR, "soc-sign-bitcoinalpha.csv")),
             "1b2a970f327d0ceba0c57bd5919670257cbe4cc0704e2ddac09abc4b08e2ca4d", 503131),
)
CITATION = ("S. Kumar, F. Spezzano, V. S. Subrahmanian, C. Faloutsos. Edge Weight Prediction in Weighted "
            "Signed Networks. ICDM 2016. S. Kumar et al. REV2: Fraudulent User Prediction in Rating "
            "Platforms. WSDM 2018.")
COLUMNS = ("source", "target", "rating", "time")


def read_signed_csv(path: Path) -> pd.DataFrame:
    """Read a headerless ``SOURCE,TARGET,RATING,TIME`` file into four int64 columns.

    Raises:
        DatasetError: a line with another field count or a non-integer field (names file and line).
    """
    opts = dict(header=None, names=list(COLUMNS), sep=",", skip_blank_lines=True, engine="c")
    try:
        df = pd.read_csv(path, dtype=np.int64, **opts)
        if df.shape[0] == 0:
            raise DatasetError(f"{str(path)!r}: the file is empty (no rating rows)")
        if df.isna().any().any():
            raise ValueError("missing fields")
        return df
    except ValueError:
        pass  # find the first bad row below, for the message
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{str(path)!r}: the file is empty") from None
    try:
        df = pd.read_csv(path, dtype=str, **opts)
    except pd.errors.ParserError as exc:
        raise DatasetError(f"{str(path)!r}: malformed CSV ({exc}); expected SOURCE,TARGET,RATING,TIME") from exc
    out = {}
    for col in COLUMNS:
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna().to_numpy() | (num.to_numpy(dtype=float, na_value=0.5) % 1 != 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            val = df[col].iloc[i]
            shown = "missing" if pd.isna(val) else repr(val)
            raise DatasetError(f"{str(path)!r}: line {i + 1}: {col.upper()} is {shown}; expected an integer")
        out[col] = num.to_numpy().astype(np.int64)
    return pd.DataFrame(out)


def load_bitcoin_alpha(name: str, files: dict[str, Path], folder: Path) -> Dataset:
    """Load the Bitcoin Alpha signed trust network.

    Args:
        name: registry name (``"bitcoin-alpha"``).
        files: ``{"soc-sign-bitcoinalpha.csv": path}``.
        folder: the dataset folder (for provenance).

    Returns:
        A :class:`Dataset`: 3783 users, 24186 directed edges with float32 ratings and int64 times.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> csv = folder / "soc-sign-bitcoinalpha.csv"
        >>> _ = csv.write_text("7,9,4,1289241911\\n9,7,-2,1289241942\\n7,12,10,1289243140\\n")
        >>> ds = load_bitcoin_alpha("bitcoin-alpha", {csv.name: csv}, folder)
        >>> ds.graph.num_nodes(), int((ds.graph.coo().weight < 0).sum())  # the full file: 3783, 1536
        (3, 1)
    """
    path = files["soc-sign-bitcoinalpha.csv"]
    df = read_signed_csv(path)
    src, dst = df["source"].to_numpy(), df["target"].to_numpy()
    rating, time = df["rating"].to_numpy(), df["time"].to_numpy()
    ids = np.unique(np.concatenate([src, dst]))
    b = GraphBuilder(directed=True, duplicates="keep", self_loops="keep")
    b.add_nodes("user", ids=ids)
    b.add_edges(src, dst, etype=("user", "rates", "user"), weight=rating.astype(np.float32), time=time,
                source=str(path))
    key = np.unique(src * (ids.max() + 1) + dst) if src.size else src
    info: dict[str, Any] = {
        "dataset": name,
        "source": f"{MIRROR[0]}@{MIRROR[1]} soc-sign-bitcoinalpha.csv (raw SNAP file)",
        "original": "https://snap.stanford.edu/data/soc-sign-bitcoin-alpha.html",
        "citation": CITATION,
        "format": "csv no header: SOURCE,TARGET,RATING,TIME (epoch seconds)",
        "folder": str(folder),
        "counting": "num_edges = graph.num_edges() (directed rows)",
        "signed": True,
        "positive_ratings": int((rating > 0).sum()),
        "negative_ratings": int((rating < 0).sum()),
        "duplicate_pairs": int(src.size - key.size),
        "time_min": int(time.min()) if time.size else None,
        "time_max": int(time.max()) if time.size else None,
        "notes": "weight = rating (may be negative; the sign is data); day-resolution timestamps; "
                 "dense ids in ascending order of the original ids",
    }
    b.info.update(info)
    return Dataset(name=name, graph=b.build(), splits={}, info=info, missing=[])
