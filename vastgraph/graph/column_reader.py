"""Turn in-memory columns (numpy, pandas, pyarrow) into checked edge arrays, zero-copy where possible.

Shared by :func:`vastgraph.graph.readers.from_columns` (and its DataFrame/Arrow faces) and the
Parquet reader. Each role has one rule:

* ``src``/``dst``: integers (int64; integral floats accepted) or strings; in dense id mode
  non-negative integers.
* ``weight``: numbers, finite once stored as float32.
* ``time``: integer seconds (integers, integral floats, ``datetime64``/Arrow timestamps).
* ``rel``: a usable relation name per row (strings or integers).

A value that breaks its rule raises :class:`BadValue` with its row; callers turn it into a
:class:`~vastgraph.errors.ValidationError` or :class:`~vastgraph.errors.ParseError` that names
the column (and the file).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from vastgraph.errors import ValidationError
from vastgraph.graph.schema import check_name

ROLES = ("src", "dst", "weight", "time", "rel")


class BadValue(Exception):
    """A value at ``row`` (0-based within the column given; None: the whole column) breaks a rule."""

    def __init__(self, row: int | None, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def column_values(values: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """A numpy view of a column and its null mask (None when it holds no nulls).

    Zero-copy for numpy arrays, pandas numeric columns without missing values and primitive Arrow
    arrays without nulls; strings become object arrays (a copy by nature).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        mask = None
        if values.null_count:
            mask = values.is_null().to_numpy(zero_copy_only=False)
            values = values.fill_null(_filler(values.type))
        return values.to_numpy(zero_copy_only=False), mask
    if isinstance(values, (pd.Series, pd.Index)):
        mask = None
        if values.hasnans and not (isinstance(values.dtype, np.dtype) and values.dtype.kind in "fMm"):
            mask = np.asarray(values.isna())  # NaN in a float column is left to the role's rule
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        dt = values.dtype
        if mask is not None and getattr(dt, "kind", "O") in "iub":  # nullable Int64/boolean
            return values.to_numpy(dtype=dt.numpy_dtype, na_value=0), mask
        if isinstance(dt, pd.StringDtype) or dt == object:
            return values.to_numpy(dtype=object), mask
        return values.to_numpy(), mask
    arr = np.asarray(values)
    mask = None
    if arr.dtype == object:
        m = pd.isna(arr)
        if m.any():
            mask = m
    return arr, mask


def _filler(t: pa.DataType) -> Any:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return ""
    if pa.types.is_timestamp(t):
        return pa.scalar(0, type=t)
    if pa.types.is_boolean(t):
        return False
    return 0


def _show(v: Any) -> str:
    """A value as the user wrote it (numpy scalars without their type)."""
    return repr(v.item() if isinstance(v, np.generic) else v)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def coerce(role: str, values: Any, *, id_mode: str = "map") -> np.ndarray:
    """Check and convert one column of ``role``; raises :class:`BadValue`.

    Returns int64 for integer ids and time, float32 for weights, and object/str arrays for string
    ids and relations. Numpy inputs of the right dtype come back as the same memory.
    """
    arr, mask = column_values(values)
    if arr.ndim != 1:
        raise BadValue(None, f"has shape {arr.shape}, expected a 1-D column")
    if mask is not None and mask.any():
        raise BadValue(_first(mask), "is missing (null/NaN)")
    kind = arr.dtype.kind
    if role in ("src", "dst"):
        return _ids(arr, kind, id_mode)
    if role == "weight":
        return _weights(arr, kind)
    if role == "time":
        return _times(arr, kind)
    if role == "rel":
        return _rels(arr, kind)
    raise ValidationError(f"role {role!r}: expected one of {', '.join(ROLES)}")


