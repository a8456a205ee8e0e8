"""The embedder contract shared by every embedding method (scikit-learn style).

* Hyperparameters are keyword arguments stored unchanged by ``__init__``; no work happens there.
* ``fit(graph)`` returns ``self``; learned vectors land in ``embedding_`` (float32 ``(N, d)``, rows
  in global node-id order, see :meth:`GraphView.node_offsets`) and ``keyed_`` (a
  :class:`~vastgraph.embed.keyed_embeddings.KeyedEmbeddings` artifact).
* Randomness comes from ``random_state`` only (None, an int or a ``numpy.random.Generator``).
* Using a learned attribute before ``fit`` raises :class:`NotFittedError`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from vastgraph.errors import NotFittedError, ValidationError

if TYPE_CHECKING:
    from vastgraph.graph.view import GraphView


class Embedder:
    """Base class of node embedders."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyperparameters as given to ``__init__`` (``deep`` is accepted for scikit-learn's ``clone``)."""
        sig = inspect.signature(type(self).__init__)
        return {name: getattr(self, name) for name in sig.parameters if name != "self"}

    def set_params(self, **params: Any) -> "Embedder":
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise ValidationError(f"{type(self).__name__}: unknown parameter {k!r}; "
                                      f"valid: {', '.join(sorted(valid))}")
            setattr(self, k, v)
        return self

    def __getattr__(self, name: str) -> Any:
        # only reached for attributes that do not exist: learned ones (trailing "_") before fit
        if name.endswith("_") and not name.startswith("__"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(graph) "
                                 f"first (no attribute {name!r})")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def check_is_fitted(self) -> None:
        if not hasattr(self, "embedding_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(graph) first")

    def fit(self, graph: GraphView) -> "Embedder":  # pragma: no cover - interface
        raise NotImplementedError

    def fit_transform(self, graph: GraphView):
        return self.fit(graph).embedding_

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
