"""PyTorch modules: structural (anonymous-walk) layers and models, curvature layers, PyG baselines.

Models take tensors (features, structural statistics, sampled :class:`~vastgraph.nn.batch.NodeBatch`
blocks) and import nothing from the graph store; :func:`vastgraph.train.create_model` builds
one on a graph. Names are imported on first use (torch_geometric loads only with the baselines).
"""

from __future__ import annotations

from vastgraph.lazy import lazy_getattr

_EXPORTS = {
    "NodeModel": "base", "Block": "batch", "NodeBatch": "batch", "GraLSPConv": "gralsp_conv",
    "GraLSP": "gralsp", "RelationalGraLSP": "relational", "RelationalGraLSPConv": "relational",
    "GraphSTONE": "graphstone", "HGCN": "hgcn", "HGCNConv": "hgcn",
    "GCN": "pyg_baselines", "GraphSAGE": "pyg_baselines", "GAT": "pyg_baselines", "GIN": "pyg_baselines",
    "available_models": "registry", "get_model": "registry", "model_name": "registry",
    "register_model": "registry",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
