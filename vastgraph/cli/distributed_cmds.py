"""CLI of distributed mode: ``vastgraph partition`` and ``vastgraph cluster up|status|down``;
:func:`open_for_cli` lets a graph command take a partition folder with ``--ray local|ADDRESS``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_json, print_table

cluster_app = typer.Typer(help="A Ray cluster for distributed mode: up (ray start --head), status, down.",
                          no_args_is_help=True)

RAY_HELP = ("Serve a partition folder (from `vastgraph partition`) on Ray: 'local' starts Ray in this "
            "process, 'auto' joins the cluster of this node, HOST:PORT a head node.")


def open_for_cli(path: Path, ray: Optional[str]) -> Any:
    """``open_graph(path)`` without ``--ray``; the partition folder on Ray with it."""
    from vastgraph.graph import open_graph

    if ray is None:
        return open_graph(path)
    from vastgraph.distributed import open_distributed
    from vastgraph.distributed.cluster import parse_address

    return open_distributed(path, address=parse_address(ray))


@handle_errors
def partition(
    store: Path = typer.Argument(..., help="Store folder to partition."),
    out: Path = typer.Argument(..., help="Partition folder to create (shard-K/ stores, owner map, manifest)."),
    parts: int = typer.Option(..., "--parts", help="Number of shards."),
    method: str = typer.Option("metis", "--method", help="metis (pymetis), ldg (streaming) or hash."),
    seed: int = typer.Option(0, help="METIS seed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing partition folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest's figures as JSON."),
) -> None:
    """Partition a store into shard folders; report edge cut, balance and halo size."""
    from vastgraph.distributed.partition import partition_graph
    from vastgraph.graph import open_graph

    m = partition_graph(open_graph(store), out, parts=parts, method=method, overwrite=overwrite, seed=seed)
    s = m["stats"]
    report = {"out": str(out), "parts": m["parts"], "method": m["method"], "edges": s["edges"],
              "edge_cut": s["edge_cut"], "edge_cut_fraction": round(s["edge_cut_fraction"], 4),
              "balance_nodes": round(s["balance_nodes"], 4), "balance_edges": round(s["balance_edges"], 4),
              "halo_nodes": s["halo_nodes_total"], "membership_cache_entries": sum(s["membership_cache_entries"])}
    if as_json:
        print_json({**report, "nodes_per_shard": s["nodes_per_shard"], "halo_nodes_per_shard": s["halo_nodes"],
                    "entries_per_shard": s["entries_per_shard"]})
    else:
        print_table(f"partition of {store}", [report])


@cluster_app.command("up")
@handle_errors
def up(port: int = typer.Option(6379, help="GCS port of the head node."),
       num_cpus: Optional[int] = typer.Option(None, help="CPUs Ray may use on this machine (default: all)."),
       dashboard: bool = typer.Option(False, "--dashboard/--no-dashboard", help="Start the Ray dashboard.")) -> None:
    """Start a Ray head on this machine (ray start --head); prints how workers and commands join."""
    from vastgraph.distributed.cluster import cluster_up

    info = cluster_up(port=port, num_cpus=num_cpus, dashboard=dashboard)
    console.print(f"[green]Ray head up[/] at {info['address']}\n  other machines: {info['join']}\n"
                  f"  commands: {info['use']} (or --ray auto on a cluster node)")


@cluster_app.command("status")
@handle_errors
def status(address: Optional[str] = typer.Option(None, help="HOST:PORT of the head (default: this machine's).")) -> None:
    """Show the Ray cluster's nodes and resources (ray status)."""
    from vastgraph.distributed.cluster import cluster_status

    info = cluster_status(address)
    console.print(info["output"] if info["running"] else f"[yellow]no Ray cluster reachable[/]\n{info['output']}")
    if not info["running"]:
        raise typer.Exit(1)


@cluster_app.command("down")
@handle_errors
def down() -> None:
    """Stop the Ray processes of this machine (ray stop)."""
    from vastgraph.distributed.cluster import cluster_down

    info = cluster_down()
    console.print(info["output"] or "stopped")


def register(app: typer.Typer) -> None:
    """Add ``partition`` and ``cluster`` to the top-level app."""
    app.command("partition")(partition)
    app.add_typer(cluster_app, name="cluster")
