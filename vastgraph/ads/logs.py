"""The search-ads event log: its schema, and reading/validating/writing it (Parquet or CSV).

One row per impression. Columns (``EVENT_SCHEMA``):

=================  ========  ==========================================================
time               int64     Unix seconds of the impression
day                int32     day number: ``(time - origin) // 86400``
user               str       user id
query              str       query id
query_text         str       space-separated query tokens            (optional, "")
ad, advertiser     str       ad id and its owner
item               str       promoted item                           (optional, = ad)
bid_words          str       space-separated bid words of the ad     (optional, "")
bid                float64   ≥ 0                                     (optional, 0)
position           int8      1-based slot
impression         int8      1
click              int8      0/1, ≤ impression
conversion         int8      0/1, ≤ click                            (optional, 0)
conversion_value   float64   ≥ 0                                     (optional, 0)
cost               float64   ≥ 0, charged on click
=================  ========  ==========================================================

Validation policy of :func:`read_events`:

* A missing *required column* is always an error (:class:`ParseError` naming the file and field).
* Bad rows — a missing value, a value that does not parse as the field's type, a negative
  bid/cost/value, ``position < 1``, ``impression ∉ {0, 1}``, ``click ∉ {0, 1}`` or above
  ``impression``, ``conversion`` above ``click``, a ``day`` that disagrees with ``time``, an id that
  the given catalogs do not hold — raise (``on_error="raise"``: :class:`ParseError` for missing or
  unparsable values, :class:`ValidationError` for broken rules, :class:`UnknownIdError` for unknown
  ids; the message names the file, the row/line and the field) or are dropped and counted per
  reason in the :class:`LogReport` (``on_error="skip"``). Never silently.
* Rows out of time order within a day are not an error: the result is sorted by ``(day, time)``
  (stable) and ``LogReport.reordered`` counts the rows that were out of order.
* Days between the first and the last day that hold no row are listed in ``LogReport.empty_days``.
* The day origin is ``start_time`` when given, else the one most rows agree on (``time // 86400 -
  day``, in whole days).

Example:
    >>> from vastgraph.ads.world import generate_world
    >>> w = generate_world(n_queries=30, n_ads=20, n_advertisers=4, n_days=2, events_per_day=100)
    >>> df, report = read_events(w.events)
    >>> report.rows_kept == len(w.events), report.skipped
    (True, {})
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vastgraph.errors import EmptyInputError, ParseError, UnknownIdError, ValidationError

DAY = 86400

EVENT_SCHEMA = pa.schema([
    ("time", pa.int64()), ("day", pa.int32()), ("user", pa.string()), ("query", pa.string()),
    ("query_text", pa.string()), ("ad", pa.string()), ("item", pa.string()), ("advertiser", pa.string()),
    ("bid_words", pa.string()), ("bid", pa.float64()), ("position", pa.int8()), ("impression", pa.int8()),
    ("click", pa.int8()), ("conversion", pa.int8()), ("conversion_value", pa.float64()), ("cost", pa.float64()),
])
REQUIRED = ("time", "day", "user", "query", "ad", "advertiser", "position", "impression", "click", "cost")
OPTIONAL_DEFAULTS: dict[str, Any] = {"query_text": "", "item": None, "bid_words": "", "bid": 0.0,
                                     "conversion": 0, "conversion_value": 0.0}
_STR = ("user", "query", "query_text", "ad", "item", "advertiser", "bid_words")
_INT = {"time": np.int64, "day": np.int32, "position": np.int8, "impression": np.int8, "click": np.int8,
        "conversion": np.int8}
_FLOAT = ("bid", "conversion_value", "cost")


@dataclass
class LogReport:
    """What :func:`read_events` read, kept, skipped (per reason) and repaired."""

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    reordered: int = 0
    empty_days: list[int] = field(default_factory=list)
    first_day: int | None = None
    last_day: int | None = None
    day_origin: int | None = None
    extra_columns: list[str] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return int(sum(self.skipped.values()))

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rows_read": self.rows_read, "rows_kept": self.rows_kept,
                "rows_skipped": self.rows_skipped, "skipped": dict(self.skipped), "reordered": self.reordered,
                "empty_days": list(self.empty_days), "first_day": self.first_day, "last_day": self.last_day,
                "day_origin": self.day_origin, "extra_columns": list(self.extra_columns)}


def _load(source: Any) -> tuple[pd.DataFrame, str, int | None]:
    """The raw table, a name for messages, and the line of row 0 (CSV) or None (rows)."""
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), "<DataFrame>", None
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise ParseError("no such file; expected a Parquet or CSV/TSV event log", path=path)
    low = path.lower()
    try:
        if low.endswith((".parquet", ".pq")):
            return pq.read_table(path).to_pandas(), path, None
        if low.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")):
            sep = "\t" if ".tsv" in low else ","
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False), path, 2
    except (pa.ArrowInvalid, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read the file: {exc}", path=path) from exc
    raise ParseError("unknown file extension; expected .parquet/.pq or .csv/.tsv", path=path)


def _ids(known: Any, name: str) -> pd.Index | None:
    if known is None:
        return None
    if isinstance(known, pd.DataFrame):
        if name not in known.columns:
            raise ValidationError(f"{name}s catalog: has columns {list(known.columns)}; expected a {name!r} column")
        known = known[name]
    values = np.asarray(known if hasattr(known, "__array__") else list(known), dtype=object)
    return pd.Index(values.astype(str))


def read_events(source: Any, *, on_error: str = "raise", start_time: int | None = None,
                queries: Iterable[Any] | pd.DataFrame | None = None, ads: Iterable[Any] | pd.DataFrame | None = None,
                advertisers: Iterable[Any] | pd.DataFrame | None = None) -> tuple[pd.DataFrame, LogReport]:
    """Read and validate a search-ads event log (see the module docstring for the policy).

    Args:
        source: a Parquet/CSV/TSV path or a DataFrame.
        on_error: ``"raise"`` (first bad row raises) or ``"skip"`` (bad rows dropped, counted per reason).
        start_time: Unix time of day 0; None infers the day origin from the rows.
        queries, ads, advertisers: optional catalogs (id iterables or DataFrames with that column);
            rows naming other ids are bad rows (reason ``unknown:<field>``).

    Returns:
        ``(events, report)``: the rows that passed, typed as :data:`EVENT_SCHEMA` (strings as object),
        sorted by ``(day, time)``, with a fresh index; and a :class:`LogReport`.

    Example:
        >>> df = pd.DataFrame({"time": [5, 3], "day": [0, 0], "user": "u", "query": "q", "ad": "a",
        ...                    "advertiser": "v", "position": 1, "impression": 1, "click": [1, 0], "cost": 0.5})
        >>> ev, rep = read_events(df)
        >>> ev["time"].tolist(), rep.reordered
        ([3, 5], 1)
    """
    if on_error not in ("raise", "skip"):
        raise ValidationError(f"on_error={on_error!r}: expected 'raise' or 'skip'")
    if start_time is not None and (isinstance(start_time, bool) or not isinstance(start_time, (int, np.integer))):
        raise ValidationError(f"start_time={start_time!r}: expected None or integer Unix seconds")
    raw, name, line0 = _load(source)
    report = LogReport(source=name, rows_read=len(raw))
    for col in REQUIRED:
        if col not in raw.columns:
            raise ParseError(f"required column missing; the log has columns {list(raw.columns)}",
                             path=name, field=col)
    report.extra_columns = [c for c in raw.columns if c not in EVENT_SCHEMA.names]
    n = len(raw)
    if n == 0:
        raise EmptyInputError(f"{name}: the event log holds no rows")
    where = (lambda i: {"line": line0 + i}) if line0 is not None else (lambda i: {})
    row_word = (lambda i: "") if line0 is not None else (lambda i: f"row {i}: ")

    out: dict[str, np.ndarray] = {}
    checks: list[tuple[str, str, np.ndarray, str]] = []  # (reason, field, bad mask, message kind)
    for col in EVENT_SCHEMA.names:
        if col not in raw.columns:
            default = OPTIONAL_DEFAULTS[col]
            out[col] = np.full(n, default, dtype=object if col in _STR else _INT.get(col, np.float64)) \
                if default is not None else None  # item: filled from ad below
            continue
        s = raw[col]
        missing = s.isna().to_numpy()
        if col in _STR:
            text = s.astype(str).where(~missing, "")
            if col in REQUIRED:
                missing = missing | (text.str.strip() == "").to_numpy()
            out[col] = text.to_numpy(dtype=object)
            if col in REQUIRED:
                checks.append((f"missing:{col}", col, missing, "parse"))
            continue
        is_blank = missing | (s.astype(str).str.strip() == "").to_numpy() if s.dtype == object or \
            pd.api.types.is_string_dtype(s) else missing
        num = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        unparsable = ~is_blank & ~np.isfinite(num)
        if col in _INT:
            unparsable |= np.isfinite(num) & ((num != np.round(num)) | (np.abs(num) > 2.0 ** 62))
        if col in REQUIRED:
            checks.append((f"missing:{col}", col, is_blank, "parse"))
        else:
            num = np.where(is_blank, float(OPTIONAL_DEFAULTS[col]), num)
        checks.append((f"bad_type:{col}", col, unparsable, "parse"))
        out[col] = num
    if out["item"] is None:
        out["item"] = out["ad"].copy()

    fin = {c: np.nan_to_num(out[c], nan=0.0) for c in (*_INT, *_FLOAT)}
    for col in _FLOAT:
        checks.append((f"negative:{col}", col, fin[col] < 0, "rule"))
    checks.append(("bad_value:position", "position", (fin["position"] < 1) | (fin["position"] > 127), "rule"))
    for col in ("impression", "click", "conversion"):
        checks.append((f"bad_value:{col}", col, (fin[col] != 0) & (fin[col] != 1), "rule"))
    checks.append(("click>impression", "click", fin["click"] > fin["impression"], "rule"))
    checks.append(("conversion>click", "conversion", fin["conversion"] > fin["click"], "rule"))
    for col, known in (("query", queries), ("ad", ads), ("advertiser", advertisers)):
        idx = _ids(known, col)
        if idx is not None:
            checks.append((f"unknown:{col}", col, idx.get_indexer(out[col]) < 0, "unknown"))
    # day vs time: the origin given, or the one most rows agree on
    base_bad = np.zeros(n, bool)
    for _, col, mask, _ in checks:
        if col in ("time", "day"):
            base_bad |= mask
    t, d = fin["time"].astype(np.int64), fin["day"].astype(np.int64)
    if start_time is not None:
        origin = int(start_time)
    else:
        offs = t[~base_bad] // DAY - d[~base_bad]
        vals, counts = np.unique(offs, return_counts=True) if offs.size else (np.zeros(1, np.int64), np.ones(1))
        origin = int(vals[np.argmax(counts)]) * DAY
    report.day_origin = origin
    checks.append(("day_mismatch", "day", ~base_bad & ((t - origin) // DAY != d), "rule"))

    bad = np.zeros(n, bool)
    for reason, _, mask, _ in checks:
        if not mask.any():
            continue
        if on_error == "raise":
            bad |= mask
            continue
        new = mask & ~bad  # a row counts once, under its first reason
        if new.any():
            report.skipped[reason] = report.skipped.get(reason, 0) + int(new.sum())
        bad |= mask
    if on_error == "raise" and bad.any():
        i = int(np.flatnonzero(bad)[0])
        reason, col, _, kind = next(c for c in checks if c[2][i])
        value = raw[col].iloc[i] if col in raw.columns else None
        value = value.item() if isinstance(value, np.generic) else value
        msg = f"{row_word(i)}{_explain(reason, value, out, i, origin)}"
        if kind == "parse":
            raise ParseError(msg, path=name, field=col, **where(i))
        loc = f"{name}, " + (f"line {line0 + i}" if line0 is not None else f"row {i}") + f", field {col!r}: "
        text = loc + _explain(reason, value, out, i, origin)
        raise (UnknownIdError if kind == "unknown" else ValidationError)(text)

    keep = np.flatnonzero(~bad)
    if keep.size == 0:
        raise EmptyInputError(f"{name}: all {n} rows were bad rows (skipped: {report.skipped})")
    cols = {}
    for col in EVENT_SCHEMA.names:
        v = out[col][keep]
        if col in _INT:
            v = v.astype(_INT[col])
        elif col in _FLOAT:
            v = v.astype(np.float64)
        cols[col] = v
    t_k, d_k = cols["time"], cols["day"].astype(np.int64)
    # rows out of time order within their day (in file order): time below the running max
    order0 = np.lexsort((np.arange(keep.size), d_k))
    t_sorted_by_day = t_k[order0]
    grp = d_k[order0]
    start = np.r_[True, grp[1:] != grp[:-1]]
    runmax = _segment_cummax(t_sorted_by_day, start)
    report.reordered = int((t_sorted_by_day < runmax).sum())
    order = np.lexsort((np.arange(keep.size), t_k, d_k))
    events = pd.DataFrame({c: v[order] for c, v in cols.items()})
    days = np.unique(d_k)
    report.first_day, report.last_day = int(days[0]), int(days[-1])
    report.empty_days = np.setdiff1d(np.arange(days[0], days[-1] + 1), days).astype(int).tolist()
    report.rows_kept = int(keep.size)
    return events, report


def _segment_cummax(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Running maximum of the *previous* values within segments (``-inf``-like at a segment start)."""
    seg = np.cumsum(start) - 1
    lo = np.iinfo(np.int64).min
    # offset segments so one global cumulative max never crosses a segment boundary
    span = int(values.max()) - int(values.min()) + 1 if values.size else 1
    shifted = (values - values.min()).astype(np.int64) + seg * span
    prev = np.concatenate([[lo], np.maximum.accumulate(shifted)[:-1]])
    prev = np.where(start, lo, prev)
    return np.where(start, lo, prev - seg * span + values.min())


