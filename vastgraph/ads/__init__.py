"""The search-ads application: event logs, the synthetic world, graph construction, retrieval, click
model, auction replay and the end-to-end pipeline.

Names are imported on first use, so importing the package does no work.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EVENT_SCHEMA": "logs", "LogReport": "logs", "read_events": "logs", "write_events": "logs",
    "AdsWorld": "world", "generate_world": "world", "PRESETS": "world",
    "build_ads_graph": "graph_build", "daily_deltas": "graph_build", "top_k_pairs": "graph_build",
    "Retrieved": "retrieval", "Retriever": "retrieval", "BaseRetriever": "retrieval",
    "CoClickRetriever": "retrieval", "EmbeddingRetriever": "retrieval", "ScoreRetriever": "retrieval",
    "RelevanceRetriever": "retrieval", "RandomRetriever": "retrieval", "evaluate_retrieval": "retrieval",
    "ClickModel": "click_model", "text_overlap": "click_model",
    "replay_auction": "auction", "AuctionResult": "auction", "compare": "auction",
    "AdsPipelineConfig": "pipeline", "PipelineResult": "pipeline", "run_pipeline": "pipeline",
    "write_report": "report",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'vastgraph.ads' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vastgraph.ads.{mod}"), name)
