"""Tasks and evaluation protocols: node classification, link prediction, reconstruction, reports."""

from vastgraph.train.distortion import average_distortion, graph_distances, reconstruction_map
from vastgraph.train.dynamic_eval import Incremental, NewOnly, Retrain, growth_schedule, plot_replay, replay
from vastgraph.train.link_prediction import (EdgeSplit, LinkPredictionResult, evaluate_link_prediction,
                                             split_edges)
from vastgraph.train.metrics import average_precision, f1_scores, hits_at_k, mrr, roc_auc
from vastgraph.train.node_classification import NodeClassificationResult, evaluate_node_classification
from vastgraph.train.graph_classification import classify_graphs
from vastgraph.train.wl import wl_colors, wl_equivalent
from vastgraph.train.reconstruction import ReconstructionResult, evaluate_reconstruction

__all__ = ["EdgeSplit", "LinkPredictionResult", "NodeClassificationResult", "ReconstructionResult",
           "average_precision", "evaluate_link_prediction", "evaluate_node_classification",
           "evaluate_reconstruction", "f1_scores", "hits_at_k", "mrr", "roc_auc", "split_edges",
           "average_distortion", "graph_distances", "reconstruction_map", "Incremental", "NewOnly", "Retrain",
           "growth_schedule", "plot_replay", "replay", "wl_colors", "wl_equivalent", "classify_graphs"]