def _ids(arr: np.ndarray, kind: str, id_mode: str) -> np.ndarray:
    if kind in "iu":
        if kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise BadValue(_first(arr > np.iinfo(np.int64).max), f"{arr.max()} does not fit in int64")
        out = arr.astype(np.int64, copy=False)
    elif kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = _first(bad)
            raise BadValue(i, f"{_show(arr[i])} is not an integer id")
        out = arr.astype(np.int64)
    elif kind in "OUS" and id_mode == "map":
        if kind == "S":
            return arr.astype(str)
        if kind == "O" and pd.api.types.infer_dtype(arr, skipna=False) == "integer":
            return arr.astype(np.int64)  # Python ints in an object column stay integer ids
        return arr
    elif kind in "OUS":
        num = pd.to_numeric(pd.Series(arr, copy=False), errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(num) | (num != np.round(num))
        if bad.any():
            i = _first(bad)
            raise BadValue(i, f"{_show(arr[i])} is not an integer (id_mode='dense' needs non-negative integer ids)")
        out = num.astype(np.int64)
    else:
        raise BadValue(None, f"has dtype {arr.dtype}; expected integer or string ids")
    if id_mode == "dense" and out.size and out.min() < 0:
        i = _first(out < 0)
        raise BadValue(i, f"{_show(out[i])} is a negative id (id_mode='dense' needs non-negative integer ids)")
    return out


def _weights(arr: np.ndarray, kind: str) -> np.ndarray:
    if kind in "OUS":
        num = pd.to_numeric(pd.Series(arr, copy=False), errors="coerce").to_numpy(np.float64)
        nan = np.isnan(num)
        if nan.any():
            i = _first(nan)
            txt = str(arr[i]).strip().lower().lstrip("+-")
            if txt not in ("nan", "inf", "infinity"):
                raise BadValue(i, f"{_show(arr[i])} is not a number")
        arr, kind = num, "f"
    if kind not in "biuf":
        raise BadValue(None, f"has dtype {arr.dtype}; expected numbers")
    with np.errstate(over="ignore", invalid="ignore"):
        out = arr.astype(np.float32, copy=False)
    bad = ~np.isfinite(out)
    if bad.any():
        i = _first(bad)
        raise BadValue(i, f"{_show(arr[i])} is not a finite number (weights are float32)")
    return out


def _times(arr: np.ndarray, kind: str) -> np.ndarray:
    if kind in "iu":
        return arr.astype(np.int64, copy=False)
    if kind in "Mm":
        nat = np.isnat(arr)
        if nat.any():
            raise BadValue(_first(nat), "is missing (NaT)")
        return arr.astype(f"{'datetime64' if kind == 'M' else 'timedelta64'}[s]").astype(np.int64)
    if kind in "OUS":
        num = pd.to_numeric(pd.Series(arr, copy=False), errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(num) | (num != np.round(num))
        if bad.any():
            i = _first(bad)
            raise BadValue(i, f"{_show(arr[i])} is not an integer (time is integer seconds)")
        return num.astype(np.int64)
    if kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = _first(bad)
            raise BadValue(i, f"{_show(arr[i])} is not an integer (time is integer seconds)")
        return arr.astype(np.int64)
    raise BadValue(None, f"has dtype {arr.dtype}; expected integer seconds or datetimes")


def _rels(arr: np.ndarray, kind: str) -> np.ndarray:
    if kind not in "iuOUSb":
        raise BadValue(None, f"has dtype {arr.dtype}; expected relation names (strings or integers)")
    codes, uniq = pd.factorize(arr)
    for j, u in enumerate(uniq):
        try:
            check_name("relation", str(u))
        except ValidationError:
            raise BadValue(_first(codes == j), f"{_show(u)} is not a usable relation name "
                                               "(no ':', '/', '\\', tab or newline)") from None
    return arr


def finish_roles(cols: dict[str, Any], columns: Any, weighted: bool | None, timestamped: bool | None,
                 where: str) -> dict[str, Any]:
    """Check that ``src``/``dst`` are mapped and apply ``weighted``/``timestamped`` to a role map.

    ``False`` drops a mapped weight/time column; ``True`` requires one. Returns ``cols``.
    """
    for role in ("src", "dst"):
        if role not in cols:
            raise ValidationError(f"columns={columns!r}: role {role!r} is required")
    for role, want in (("weight", weighted), ("time", timestamped)):
        if want is False:
            cols.pop(role, None)
        elif want and role not in cols:
            raise ValidationError(f"{where}: {role} was asked for (True) but no column is mapped to it")
    return cols
