"""The local sampling engine: numba kernels over the in-process CSR store.

This package alone (with ``vastgraph/graph/``) reads raw CSR arrays (``graph.adjacency(...)``).
:class:`LocalEngine` implements :class:`~vastgraph.sampling.engine.SamplingEngine` over a
:class:`~vastgraph.graph.store.GraphStore` and owns the structures derived from its arrays (alias
tables, edge filters, row sums, time-sorted rows, degree tables, relabelling maps). Importing the
package registers it for every ``GraphStore``; kernels compile on first use.

Example:
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.sampling.engine import engine_for
    >>> b = GraphBuilder(directed=True)
    >>> _ = b.add_edges([0, 0, 1], [1, 2, 2])
    >>> g = b.build()
    >>> type(engine_for(g)).__name__
    'LocalEngine'
"""

from __future__ import annotations

from typing import Any

from vastgraph.graph.store import GraphStore
from vastgraph.sampling.engine import register_engine

__all__ = ["LocalEngine"]


def _local_engine(graph: Any) -> Any:
    from vastgraph.sampling.local.engine import LocalEngine

    return LocalEngine(graph)


register_engine(GraphStore, _local_engine)


def __getattr__(name: str) -> Any:
    if name == "LocalEngine":
        from vastgraph.sampling.local.engine import LocalEngine

        return LocalEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
