"""Stream an edge-list text file in chunks of parsed columns, with exact line numbers on errors.

Three tiers share one definition of a valid line (:class:`LineChecker`):

* **numba tier** (the fast path): when every used column is numeric (integer ids, float weight,
  integer time, integer relation labels) and the delimiter is whitespace or one byte, the file is
  memory-mapped and each chunk is parsed by two parallel numba passes (count lines per block, then
  parse each block into preallocated arrays). Blank lines, comment lines and inline comments are
  handled in the kernel; the first line it cannot take is checked in Python.
* **pandas tier**: everything else (string ids or relations, multi-character delimiters, quoted
  fields ...) and the rest of a file from the first line the kernel could not take:
  ``pandas.read_csv(chunksize=..., engine="c")`` with vectorised checks per chunk.
* **precise pass**, on the error path only: a Python scan from the failing chunk that counts
  physical lines and re-checks each data line, to name the file, the 1-based line and the field.

A line is *data* unless it is blank or starts (after leading whitespace) with the comment
character; text from the comment character on is ignored. Every field must be non-empty.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
import mmap
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numba as nb
import numpy as np
import pandas as pd

from vastgraph.errors import DatasetError, EmptyInputError, ParseError, ValidationError
from vastgraph.graph.column_reader import finish_roles
from vastgraph.graph.schema import check_name
from vastgraph.graph.text_kernels import K_FLOAT, K_ID, K_INT, K_REL, count_newlines, parse_block

ROLES = ("src", "dst", "weight", "time", "rel")
F32_MAX = float(np.finfo(np.float32).max)
I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1
_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_CANON_RE = re.compile(r"(0|[1-9][0-9]*)\Z")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_WS_RE = re.compile(r"[ \t]+")
_NONFINITE_RE = re.compile(r"[+-]?(?:nan|inf|infinity)\Z", re.IGNORECASE)
SAMPLE_ROWS = 1000


# =========================================================================== layout and checks
@dataclass
class TextLayout:
    """What the first lines of a file say about it: dialect, columns, kinds and data start."""

    path: str
    size: int
    delimiter: str | None
    comment: str | None
    ncols: int
    names: list[str] | None
    cols: dict[str, int]
    kinds: dict[str, str]
    data_offset: int
    data_line: int
    first_row_line: int
    avg_line: float


class LineChecker:
    """The one definition of a valid data line; returns ``(field, message)`` for a bad one."""

    def __init__(self, lay: TextLayout, id_mode: str, id_dtype: str) -> None:
        self.lay = lay
        self.id_mode = id_mode
        self.id_dtype = id_dtype
        d = lay.delimiter
        if d is None:  # pandas' whitespace mode splits on runs of spaces and tabs only
            self.split: Callable[[str], list[str]] = lambda s: _WS_RE.split(s.strip(" \t\r\n"))
        elif len(d) == 1:
            self.split = lambda s: next(csv.reader([s], delimiter=d, quotechar='"'), [])
        else:
            self.split = lambda s: s.split(d)
        self.role_of = {c: r for r, c in lay.cols.items()}

    def content(self, text: str) -> str:
        """The line without its comment part and line end."""
        c = self.lay.comment
        if c:
            k = text.find(c)
            if k >= 0:
                text = text[:k]
        return text.rstrip("\r\n")

    def _field_name(self, col: int) -> str:
        return self.role_of.get(col, f"column {col + 1}")

    def check(self, fields: list[str]) -> tuple[str | None, str] | None:
        n, want = len(fields), self.lay.ncols
        if n != want:
            where = self._field_name(min(n, want))
            return where, f"the line has {n} field(s), expected {want}" + (
                " (too few)" if n < want else " (too many)")
        for col, raw in enumerate(fields):
            if raw == "":
                return self._field_name(col), "empty field"
        for role, col in self.lay.cols.items():
            bad = self._check_value(role, fields[col])
            if bad:
                return role, bad
        return None

    def _check_value(self, role: str, raw: str) -> str | None:
        kind = self.lay.kinds[role]
        v = raw.strip(" \t")
        if role in ("src", "dst"):
            if kind == "str":
                return None
            if not _INT_RE.match(v) or not I64_MIN <= int(v) <= I64_MAX:
                if self.id_mode == "dense":
                    return f"{raw!r} is not an integer (id_mode='dense' needs non-negative integer ids)"
                if self.id_dtype == "int":
                    return f"{raw!r} is not an integer (id_dtype='int')"
                return (f"{raw!r} is not an integer, but the ids before it were read as integers; "
                        "pass id_dtype='str' to read all ids as strings")
            if self.id_mode == "dense" and int(v) < 0:
                return f"{raw!r} is a negative id (id_mode='dense' needs non-negative integer ids)"
            return None
        if role == "weight":
            if _NONFINITE_RE.match(v):
                return f"{raw!r} is not a finite number"
            if not _NUM_RE.match(v):
                return f"{raw!r} is not a number"
            with np.errstate(over="ignore"):
                x = np.float32(float(v))
            if not np.isfinite(x):
                return f"{raw!r} overflows float32 (weights are stored as float32, max {F32_MAX:.4g})"
            return None
        if role == "time":
            if not _INT_RE.match(v):
                return f"{raw!r} is not an integer (time is integer seconds)"
            if not I64_MIN <= int(v) <= I64_MAX:
                return f"{raw!r} does not fit in int64 seconds"
            return None
        try:  # rel
            check_name("relation", raw)
        except ValidationError:
            return f"{raw!r} is not a usable relation name (no ':', '/', '\\\\', tab or newline)"
        return None


def _sniff_int(values: list[str]) -> bool:
    return all(_INT_RE.match(v.strip(" \t")) and I64_MIN <= int(v) <= I64_MAX for v in values)


def sniff(path: Any, *, delimiter: str | None, comment: str | None, header: bool,
          columns: dict[str, int | str] | None, weighted: bool | None, timestamped: bool | None,
          id_mode: str, id_dtype: str, same_node_type: bool) -> TextLayout:
    """Read the first lines of ``path``: leading comments, header, column count and kinds."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise DatasetError(f"{p}: no such file")
    if os.path.isdir(p):
        raise DatasetError(f"{p}: is a folder, expected an edge-list file")
    if delimiter is not None and (not isinstance(delimiter, str) or delimiter == ""
                                  or any(c in delimiter for c in "\r\n\"")):
        raise ValidationError(f"delimiter={delimiter!r}: expected None (any whitespace) or a "
                              "non-empty string without quotes or line breaks")
    if comment is not None and comment != "" and (not isinstance(comment, str) or len(comment) != 1
                                                   or comment in "\r\n\"" or comment == delimiter):
        raise ValidationError(f"comment={comment!r}: expected one character (or None for no comments)")
    lay = TextLayout(p, os.path.getsize(p), delimiter, comment or None, 0, None, {}, {}, 0, 1, 0, 1.0)
    chk = LineChecker(lay, id_mode, id_dtype)
    rows: list[list[str]] = []
    n_bytes = 0
    offset, line, header_line = 0, 0, 0
    with open(p, "rb") as fh:
        if fh.read(3) == b"\xef\xbb\xbf":  # a UTF-8 byte-order mark is not data
            offset = lay.data_offset = 3
        fh.seek(offset)
        for raw in fh:
            line += 1
            offset += len(raw)
            text = _decode(raw, p, line)
            content = chk.content(text)
            if not content.strip():
                if not lay.names and not rows:
                    lay.data_offset, lay.data_line = offset, line + 1
                continue
            if header and lay.names is None:
                lay.names = [s.strip() for s in chk.split(content)]
                lay.data_offset, lay.data_line, header_line = offset, line + 1, line
                continue
            if not rows:
                lay.first_row_line = line
            rows.append(chk.split(content))
            n_bytes += len(raw)
            if len(rows) >= SAMPLE_ROWS:
                break
    if not rows:
        what = "only a header" if lay.names else ("no data lines (only comments or blank lines)"
                                                  if lay.size else "nothing (the file is empty)")
        raise EmptyInputError(f"{p}: the edge list holds {what}")
    by_index = columns is None or (isinstance(columns, dict) and all(
        v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) for v in columns.values()))
    if not header and by_index and id_dtype == "auto" and len(rows) >= 2:
        cols = columns or {}
        _refuse_forgotten_header(p, lay.first_row_line, rows, int(cols.get("src", 0) or 0),
                                 int(cols.get("dst", 1) if cols.get("dst") is not None else 1))
    lay.ncols = len(lay.names) if lay.names is not None else len(rows[0])
    lay.avg_line = max(n_bytes / len(rows), 1.0)
    lay.cols = _resolve_columns(lay, columns, weighted, timestamped, header, header_line)
    # id kinds from the sample (only rows with the full column count are telling)
    sample = [r for r in rows if len(r) == lay.ncols]
    for role in ("src", "dst"):
        if id_mode == "dense" or id_dtype == "int":
            lay.kinds[role] = "int"
        elif id_dtype == "str":
            lay.kinds[role] = "str"
        else:
            lay.kinds[role] = "int" if _sniff_int([r[lay.cols[role]] for r in sample]) else "str"
    if same_node_type and lay.kinds["src"] != lay.kinds["dst"]:
        lay.kinds["src"] = lay.kinds["dst"] = "str"
    if "weight" in lay.cols:
        lay.kinds["weight"] = "float"
    if "time" in lay.cols:
        lay.kinds["time"] = "int"
    if "rel" in lay.cols:
        canon = all(_CANON_RE.match(r[lay.cols["rel"]]) and len(r[lay.cols["rel"]]) <= 18 for r in sample)
        lay.kinds["rel"] = "int" if canon else "str"
    return lay


