"""Per-row alias tables (Walker/Vose) for O(1) weighted draws.

The kernels live with the local engine (:mod:`vastgraph.sampling.local.alias`) and are re-exported
here for the embedders that build their own tables (LINE, SGNS noise, DNE). The cached tables of a
graph's edge types belong to its sampling engine: :func:`alias_tables`.

Example:
    >>> import numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> b = GraphBuilder(directed=True, id_mode="dense")
    >>> _ = b.add_edges([0, 0, 1], [1, 2, 2], weight=[1.0, 3.0, 2.0])
    >>> prob, alias = alias_tables(b.build())
    >>> prob.dtype, alias.dtype, prob.shape
    (dtype('float32'), dtype('int32'), (3,))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.graph.view import GraphView
from vastgraph.sampling.local.alias import alias_draw, build_alias

__all__ = ["alias_draw", "alias_tables", "build_alias"]


def alias_tables(graph: GraphView, etype: Any = None, reverse: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """Cached alias tables of one edge type/direction (the local engine's), or None when unweighted."""
    from vastgraph.sampling.engine import engine_for

    return engine_for(graph).alias_tables(graph.edge_type(etype), bool(reverse))
