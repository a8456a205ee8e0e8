"""The graph store: schema, heterogeneous CSR/CSC, on-disk format, builders and readers."""

from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.convert import from_networkx, from_scipy, to_networkx, to_scipy
from vastgraph.graph.convert_pyg import from_pyg, to_pyg
from vastgraph.graph.delta import DeltaSummary, GraphDelta, apply_delta, declare_new_endpoints
from vastgraph.graph.delta_log import DeltaLog
from vastgraph.graph.dynamic_store import DynamicStore, snapshot
from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph, NodeTypeData
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.readers import (add_columns, add_edgelist, add_parquet, from_arrow, from_columns,
                                     from_dataframe, read_edgelist, read_parquet)
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.storage import open_store, save_graph, verify_store
from vastgraph.graph.view import EdgeChunk, GraphView, open_graph, register_backend
from vastgraph.graph.store import Adjacency, FeatureStore, GraphStore
from vastgraph.graph.homogeneous import to_homogeneous
from vastgraph.graph.subgraph import subgraph

__all__ = ["Adjacency", "EdgeType", "EdgeTypeData", "FeatureStore", "GraphBuilder", "GraphStore",
           "HeteroGraph", "IdIndex", "NodeTypeData", "open_graph", "open_store", "GraphView", "EdgeChunk",
           "register_backend", "save_graph", "verify_store", "subgraph",
           "from_networkx", "from_pyg", "from_scipy", "to_networkx", "to_pyg", "to_scipy",
           "add_columns", "add_edgelist", "add_parquet", "from_arrow", "from_columns", "from_dataframe",
           "read_edgelist", "read_parquet", "DeltaSummary", "GraphDelta", "apply_delta", "declare_new_endpoints",
           "DeltaLog", "DynamicStore", "snapshot", "to_homogeneous"]
