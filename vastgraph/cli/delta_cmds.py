"""``vastgraph delta``: apply graph deltas to a versioned store, list its log, repair it, write snapshots.

``apply`` is a thin caller of :class:`vastgraph.embed.updater.Updater` (store only): lock, replay,
refuse a repeated delta by content digest, log first, swap the version.
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_json, print_table, progress_bar

delta_app = typer.Typer(name="delta", no_args_is_help=True, add_completion=False,
                        help="Graph deltas: apply them to a versioned store, list its log, write snapshots.")


class TimePolicy(str, Enum):
    reject = "reject"
    allow = "allow"


class DeltaFormat(str, Enum):
    auto = "auto"
    delta = "delta"
    edgelist = "edgelist"


class Missing(str, Enum):
    raise_ = "raise"
    ignore = "ignore"


def _load_delta(path: Path, fmt: DeltaFormat, etype: Optional[str], deletions: bool, delimiter: Optional[str],
                batch_time: Optional[int]) -> Any:
    from vastgraph.errors import DatasetError
    from vastgraph.graph.delta import DELTA_MAGIC, GraphDelta

    if not path.is_file():
        raise DatasetError(f"{path}: no such delta file")
    kind = fmt.value
    if kind == "auto":
        with open(path, "rb") as f:
            kind = "delta" if f.read(len(DELTA_MAGIC)) == DELTA_MAGIC else "edgelist"
    if kind == "delta":
        return GraphDelta.load(path)
    if delimiter is None and path.suffix == ".csv":
        delimiter = ","
    elif delimiter is None and path.suffix == ".tsv":
        delimiter = "\t"
    return GraphDelta.from_edgelist(path, etype=etype, delimiter=delimiter, deletions=deletions, time=batch_time)


@delta_app.command("apply")
@handle_errors
def apply(
    store: Path = typer.Argument(..., help="Store folder (a plain store is upgraded to a versioned one)."),
    delta_file: Path = typer.Argument(..., help="A delta file (GraphDelta.save) or an edge list 'src dst [weight] [time]'."),
    time_policy: TimePolicy = typer.Option(TimePolicy.reject, help="reject: edges older than the latest time of their type are an error; allow: accept them."),
    fmt: DeltaFormat = typer.Option(DeltaFormat.auto, "--format", help="auto: a delta file by its magic bytes, else an edge list."),
    etype: Optional[str] = typer.Option(None, help="Edge type 'src:relation:dst' of an edge list's rows (default: the store's only one)."),
    deletions: bool = typer.Option(False, "--deletions", help="The edge list holds deletions 'src dst' instead of insertions."),
    missing: Missing = typer.Option(Missing.raise_, help="Deleting an absent edge: raise (default) or ignore."),
    delimiter: Optional[str] = typer.Option(None, help="Edge-list delimiter (default: whitespace; ',' for .csv; tab for .tsv)."),
    batch_time: Optional[int] = typer.Option(None, "--time", help="Batch time (seconds) of an edge-list delta."),
    new_nodes: bool = typer.Option(False, "--new-nodes", help="Endpoints not in the store become new nodes (in order of appearance) instead of an error."),
    allow_duplicate: bool = typer.Option(False, "--allow-duplicate", help="Apply a delta whose content the log already holds (default: refuse a repeat)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Apply a delta: log it, write the next store version aside and switch to it atomically.

    A delta whose content digest the log already holds is refused unless --allow-duplicate, so a
    retry after a kill cannot apply it twice.
    """
    from vastgraph.embed.updater import Updater
    from vastgraph.graph.storage import is_store

    delta = _load_delta(delta_file, fmt, etype, deletions, delimiter, batch_time)
    up = Updater.open(store)
    before = up.state["store_version"]
    plain = is_store(store) and not (Path(store) / "DYNAMIC").is_file()
    t0 = time.perf_counter()
    with progress_bar("applying delta", total=100) as update:
        res = up.apply(delta, time_policy=time_policy.value, missing=missing.value, new_nodes=new_nodes,
                       allow_duplicate=allow_duplicate,
                       progress=lambda f, stage: update(100 * f, description=f"applying delta: {stage}"))
    if plain:
        console.print(f"[yellow]note:[/] {store} was a plain store; upgrading it in place to a versioned store "
                      "(open_graph still opens its current version)", highlight=False)
    seconds = time.perf_counter() - t0
    counts = res["store"]
    version = res["store version"]
    if as_json:
        print_json({"store": str(store), "version_before": before, "version": version,
                    "digest": res["digest"], "seconds": seconds, **counts})
        return
    rows = [{"change": "new nodes", "type": k, "count": v} for k, v in counts["new_nodes"].items() if v]
    rows += [{"change": "inserted edges", "type": k, "count": v} for k, v in counts["inserted"].items()]
    rows += [{"change": "deleted edges", "type": k, "count": v} for k, v in counts["deleted"].items()]
    rows += [{"change": "touched nodes", "type": k, "count": v} for k, v in counts["touched"].items() if v]
    print_table("delta applied", rows or [{"change": "(nothing)", "type": "", "count": 0}])
    console.print(f"[green]version {before} → {version}[/] in {seconds:.3f} s "
                  f"({store}, batch time {delta.time}, digest {res['digest']})", highlight=False)


