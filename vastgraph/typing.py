"""Type aliases shared across vastgraph."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.integer]
FloatArray = npt.NDArray[np.floating]
IdLike = Union[int, str, np.integer]
IdsLike = Union[Sequence[IdLike], npt.NDArray]
EdgeTypeLike = Union["EdgeType", tuple[str, str, str], str]  # noqa: F821

__all__ = ["IntArray", "FloatArray", "IdLike", "IdsLike", "EdgeTypeLike"]
