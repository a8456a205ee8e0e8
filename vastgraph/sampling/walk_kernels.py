"""Compatibility home of the walk kernels, which now live with the local engine.

See :mod:`vastgraph.sampling.local.walk_kernels` (everything is re-exported from there).

Example:
    >>> from vastgraph.sampling.walk_kernels import LANES
    >>> LANES
    32
"""

from __future__ import annotations

from vastgraph.sampling.local.walk_kernels import (LANES, MAX_TRIALS, _maybe_edge,  # noqa: F401
                                                   alias_walks, build_edge_filter, init_lanes,
                                                   is_simple_symmetric, node2vec_walks, row_weight_sums,
                                                   uniform_walks)