@delta_app.command("log")
@handle_errors
def log(
    store: Path = typer.Argument(..., help="A versioned store folder."),
    as_json: bool = typer.Option(False, "--json", help="Print versions and log records as JSON."),
) -> None:
    """List a versioned store's versions and its delta-log records."""
    from vastgraph.graph.dynamic_store import DynamicStore

    ds = DynamicStore.open(store, replay=False)
    versions = ds.versions()
    entries = ds.log_entries()
    check = ds.log.check()
    if as_json:
        print_json({"current": ds.version, "versions": versions, "log": entries, "torn_bytes": check["torn_bytes"],
                    "damaged": check["damaged"]})
    else:
        print_table("versions", [{k: v for k, v in r.items() if k != "path"} for r in versions])
        print_table("delta log", entries)
        if check["torn_bytes"]:
            console.print(f"[yellow]note:[/] {check['torn_bytes']} bytes of an incomplete last record (a torn write); "
                          "the next apply drops them", highlight=False)
    if check["damaged"] is not None:
        from vastgraph.errors import CorruptStoreError

        bad = check["damaged"]
        raise CorruptStoreError(f"{ds.log.path}: record {bad['record']} (seq {bad['seq']}) at byte {bad['offset']}: "
                                f"{bad['reason']}; appends are refused until `vastgraph delta repair {store} "
                                f"--truncate-after {bad['record'] - 1}`")


@delta_app.command("repair")
@handle_errors
def repair(
    store: Path = typer.Argument(..., help="A versioned store folder."),
    truncate_after: Optional[int] = typer.Option(None, "--truncate-after", help="Keep log records 1..N and drop the rest (damaged or torn records included); versions after N are removed and CURRENT rolled back to N."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check a store's delta log; with --truncate-after N, drop the records after N (explicitly)."""
    from vastgraph.errors import ValidationError
    from vastgraph.graph.dynamic_store import DynamicStore

    ds = DynamicStore.open(store, replay=False)
    check = ds.log.check()
    if truncate_after is None:
        if as_json:
            print_json({"current": ds.version, **check})
        else:
            print_table("delta log", [{"records": check["records"], "last seq": check["last_seq"],
                                       "torn bytes": check["torn_bytes"],
                                       "damaged": "" if check["damaged"] is None else
                                       f"record {check['damaged']['record']}: {check['damaged']['reason']}"}])
        if check["damaged"] is not None:
            raise ValidationError(f"{ds.log.path}: record {check['damaged']['record']} is damaged; pass "
                                  f"--truncate-after {check['damaged']['record'] - 1} to drop it and what follows")
        return
    res = ds.repair(truncate_after)
    if as_json:
        print_json(res)
        return
    console.print(f"[green]repaired[/] {store}: log truncated after record {truncate_after} "
                  f"({res['bytes_removed']} bytes removed), version {res['version']}"
                  + (f", removed versions {res['removed_versions']}" if res["removed_versions"] else ""),
                  highlight=False)


@delta_app.command("snapshot")
@handle_errors
def snapshot(
    store: Path = typer.Argument(..., help="A versioned (or plain) store folder."),
    out: Path = typer.Argument(..., help="Output plain store folder."),
    as_of: int = typer.Option(..., "--as-of", help="Time t (seconds): keep the graph as it was at t."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store at OUT."),
) -> None:
    """Write the graph as of time t (latest version dated ≤ t, edges with time ≤ t) as a plain store."""
    from vastgraph.graph import dynamic_store
    from vastgraph.graph.storage import is_store, open_graph, save_graph

    if is_store(store):
        g = dynamic_store.snapshot(open_graph(store), as_of)
    else:
        g = dynamic_store.DynamicStore.open(store, replay=False).as_of(as_of)
    path = save_graph(g, out, overwrite=overwrite)
    rows = [{"edge type": str(et), "entries": g.num_edges(et)} for et in g.edge_types]
    print_table(f"snapshot as of {as_of}", rows)
    console.print(f"[green]wrote[/] {path} ({g.num_nodes_total()} nodes)", highlight=False)
