"""The result of a query: named numpy columns of equal length, with pandas and dict views."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from vastgraph.errors import SchemaError, ValidationError


class QueryResult:
    """Named columns (numpy arrays with one row per result row) plus the plan that made them.

    Unless the query ends in a global ``count()``, the ``origin`` column gives each row's start
    row: the position of its start vertex in ``V(type, ids)`` (or of the start edge / drawn node).
    Vector fields (``feature``, multi-labels) are 2-D columns ``(rows, d)``.

    Args:
        columns: ``{name: array}``; every array has the same first dimension.
        plan: the :class:`~vastgraph.sampling.query_plan.Plan` that produced them.

    Example:
        >>> r = QueryResult({"origin": np.array([0, 0]), "id": np.array(["a", "b"], dtype=object)})
        >>> len(r), r["id"].tolist()
        (2, ['a', 'b'])
    """

    def __init__(self, columns: dict[str, np.ndarray], plan: Any = None) -> None:
        self.columns: dict[str, np.ndarray] = dict(columns)
        self.plan = plan
        lengths = {k: int(np.shape(v)[0]) for k, v in self.columns.items()}
        if len(set(lengths.values())) > 1:
            raise ValidationError(f"QueryResult columns differ in length: {lengths}")

    def __len__(self) -> int:
        return int(np.shape(next(iter(self.columns.values())))[0]) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise SchemaError(f"result has no column {name!r}; columns: {', '.join(self.columns)}")
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def keys(self) -> list[str]:
        """Column names, in order."""
        return list(self.columns)

    def to_dict(self, as_lists: bool = False) -> dict[str, Any]:
        """``{name: array}`` (``as_lists=True``: plain Python lists, JSON-ready). Default False."""
        if as_lists:
            return {k: np.asarray(v).tolist() for k, v in self.columns.items()}
        return dict(self.columns)

    def to_pandas(self) -> Any:
        """A DataFrame; a 2-D column ``c`` becomes columns ``c[0]``, ``c[1]``, ..."""
        import pandas as pd

        data: dict[str, Any] = {}
        for k, v in self.columns.items():
            v = np.asarray(v)
            if v.ndim == 2:
                for j in range(v.shape[1]):
                    data[f"{k}[{j}]"] = v[:, j]
            else:
                data[k] = v
        return pd.DataFrame(data, index=pd.RangeIndex(len(self)))

    def __repr__(self) -> str:
        return f"QueryResult({len(self)} rows, columns={self.keys()})"
