"""Writing walks: dense ids (.npy, Parquet) or the nodes' own external ids (Parquet, .txt, .npy + id map)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

CHUNK = 100_000  # walks converted to strings at a time


def id_keys(graph: Any) -> np.ndarray:
    """Key of each global node id: the external id (one node type) or ``"ntype:id"``."""
    parts = []
    for nt in graph.node_types:
        ext = np.asarray(graph.external_ids(nt)).astype(str)
        parts.append(ext if len(graph.node_types) == 1 else np.char.add(f"{nt}:", ext))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=str)


def _rows_as_keys(walks: np.ndarray, keys: np.ndarray, lo: int, hi: int) -> list[list[str]]:
    block = walks[lo:hi]
    return [keys[row[row >= 0]].tolist() for row in block]


def write_walks(graph: Any, walks: np.ndarray, out: Path, *, external: bool) -> str | None:
    """Write ``walks`` (global ids, -1 padded) to ``out`` atomically; returns the id-map path if one
    was written beside a ``.npy``."""
    suffix = out.suffix.lower()
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    extra = None
    try:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, walks)
            if external:
                ids_path = out.with_name(out.name + ".ids.txt")
                tmp_ids = ids_path.with_name(f".{ids_path.name}.tmp-{os.getpid()}")
                with open(tmp_ids, "w", encoding="utf-8") as f:
                    for k in id_keys(graph):
                        f.write(f"{k}\n")
                os.replace(tmp_ids, ids_path)
                extra = str(ids_path)
        elif suffix == ".txt":
            keys = id_keys(graph)
            with open(tmp, "w", encoding="utf-8") as f:
                for lo in range(0, walks.shape[0], CHUNK):
                    for row in _rows_as_keys(walks, keys, lo, lo + CHUNK):
                        f.write(" ".join(row) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if not external:
                flat = pa.array(np.ascontiguousarray(walks).reshape(-1))
                col = pa.FixedSizeListArray.from_arrays(flat, walks.shape[1])
                pq.write_table(pa.table({"walk": col}), tmp)
            else:
                keys = id_keys(graph)
                schema = pa.schema([("walk", pa.list_(pa.string()))])
                with pq.ParquetWriter(tmp, schema) as w:
                    for lo in range(0, max(walks.shape[0], 1), CHUNK):
                        rows = _rows_as_keys(walks, keys, lo, lo + CHUNK)
                        w.write_table(pa.table({"walk": pa.array(rows, type=pa.list_(pa.string()))}))
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return extra
