"""Stream edges from Parquet files batch by batch (``pyarrow.parquet.ParquetFile.iter_batches``).

Only the mapped columns are read; each batch is checked by the rules of
:mod:`vastgraph.graph.column_reader`, and a bad value raises a
:class:`~vastgraph.errors.ParseError` naming the file, the 1-based row and the column.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vastgraph.errors import DatasetError, ParseError, ValidationError
from vastgraph.graph.column_reader import ROLES, BadValue, coerce, finish_roles

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def parquet_files(path: Any) -> list[str]:
    """The files named by ``path``: one file, a list of files, or a folder of ``*.parquet`` files."""
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not paths:
        raise ValidationError("path: an empty list of Parquet files")
    out: list[str] = []
    for p in map(os.fspath, paths):
        if not os.path.exists(p):
            raise DatasetError(f"{p}: no such file or folder")
        if os.path.isdir(p):
            found = sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(PARQUET_SUFFIXES))
            if not found:
                raise DatasetError(f"{p}: folder holds no {'/'.join(PARQUET_SUFFIXES)} files")
            out.extend(found)
        else:
            out.append(p)
    return out


def resolve_parquet_columns(path: str, names: list[str], columns: dict[str, Any] | None,
                            weighted: bool | None, timestamped: bool | None) -> dict[str, str]:
    """Map each role to a column name of the file (by name, index, or convention).

    Convention (``columns=None``): columns named ``src``/``dst`` (and ``weight``, ``time``, ``rel``
    where present) if the file has ``src`` and ``dst``; else the first two columns, then the third as
    weight and the fourth as time, as for text edge lists.
    """
    cols: dict[str, str] = {}
    if columns is None:
        if "src" in names and "dst" in names:
            cols = {r: r for r in ROLES if r in names}
        else:
            if len(names) < 2:
                raise ParseError(f"has {len(names)} column(s); an edge list needs at least 2 (src, dst)",
                                 path=path)
            cols = {"src": names[0], "dst": names[1]}
            rest = iter(names[2:])
            for role, want in (("weight", weighted), ("time", timestamped)):
                if want is not False:
                    nxt = next(rest, None)
                    if nxt is not None:
                        cols[role] = nxt
    else:
        if not isinstance(columns, dict):
            raise ValidationError(f"columns={columns!r}: expected a mapping of role -> column name or index")
        for role, ref in columns.items():
            if role not in ROLES:
                raise ValidationError(f"columns: unknown role {role!r}; expected one of {', '.join(ROLES)}")
            if ref is None:
                continue
            if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
                if not 0 <= int(ref) < len(names):
                    raise ParseError(f"columns[{role!r}]={ref} but the file has {len(names)} columns "
                                     f"({', '.join(names)})", path=path, field=role)
                cols[role] = names[int(ref)]
            elif isinstance(ref, str):
                if ref not in names:
                    raise ParseError(f"column {ref!r} is not in the file (columns: {', '.join(names)})",
                                     path=path, field=role)
                cols[role] = ref
            else:
                raise ValidationError(f"columns[{role!r}]={ref!r}: expected a column name or index")
    return finish_roles(cols, columns, weighted, timestamped, str(path))


class ParquetEdgeReader:
    """Yield ``({role: array}, first row)`` chunks of one Parquet file.

    Args:
        path: the file.
        columns: role -> column name or index (see :func:`resolve_parquet_columns`).
        weighted, timestamped: None (by the columns), True (required) or False (ignored).
        id_mode: the builder's id mode.
        chunk_rows: rows per batch. Default 1,000,000.
    """

    def __init__(self, path: str, *, columns: dict[str, Any] | None = None, weighted: bool | None = None,
                 timestamped: bool | None = None, id_mode: str = "map", chunk_rows: int = 1_000_000) -> None:
        self.path = path
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ParseError(f"not a readable Parquet file ({exc})", path=path) from None
        self.names = list(self.file.schema_arrow.names)
        self.cols = resolve_parquet_columns(path, self.names, columns, weighted, timestamped)
        self.id_mode = id_mode
        self.chunk_rows = int(chunk_rows)
        self.num_rows = int(self.file.metadata.num_rows)

    def chunks(self) -> Iterator[tuple[dict[str, np.ndarray], int]]:
        wanted = list(dict.fromkeys(self.cols.values()))
        row = 0
        try:
            batches = self.file.iter_batches(batch_size=self.chunk_rows, columns=wanted)
            for batch in batches:
                chunk = {}
                for role, name in self.cols.items():
                    try:
                        chunk[role] = coerce(role, batch.column(name), id_mode=self.id_mode)
                    except BadValue as bad:
                        where = "" if bad.row is None else f"row {row + bad.row + 1}, "
                        raise ParseError(f"{where}column {name!r}: {bad.message}", path=self.path,
                                         field=role) from None
                if batch.num_rows:
                    yield chunk, row
                row += batch.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise ParseError(f"unreadable Parquet data after row {row} ({exc})", path=self.path) from None
