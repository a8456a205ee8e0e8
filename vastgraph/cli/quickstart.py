"""``vastgraph quickstart``: the main job on the embedded default data (no download)."""

from __future__ import annotations

from pathlib import Path

import typer

from vastgraph.cli._common import console, handle_errors, progress_bar


@handle_errors
def quickstart(
    out: Path = typer.Option(Path("vastgraph-quickstart"), help="Output folder (store, report.html, metrics.json)."),
    seed: int = typer.Option(0, help="Random seed for the generated world and all training."),
) -> None:
    """Generate the default search-ads graph, store it, and summarise it."""
    from vastgraph.cli.graph_cmds import _print_summary
    from vastgraph.datasets import load_dataset
    from vastgraph.graph.storage import save_graph

    out.mkdir(parents=True, exist_ok=True)
    with progress_bar("generating the default search-ads graph") as update:
        ds = load_dataset("search-ads", random_state=seed)
        update(description=f"writing {out / 'graph'}")
        path = save_graph(ds.graph, out / "graph", overwrite=True)
    console.print(f"[green]store[/] {path}")
    _print_summary(ds.graph)