def _explain(reason: str, value: Any, out: dict[str, np.ndarray], i: int, origin: int) -> str:
    kind, _, col = reason.partition(":")
    if kind == "missing":
        return "value is missing; expected a non-empty value (required field)"
    if kind == "bad_type":
        return f"value {value!r} does not parse; expected {'an integer' if col in _INT else 'a number'}"
    if kind == "negative":
        return f"value {value!r} is negative; expected a number >= 0"
    if kind == "bad_value":
        return f"value {value!r}; expected " + ("an integer in 1..127 (1-based slot)" if col == "position" else "0 or 1")
    if kind == "unknown":
        return f"{col} id {value!r} is not in the given {col} catalog"
    if reason == "click>impression":
        return f"click={value!r} but impression={out['impression'][i]!r}; expected click <= impression"
    if reason == "conversion>click":
        return f"conversion={value!r} but click={out['click'][i]!r}; expected conversion only after a click"
    return (f"day={value!r} disagrees with time={int(out['time'][i])}: expected day "
            f"{(int(out['time'][i]) - origin) // DAY} (day origin {origin})")


def write_events(events: pd.DataFrame, path: str) -> str:
    """Write an event table as Parquet (``.parquet``/``.pq``) or CSV/TSV, typed as :data:`EVENT_SCHEMA`, atomically.

    Missing optional columns get their defaults; a missing required column raises :class:`ValidationError`.
    """
    if not isinstance(events, pd.DataFrame):
        raise ValidationError(f"events: got {type(events).__name__}; expected a pandas DataFrame")
    missing = [c for c in REQUIRED if c not in events.columns]
    if missing:
        raise ValidationError(f"events: required columns {missing} are missing; have {list(events.columns)}")
    path = os.fspath(path)
    low = path.lower()
    if not low.endswith((".parquet", ".pq", ".csv", ".tsv")):
        raise ValidationError(f"path={path!r}: expected a .parquet/.pq/.csv/.tsv file name")
    df = pd.DataFrame(index=range(len(events)))
    for col in EVENT_SCHEMA.names:
        if col in events.columns:
            v = events[col].to_numpy()
        elif col == "item":
            v = events["ad"].to_numpy()
        else:
            v = np.full(len(events), OPTIONAL_DEFAULTS[col])
        df[col] = v
    table = pa.Table.from_pandas(df, schema=EVENT_SCHEMA, preserve_index=False, safe=True)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".events-", dir=folder)
    os.close(fd)
    try:
        if low.endswith((".parquet", ".pq")):
            pq.write_table(table, tmp)
        else:
            table.to_pandas().to_csv(tmp, sep="\t" if low.endswith(".tsv") else ",", index=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