def _refuse_forgotten_header(path: str, line: int, rows: list[list[str]], sc: int, dc: int) -> None:
    """A first line of names only (``u,v,ts``) above integer ids is a header that header=False
    would read as an edge between nodes "u" and "v": stop and say so."""
    first, rest = rows[0], rows[1:]
    need = max(sc, dc) + 1
    if any(_NUM_RE.match(v.strip(" \t")) for v in first) or len(first) < need:
        return
    if all(len(r) >= need and _INT_RE.match(r[sc].strip(" \t")) and _INT_RE.match(r[dc].strip(" \t"))
           for r in rest):
        raise ParseError(f"the first line {', '.join(map(repr, first))} looks like a header (names above "
                         "numeric rows); pass header=True (--header on the command line) to use it as "
                         "one, or id_dtype='str' if these really are node ids", path=path, line=line)


def _decode(raw: bytes, path: str, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"not valid UTF-8 text ({exc.reason} at byte {exc.start})", path=path,
                         line=line) from None


def _resolve_columns(lay: TextLayout, columns: dict[str, int | str] | None, weighted: bool | None,
                     timestamped: bool | None, header: bool, header_line: int) -> dict[str, int]:
    """Map each role to a column index (by index, header name, or the positional convention)."""
    p, n = lay.path, lay.ncols
    if n < 2:
        raise ParseError(f"the line has {n} field(s); an edge list needs at least 2 (src, dst)",
                         path=p, line=lay.first_row_line, field="dst")
    cols: dict[str, int] = {}
    if columns is None:
        cols = {"src": 0, "dst": 1}
        nxt = 2
        for role, want in (("weight", weighted), ("time", timestamped)):
            if want is False:
                continue
            if nxt < n:
                cols[role] = nxt
                nxt += 1
            elif want:
                raise ValidationError(f"{p}: {role} was asked for (True) but the file has only {n} "
                                      f"columns; map it with columns={{'{role}': index}}")
        return cols
    if not isinstance(columns, dict):
        raise ValidationError(f"columns={columns!r}: expected a mapping of role -> column index or name")
    for role, ref in columns.items():
        if role not in ROLES:
            raise ValidationError(f"columns: unknown role {role!r}; expected one of {', '.join(ROLES)}")
        if ref is None:
            continue
        if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
            if not 0 <= int(ref) < n:
                raise ParseError(f"columns[{role!r}]={ref} but the lines have {n} columns (0..{n - 1})",
                                 path=p, line=lay.first_row_line, field=role)
            cols[role] = int(ref)
        elif isinstance(ref, str):
            if lay.names is None:
                raise ValidationError(f"columns[{role!r}]={ref!r} names a column, but header=False; "
                                      "pass header=True or a column index")
            if ref not in lay.names:
                raise ParseError(f"column {ref!r} is not in the header (columns: {', '.join(lay.names)})",
                                 path=p, line=header_line, field=role)
            cols[role] = lay.names.index(ref)
        else:
            raise ValidationError(f"columns[{role!r}]={ref!r}: expected a column index or header name")
    finish_roles(cols, columns, weighted, timestamped, str(p))
    seen: dict[int, str] = {}
    for role, c in cols.items():
        if c in seen:
            raise ValidationError(f"columns: roles {seen[c]!r} and {role!r} both name column {c}")
        seen[c] = role
    return cols


