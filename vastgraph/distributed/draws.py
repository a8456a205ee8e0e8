"""Driver-side draws of the Ray engine that need no graph rows: edge positions.

Draw ``i`` of :func:`draw_positions` comes from ``stream(seed, i)`` exactly as the local engine's
edge sampler draws it (uniform over the ``nnz`` stored entries, or by one alias table over their
weights), so the positions equal the local ones; the endpoints are then fetched from the shards.

Example:
    >>> import numpy as np
    >>> pos = draw_positions(np.int64(10), False, np.zeros(0, np.float32), np.zeros(0, np.int32),
    ...                      np.uint64(3), np.int64(5))
    >>> pos.shape, bool(((pos >= 0) & (pos < 10)).all())
    ((5,), True)
"""

from __future__ import annotations

import numba as nb
import numpy as np

from vastgraph.sampling.local.alias import alias_draw
from vastgraph.seeding import next_int, stream

__all__ = ["draw_positions"]


@nb.njit(nogil=True, parallel=True, cache=True)
def draw_positions(nnz, use_alias, prob, alias, seed, n):  # pragma: no cover - numba
    """``n`` entry positions in ``[0, nnz)``: uniform, or ∝ weight through the alias table."""
    pos = np.empty(n, dtype=np.int64)
    for i in nb.prange(n):
        state = stream(seed, i)
        if use_alias:
            state, e = alias_draw(state, 0, nnz, prob, alias)
        else:
            state, e = next_int(state, nnz)
        pos[i] = e
    return pos
