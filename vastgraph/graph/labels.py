"""Node label files: ``node label`` lines, multi-label ``node l1,l2,...`` lines, or a CSV with a header.

Accepted layouts (``#`` starts a comment; blank lines are skipped):

* ``node label`` per line (whitespace or tab separated); a node on several lines has several labels
  (the BlogCatalog/Flickr ``group-edges`` layout);
* ``node l1,l2,l3`` or ``node l1 l2 l3``: all labels of a node on one line;
* a ``.csv`` file whose first row is a header (``node,label``): first column node, the other
  columns its labels.

Labels are names (``sports``) or numbers; classes are numbered in sorted order (numerically when
every label is an integer), and ``classes`` keeps the original names. A node with one label gives
single-label data (int64, -1 = unlabelled); any node with several gives a 0/1 multi-hot matrix.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vastgraph.errors import DatasetError, EmptyInputError, ParseError, ValidationError

_INT_RE = re.compile(r"[+-]?[0-9]+\Z")


@dataclass
class LabelFile:
    """Parsed label file: external node ids (as written) and the label names of each."""

    path: str
    nodes: list[str]
    labels: list[list[str]]
    classes: list[str] = field(default_factory=list)

    @property
    def multilabel(self) -> bool:
        return any(len(v) > 1 for v in self.labels)


def read_label_file(path: str | os.PathLike, *, header: bool | None = None, comment: str = "#") -> LabelFile:
    """Read a label file (see the module doc); ``header=None`` means: a header row for ``.csv``.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "labels.txt")
        >>> _ = open(p, "w").write("a 1\\nb 2\\na 3\\n")
        >>> lf = read_label_file(p)
        >>> lf.nodes, lf.labels, lf.classes
        (['a', 'b'], [['1', '3'], ['2']], ['1', '2', '3'])
    """
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise DatasetError(f"{p}: no such label file")
    is_csv = p.lower().endswith(".csv")
    if header is None:
        header = is_csv
    by_node: dict[str, list[str]] = {}
    try:
        with open(p, newline="", encoding="utf-8") as f:
            lines = csv.reader(f) if is_csv else (_split_text(line, comment) for line in f)
            for lineno, row in enumerate(lines, 1):
                row = [c.strip() for c in row if c.strip() != ""]
                if not row or row[0].startswith(comment):
                    continue
                if header:
                    header = False
                    continue
                if len(row) < 2:
                    raise ParseError("expected a node and at least one label", path=p, line=lineno)
                node = row[0]
                labs = [x.strip() for c in row[1:] for x in c.split(",") if x.strip()]
                have = by_node.setdefault(node, [])
                have.extend(x for x in labs if x not in have)
    except UnicodeDecodeError as exc:
        raise ParseError(f"not valid UTF-8 text ({exc.reason})", path=p) from None
    if not by_node:
        raise EmptyInputError(f"{p}: the label file holds no labelled nodes")
    out = LabelFile(p, list(by_node), list(by_node.values()))
    names = {x for v in out.labels for x in v}
    numeric = all(_INT_RE.match(x) for x in names)
    out.classes = sorted(names, key=(lambda x: int(x)) if numeric else None)
    return out


def _split_text(line: str, comment: str) -> list[str]:
    k = line.find(comment)
    if k >= 0:
        line = line[:k]
    return line.split()


def label_arrays(lf: LabelFile, dense: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """``(labels, skipped)``: the label array of ``n`` nodes given each file node's dense id
    (``dense[i] = -1`` for nodes not in the graph, which are skipped and counted)."""
    dense = np.asarray(dense, dtype=np.int64)
    if dense.shape != (len(lf.nodes),):
        raise ValidationError(f"{lf.path}: {dense.shape[0]} dense ids for {len(lf.nodes)} labelled nodes")
    index = {c: i for i, c in enumerate(lf.classes)}
    keep = dense >= 0
    if lf.multilabel:
        out = np.zeros((n, len(lf.classes)), dtype=np.uint8)
        rows = np.repeat(dense, [len(v) for v in lf.labels])
        cols = np.fromiter((index[x] for v in lf.labels for x in v), dtype=np.int64)
        ok = rows >= 0
        out[rows[ok], cols[ok]] = 1
    else:
        out = np.full(n, -1, dtype=np.int64)
        cls = np.fromiter((index[v[0]] for v in lf.labels), dtype=np.int64, count=len(lf.labels))
        out[dense[keep]] = cls[keep]
    return out, int((~keep).sum())


def dense_ids(lf: LabelFile, index: Any) -> np.ndarray:
    """Dense id in a graph's :class:`~vastgraph.graph.id_index.IdIndex` of each labelled node, -1
    for nodes the graph does not hold (a non-integer name cannot be in a graph of integer ids)."""
    out = np.full(len(lf.nodes), -1, dtype=np.int64)
    if index.kind == "str":
        ids, valid = np.array(lf.nodes, dtype=object), np.ones(len(lf.nodes), dtype=bool)
    else:
        valid = np.array([bool(_INT_RE.match(x)) and abs(int(x)) < 2 ** 63 for x in lf.nodes], dtype=bool)
        ids = np.array([int(x) if ok else 0 for x, ok in zip(lf.nodes, valid)], dtype=np.int64)
    if valid.any():
        out[valid] = index.lookup(ids[valid], missing="-1")
    return out


def attach_info(lf: LabelFile, ntype: str, skipped: int) -> dict[str, Any]:
    """The ``graph.info['labels']`` entry recording where the labels came from."""
    return {"file": os.path.abspath(lf.path), "node_type": ntype, "classes": lf.classes,
            "multilabel": lf.multilabel, "labelled_nodes": len(lf.nodes) - skipped,
            "skipped_unknown_nodes": skipped}