# =========================================================================== the reader
class TextEdgeReader:
    """Yield ``({role: array}, first data row)`` chunks of one edge-list file (see module doc).

    Args:
        lay: the file's :class:`TextLayout` (from :func:`sniff`).
        id_mode: the builder's id mode (``"dense"`` makes negative or non-integer ids errors).
        id_dtype: ``"auto"`` | ``"int"`` | ``"str"`` (only shapes error messages here).
        chunk_rows: rows per chunk (approximate on the numba tier, which cuts by bytes).
    """

    def __init__(self, lay: TextLayout, *, id_mode: str, id_dtype: str, chunk_rows: int) -> None:
        self.lay = lay
        self.chk = LineChecker(lay, id_mode, id_dtype)
        self.dense = id_mode == "dense"
        self.chunk_rows = int(chunk_rows)
        self.tiers: list[str] = []

    def numba_ok(self) -> bool:
        """Whether the numba tier can parse this file (numeric columns, one-byte delimiter)."""
        lay = self.lay
        if any(k == "str" for k in lay.kinds.values()):
            return False
        d = lay.delimiter
        if d is not None and (len(d) != 1 or ord(d) > 127 or d in "0123456789+-.eE#"):
            return False
        return lay.comment is None or ord(lay.comment) < 128

    def chunks(self) -> Iterator[tuple[dict[str, np.ndarray], int]]:
        pos: tuple[int, int, int] | None = (self.lay.data_offset, self.lay.data_line, 0)
        if self.numba_ok():
            pos = yield from self._numba_tier(*pos)
        if pos is not None:
            yield from self._pandas_tier(*pos)

    # ------------------------------------------------------------------ numba tier
    def _numba_tier(self, offset: int, line: int, row: int):
        lay = self.lay
        kinds = np.zeros(lay.ncols, np.int64)
        slots = np.zeros(lay.ncols, np.int64)
        int_roles: list[str] = []
        float_roles: list[str] = []
        for role, c in lay.cols.items():
            if role == "weight":
                kinds[c], slots[c] = K_FLOAT, len(float_roles)
                float_roles.append(role)
            else:
                kinds[c] = {"src": K_ID, "dst": K_ID, "time": K_INT, "rel": K_REL}[role]
                slots[c] = len(int_roles)
                int_roles.append(role)
        delim = -1 if lay.delimiter is None else ord(lay.delimiter)
        comment = -1 if lay.comment is None else ord(lay.comment)
        n_threads = max(1, nb.get_num_threads())
        chunk_bytes = max(int(self.chunk_rows * lay.avg_line), 1)
        self.tiers.append("numba")
        with open(lay.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm, \
                ThreadPoolExecutor(max_workers=n_threads) as pool:
            buf = np.frombuffer(mm, dtype=np.uint8)
            try:
                size = len(mm)
                while offset < size:
                    end = _cut(mm, offset + chunk_bytes - 1, size)
                    nblk = max(1, min(2 * n_threads, (end - offset) >> 16))
                    cuts = [offset] + [_cut(mm, offset + (end - offset) * k // nblk, end)
                                       for k in range(1, nblk)] + [end]
                    spans = list(zip(cuts[:-1], cuts[1:]))
                    run = map if nblk == 1 else pool.map  # a small chunk skips the pool
                    nl = np.fromiter(run(lambda se: count_newlines(buf, se[0], se[1]), spans), np.int64,
                                     count=nblk)
                    caps = nl.copy()
                    if end == size and buf[size - 1] != 10:
                        caps[-1] += 1
                    base = np.zeros(nblk, np.int64)
                    np.cumsum(caps[:-1], out=base[1:])
                    total = int(caps.sum())
                    ints = np.empty((len(int_roles), total), np.int64)
                    floats = np.empty((len(float_roles), total), np.float32)

                    def parse(k: int) -> tuple[int, int, int]:
                        return parse_block(buf, spans[k][0], spans[k][1], base[k], kinds, slots, delim,
                                           comment, self.dense, ints, floats)

                    res = np.array(list(run(parse, range(nblk))), np.int64).reshape(nblk, 3)
                    n_rows, err_pos, err_line = res[:, 0] - base, res[:, 1], res[:, 2]
                    bad = np.flatnonzero(err_pos >= 0)
                    stop = int(bad[0]) + 1 if bad.size else nblk
                    got = _gather(ints, floats, base[:stop], n_rows[:stop])
                    chunk = {r: got[0][i] for i, r in enumerate(int_roles)}
                    chunk.update({r: got[1][i] for i, r in enumerate(float_roles)})
                    n_got = int(n_rows[:stop].sum())
                    if n_got:
                        yield chunk, row
                    row += n_got
                    if bad.size:
                        k = stop - 1
                        bad_line = line + int(nl[:k].sum()) + int(err_line[k])
                        bad_pos = int(err_pos[k])
                        self._check_at(mm, bad_pos, bad_line)
                        return bad_pos, bad_line, row
                    line += int(nl.sum())
                    offset = end
            finally:
                del buf
        return None

    def _check_at(self, mm: mmap.mmap, pos: int, line: int) -> None:
        """Raise the precise error for the line at byte ``pos`` if it is invalid."""
        k = mm.find(b"\n", pos)
        text = _decode(mm[pos:(len(mm) if k < 0 else k)], self.lay.path, line)
        content = self.chk.content(text)
        if content.strip():
            err = self.chk.check(self.chk.split(content))
            if err is not None:
                raise ParseError(err[1], path=self.lay.path, line=line, field=err[0])

    # ------------------------------------------------------------------ pandas tier
    def _pandas_tier(self, offset: int, line: int, row: int):
        lay = self.lay
        names = [f"c{i}" for i in range(lay.ncols)]
        dtype: dict[str, Any] = {}
        for role, c in lay.cols.items():
            kind = "str" if role == "rel" else lay.kinds[role]
            dtype[names[c]] = {"int": np.int64, "str": str, "float": np.float64}[kind]
        ws = lay.delimiter is None
        one = ws or len(lay.delimiter) == 1
        sep = r"\s+" if ws else (lay.delimiter if one else re.escape(lay.delimiter))
        self.tiers.append("pandas")
        with open(lay.path, "rb") as fh:
            fh.seek(offset)
            reader = pd.read_csv(fh, sep=sep, header=None, names=names, dtype=dtype, comment=lay.comment,
                                 chunksize=self.chunk_rows, engine="c" if one else "python",
                                 skip_blank_lines=True, keep_default_na=False, na_values=[""],
                                 index_col=False, encoding="utf-8",
                                 quoting=csv.QUOTE_NONE if ws else csv.QUOTE_MINIMAL)
            k = row
            with reader:
                while True:
                    try:
                        df = next(reader)
                    except StopIteration:
                        break
                    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, csv.Error) as exc:
                        raise self._locate(offset, line, row, k, None, f"unreadable line ({exc})") from None
                    chunk, bad = self._check_frame(df, names)
                    if bad is not None:
                        raise self._locate(offset, line, row, k, k + bad, "bad value")
                    yield chunk, k
                    k += len(df)

    def _check_frame(self, df: pd.DataFrame, names: list[str]) -> tuple[dict[str, np.ndarray], int | None]:
        """Columns of one pandas chunk and the first row that breaks a rule (or None)."""
        lay = self.lay
        bad = [np.asarray(df.isna().to_numpy().any(axis=1))]
        chunk: dict[str, np.ndarray] = {}
        for role, c in lay.cols.items():
            s = df[names[c]]
            if role == "weight":
                with np.errstate(over="ignore", invalid="ignore"):
                    arr = s.to_numpy(np.float64).astype(np.float32)
                bad.append(~np.isfinite(arr))
            elif role in ("src", "dst") and lay.kinds[role] == "int":
                arr = s.to_numpy(np.int64)
                if self.dense:
                    bad.append(arr < 0)
            elif role == "time":
                arr = s.to_numpy(np.int64)
            else:
                arr = s.to_numpy(dtype=object)
                if role == "rel":
                    vals = pd.unique(arr[~pd.isna(arr)])
                    wrong = [v for v in vals if not _usable_rel(v)]
                    if wrong:
                        bad.append(np.isin(arr, np.array(wrong, dtype=object)))
            chunk[role] = arr
        hit = np.flatnonzero(np.logical_or.reduce(bad)) if len(bad) > 1 else np.flatnonzero(bad[0])
        return chunk, (int(hit[0]) if hit.size else None)

    def _locate(self, offset: int, line: int, row: int, from_row: int, at_row: int | None,
                why: str) -> ParseError:
        """The precise pass: find the first invalid data line at or after data row ``from_row``."""
        k, ln = row, line
        p = self.lay.path
        with open(p, "rb") as fh:
            fh.seek(offset)
            for raw in fh:
                content = self.chk.content(_decode(raw, p, ln))
                if content.strip():
                    if k >= from_row:
                        err = self.chk.check(self.chk.split(content))
                        if err is not None:
                            return ParseError(err[1], path=p, line=ln, field=err[0])
                        if at_row is not None and k >= at_row:
                            return ParseError(why, path=p, line=ln)
                    k += 1
                ln += 1
        return ParseError(f"{why}, in the chunk of data rows from {from_row + 1} on (the line could not "
                          "be pinpointed)", path=p)


def _usable_rel(v: Any) -> bool:
    try:
        check_name("relation", str(v))
        return True
    except ValidationError:
        return False


def _cut(mm: mmap.mmap, pos: int, limit: int) -> int:
    """Offset just after the first newline at or after ``pos`` (``limit`` if none before it)."""
    if pos >= limit:
        return limit
    k = mm.find(b"\n", pos, limit)
    return limit if k < 0 else k + 1


def _gather(ints: np.ndarray, floats: np.ndarray, base: np.ndarray,
            n_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parsed rows of each block, as contiguous views where the blocks have no gaps."""
    ends = base + n_rows
    if base.size == 0:
        return ints[:, :0], floats[:, :0]
    if np.all(base[1:] == ends[:-1]):
        return ints[:, :ends[-1]], floats[:, :ends[-1]]
    parts = [slice(int(b), int(e)) for b, e in zip(base, ends)]
    return (np.concatenate([ints[:, sl] for sl in parts], axis=1),
            np.concatenate([floats[:, sl] for sl in parts], axis=1))
