"""A restricted unpickler for the Python 2 pickles of the Planetoid datasets.

Planetoid's ``ind.*`` files are pickles of scipy CSR matrices, numpy arrays and a
``collections.defaultdict(list)``. Unpickling runs code named by the file, so only an explicit
allow-list of constructors is resolved; anything else is refused with :class:`DatasetError`.
"""

from __future__ import annotations

import codecs
import collections
import os
import pickle
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from vastgraph.errors import DatasetError


def _reconstruct() -> Callable[..., Any]:
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct as fn
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct as fn
    return fn


def _scalar() -> Callable[..., Any]:
    try:
        from numpy._core.multiarray import scalar as fn
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar as fn
    return fn


# (module, name) as written by Python 2 / old numpy / old scipy -> the object to use now
_ALLOWED: dict[tuple[str, str], Callable[[], Any]] = {
    ("numpy", "dtype"): lambda: np.dtype,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("scipy.sparse.csr", "csr_matrix"): lambda: sp.csr_matrix,
    ("scipy.sparse._csr", "csr_matrix"): lambda: sp.csr_matrix,
    ("scipy.sparse.csc", "csc_matrix"): lambda: sp.csc_matrix,
    ("scipy.sparse._csc", "csc_matrix"): lambda: sp.csc_matrix,
    ("collections", "defaultdict"): lambda: collections.defaultdict,
    ("collections", "OrderedDict"): lambda: collections.OrderedDict,
    ("_codecs", "encode"): lambda: codecs.encode,  # bytes in Python 3 protocol-2 pickles
    ("__builtin__", "list"): lambda: list,
    ("builtins", "list"): lambda: list,
    ("__builtin__", "dict"): lambda: dict,
    ("builtins", "dict"): lambda: dict,
    ("__builtin__", "set"): lambda: set,
    ("builtins", "set"): lambda: set,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        make = _ALLOWED.get((module, name))
        if make is None:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only numpy arrays, scipy sparse matrices and "
                "built-in containers are allowed")
        return make()


def load_pickle(path: str | os.PathLike) -> Any:
    """Load a (Python 2 or 3) pickle of numpy/scipy/container objects only.

    Python 2 ``str`` objects are decoded as latin-1 (which keeps numpy's byte buffers intact).

    Raises:
        DatasetError: the file is truncated, corrupt, or names a class outside the allow-list;
            the message names the file.

    Example:
        >>> load_pickle("cora/ind.cora.x").shape  # doctest: +SKIP
        (140, 1433)
    """
    try:
        with open(path, "rb") as f:
            return _RestrictedUnpickler(f, encoding="latin1").load()
    except FileNotFoundError:
        raise DatasetError(f"{os.fspath(path)!r}: file not found") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, MemoryError, OverflowError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{os.fspath(path)!r}: not a readable pickle of numpy/scipy objects "
                           f"(truncated or corrupt?): {type(exc).__name__}: {exc}") from exc
