"""Ingestion input: JSON lines, CSV or JSON bodies of edge / node records, checked into a GraphDelta.

A request body holds *records*, one per line (JSON lines: ``{"src": 1, "dst": 2}``; CSV: a header
line naming the columns, then one record per line) or a JSON document ``{"records": [...]}``.

Edge records: ``src``, ``dst`` (external ids, required), ``etype`` (``"src:rel:dst"`` or a relation
name; default the graph's only edge type), ``weight`` (finite, >= 0; only for weighted edge types,
default 1), ``time`` (integer seconds; only for timestamped edge types, default the receive time),
``op`` (``"add"``, default, or ``"delete"``). Node records: ``id`` (required), ``ntype`` (default
the only node type), ``features`` (a list of numbers, required for node types with features),
``label`` (integer). Ids are checked against the id kind of their node type (integer or string);
unknown endpoints of inserted edges become new nodes when the worker applies the batch.

Every problem raises :class:`~vastgraph.errors.ParseError` naming the line (1-based; for a JSON
document, the record's position) and the field, before anything is written, so a bad request is
refused as a whole.

Example:
    >>> from vastgraph.graph import GraphBuilder
    >>> b = GraphBuilder(directed=True)
    >>> _ = b.add_edges([0, 1], [1, 2])
    >>> g = b.build()
    >>> recs = read_records(b'{"src": 0, "dst": 2}\\n{"src": 5, "dst": 0}\\n', "application/x-ndjson")
    >>> edges_delta(g, recs).num_insertions
    2
    >>> edges_delta(g, read_records(b"src,dst\\n0,x\\n", "text/csv"))
    Traceback (most recent call last):
    ...
    vastgraph.errors.ParseError: line 2, field 'dst': 'x' is not an integer id (node type 'node' has integer ids)
"""

from __future__ import annotations

import csv
import io
import json
import math
import time as _time
from typing import Any

import numpy as np

from vastgraph.errors import ParseError, SchemaError, ValidationError
from vastgraph.graph.delta import GraphDelta
from vastgraph.graph.view import GraphView

EDGE_FIELDS = ("src", "dst", "etype", "weight", "time", "op")
NODE_FIELDS = ("id", "ntype", "features", "label")
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines")
CSV_TYPES = ("text/csv",)
JSON_TYPES = ("application/json",)
MEDIA_TYPES = JSON_TYPES + JSONL_TYPES + CSV_TYPES

Record = tuple[int, dict[str, Any]]  # (line number, fields)


