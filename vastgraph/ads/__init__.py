"""The search-ads application: event logs, the synthetic world, graph construction, retrieval, click
model, auction replay and the end-to-end pipeline.

Names are imported on first use, so importing the package does no work.
"""

from __future__ import annotations

from vastgraph.lazy import lazy_getattr

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
    "write_report": "report", "evaluate_multiplex_retrieval": "multiplex", "coneighbour_scorer": "multiplex",
    "embedding_scorer": "multiplex", "pair_scorer": "multiplex",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
