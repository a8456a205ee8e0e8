"""CLI commands of the sampling engine: walk and query."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from vastgraph.cli._common import console, handle_errors, progress_bar


class IdsOut(str, Enum):
    dense = "dense"
    external = "external"


class WalkKind(str, Enum):
    auto = "auto"
    metapath = "metapath"
    temporal = "temporal"


@handle_errors
def walk(
    store: Path = typer.Argument(..., help="Store folder."),
    out: Path = typer.Argument(..., help="Output file: .npy or .parquet."),
    etype: Optional[str] = typer.Option(None, help="Edge type 'src:rel:dst' (or a unique relation name)."),
    walks_per_node: int = typer.Option(10, help="Walks started from every node."),
    length: int = typer.Option(80, help="Steps per walk (the output has length+1 columns)."),
    p: float = typer.Option(1.0, help="node2vec return parameter."),
    q: float = typer.Option(1.0, help="node2vec in-out parameter."),
    weighted: Optional[bool] = typer.Option(None, "--weighted/--unweighted", help="Default: weighted if the edge type has weights."),
    kind: WalkKind = typer.Option(WalkKind.auto, help="auto (uniform/weighted/node2vec), metapath, temporal."),
    metapath: Optional[str] = typer.Option(None, help="Comma-separated edge types of a metapath (prefix '~' walks an edge type backwards)."),
    seed: Optional[int] = typer.Option(0, help="Random seed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
    ids: IdsOut = typer.Option(IdsOut.dense, "--ids", help="dense: global dense ids; external: the nodes' own ids (Parquet: a list of strings per walk; .txt: one walk per line, ids separated by spaces, as gensim reads it; .npy: dense ids plus the id map in OUT.ids.txt)."),
    ray: Optional[str] = typer.Option(None, "--ray", help="STORE is a partition folder served on Ray: local, auto or HOST:PORT."),
) -> None:
    """Generate random walks from a store into a .npy, Parquet or .txt file (padded with -1)."""
    from vastgraph.cli.export_cmds import check_output_file
    from vastgraph.errors import ValidationError
    from vastgraph.graph import open_graph
    from vastgraph.graph.resources import check_fits
    from vastgraph.validation import check_int

    suffix = out.suffix.lower()
    if suffix not in (".npy", ".parquet", ".pq", ".txt"):
        raise ValidationError(f"output {out}: expected a .npy, .parquet or .txt file name")
    if suffix == ".txt" and ids != IdsOut.external:
        raise ValidationError(f"output {out}: a .txt corpus holds external ids; pass --ids external")
    check_output_file(out, overwrite)
    check_int("--walks-per-node", walks_per_node, 1)
    check_int("--length", length, 1)
    g = open_graph(store) if ray is None else __import__("vastgraph.cli.distributed_cmds", fromlist=["x"]).open_for_cli(store, ray)
    n_start = g.num_nodes(g.edge_type(etype).src) if kind != WalkKind.metapath and not metapath else g.num_nodes_total()
    check_fits(n_start * walks_per_node * (length + 1) * 8,
               f"{n_start:,} start nodes × --walks-per-node {walks_per_node:,} × (--length {length} + 1) positions")
    t0 = time.perf_counter()
    with progress_bar("walking", total=1.0) as update:
        def prog(done: int, total: int) -> None:
            update(done / max(total, 1))

        if kind == WalkKind.metapath or metapath:
            from vastgraph.sampling.metapath import metapath_walks

            if not metapath:
                raise ValidationError("--kind metapath needs --metapath 'a:r:b,b:s:a'")
            walks = metapath_walks(g, [m.strip() for m in metapath.split(",")], walks_per_node=walks_per_node,
                                   walk_length=length, weighted=weighted, random_state=seed)
        elif kind == WalkKind.temporal:
            from vastgraph.sampling.temporal import temporal_walks

            walks, _ = temporal_walks(g, etype=etype, walks_per_node=walks_per_node, walk_length=length,
                                      random_state=seed)
        else:
            from vastgraph.sampling.walks import random_walks

            walks = random_walks(g, etype=etype, walks_per_node=walks_per_node, walk_length=length, p=p, q=q,
                                 weighted=weighted, random_state=seed, progress=prog)
    seconds = time.perf_counter() - t0
    from vastgraph.cli.walk_output import write_walks

    extra = write_walks(g, walks, out, external=ids == IdsOut.external)
    if extra:
        console.print(f"id map: {extra}")
    valid = (walks >= 0).sum()
    console.print(f"[green]wrote[/] {out}: {walks.shape[0]:,} walks × {walks.shape[1]} positions "
                  f"({valid:,} visited positions, dtype {walks.dtype}); walks took {seconds:.3f} s", highlight=False)


@handle_errors
def query(
    store: Path = typer.Argument(..., help="Store folder."),
    text: str = typer.Argument(..., help="Query, e.g. 'g.V(\"query\", [\"q1\"]).outV(\"click\").sample(5).values(\"id\")'."),
    seed: Optional[int] = typer.Option(0, help="Random seed for sampling steps."),
    max_rows: int = typer.Option(50, help="Rows to print."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON records."),
) -> None:
    """Run a Gremlin-like query against a store and print the result as a table."""
    from vastgraph.graph import open_graph
    from vastgraph.sampling.query import run_query

    g = open_graph(store)
    res = run_query(g, text, random_state=seed)
    df = res.to_pandas()
    if as_json:
        console.print_json(df.to_json(orient="records"))
        return
    from rich.table import Table

    table = Table(title=f"{len(df):,} rows")
    for c in df.columns:
        table.add_column(str(c))
    for row in df.head(max_rows).itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if len(df) > max_rows:
        console.print(f"[dim]… {len(df) - max_rows:,} more rows (--max-rows)[/]")


def _cell(v) -> str:
    import numpy as np

    if isinstance(v, np.ndarray):
        s = np.array2string(v, precision=3, threshold=8)
        return s
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