class UnsupportedMediaType(ParseError):
    """A body whose Content-Type is none of :data:`MEDIA_TYPES`."""


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header (``application/json; charset=utf-8`` → ``application/json``)."""
    mt = (content_type or "").split(";", 1)[0].strip().lower()
    if mt not in MEDIA_TYPES:
        raise UnsupportedMediaType(f"Content-Type {content_type or '(none)'!r} is not supported; send one of "
                                   f"{', '.join(MEDIA_TYPES)}", field="Content-Type")
    return mt


def read_records(body: bytes, content_type: str | None, *, max_records: int | None = None) -> list[Record]:
    """Split a body into ``(line, fields)`` records (see the module docstring); raises ParseError."""
    mt = media_type(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        raise ParseError(f"not UTF-8 text (byte {exc.start})", line=line) from None
    if mt in JSON_TYPES:
        out = _json_document(text)
    elif mt in CSV_TYPES:
        out = _csv(text)
    else:
        out = _json_lines(text)
    if not out:
        raise ParseError("the body holds no records")
    if max_records is not None and len(out) > max_records:
        raise ParseError(f"{len(out)} records exceed the batch limit of {max_records} per request",
                         line=out[max_records][0])
    return out


def _json_value(text: str, line: int) -> Any:
    try:
        return json.loads(text, parse_constant=lambda c: _bad_constant(c, line))
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON ({exc.msg} at column {exc.colno})", line=line + exc.lineno - 1) from None


def _bad_constant(name: str, line: int) -> Any:
    raise ParseError(f"{name} is not a number JSON allows", line=line)


def _json_lines(text: str) -> list[Record]:
    out = []
    for i, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        value = _json_value(raw, i)
        if not isinstance(value, dict):
            raise ParseError(f"expected a JSON object per line, got {type(value).__name__}", line=i)
        out.append((i, value))
    return out


def _json_document(text: str) -> list[Record]:
    value = _json_value(text, 1)
    if isinstance(value, dict) and set(value) == {"records"}:
        value = value["records"]
    if not isinstance(value, list):
        raise ParseError('expected {"records": [...]} or a JSON array of records', field="records")
    out = []
    for i, rec in enumerate(value, start=1):
        if not isinstance(rec, dict):
            raise ParseError(f"record {i} is {type(rec).__name__}, expected an object", line=i)
        out.append((i, rec))
    return out


def _csv(text: str) -> list[Record]:
    rows = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    out = []
    try:
        for row in rows:
            line = rows.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip() for c in row]
                if len(set(header)) != len(header) or not all(header):
                    raise ParseError(f"header {row!r} has empty or repeated column names", line=line)
                continue
            if len(row) != len(header):
                raise ParseError(f"{len(row)} fields, the header names {len(header)}", line=line)
            out.append((line, {k: v.strip() for k, v in zip(header, row) if v.strip() != ""}))
    except csv.Error as exc:
        raise ParseError(f"malformed CSV ({exc})", line=rows.line_num) from None
    return out


# ----------------------------------------------------------------------------- field checks
def _check_fields(line: int, rec: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...]) -> None:
    for k in rec:
        if k not in allowed:
            raise ParseError(f"unknown field (allowed: {', '.join(allowed)})", line=line, field=str(k))
    for k in required:
        if rec.get(k) is None:
            raise ParseError("missing", line=line, field=k)


def _id(value: Any, kind: str, ntype: str, line: int, field: str) -> Any:
    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ParseError(f"{value!r} is not an id (node type {ntype!r} has string ids)", line=line, field=field)
        s = str(value)
        if not s or len(s) > 1024:
            raise ParseError(f"ids are 1 to 1024 characters, this one has {len(s)}", line=line, field=field)
        return s
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{value!r} is not an integer id (node type {ntype!r} has integer ids)",
                         line=line, field=field)
    if not 0 <= value < 2 ** 63:
        raise ParseError(f"{value} is outside [0, 2**63)", line=line, field=field)
    return value


def _number(value: Any, line: int, field: str, *, integer: bool = False) -> Any:
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise ParseError(f"{value!r} is not {'an integer' if integer else 'a number'}",
                             line=line, field=field) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ParseError(f"{value!r} is not {'an integer' if integer else 'a number'}", line=line, field=field)
    if not math.isfinite(value):
        raise ParseError(f"{value!r} is not finite", line=line, field=field)
    if integer and not -2 ** 62 < value < 2 ** 62:
        raise ParseError(f"{value} is out of range", line=line, field=field)
    return value


def _id_kind(graph: GraphView, ntype: str) -> str:
    return "str" if graph.id_index(ntype).kind == "str" else "int"


def _ids_array(values: list[Any], kind: str) -> np.ndarray:
    return np.array(values, dtype=str) if kind == "str" else np.array(values, dtype=np.int64)


# ----------------------------------------------------------------------------- deltas
def edges_delta(graph: GraphView, records: list[Record], *, now: int | None = None) -> GraphDelta:
    """A GraphDelta of edge records checked against ``graph``'s schema (ParseError naming line and field)."""
    groups: dict[tuple[Any, str], dict[str, list[Any]]] = {}
    stamp = int(_time.time()) if now is None else int(now)
    for line, rec in records:
        _check_fields(line, rec, EDGE_FIELDS, ("src", "dst"))
        op = rec.get("op", "add")
        if op not in ("add", "delete"):
            raise ParseError(f"{op!r}: expected 'add' or 'delete'", line=line, field="op")
        raw_et = rec.get("etype")
        if raw_et is not None and not isinstance(raw_et, str):
            raise ParseError(f"{raw_et!r}: expected 'src:rel:dst' or a relation name", line=line, field="etype")
        try:
            et = graph.edge_type(raw_et)
        except (SchemaError, ValidationError) as exc:
            raise ParseError(str(exc), line=line, field="etype") from None
        src = _id(rec["src"], _id_kind(graph, et.src), et.src, line, "src")
        dst = _id(rec["dst"], _id_kind(graph, et.dst), et.dst, line, "dst")
        g = groups.setdefault((et, op), {"src": [], "dst": [], "weight": [], "time": []})
        g["src"].append(src)
        g["dst"].append(dst)
        for field, has, default in (("weight", graph.has_weights(et), 1.0), ("time", graph.has_times(et), stamp)):
            value = rec.get(field)
            if op == "delete" or not has:
                if value is not None:
                    why = "a deletion takes only src, dst and etype" if op == "delete" else \
                        f"edge type {et} has no {field}s"
                    raise ParseError(why, line=line, field=field)
                continue
            if value is None:
                value = default
            value = _number(value, line, field, integer=field == "time")
            if field == "weight" and value < 0:
                raise ParseError(f"{value} is negative", line=line, field=field)
            g[field].append(value)
    delta = GraphDelta()
    for (et, op), g in groups.items():
        s, d = _ids_array(g["src"], _id_kind(graph, et.src)), _ids_array(g["dst"], _id_kind(graph, et.dst))
        if op == "delete":
            delta.delete_edges(s, d, etype=tuple(et))
        else:
            delta.add_edges(s, d, etype=tuple(et), weight=np.array(g["weight"], np.float32) if g["weight"] else None,
                            time=np.array(g["time"], np.int64) if g["time"] else None)
    return delta


