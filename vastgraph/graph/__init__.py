"""The graph store: schema, heterogeneous CSR/CSC, on-disk format, builders and readers.

Names are imported from their submodules on first use, so ``import vastgraph.graph`` (and a CLI
command that only opens a store) loads no pandas, pyarrow or scipy and compiles no numba kernel.
"""

from __future__ import annotations

from vastgraph.lazy import lazy_getattr

_EXPORTS = {
    "GraphBuilder": "builder",
    "from_networkx": "convert", "from_scipy": "convert", "to_networkx": "convert", "to_scipy": "convert",
    "from_pyg": "convert_pyg", "to_pyg": "convert_pyg",
    "DeltaSummary": "delta", "GraphDelta": "delta", "apply_delta": "delta", "declare_new_endpoints": "delta",
    "DeltaLog": "delta_log", "DynamicStore": "dynamic_store", "snapshot": "dynamic_store",
    "EdgeTypeData": "hetero_graph", "HeteroGraph": "hetero_graph", "NodeTypeData": "hetero_graph",
    "IdIndex": "id_index",
    "add_columns": "readers", "add_edgelist": "readers", "add_parquet": "readers", "from_arrow": "readers",
    "from_columns": "readers", "from_dataframe": "readers", "read_edgelist": "readers", "read_parquet": "readers",
    "EdgeType": "schema",
    "open_store": "storage", "save_graph": "storage", "verify_store": "storage",
    "EdgeChunk": "view", "GraphView": "view", "open_graph": "view", "register_backend": "view",
    "Adjacency": "store", "FeatureStore": "store", "GraphStore": "store",
    "to_homogeneous": "homogeneous", "subgraph": "subgraph",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
