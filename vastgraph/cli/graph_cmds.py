"""CLI commands over the store: build, info, verify, datasets."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_json, print_table, progress_bar


class InputFormat(str, Enum):
    auto = "auto"
    edgelist = "edgelist"
    parquet = "parquet"
    mat = "mat"
    dataset = "dataset"


class DupPolicy(str, Enum):
    keep = "keep"
    sum = "sum"
    first = "first"


class LoopPolicy(str, Enum):
    keep = "keep"
    drop = "drop"


class IdMode(str, Enum):
    map = "map"
    dense = "dense"


@handle_errors
def build(
    input: str = typer.Argument(..., help="Edge list (.txt/.csv/.tsv/..., also .gz/.bz2/.xz/.zst), Parquet file, MATLAB .mat graph, or a dataset name with --format dataset."),
    out: Path = typer.Argument(..., help="Output store folder."),
    fmt: InputFormat = typer.Option(InputFormat.auto, "--format", help="Input format (auto: by extension)."),
    delimiter: Optional[str] = typer.Option(None, help="Field delimiter (default: any whitespace; ',' for .csv; tab for .tsv)."),
    header: bool = typer.Option(False, help="The first non-comment line is a header."),
    comment: str = typer.Option("#", help="Comment character."),
    src_col: str = typer.Option("0", help="Source column (index or header name)."),
    dst_col: str = typer.Option("1", help="Destination column (index or header name)."),
    weight_col: Optional[str] = typer.Option(None, help="Weight column (index or name)."),
    time_col: Optional[str] = typer.Option(None, help="Timestamp column (integer seconds)."),
    rel_col: Optional[str] = typer.Option(None, help="Relation column: each value becomes an edge type."),
    etype: Optional[str] = typer.Option(None, help="Edge type 'src:relation:dst' for all rows."),
    undirected: bool = typer.Option(False, "--undirected", help="Store each edge in both directions."),
    duplicates: DupPolicy = typer.Option(DupPolicy.keep, help="Parallel edges: keep, sum weights, or keep the first."),
    self_loops: LoopPolicy = typer.Option(LoopPolicy.keep, help="Self-loops: keep or drop."),
    id_mode: IdMode = typer.Option(IdMode.map, help="map: any int/str ids; dense: ids are 0..n-1 already."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store (the old one survives until the new one is complete)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Node label file: 'node label' lines, multi-label 'node l1,l2,...' lines, or a .csv with a header."),
    labels_ntype: Optional[str] = typer.Option(None, help="Node type the --labels file labels (default: the source node type)."),
    mat_network: str = typer.Option("network", help="--format mat: key of the adjacency matrix."),
    mat_group: str = typer.Option("group", help="--format mat: key of the n x C label matrix (absent: no labels)."),
) -> None:
    """Build a graph store folder from an edge list, a Parquet file, a .mat graph or a registered dataset."""
    from vastgraph.graph.storage import save_graph

    kind = fmt.value
    name = input.lower()
    for ext in (".gz", ".bz2", ".xz", ".zst"):
        if name.endswith(ext):
            name = name[:-len(ext)]
    if kind == "auto":
        kind = ("parquet" if name.endswith((".parquet", ".pq")) else "mat" if name.endswith(".mat")
                else "edgelist")
    if kind == "mat":
        from vastgraph.graph.mat_reader import read_mat
        from vastgraph.graph.readers import _check_out

        _check_out(out, overwrite)
        if labels is not None:
            from vastgraph.errors import ValidationError

            raise ValidationError("--labels: a .mat graph brings its labels (--mat-group); drop --labels")
        with progress_bar(f"reading {input}") as update:
            g = read_mat(input, network=mat_network, group=mat_group, directed=False if undirected else None,
                         out=out, overwrite=overwrite)
        _summary(g.path or str(out))
        return
    if kind == "dataset":
        from vastgraph.datasets import load_dataset

        with progress_bar(f"loading dataset {input}") as update:
            ds = load_dataset(input)
            update(description=f"writing {out}")
            path = save_graph(ds.graph, out, overwrite=overwrite)
        _summary(path)
        return

    def col(v: Optional[str]):
        if v is None:
            return None
        return int(v) if v.lstrip("-").isdigit() else v

    columns = {"src": col(src_col), "dst": col(dst_col)}
    for role, v in (("weight", weight_col), ("time", time_col), ("rel", rel_col)):
        if v is not None:
            columns[role] = col(v)
    common = dict(columns=columns, etype=etype, directed=not undirected, duplicates=duplicates.value,
                  self_loops=self_loops.value, id_mode=id_mode.value, out=str(out), overwrite=overwrite,
                  labels=labels, labels_ntype=labels_ntype)
    with progress_bar(f"reading {input}") as update:
        def prog(rows: int) -> None:
            update(description=f"reading {input}: {rows:,} rows")

        if kind == "parquet":
            from vastgraph.graph.readers import read_parquet

            g = read_parquet(input, progress=prog, **common)
        else:
            from vastgraph.graph.readers import read_edgelist

            if delimiter is None and name.endswith(".csv"):
                delim: Optional[str] = ","
            elif delimiter is None and name.endswith(".tsv"):
                delim = "\t"
            else:
                delim = delimiter
            g = read_edgelist(input, delimiter=delim, header=header, comment=comment, progress=prog, **common)
    _summary(g.path or str(out))


def _summary(path: str) -> None:
    from vastgraph.graph import open_graph

    g = open_graph(path)
    console.print(f"[green]wrote[/] {path}")
    _print_summary(g)
    for nt, lab in (g.info.get("labels") or {}).items():
        if isinstance(lab, dict):
            console.print(f"labels of {nt}: {lab.get('labelled_nodes')} nodes, {len(lab.get('classes', []))} "
                          f"classes{' (multi-label)' if lab.get('multilabel') else ''}"
                          + (f"; [yellow]{lab['skipped_unknown_nodes']} labelled node(s) are not in the graph "
                             "and were skipped[/]" if lab.get("skipped_unknown_nodes") else ""), highlight=False)


def _print_summary(g) -> None:
    s = g.summary()
    rows = [{"node type": k, "count": v["count"], "ids": v["id_kind"],
             "features": "×".join(map(str, v["features"])) if v["features"] else "-",
             "labels": v["labels"] or "-"} for k, v in s["node_types"].items()]
    print_table("node types", rows)
    rows = []
    for k, v in s["edge_types"].items():
        rows.append({"edge type": k, "entries": v["entries"], "undirected": v["undirected"],
                     "weighted": v["weighted"], "timed": v["timestamped"],
                     "degree min/mean/max": f"{v['degree_min']}/{v['degree_mean']:.1f}/{v['degree_max']}"})
    print_table("edge types", rows)
    build_info = s["info"].get("build")
    if isinstance(build_info, dict) and "duplicates" in build_info:
        console.print("build policies: " + ", ".join(
            f"{k}={v}" for k, v in build_info.items() if k not in ("edge_types", "undirected_edge_types")),
            highlight=False)


@handle_errors
def info(
    store: Path = typer.Argument(..., help="Store folder."),
    verify: bool = typer.Option(False, "--verify", help="Re-hash every array against meta.json checksums."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Types, counts, degree statistics and build policies of a store."""
    from vastgraph.graph import open_graph, verify_store

    if verify:
        with progress_bar("verifying checksums"):
            checked = verify_store(store)
        console.print(f"[green]checksums ok[/] ({len(checked)} arrays)")
    g = open_graph(store)
    if as_json:
        print_json(g.summary())
        return
    console.print(f"[bold]{store}[/]: {g!r}")
    _print_summary(g)
    other = {k: v for k, v in g.info.items() if k != "build"}
    if other:
        print_json(other)


datasets_app = typer.Typer(help="Registered datasets (real ones and the built-in synthetic generators).",
                           no_args_is_help=True)


@datasets_app.command("list")
@handle_errors
def datasets_list() -> None:
    """List registered datasets."""
    from vastgraph.datasets import dataset_info, list_datasets

    rows = []
    for name in list_datasets():
        d = dataset_info(name)
        rows.append({"name": name, **{k: d.get(k) for k in ("kind", "description") if k in d}})
    print_table("datasets", rows)


@datasets_app.command("show")
@handle_errors
def datasets_show(name: str = typer.Argument(..., help="Dataset name."),
                  load: bool = typer.Option(True, help="Load it and print the graph summary.")) -> None:
    """Describe one dataset (and load it to print its graph summary)."""
    from vastgraph.datasets import dataset_info, load_dataset

    print_json(dataset_info(name))
    if load:
        ds = load_dataset(name)
        console.print(repr(ds.graph))
        _print_summary(ds.graph)
        if getattr(ds, "missing", None):
            for m in ds.missing:
                console.print(f"[yellow]missing:[/] {m}")
