"""Build graphs from edge-list text, Parquet and in-memory columns, streaming into :class:`GraphBuilder`.

Every reader feeds chunks to :meth:`GraphBuilder.add_edges` (which spills past ``memory_limit``),
so inputs larger than memory work, and ``out=`` writes the store folder atomically: when parsing
fails nothing is built, no folder appears at ``out`` and an existing store there is left as it was.

* :func:`read_edgelist` / :func:`add_edgelist`: delimited text (whitespace, CSV, TSV ...), with
  comments, an optional header, weights, timestamps and a relation column for typed (multiplex)
  edge lists. Errors name the file, the 1-based line and the field.
* :func:`read_parquet` / :func:`add_parquet`: Parquet files, batch by batch.
* :func:`from_columns`, :func:`from_dataframe`, :func:`from_arrow` / :func:`add_columns`: numpy,
  pandas and Arrow columns, zero-copy where the dtypes allow.

A relation column (role ``rel``) turns each distinct value ``r`` into the edge type
``(src_type, str(r), dst_type)``, as in GATNE's multiplex files (``"<type> <u> <v>"`` lines).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

from vastgraph.errors import EmptyInputError, SchemaError, StoreExistsError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.column_reader import BadValue, coerce
from vastgraph.graph.compressed import plain_text
from vastgraph.graph.hetero_graph import HeteroGraph
from vastgraph.graph.parquet_reader import ParquetEdgeReader, parquet_files
from vastgraph.graph.schema import EdgeType, check_name
from vastgraph.graph.storage import is_store
from vastgraph.graph.text_reader import TextEdgeReader, sniff

Progress = Callable[[int], None]


# =========================================================================== shared plumbing
def _resolve_types(etype: Any, src_type: str | None, dst_type: str | None,
                   has_rel: bool) -> tuple[EdgeType | None, str, str]:
    """The fixed edge type (None with a ``rel`` column) and the endpoint node types."""
    if has_rel:
        if etype is not None:
            raise ValidationError(f"etype={etype!r} and a 'rel' column exclude each other: the "
                                  "relation column names the edge types; use src_type/dst_type")
        src = check_name("node type", src_type or "node")
        return None, src, check_name("node type", dst_type or src)
    if etype is None or (isinstance(etype, str) and ":" not in etype and "," not in etype):
        src = src_type or "node"
        et = EdgeType(src, etype or "edge", dst_type or src)
    else:
        if src_type is not None or dst_type is not None:
            raise ValidationError(f"etype={etype!r} already names the node types; drop "
                                  f"src_type={src_type!r}/dst_type={dst_type!r}")
        if isinstance(etype, str):
            et = EdgeType.parse(etype)
        elif isinstance(etype, tuple) and len(etype) == 3:
            et = EdgeType(*etype)
        else:
            raise ValidationError(f"etype={etype!r}: expected (src, relation, dst), 'src:rel:dst' or a "
                                  "relation name")
    for kind, name in (("node type", et.src), ("relation", et.rel), ("node type", et.dst)):
        check_name(kind, name)
    return et, et.src, et.dst


class _Target:
    """Where a chunk's rows go: one fixed edge type, or one per value of the ``rel`` column."""

    def __init__(self, builder: GraphBuilder, etype: Any, src_type: str | None, dst_type: str | None,
                 has_rel: bool) -> None:
        et, self.src_type, self.dst_type = _resolve_types(etype, src_type, dst_type, has_rel)
        self.etype = None if et is None else builder.add_edge_type(et)

    def feed(self, builder: GraphBuilder, chunk: dict[str, np.ndarray], source: str, row_offset: int) -> int:
        src, dst = chunk["src"], chunk["dst"]
        w, t = chunk.get("weight"), chunk.get("time")
        rel = chunk.get("rel")
        if rel is None:
            return builder.add_edges(src, dst, etype=self.etype, weight=w, time=t, source=source,
                                     row_offset=row_offset)
        codes, uniq = pd.factorize(rel)
        names = [str(u) for u in uniq]
        if len(names) == 1:
            return builder.add_edges(src, dst, etype=(self.src_type, names[0], self.dst_type), weight=w,
                                     time=t, source=source, row_offset=row_offset)
        order = np.argsort(codes.astype(np.int32 if len(names) > 32767 else np.int16), kind="stable")
        bounds = np.zeros(len(names) + 1, np.int64)
        np.cumsum(np.bincount(codes, minlength=len(names)), out=bounds[1:])
        kept = 0
        for j, name in enumerate(names):
            idx = order[bounds[j]:bounds[j + 1]]
            kept += builder.add_edges(src[idx], dst[idx], etype=(self.src_type, name, self.dst_type),
                                      weight=None if w is None else w[idx],
                                      time=None if t is None else t[idx], source=source,
                                      row_offset=row_offset)
        return kept


