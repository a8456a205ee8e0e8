"""``vastgraph quickstart``: the main job on the embedded default data (no download).

Generates the default search-ads world (a hidden category tree; queries, ads and advertisers with
budgets; a week of impressions, clicks and conversions), builds the heterogeneous graph of all but
the last day, trains the retrieval methods (co-click baseline, DeepWalk, metapath2vec, DNE kept
fresh day by day, mixed-curvature), scores query→ad retrieval on the held-out day, fits click models
with and without graph features, replays that day's traffic through a second-price auction with
each method as the candidate generator, and writes ``report.html`` and ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vastgraph.cli._common import handle_errors


@handle_errors
def quickstart(
    out: Path = typer.Option(Path("vastgraph-quickstart"), help="Output folder (graph, report.html, metrics.json)."),
    seed: int = typer.Option(0, help="Random seed for the generated world and all training."),
    preset: str = typer.Option("default", help="World size: tiny | default | large."),
    methods: Optional[str] = typer.Option(None, help="Comma-separated retrieval methods (default: coclick, "
                                                     "deepwalk, metapath2vec, dne, curvature)."),
    dimensions: int = typer.Option(64, help="Embedding dimension."),
    budget: float = typer.Option(1.0, help="Training budget multiplier (walks, epochs, samples)."),
) -> None:
    """Generate the default search-ads world, train the methods, replay the auction, write an HTML report."""
    from vastgraph.ads.pipeline import _validated
    from vastgraph.cli.ads_cmds import run_and_report

    raw = {"preset": preset, "seed": seed, "dimensions": dimensions, "budget": budget}
    if methods:
        raw["methods"] = [m.strip() for m in methods.split(",") if m.strip()]
    run_and_report(_validated(raw), out)
