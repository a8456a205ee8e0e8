"""External-id index: maps a node type's external ids (strings or int64) to dense ids 0..n-1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas is imported only when string ids need their hash index (CLI start-up)
    import pandas as pd

from vastgraph.errors import UnknownIdError, ValidationError


class IdIndex:
    """Bidirectional map between external ids and dense ids of one node type.

    Three kinds: ``"range"`` (the external id *is* the dense id, nothing stored), ``"int"``
    (an int64 array plus its sort order, looked up by binary search so it can stay memory-mapped),
    and ``"str"`` (utf-8 bytes with offsets; a hash index is built on first lookup).

    Example:
        >>> idx = IdIndex.from_values(np.array(["a", "b"], dtype=object))
        >>> idx.lookup(["b"]).tolist()
        [1]
    """

    def __init__(self, kind: str, n: int, arrays: dict[str, np.ndarray] | None = None) -> None:
        if kind not in ("range", "int", "str"):
            raise ValidationError(f"id index kind {kind!r}: expected 'range', 'int' or 'str'")
        self.kind = kind
        self.n = int(n)
        self.arrays: dict[str, np.ndarray] = dict(arrays or {})
        self._str_index: pd.Index | None = None
        self._str_values: np.ndarray | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def range(cls, n: int) -> "IdIndex":
        return cls("range", n)

    @classmethod
    def from_values(cls, values: Any) -> "IdIndex":
        """Index of distinct external ids in the given order (dense id = position)."""
        arr = np.asarray(values)
        if arr.dtype.kind in "iu":
            ids = arr.astype(np.int64, copy=False)
            order = np.argsort(ids, kind="stable")
            if ids.size > 1 and np.any(ids[order[1:]] == ids[order[:-1]]):
                dup = ids[order[1:]][ids[order[1:]] == ids[order[:-1]]][0]
                raise ValidationError(f"external ids: id {dup} appears more than once")
            if ids.size and ids[0] == 0 and np.array_equal(ids, np.arange(ids.size)):
                return cls.range(ids.size)
            return cls("int", ids.size, {"ids": ids, "order": order.astype(np.int64)})
        if arr.dtype.kind in "OUS":
            import pandas as pd

            strs = [v.decode() if isinstance(v, bytes) else str(v) for v in arr.tolist()]
            index = pd.Index(strs)
            if not index.is_unique:
                dup = index[index.duplicated()][0]
                raise ValidationError(f"external ids: id {dup!r} appears more than once")
            encoded = [s.encode("utf-8") for s in strs]
            lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
            offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            out = cls("str", len(strs), {"offsets": offsets, "data": data})
            out._str_index = index
            return out
        raise ValidationError(f"external ids: dtype {arr.dtype} is not supported; expected int64 or str")

    # ------------------------------------------------------------------ queries
    def _strings(self) -> np.ndarray:
        if self._str_values is None:
            offsets = np.asarray(self.arrays["offsets"])
            raw = np.asarray(self.arrays["data"]).tobytes()
            self._str_values = np.array(
                [raw[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(self.n)], dtype=object)
        return self._str_values

    def _index(self) -> pd.Index:
        if self._str_index is None:
            import pandas as pd

            self._str_index = pd.Index(self._strings())
        return self._str_index

    def lookup(self, ids: Any, *, ntype: str = "node", missing: str = "raise") -> np.ndarray:
        """Dense ids of external ``ids`` (int64). ``missing='raise'`` or ``'-1'``."""
        arr = np.atleast_1d(np.asarray(ids))
        if self.kind == "str":
            if arr.dtype.kind not in "OUS":
                arr = arr.astype(str)
            keys = [v.decode() if isinstance(v, bytes) else v for v in arr.tolist()]
            out = self._index().get_indexer(keys).astype(np.int64)
        else:
            if arr.dtype.kind not in "iu":
                try:
                    arr = arr.astype(np.int64)
                except (TypeError, ValueError):
                    raise UnknownIdError(
                        f"{ntype} ids: {arr[:3].tolist()} are not integers; this node type has int ids") from None
            arr = arr.astype(np.int64, copy=False)
            if self.kind == "range":
                out = np.where((arr >= 0) & (arr < self.n), arr, -1)
            else:
                ext = np.asarray(self.arrays["ids"])
                order = np.asarray(self.arrays["order"])
                pos = np.searchsorted(ext, arr, sorter=order)
                pos = np.minimum(pos, max(self.n - 1, 0))
                out = order[pos] if self.n else np.full(arr.shape, -1, np.int64)
                if self.n:
                    out = np.where(ext[out] == arr, out, -1)
        if missing == "raise" and out.size and out.min() < 0:
            bad = arr[out < 0][:5].tolist()
            raise UnknownIdError(f"unknown {ntype} id(s) {bad} ({int((out < 0).sum())} in all)")
        return out

    def external(self, dense: Any) -> np.ndarray:
        """External ids of dense ids."""
        d = np.atleast_1d(np.asarray(dense, dtype=np.int64))
        if d.size and (d.min() < 0 or d.max() >= self.n):
            raise UnknownIdError(f"dense id(s) out of range [0, {self.n}): {d[(d < 0) | (d >= self.n)][:5].tolist()}")
        if self.kind == "range":
            return d.copy()
        if self.kind == "int":
            return np.asarray(self.arrays["ids"])[d]
        return self._strings()[d]

    def values(self) -> np.ndarray:
        return self.external(np.arange(self.n))

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"IdIndex(kind={self.kind!r}, n={self.n})"
