"""The one seed vocabulary of the library: seeds from ``random_state``, derived seeds, and the
counter-based random streams of the numba kernels.

- :func:`seed_from` turns ``None`` / an int / a ``numpy.random.Generator`` into a 64-bit seed.
- :func:`derive_seed` derives the seed of a sub-task (a hop, a batch, an epoch) from a seed and any
  number of integer parts; :func:`derive_int` is the same as a non-negative 63-bit Python int (for
  ``torch.Generator.manual_seed`` and numpy), :func:`sklearn_seed` a 32-bit one for scikit-learn.
- :func:`spawn` gives ``n`` independent child seeds.
- Kernels: every walk / seed gets its own stream derived from ``(seed, stream index)`` with
  SplitMix64, so results depend only on ``random_state`` and never on the number of threads or on
  scheduling. Kernels call :func:`stream` once per work item, then :func:`next_float` /
  :func:`next_int`.

Example:
    >>> s = seed_from(7)
    >>> bool(derive_seed(s, 1, 2) == derive_seed(derive_seed(s, 1), 2)), bool(derive_seed(s, 1) != derive_seed(s, 2))
    (True, True)
    >>> 0 <= derive_int(s, 3) < 2**63
    True
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


def derive_seed(seed: Any, *parts: int) -> np.uint64:
    """A 64-bit seed for the sub-task ``parts`` of ``seed`` (e.g. ``(epoch, batch)``).

    Each part advances a SplitMix64 stream, so ``derive_seed(s, a, b) == derive_seed(derive_seed(s, a), b)``.
    """
    s = np.uint64(seed_from(seed) if not isinstance(seed, np.uint64) else seed)
    for p in parts:
        s = np.uint64(stream(s, np.uint64(int(p) % 2**64)))
    return s


def derive_int(seed: Any, *parts: int) -> int:
    """:func:`derive_seed` as a non-negative Python int below 2**63 (torch and numpy seeds)."""
    return int(derive_seed(seed, *parts) >> np.uint64(1))


def spawn(seed: Any, n: int) -> np.ndarray:
    """``n`` independent child seeds (uint64) of ``seed``."""
    s = seed_from(seed) if not isinstance(seed, np.uint64) else seed
    return np.array([derive_seed(s, i) for i in range(int(n))], dtype=np.uint64)


def sklearn_seed(random_state: Any) -> int:
    """A seed in ``[0, 2**32)`` for scikit-learn from None, an int or a numpy Generator."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) \
            and 0 <= int(random_state) < 2**32:
        return int(random_state)
    return int(seed_from(random_state) % np.uint64(2**32))
