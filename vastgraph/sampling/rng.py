"""Counter-based random streams for numba kernels.

Every walk / seed gets its own stream derived from ``(seed, stream index)`` with SplitMix64, so
results depend only on ``random_state`` and never on the number of threads or on scheduling.
Kernels call :func:`stream` once per work item, then :func:`next_float` / :func:`next_int`.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from vastgraph.errors import ValidationError

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def seed_from(random_state: Any) -> np.uint64:
    """A 64-bit seed from ``None`` (fresh entropy), an int, or a ``numpy.random.Generator``."""
    if random_state is None:
        return np.uint64(np.random.default_rng().integers(0, 2**63))
    if isinstance(random_state, np.random.Generator):
        return np.uint64(random_state.integers(0, 2**63))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise ValidationError(f"random_state={random_state}: expected a non-negative int")
        return np.uint64(int(random_state) % (2**64))
    raise ValidationError(f"random_state={random_state!r}: expected None, an int or a numpy Generator")


@nb.njit(inline="always", cache=True)
def _mix(z):  # pragma: no cover - numba
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@nb.njit(inline="always", cache=True)
def stream(seed, index):  # pragma: no cover - numba
    """Initial state of stream ``index`` under ``seed``."""
    return _mix(np.uint64(seed) + _GOLDEN * (np.uint64(index) + np.uint64(1)))


@nb.njit(inline="always", cache=True)
def next_u64(state):  # pragma: no cover - numba
    """Advance ``state``; returns ``(new_state, 64 random bits)``."""
    state = state + _GOLDEN
    return state, _mix(state)


@nb.njit(inline="always", cache=True)
def next_float(state):  # pragma: no cover - numba
    """``(new_state, u)`` with ``u`` uniform in [0, 1) (53 bits)."""
    state, z = next_u64(state)
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@nb.njit(inline="always", cache=True)
def next_int(state, n):  # pragma: no cover - numba
    """``(new_state, k)`` with ``k`` uniform in [0, n) for n >= 1."""
    state, u = next_float(state)
    k = np.int64(u * n)
    if k >= n:
        k = n - 1
    return state, k