def _check_out(out: Any, overwrite: bool) -> None:
    """Refuse early (before any parsing) what the store writer would refuse at the end."""
    if out is None:
        return
    p = Path(out)
    if p.exists():
        if not overwrite:
            raise StoreExistsError(f"{p.absolute()} already exists; pass overwrite=True to replace it "
                                   "(the old store is kept until the new one is complete)")
        if not is_store(p):
            raise StoreExistsError(f"{p.absolute()} exists and is not a vastgraph store; refusing to replace it")


@contextlib.contextmanager
def _new_builder(*, directed: bool, duplicates: str, self_loops: str, id_mode: str, memory_limit: int,
                 spill_dir: str | None) -> Iterator[GraphBuilder]:
    """A builder whose spill files live in a private folder removed afterwards, success or not."""
    from vastgraph.graph.resources import remove_stale

    base = spill_dir if spill_dir is not None else tempfile.gettempdir()
    remove_stale(base, "vastgraph-read-*")  # left by a killed run
    remove_stale(base, "vastgraph-spill-*")
    root = tempfile.mkdtemp(prefix=f"vastgraph-read-{os.getpid()}-", dir=spill_dir)
    try:
        yield GraphBuilder(directed=directed, duplicates=duplicates, self_loops=self_loops, id_mode=id_mode,
                           memory_limit=memory_limit, spill_dir=root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _check_chunk_rows(chunk_rows: int) -> int:
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise ValidationError(f"chunk_rows={chunk_rows!r}: expected a positive integer")
    return int(chunk_rows)


def _check_id_dtype(id_dtype: str) -> str:
    if id_dtype not in ("auto", "int", "str"):
        raise ValidationError(f"id_dtype={id_dtype!r}: expected 'auto', 'int' or 'str'")
    return id_dtype


def _record(builder: GraphBuilder, entry: dict[str, Any]) -> None:
    builder.info.setdefault("sources", []).append(entry)


# =========================================================================== text
def add_edgelist(builder: GraphBuilder, path: str | os.PathLike, *, delimiter: str | None = None,
                 columns: dict[str, int | str] | None = None, header: bool = False, comment: str | None = "#",
                 weighted: bool | None = None, timestamped: bool | None = None, etype: Any = None,
                 src_type: str | None = None, dst_type: str | None = None, id_dtype: str = "auto",
                 chunk_rows: int = 1_000_000, progress: Progress | None = None) -> int:
    """Stream one edge-list file into ``builder``; returns the number of data rows read.

    Args: as :func:`read_edgelist` (the builder holds ``directed``, ``duplicates``, ``self_loops``
    and ``id_mode``). Several calls on one builder make one graph from several files.
    """
    chunk_rows = _check_chunk_rows(chunk_rows)
    with plain_text(path, tmp_dir=getattr(builder, "_spill_root", None)) as plain:
        rows = _add_edgelist(builder, plain, os.fspath(path), delimiter=delimiter, columns=columns,
                             header=header, comment=comment, weighted=weighted, timestamped=timestamped,
                             etype=etype, src_type=src_type, dst_type=dst_type, id_dtype=id_dtype,
                             chunk_rows=chunk_rows, progress=progress)
    return rows


def _add_edgelist(builder: GraphBuilder, path: str, original: str, *, delimiter: str | None,
                  columns: dict[str, int | str] | None, header: bool, comment: str | None,
                  weighted: bool | None, timestamped: bool | None, etype: Any, src_type: str | None,
                  dst_type: str | None, id_dtype: str, chunk_rows: int, progress: Progress | None) -> int:
    has_rel = isinstance(columns, dict) and columns.get("rel") is not None
    _, st, dt = _resolve_types(etype, src_type, dst_type, has_rel)
    lay = sniff(path, delimiter=delimiter, comment=comment, header=header, columns=columns, weighted=weighted,
                timestamped=timestamped, id_mode=builder.id_mode, id_dtype=_check_id_dtype(id_dtype),
                same_node_type=st == dt)
    target = _Target(builder, etype, src_type, dst_type, "rel" in lay.cols)
    reader = TextEdgeReader(lay, id_mode=builder.id_mode, id_dtype=id_dtype, chunk_rows=chunk_rows)
    rows = 0
    for chunk, first in reader.chunks():
        target.feed(builder, chunk, lay.path, first)
        rows = first + len(chunk["src"])
        if progress is not None:
            progress(rows)
    _record(builder, {"format": "edgelist", "path": os.path.abspath(original), "rows": rows,
                      "columns": dict(lay.cols), "parser": "+".join(reader.tiers)})
    return rows


def read_edgelist(path: str | os.PathLike, *, delimiter: str | None = None,
                  columns: dict[str, int | str] | None = None, header: bool = False, comment: str | None = "#",
                  directed: bool = True, weighted: bool | None = None, timestamped: bool | None = None,
                  etype: Any = None, src_type: str | None = None, dst_type: str | None = None,
                  id_mode: str = "map", id_dtype: str = "auto", duplicates: str = "keep",
                  self_loops: str = "keep", chunk_rows: int = 1_000_000, out: str | os.PathLike | None = None,
                  overwrite: bool = False, memory_limit: int = 2 << 30, spill_dir: str | None = None,
                  progress: Progress | None = None, labels: str | os.PathLike | None = None,
                  labels_ntype: str | None = None) -> HeteroGraph:
    """Read a delimited edge-list file into a graph, streaming it in chunks.

    Each data line is ``src dst [weight] [time]`` by default, or whatever ``columns`` maps. The file
    is never read whole: numeric files are parsed by parallel numba kernels over a memory map, others
    by ``pandas.read_csv(chunksize=...)``; every malformed line raises
    :class:`~vastgraph.errors.ParseError` naming the file, the 1-based line (counting header, comment
    and blank lines) and the field.

    Args:
        path: the text file.
        delimiter: None (default) for any run of spaces/tabs, or a string such as ``","`` or ``"\\t"``.
        columns: role -> column index (0-based) or header name; roles ``src``, ``dst``, ``weight``,
            ``time``, ``rel``. Default None: ``src``=0, ``dst``=1, then ``weight``=2 and ``time``=3
            where the lines have those columns (and ``weighted``/``timestamped`` are not False).
        header: the first non-comment line names the columns. Default False.
        comment: lines starting with this character (and text after it) are ignored. Default ``"#"``.
        directed: False stores every edge in both directions. Default True.
        weighted, timestamped: None (default): by ``columns``/convention; True: required; False: ignored.
        etype: the one edge type of all rows, ``(src, rel, dst)``, ``"src:rel:dst"`` or a relation
            name. Default ``("node", "edge", "node")``. Excludes a ``rel`` column.
        src_type, dst_type: node types of the endpoints (default ``"node"``; ``dst_type`` defaults to
            ``src_type``); with a ``rel`` column each value ``r`` gives edge type ``(src_type, r, dst_type)``.
        id_mode: ``"map"`` (any ids, dense ids by first appearance) or ``"dense"`` (ids are 0..n-1).
        id_dtype: ``"auto"`` (int64 when the first lines' ids are integers, else strings), ``"int"`` or ``"str"``.
        duplicates: ``"keep"`` | ``"sum"`` | ``"first"``; self_loops: ``"keep"`` | ``"drop"``.
        chunk_rows: rows per chunk fed to the builder (approximate on the numba path). Default 1,000,000.
        out: a store folder to write (atomically) and open; None builds in memory.
        overwrite: replace an existing store at ``out``. Default False.
        memory_limit: bytes of edge chunks held before spilling to ``spill_dir``. Default 2 GiB.
        progress: called with the number of data rows read so far after each chunk.
        labels: a node label file (``node label`` lines, ``node l1,l2`` multi-label lines or a CSV
            with a header; see :mod:`vastgraph.graph.labels`) for ``labels_ntype`` (default: the
            source node type). Compressed inputs (gzip, bzip2, xz, zstd) are read transparently.

    Returns:
        The :class:`HeteroGraph` (memory-mapped from ``out`` when given); ``graph.info["build"]``
        holds the policies and per-edge-type counts of merged duplicates and dropped self-loops.

    Example:
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "e.txt")
        >>> _ = open(p, "w").write("# u v w\\n1 2 0.5\\n2 3 1.5\\n")
        >>> g = read_edgelist(p, directed=False)
        >>> g.num_nodes(), g.num_edges(), g.edge_weights([0], [1]).tolist()
        (3, 4, [0.5])
    """
    _check_out(out, overwrite)
    with _new_builder(directed=directed, duplicates=duplicates, self_loops=self_loops, id_mode=id_mode,
                      memory_limit=memory_limit, spill_dir=spill_dir) as builder:
        add_edgelist(builder, path, delimiter=delimiter, columns=columns, header=header, comment=comment,
                     weighted=weighted, timestamped=timestamped, etype=etype, src_type=src_type,
                     dst_type=dst_type, id_dtype=id_dtype, chunk_rows=chunk_rows, progress=progress)
        if labels is not None:
            builder.add_label_file(os.fspath(labels), labels_ntype or _resolve_types(
                etype, src_type, dst_type, isinstance(columns, dict) and columns.get("rel") is not None)[1])
        return builder.build(path=None if out is None else os.fspath(out), overwrite=overwrite)


# =========================================================================== parquet
def add_parquet(builder: GraphBuilder, path: Any, *, columns: dict[str, int | str] | None = None,
                weighted: bool | None = None, timestamped: bool | None = None, etype: Any = None,
                src_type: str | None = None, dst_type: str | None = None, chunk_rows: int = 1_000_000,
                progress: Progress | None = None) -> int:
    """Stream Parquet file(s) into ``builder``; returns the number of rows read (see :func:`read_parquet`)."""
    chunk_rows = _check_chunk_rows(chunk_rows)
    files = parquet_files(path)
    readers = [ParquetEdgeReader(f, columns=columns, weighted=weighted, timestamped=timestamped,
                                 id_mode=builder.id_mode, chunk_rows=chunk_rows) for f in files]
    if sum(r.num_rows for r in readers) == 0:
        raise EmptyInputError(f"{', '.join(files)}: the Parquet input holds no rows")
    has_rel = {"rel" in r.cols for r in readers}
    if len(has_rel) > 1:
        raise ValidationError(f"{', '.join(files)}: some files have a 'rel' column and some do not")
    target = _Target(builder, etype, src_type, dst_type, has_rel.pop())
    rows = 0
    for r in readers:
        n = 0
        for chunk, first in r.chunks():
            target.feed(builder, chunk, r.path, first)
            n = first + len(chunk["src"])
            if progress is not None:
                progress(rows + n)
        rows += n
        _record(builder, {"format": "parquet", "path": os.path.abspath(r.path), "rows": n, "columns": r.cols})
    return rows


def read_parquet(path: Any, *, columns: dict[str, int | str] | None = None, directed: bool = True,
                 weighted: bool | None = None, timestamped: bool | None = None, etype: Any = None,
                 src_type: str | None = None, dst_type: str | None = None, id_mode: str = "map",
                 duplicates: str = "keep", self_loops: str = "keep", chunk_rows: int = 1_000_000,
                 out: str | os.PathLike | None = None, overwrite: bool = False, memory_limit: int = 2 << 30,
                 spill_dir: str | None = None, progress: Progress | None = None,
                 labels: str | os.PathLike | None = None, labels_ntype: str | None = None) -> HeteroGraph:
    """Read Parquet edge file(s) into a graph, batch by batch (``ParquetFile.iter_batches``).

    Args:
        path: a file, a list of files, or a folder of ``*.parquet`` files (read in name order).
        columns: role -> column name or index. Default None: columns named ``src``, ``dst`` (and
            ``weight``, ``time``, ``rel`` where present), else the first two columns, then weight
            and time by position.
        Other args (``labels`` too): as :func:`read_edgelist`. Ids are integers or strings as stored; time may be an
        integer (seconds) or a timestamp column. Errors name the file, the 1-based row and the column.

    Example:
        >>> import tempfile, os, pyarrow as pa, pyarrow.parquet as pq
        >>> p = os.path.join(tempfile.mkdtemp(), "e.parquet")
        >>> pq.write_table(pa.table({"src": ["a", "b"], "dst": ["b", "c"]}), p)
        >>> read_parquet(p).num_edges()
        2
    """
    _check_out(out, overwrite)
    with _new_builder(directed=directed, duplicates=duplicates, self_loops=self_loops, id_mode=id_mode,
                      memory_limit=memory_limit, spill_dir=spill_dir) as builder:
        add_parquet(builder, path, columns=columns, weighted=weighted, timestamped=timestamped, etype=etype,
                    src_type=src_type, dst_type=dst_type, chunk_rows=chunk_rows, progress=progress)
        if labels is not None:
            builder.add_label_file(os.fspath(labels), labels_ntype or _resolve_types(
                etype, src_type, dst_type, isinstance(columns, dict) and columns.get("rel") is not None)[1])
        return builder.build(path=None if out is None else os.fspath(out), overwrite=overwrite)


# =========================================================================== columns
def _batches(columns: dict[str, Any], chunk_rows: int) -> Iterator[tuple[dict[str, Any], int]]:
    """Aligned row slices of the given columns (views; Arrow tables by record batch)."""
    for role, v in columns.items():
        if isinstance(v, np.ndarray) and v.ndim != 1:
            raise ValidationError(f"column {role!r} has shape {v.shape}; expected a 1-D column")
    lengths = {role: len(v) for role, v in columns.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{r} has {k}" for r, k in lengths.items())
        raise ValidationError(f"columns of unequal length: {desc} rows")
    n = lengths["src"]
    if n == 0:
        raise EmptyInputError("src and dst are empty: no edges to build a graph from")
    for start in range(0, n, chunk_rows):
        end = start + chunk_rows
        yield {r: (v.iloc[start:end] if isinstance(v, pd.Series) else v[start:end])
               for r, v in columns.items()}, start


def add_columns(builder: GraphBuilder, src: Any, dst: Any, *, weight: Any = None, time: Any = None,
                rel: Any = None, etype: Any = None, src_type: str | None = None, dst_type: str | None = None,
                names: dict[str, str] | None = None, chunk_rows: int = 1_000_000,
                source: str = "columns") -> int:
    """Feed edge columns (numpy, pandas, Arrow, lists) into ``builder``; returns the rows added.

    Columns of the stored dtypes are held by reference (zero-copy) until ``builder.build()``: do not
    modify them in between. ``names`` (role -> column name) only serve error messages.
    """
    chunk_rows = _check_chunk_rows(chunk_rows)
    cols = {r: v for r, v in (("src", src), ("dst", dst), ("weight", weight), ("time", time), ("rel", rel))
            if v is not None}
    cols = {r: (v if isinstance(v, (np.ndarray, pd.Series, pd.Index, pa.Array, pa.ChunkedArray))
                else np.asarray(v)) for r, v in cols.items()}
    names = dict(names or {})
    target = _Target(builder, etype, src_type, dst_type, "rel" in cols)
    rows = 0
    for part, first in _batches(cols, chunk_rows):
        chunk = {}
        for role, v in part.items():
            try:
                chunk[role] = coerce(role, v, id_mode=builder.id_mode)
            except BadValue as bad:
                where = "" if bad.row is None else f", row {first + bad.row}"
                prefix = "" if source == "columns" else f"{source}: "
                raise ValidationError(f"{prefix}column {names.get(role, role)!r} ({role}){where}: "
                                      f"{bad.message}") from None
        rows += target.feed(builder, chunk, source, first)
    return rows


def _per_type(value: Any, types: list[str], what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        unknown = set(value) - set(types)
        if unknown:
            raise ValidationError(f"{what}: node type(s) {sorted(unknown)} are not endpoints of the edges "
                                  f"({', '.join(types)})")
        return dict(value)
    if len(types) != 1:
        raise ValidationError(f"{what}: the edges join node types {', '.join(types)}; give a dict "
                              "{node type: value}")
    return {types[0]: value}


def from_columns(src: Any, dst: Any, *, weight: Any = None, time: Any = None, rel: Any = None,
                 etype: Any = None, src_type: str | None = None, dst_type: str | None = None,
                 num_nodes: Any = None, node_ids: Any = None, node_features: Any = None,
                 node_labels: Any = None, directed: bool = True, duplicates: str = "keep",
                 self_loops: str = "keep", id_mode: str = "map", chunk_rows: int = 1_000_000,
                 out: str | os.PathLike | None = None, overwrite: bool = False,
                 memory_limit: int = 2 << 30, spill_dir: str | None = None,
                 names: dict[str, str] | None = None) -> HeteroGraph:
    """Build a graph from edge columns: numpy arrays, pandas Series, Arrow arrays or lists.

    Numpy and Arrow inputs of the stored dtypes (int64 ids, float32 weights, int64 time) are used
    without copying. Columns are checked: equal lengths, numeric finite weights, integer times, no
    missing values; errors name the column and row.

    Args:
        src, dst: ``(m,)`` external ids (ints or strings; non-negative ints with ``id_mode="dense"``).
        weight: ``(m,)`` numbers (stored float32). time: ``(m,)`` integer seconds or datetimes.
        rel: ``(m,)`` relation per edge: each value ``r`` gives edge type ``(src_type, r, dst_type)``.
        etype, src_type, dst_type: as :func:`read_edgelist`.
        num_nodes: node count (int, or ``{node type: int}``), e.g. to keep isolated nodes in dense mode.
        node_ids: the node set's external ids (array, or per node type); edges naming others are errors.
        node_features: ``(n, d)`` float features (array, or per node type), row i = node i (dense id).
        node_labels: ``(n,)`` int labels (-1 unknown) or ``(n, C)`` 0/1 (array, or per node type).
        directed, duplicates, self_loops, id_mode, chunk_rows, out, overwrite, memory_limit,
        spill_dir: as :func:`read_edgelist`.
        names: role -> column name, for error messages (set by :func:`from_dataframe`/:func:`from_arrow`).

    Example:
        >>> g = from_columns(np.array([0, 1]), np.array([1, 2]), weight=np.array([1.0, 2.0]), id_mode="dense")
        >>> g.num_nodes(), g.edge_weights([1], [2]).tolist()
        (3, [2.0])
    """
    _check_out(out, overwrite)
    with _new_builder(directed=directed, duplicates=duplicates, self_loops=self_loops, id_mode=id_mode,
                      memory_limit=memory_limit, spill_dir=spill_dir) as builder:
        _, st, dt = _resolve_types(etype, src_type, dst_type, rel is not None)
        types = list(dict.fromkeys([st, dt]))
        nodes: dict[str, dict[str, Any]] = {t: {} for t in types}
        for key, value, what in (("count", num_nodes, "num_nodes"), ("ids", node_ids, "node_ids"),
                                 ("features", node_features, "node_features"),
                                 ("labels", node_labels, "node_labels")):
            for t, v in _per_type(value, types, what).items():
                nodes[t][key] = v
        for t, kw in nodes.items():
            if kw:
                if "ids" in kw and "count" in kw:
                    raise ValidationError(f"node type {t!r}: give node_ids or num_nodes, not both")
                builder.add_nodes(t, **kw)
        add_columns(builder, src, dst, weight=weight, time=time, rel=rel, etype=etype, src_type=src_type,
                    dst_type=dst_type, names=names, chunk_rows=chunk_rows)
        return builder.build(path=None if out is None else os.fspath(out), overwrite=overwrite)


def from_dataframe(df: pd.DataFrame, src: str = "src", dst: str = "dst", *, weight: str | None = None,
                   time: str | None = None, rel: str | None = None, **kwargs: Any) -> HeteroGraph:
    """Build a graph from columns of a pandas DataFrame, named by ``src``, ``dst``, ``weight`` ...

    Other keyword arguments are those of :func:`from_columns`.

    Example:
        >>> df = pd.DataFrame({"u": ["a", "b"], "v": ["b", "c"], "w": [1.0, 2.0]})
        >>> from_dataframe(df, src="u", dst="v", weight="w").num_edges()
        2
    """
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
    return from_columns(**_pick(list(df.columns), lambda c: df[c], src, dst, weight, time, rel), **kwargs)


def from_arrow(table: Any, src: str = "src", dst: str = "dst", *, weight: str | None = None,
               time: str | None = None, rel: str | None = None, **kwargs: Any) -> HeteroGraph:
    """Build a graph from columns of a ``pyarrow.Table`` or ``RecordBatch`` (zero-copy per chunk).

    Other keyword arguments are those of :func:`from_columns`.

    Example:
        >>> t = pa.table({"src": [0, 1], "dst": [1, 2]})
        >>> from_arrow(t, id_mode="dense").num_nodes()
        3
    """
    if not isinstance(table, (pa.Table, pa.RecordBatch)):
        raise ValidationError(f"table: expected a pyarrow Table or RecordBatch, got {type(table).__name__}")
    return from_columns(**_pick(table.schema.names, table.column, src, dst, weight, time, rel), **kwargs)


def _pick(available: Iterable[Any], get: Callable[[Any], Any], src: Any, dst: Any, weight: Any, time: Any,
          rel: Any) -> dict[str, Any]:
    available = list(available)
    out: dict[str, Any] = {"names": {}}
    for role, name in (("src", src), ("dst", dst), ("weight", weight), ("time", time), ("rel", rel)):
        if name is None:
            continue
        if name not in available:
            raise SchemaError(f"{role}={name!r}: no such column; columns: {', '.join(map(str, available))}")
        out[role] = get(name)
        out["names"][role] = str(name)
    return out
