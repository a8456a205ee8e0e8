"""Incremental external-id → dense-id assignment used while building a graph from chunks."""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.resources import check_dense_count


class IdMapper:
    """Assigns dense ids to external ids in order of first appearance, chunk by chunk.

    ``mode='map'`` hashes arbitrary int or string ids; ``mode='dense'`` takes non-negative integer ids
    as the dense ids themselves (the count is the largest id + 1). A mapper is *closed* once its ids
    or count were declared: ids outside them are then an error instead of new nodes.
    """

    def __init__(self, ntype: str, mode: str = "map") -> None:
        if mode not in ("map", "dense"):
            raise ValidationError(f"id mode {mode!r}: expected 'map' or 'dense'")
        self.ntype = ntype
        self.mode = mode
        self.closed = False
        self._map: dict[Any, int] = {}
        self._order: list[Any] = []
        self._kind: str | None = None  # "int" or "str"
        self.count = 0

    def declare(self, ids: Any = None, count: int | None = None) -> None:
        """Fix the node set: either explicit external ids, or (dense mode) a count."""
        if ids is not None:
            arr = np.asarray(ids)
            if self.mode == "dense":
                ext = self._as_int(arr, "ids")
                if ext.size and (ext.min() < 0):
                    raise ValidationError(f"{self.ntype} ids: negative id {int(ext.min())} in dense id mode")
                if ext.size:
                    check_dense_count(int(ext.max()) + 1, f"{self.ntype} ids")
                if np.unique(ext).size != ext.size:
                    raise ValidationError(f"{self.ntype} ids: {ext.size - np.unique(ext).size} duplicate id(s)")
                self.count = max(self.count, int(ext.max()) + 1 if ext.size else 0)
            else:
                self.map(arr, where="declared ids", allow_new=True)
                if len(self._map) != arr.shape[0]:
                    n_unique = np.unique(arr.astype(str) if arr.dtype.kind in "OSU" else arr).size
                    if n_unique != arr.shape[0]:
                        raise ValidationError(f"{self.ntype} ids: {arr.shape[0] - n_unique} duplicate id(s)")
                    raise ValidationError(f"{self.ntype} ids: edges added earlier name "
                                          f"{len(self._map) - arr.shape[0]} id(s) that are not among the "
                                          f"{arr.shape[0]} declared ids")
        elif count is not None:
            if int(count) < 0:
                raise ValidationError(f"{self.ntype} count: {count} is negative")
            if self.mode == "map" and self.count and self.count != count:
                raise ValidationError(f"{self.ntype} count: {count} conflicts with {self.count} known ids")
            if self.mode == "map" and not self._map:
                self.mode = "dense"
            check_dense_count(int(count), f"{self.ntype} count")
            self.count = max(self.count, int(count))
        self.closed = True

    def _as_int(self, arr: np.ndarray, where: str) -> np.ndarray:
        if arr.dtype.kind in "iu":
            return arr.astype(np.int64, copy=False)
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValidationError(f"{self.ntype} {where}: non-integer id in dense id mode")
            return arr.astype(np.int64)
        try:
            return arr.astype(np.int64)
        except (TypeError, ValueError):
            raise ValidationError(f"{self.ntype} {where}: ids {arr[:3].tolist()} are not integers "
                                  "(dense id mode needs integer ids; use id mode 'map')") from None

    def map(self, ids: Any, *, where: str = "edges", allow_new: bool | None = None) -> np.ndarray:
        """Dense ids (int64) for a chunk of external ids, assigning new ones where allowed."""
        arr = np.asarray(ids)
        allow = (not self.closed) if allow_new is None else allow_new
        if self.mode == "dense":
            ext = self._as_int(arr, where)
            if ext.size:
                lo, hi = int(ext.min()), int(ext.max())
                if lo < 0:
                    raise ValidationError(f"{self.ntype} {where}: negative id {lo} in dense id mode")
                if hi >= self.count:
                    if not allow:
                        raise UnknownIdError(f"{self.ntype} {where}: id {hi} out of range [0, {self.count})")
                    check_dense_count(hi + 1, f"{self.ntype} {where}")
                    self.count = hi + 1
            return ext
        if arr.size == 0:  # an empty chunk (often float64 from np.asarray([])) must not fix the id kind
            return np.zeros(0, dtype=np.int64)
        kind = "int" if arr.dtype.kind in "iu" else "str"
        if self._kind is None:
            self._kind = kind
        elif self._kind != kind:
            if self._kind == "str":
                arr = arr.astype(str)
            else:
                try:
                    arr = arr.astype(np.int64)
                except (TypeError, ValueError):
                    raise ValidationError(f"{self.ntype} {where}: string ids {arr[:3].tolist()} mixed "
                                          "with integer ids of the same node type") from None
        if arr.dtype.kind in "OUS" and arr.dtype.kind != "U":
            arr = arr.astype(str)
        uniq, inverse = np.unique(arr, return_inverse=True)
        get = self._map.get
        keys = uniq.tolist()
        dense = np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        new = dense < 0
        if new.any():
            if not allow:
                bad = [keys[i] for i in np.flatnonzero(new)[:5]]
                raise UnknownIdError(f"{self.ntype} {where}: unknown id(s) {bad} "
                                     f"({int(new.sum())} in all; the node set was declared)")
            # keep first-appearance order within the chunk
            first = np.full(len(keys), arr.shape[0], dtype=np.int64)
            np.minimum.at(first, inverse.reshape(-1), np.arange(arr.shape[0]))
            new_idx = np.flatnonzero(new)
            new_idx = new_idx[np.argsort(first[new_idx], kind="stable")]
            start = len(self._order)
            dense[new_idx] = np.arange(start, start + new_idx.size)
            for i, k in zip(new_idx.tolist(), (keys[i] for i in new_idx.tolist())):
                self._map[k] = int(dense[i])
                self._order.append(k)
            self.count = len(self._order)
        return dense[inverse.reshape(-1)]

    def index(self) -> IdIndex:
        if self.mode == "dense" or not self._order:
            return IdIndex.range(self.count)
        vals = np.array(self._order, dtype=np.int64 if self._kind == "int" else object)
        return IdIndex.from_values(vals)
