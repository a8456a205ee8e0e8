"""Tasks and evaluation protocols: node classification, link prediction, reconstruction, distortion,
dynamic replays, graph classification and the 1-WL reference, the trainer, reports.

Names are imported on first use, so importing one protocol does not load torch.
"""

from __future__ import annotations

from vastgraph.lazy import lazy_getattr

_EXPORTS = {
    "EdgeSplit": "link_prediction", "LinkPredictionResult": "link_prediction",
    "evaluate_link_prediction": "link_prediction", "split_edges": "link_prediction",
    "average_precision": "metrics", "f1_scores": "metrics", "hits_at_k": "metrics", "mrr": "metrics",
    "roc_auc": "metrics",
    "NodeClassificationResult": "node_classification", "evaluate_node_classification": "node_classification",
    "ReconstructionResult": "reconstruction", "evaluate_reconstruction": "reconstruction",
    "average_distortion": "distortion", "graph_distances": "distortion", "reconstruction_map": "distortion",
    "Incremental": "dynamic_eval", "NewOnly": "dynamic_eval", "Retrain": "dynamic_eval",
    "growth_schedule": "dynamic_eval", "plot_replay": "dynamic_eval", "replay": "dynamic_eval",
    "classify_graphs": "graph_classification", "wl_colors": "wl", "wl_equivalent": "wl",
    "Trainer": "trainer", "create_model": "models", "model_params": "models", "sampler_for": "samplers",
    "NodeLoader": "loaders", "LinkLoader": "loaders", "NodeClassification": "tasks", "LinkPrediction": "tasks",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
