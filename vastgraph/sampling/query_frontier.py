"""Frontiers of a running query and the fields (``id``, ``degree``, ``feature[i]`` ...) read from them.

A frontier is a set of rows: nodes of one type, or edges of one edge type. Each row carries the
index of the start row it came from (``origin``) and, for every name given by ``as``, the index of
the row of that named frontier it came through (``refs``) — so results can be grouped by origin
and named frontiers returned side by side without walking paths back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import engine_for

NODE_FIELDS = ("id", "label", "degree", "degree:<edge type>", "feature", "feature[i]")
EDGE_FIELDS = ("src", "dst", "weight", "time")


@dataclass
class Frontier:
    """Rows of one node type (``nodes``) or one edge type (``src``/``dst``/``weight``/``time``).

    All arrays are ``(rows,)``; ids are dense int64; ``origin`` and ``refs`` are int64 row indices.
    """

    kind: str
    origin: np.ndarray
    ntype: str | None = None
    etype: EdgeType | None = None
    nodes: np.ndarray | None = None
    src: np.ndarray | None = None
    dst: np.ndarray | None = None
    weight: np.ndarray | None = None
    time: np.ndarray | None = None
    refs: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.origin.shape[0])

    def describe(self) -> str:
        return f"{self.ntype!r} nodes" if self.kind == "node" else f"{self.etype} edges"

    def take(self, idx: np.ndarray) -> "Frontier":
        """The rows ``idx`` (a gather; row metadata follows)."""
        def g(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]
        return replace(self, origin=self.origin[idx], nodes=g(self.nodes), src=g(self.src),
                       dst=g(self.dst), weight=g(self.weight), time=g(self.time),
                       refs={k: v[idx] for k, v in self.refs.items()})

    def derive(self, parent: np.ndarray, **rows: Any) -> "Frontier":
        """A new frontier whose row ``r`` came from row ``parent[r]`` of this one."""
        base = dict(kind="node", ntype=None, etype=None, nodes=None, src=None, dst=None, weight=None,
                    time=None)
        base.update(rows)
        return Frontier(origin=self.origin[parent], refs={k: v[parent] for k, v in self.refs.items()},
                        **base)


# --------------------------------------------------------------------------- degrees
def node_degree(graph: GraphView, ntype: str, etype: Any = None) -> np.ndarray:
    """Degree of every ``ntype`` node along ``etype`` or, with None, over all edge types (an
    undirected edge once; cached by the graph's sampling engine)."""
    et = None if etype is None else graph.edge_type(etype)
    if et is not None and ntype not in (et.src, et.dst):
        raise SchemaError(f"field 'degree:{etype}': edge type {et} does not touch {ntype!r} nodes")
    return engine_for(graph).node_degrees(ntype, None if et is None else [et])


# --------------------------------------------------------------------------- fields
def _data_names(graph: GraphView, ntype: str) -> list[str]:
    return sorted(graph.node_data_names(ntype))


def valid_fields(graph: GraphView, fr: Frontier) -> list[str]:
    """The fields a frontier has, for error messages."""
    if fr.kind == "edge":
        return [f for f in EDGE_FIELDS if f in ("src", "dst") or getattr(fr, f) is not None]
    out = ["id", "degree", "degree:<edge type>"]
    if graph.labels(fr.ntype) is not None:
        out.append("label")
    if graph.features(fr.ntype) is not None:
        out += ["feature", "feature[i]"]
    return out + _data_names(graph, fr.ntype)


def _unknown(graph: GraphView, fr: Frontier, name: str, what: str) -> SchemaError:
    return SchemaError(f"{what}: {fr.describe()} have no field {name!r}; valid fields: "
                       f"{', '.join(valid_fields(graph, fr))}")


def field_column(graph: GraphView, fr: Frontier, name: str, what: str) -> np.ndarray:
    """The values of field ``name`` for every row (1-D, or 2-D for ``feature``/multi-labels)."""
    if fr.kind == "edge":
        et = fr.etype
        if name == "src":
            return graph.external_ids(et.src, fr.src)
        if name == "dst":
            return graph.external_ids(et.dst, fr.dst)
        if name in ("weight", "time"):
            arr = getattr(fr, name)
            if arr is None:
                raise SchemaError(f"{what}: edge type {et} has no {name}; valid fields: "
                                  f"{', '.join(valid_fields(graph, fr))}")
            return arr
        raise _unknown(graph, fr, name, what)
    nt, nodes = fr.ntype, fr.nodes
    if name == "id":
        return graph.external_ids(nt, nodes)
    if name == "degree":
        return node_degree(graph, nt)[nodes]
    if name.startswith("degree:"):
        return node_degree(graph, nt, name[len("degree:"):])[nodes]
    if name == "label":
        lab = graph.labels(nt)
        if lab is None:
            raise _unknown(graph, fr, name, what)
        return np.asarray(lab[nodes])
    if name == "feature" or name.startswith("feature["):
        feats = graph.features(nt)
        if feats is None:
            raise _unknown(graph, fr, name, what)
        if name == "feature":
            return np.asarray(feats[nodes])
        j = int(name[len("feature["):-1])
        if j >= feats.shape[1]:
            raise ValidationError(f"{what}: field {name!r}: {nt!r} features have {feats.shape[1]} "
                                  f"components; expected an index in [0, {feats.shape[1]})")
        return np.asarray(feats[nodes, j])
    if name in _data_names(graph, nt):
        return np.asarray(graph.node_data(nt, name)[nodes])
    raise _unknown(graph, fr, name, what)


def scalar_column(graph: GraphView, fr: Frontier, name: str, what: str) -> np.ndarray:
    """Like :func:`field_column` but the field must hold one value per row."""
    col = field_column(graph, fr, name, what)
    if col.ndim != 1:
        hint = "; use one component, e.g. 'feature[0]'" if name == "feature" else ""
        raise ValidationError(f"{what}: field {name!r} holds a vector per row; expected a scalar field{hint}")
    return col


# --------------------------------------------------------------------------- comparisons
def _check_value(col: np.ndarray, value: Any, what: str) -> None:
    numeric = col.dtype.kind in "iufb"
    for v in value if isinstance(value, tuple) else (value,):
        if numeric and not isinstance(v, (int, float)):
            raise ValidationError(f"{what}: value {v!r} is a {type(v).__name__}; the field holds numbers")
        if not numeric and not isinstance(v, str):
            raise ValidationError(f"{what}: value {v!r} is a {type(v).__name__}; the field holds strings")


def compare(col: np.ndarray, op: str, value: Any, what: str) -> np.ndarray:
    """Boolean mask of ``col <op> value`` (``in``/``not_in``: membership in a tuple of values)."""
    _check_value(col, value, what)
    if op in ("in", "not_in"):
        if col.dtype.kind in "iufb":
            mask = np.isin(col, np.asarray(value, dtype=np.float64 if any(
                isinstance(v, float) for v in value) else np.int64)) if value else np.zeros(col.shape, bool)
        else:
            mask = pd.Series(col, dtype=object).isin(list(value)).to_numpy(dtype=bool)
        return mask if op == "in" else ~mask
    ops = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
           ">": np.greater, ">=": np.greater_equal}
    return np.asarray(ops[op](col, value), dtype=bool)


def sort_order(col: np.ndarray, desc: bool) -> np.ndarray:
    """Stable order of ``col`` (descending: larger first, ties keep their order)."""
    if not desc:
        return np.argsort(col, kind="stable")
    n = col.shape[0]
    return (n - 1 - np.argsort(col[::-1], kind="stable"))[::-1]
