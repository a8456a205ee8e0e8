"""``vastgraph ads``: the search-ads pipeline on a generated world or on your own logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from vastgraph.cli._common import console, handle_errors, print_table, progress_bar

ads_app = typer.Typer(no_args_is_help=True, help="Search-ads application: retrieval, click model, auction replay.")


def run_and_report(cfg: Any, out: Path) -> Any:
    """Run the pipeline with progress bars, save the graph, print the tables, write report + metrics."""
    from vastgraph.ads.pipeline import run_pipeline
    from vastgraph.ads.report import retrieval_rows, write_report
    from vastgraph.graph.storage import save_graph
    from vastgraph.report import write_json

    out.mkdir(parents=True, exist_ok=True)
    res = run_pipeline(cfg, stage=progress_bar)
    save_graph(res.graph, out / "graph", overwrite=True)
    rows = retrieval_rows(res)
    keep = [k for k in rows[0] if k in ("method", "train s") or "@50" in k or k.endswith("coclick")]
    print_table("query → ad retrieval on the held-out day (recall vs hidden relevance; click = vs its clicks)",
                [{k: r[k] for k in keep} for r in rows])
    if res.auction_table:
        print_table("auction replay of the held-out day (ratios vs co-click)",
                    [{k: r.get(k) for k in ("method", "clicks", "gmv", "roi", "gmv_ratio", "roi_ratio")}
                     for r in res.auction_table])
    if getattr(res, "bidding", None):
        print_table("auto-bidding on the held-out day (value, ROI, budget use, CPA violations, over budget)",
                    [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()
                      if k in ("policy", "value", "score", "roi", "budget_use", "violations", "over_budget", "train_s")}
                     for r in res.bidding])
    if res.click_model:
        print_table("click model (held-out day)",
                    [{k: r.get(k) for k in ("click model", "auc", "logloss")} for r in res.click_model])
    for note in res.notes:
        console.print(f"[yellow]note[/] {note}")
    rp = write_report(res, out / "report.html")
    write_json(out / "metrics.json", res.metrics())
    console.print(f"[green]report[/] {rp}  [green]metrics[/] {out / 'metrics.json'}  "
                  f"[green]graph[/] {out / 'graph'}  ({res.seconds:.1f} s)")
    return res


@ads_app.command("run")
@handle_errors
def run(
    config: Optional[Path] = typer.Option(None, help="YAML config (keys of AdsPipelineConfig: preset, events, "
                                                     "methods, dimensions, budget, k_values, ...)."),
    out: Path = typer.Option(Path("vastgraph-ads"), help="Output folder (graph, report.html, metrics.json)."),
    preset: Optional[str] = typer.Option(None, help="tiny | default | large (overrides the config)."),
    events: Optional[Path] = typer.Option(None, help="Your own log (Parquet/CSV; overrides the config)."),
    methods: Optional[str] = typer.Option(None, help="Comma-separated methods (overrides the config)."),
    seed: Optional[int] = typer.Option(None, help="Seed (overrides the config)."),
    bidders: Optional[str] = typer.Option(None, help="Comma-separated auto-bidders replayed on the held-out day: "
                                                     "fixed, pid, online-lp, dt, diffusion, or 'all'."),
) -> None:
    """Run the search-ads pipeline: graph, retrieval methods, metrics, click model, auction replay, report."""
    from vastgraph.ads.pipeline import _validated, load_config

    raw: dict[str, Any] = load_config(config).model_dump(exclude_unset=True) if config is not None else {}
    for key, val in (("preset", preset), ("events", str(events) if events else None), ("seed", seed),
                     ("methods", methods.split(",") if methods else None),
                     ("bidders", [b.strip() for b in bidders.split(",") if b.strip()] if bidders else None)):
        if val is not None:
            raw[key] = val
    run_and_report(_validated(raw), out)


@ads_app.command("generate")
@handle_errors
def generate(
    out: Path = typer.Argument(..., help="Output file for the event log (.parquet or .csv)."),
    preset: str = typer.Option("default", help="tiny | default | large."),
    seed: int = typer.Option(0, help="Seed."),
) -> None:
    """Generate a synthetic search-ads event log (for trying `ads run --events`)."""
    from vastgraph.ads.logs import write_events
    from vastgraph.ads.world import AdsWorld

    with progress_bar(f"generating the {preset} world", 1.0) as update:
        world = AdsWorld.preset(preset, random_state=seed, progress=lambda d, t: update(d / max(t, 1)))
    path = write_events(world.events, out)
    console.print(f"[green]wrote[/] {path}: {len(world.events):,} events over {world.events['day'].nunique()} days")