def nodes_delta(graph: GraphView, records: list[Record]) -> GraphDelta:
    """A GraphDelta declaring new nodes (ParseError naming line and field; known ids are refused)."""
    groups: dict[str, dict[str, list[Any]]] = {}
    seen: dict[str, dict[Any, int]] = {}
    for line, rec in records:
        _check_fields(line, rec, NODE_FIELDS, ("id",))
        raw = rec.get("ntype")
        if raw is not None and not isinstance(raw, str):
            raise ParseError(f"{raw!r}: expected a node type name", line=line, field="ntype")
        try:
            nt = graph.node_type(raw)
        except (SchemaError, ValidationError) as exc:
            raise ParseError(str(exc), line=line, field="ntype") from None
        ext = _id(rec["id"], _id_kind(graph, nt), nt, line, "id")
        if ext in seen.setdefault(nt, {}):
            raise ParseError(f"id {ext!r} repeats line {seen[nt][ext]}", line=line, field="id")
        seen[nt][ext] = line
        if graph.id_index(nt).lookup(_ids_array([ext], _id_kind(graph, nt)), ntype=nt, missing="-1")[0] >= 0:
            raise ParseError(f"node {ext!r} of type {nt!r} exists already", line=line, field="id")
        feats = graph.features(nt)
        width = None if feats is None else int(np.shape(feats)[1])
        g = groups.setdefault(nt, {"ids": [], "features": [], "labels": []})
        g["ids"].append(ext)
        f = rec.get("features")
        if width is None and f is not None:
            raise ParseError(f"node type {nt!r} has no features", line=line, field="features")
        if width is not None:
            if isinstance(f, str):
                f = [v for v in f.replace(";", " ").split()]
            if not isinstance(f, list) or len(f) != width:
                raise ParseError(f"node type {nt!r} needs {width} features per node", line=line, field="features")
            g["features"].append([_number(v, line, "features") for v in f])
        lab = rec.get("label")
        single = graph.labels(nt) is not None and not graph.is_multilabel(nt)
        if lab is not None and not single:
            raise ParseError(f"node type {nt!r} has no single-class labels", line=line, field="label")
        if single:
            g["labels"].append(-1 if lab is None else _number(lab, line, "label", integer=True))
    delta = GraphDelta()
    for nt, g in groups.items():
        delta.add_nodes(nt, _ids_array(g["ids"], _id_kind(graph, nt)),
                        features=np.array(g["features"], np.float32) if g["features"] else None,
                        labels=np.array(g["labels"], np.int64) if g["labels"] else None)
    return delta


def merge_deltas(deltas: list[GraphDelta]) -> GraphDelta:
    """One delta with every batch of ``deltas`` in order (deterministic: equal inputs, equal digest)."""
    out = GraphDelta()
    for d in deltas:
        for b in d.nodes:
            out.add_nodes(b["ntype"], b["ids"], features=b["features"], labels=b["labels"])
        for b in d.insertions:
            out.add_edges(b["src"], b["dst"], etype=b["etype"], weight=b["weight"], time=b["time"])
        for b in d.deletions:
            out.delete_edges(b["src"], b["dst"], etype=b["etype"])
    return out
