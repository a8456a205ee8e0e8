"""The sampling interface every backend implements, and the factory that picks one per graph.

A :class:`SamplingEngine` answers every random question the library asks a graph: walks (by a
:class:`WalkSpec`), one-hop neighbour samples, multi-hop fanout blocks, negatives, corrupted edges,
edge samples and query hops, each with a typed result. The public functions
(:func:`~vastgraph.sampling.walks.random_walks`, :func:`~vastgraph.sampling.neighbors.sample_neighbors`,
:func:`~vastgraph.sampling.fanout.sample_fanout`, the loaders ...) validate their arguments with
backend-independent helpers and delegate to ``engine_for(graph)``, so nothing above ``sampling/``
branches on the backend.

:func:`engine_for` returns one engine per graph instance (engines own derived caches such as alias
tables, so they are built once per graph), chosen by the graph's type: the local CSR store gets
:class:`~vastgraph.sampling.local.LocalEngine`; a backend registers its graph type with
:func:`register_engine` (e.g. ``register_engine(DistributedGraph, RayEngine)`` when
``vastgraph.distributed`` is imported). A backend is correct when it passes
``tests/sampling/test_engine_conformance.py``.

Example:
    >>> from vastgraph.graph import GraphBuilder
    >>> b = GraphBuilder(directed=False)
    >>> _ = b.add_edges([0, 1, 2, 3], [1, 2, 3, 0])
    >>> g = b.build()
    >>> eng = engine_for(g)
    >>> eng is engine_for(g), isinstance(eng, SamplingEngine)
    (True, True)
    >>> res = eng.walks(WalkSpec("uniform", walks_per_node=2, walk_length=3), random_state=0)
    >>> res.nodes.shape, res.times is None
    ((8, 4), True)
    >>> e = eng.sample_edges(5, random_state=0)
    >>> bool(g.has_edges(e.src, e.dst).all())
    True
"""

from __future__ import annotations

import importlib
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.validation import check_positive

if TYPE_CHECKING:  # pragma: no cover
    from vastgraph.graph.schema import EdgeType
    from vastgraph.sampling.fanout import FanoutPlan, SampledSubgraph
    from vastgraph.sampling.neighbors import SampledNeighbors

__all__ = ["EdgeSample", "HopResult", "SamplingEngine", "WalkResult", "WalkSpec", "WALK_KINDS",
           "engine_for", "register_engine", "registered_engines"]

WALK_KINDS = ("uniform", "weighted", "node2vec", "metapath", "temporal")


def check_positive_count(name: str, value: Any) -> int:
    """``value`` as an int >= 1 (walk counts and lengths), or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{name}={value!r}: expected an integer >= 1")
    if int(value) < 1:
        raise ValidationError(f"{name}={value}: expected an integer >= 1")
    return int(value)


@dataclass(frozen=True)
class WalkSpec:
    """What walks to draw: the kind and its parameters (validated on construction).

    Kinds:

    * ``"uniform"``: DeepWalk, each step a uniformly chosen out-edge of ``etype`` (weights ignored);
    * ``"weighted"``: each step ∝ edge weight (``etype`` must have weights);
    * ``"node2vec"``: second order with return ``p`` and in-out ``q`` (weights used per ``weighted``:
      None = when the edge type has them); ``p = q = 1`` is a first-order walk;
    * ``"metapath"``: step ``i`` follows ``metapath[i % len(metapath)]`` (``"~name"`` backwards),
      global node ids out; weights per ``weighted``;
    * ``"temporal"``: CTDNE time-respecting walks along ``etype`` (``direction``, ``time_bias``,
      ``time_scale``, ``start_time``, ``strict``), with the time of every step.

    Anonymous walks are uniform/node2vec walks anonymised
    (:meth:`SamplingEngine.anonymous_walks`).

    Example:
        >>> WalkSpec("node2vec", walk_length=5, p=0.5, q=2.0).p
        0.5
        >>> WalkSpec("node2vec", p=float("nan"))
        Traceback (most recent call last):
        ...
        vastgraph.errors.ValidationError: p=nan: expected a finite number > 0
    """

    kind: str = "uniform"
    walks_per_node: int = 10
    walk_length: int = 80
    etype: Any = None
    p: float = 1.0
    q: float = 1.0
    weighted: bool | None = None
    metapath: tuple | None = None
    direction: str = "forward"
    time_bias: str = "uniform"
    time_scale: float | None = None
    start_time: int | None = None
    strict: bool = False

    def __post_init__(self) -> None:
        if self.kind not in WALK_KINDS:
            raise ValidationError(f"kind={self.kind!r}: expected one of {', '.join(WALK_KINDS)}")
        check_positive_count("walks_per_node", self.walks_per_node)
        check_positive_count("walk_length", self.walk_length)
        object.__setattr__(self, "p", check_positive("p", self.p))
        object.__setattr__(self, "q", check_positive("q", self.q))
        if self.weighted not in (None, True, False):
            raise ValidationError(f"weighted={self.weighted!r}: expected None, True or False")
        if self.kind == "weighted" and self.weighted is False:
            raise ValidationError("kind='weighted' with weighted=False: use kind='uniform'")
        if self.kind == "metapath":
            mp = self.metapath
            if isinstance(mp, (str, bytes)) or not isinstance(mp, Sequence) or len(mp) == 0:
                raise ValidationError(f"metapath={mp!r}: expected a non-empty list of edge types, "
                                      "e.g. ['query:click:ad', '~query:click:ad']")
            object.__setattr__(self, "metapath", tuple(mp))
        elif self.metapath is not None:
            raise ValidationError(f"metapath={self.metapath!r} is only used with kind='metapath'")


@dataclass(frozen=True)
class WalkResult:
    """Walks from :meth:`SamplingEngine.walks`.

    Attributes:
        nodes: ``(n_walks, walk_length + 1)`` node ids, -1 after a dead end: dense ids of the walk's
            node type (int32, int64 beyond 2**31 − 1 nodes), or int64 global ids for metapath walks.
        times: int64 ``(n_walks, walk_length)`` time of the edge of each step (temporal walks; -1
            after the end), else None.
        spec: the :class:`WalkSpec` drawn.
    """

    nodes: np.ndarray
    times: np.ndarray | None
    spec: WalkSpec

    def __len__(self) -> int:
        return int(self.nodes.shape[0])


@dataclass(frozen=True)
class EdgeSample:
    """Edges drawn by :meth:`SamplingEngine.sample_edges` (uniformly or ∝ weight, with replacement).

    Attributes:
        src: int64 ``(n,)`` dense source ids.
        dst: int64 ``(n,)`` dense destination ids.
        positions: int64 ``(n,)`` storage positions of the edges (as ``GraphView.find_edges``).
        etype: the edge type.
    """

    src: np.ndarray
    dst: np.ndarray
    positions: np.ndarray
    etype: Any

    def __len__(self) -> int:
        return int(self.src.shape[0])


@dataclass(frozen=True)
class HopResult:
    """One query hop (:meth:`SamplingEngine.hop`): row ``r`` is an edge from ``nodes[parent[r]]``.

    Attributes:
        parent: int64 ``(m,)`` index into the hop's input nodes.
        neighbors: int64 ``(m,)`` dense ids at the other end.
        weights: float32 ``(m,)`` or None; times: int64 ``(m,)`` or None.
    """

    parent: np.ndarray
    neighbors: np.ndarray
    weights: np.ndarray | None
    times: np.ndarray | None


@runtime_checkable
class SamplingEngine(Protocol):
    """Random access to a graph for sampling; every method is seeded by ``random_state``.

    Argument conventions follow the public functions each method backs (same names, defaults and
    errors); a seeded call gives the same result on every engine.
    """

    @property
    def graph(self) -> GraphView: ...

    def walks(self, spec: WalkSpec, start: Any = None, *, random_state: Any = None,
              progress: Callable[[int, int], None] | None = None) -> WalkResult:
        """Walks of ``spec`` from ``start`` (dense ids; default every node of the start type)."""

    def anonymous_walks(self, spec: WalkSpec, start: Any = None, *,
                        random_state: Any = None) -> np.ndarray:
        """``anonymize(self.walks(spec, start, ...).nodes)``: first-occurrence positions."""

    def sample_neighbors(self, nodes: Any, k: int, *, etype: Any = None, reverse: bool = False,
                         replace: bool = False, weighted: bool = False, method: str = "uniform",
                         time_window: tuple[int, int] | None = None, before: int | None = None,
                         random_state: Any = None) -> "SampledNeighbors":
        """See :func:`~vastgraph.sampling.neighbors.sample_neighbors`."""

    def prepare_fanout(self, plan: "FanoutPlan") -> Any:
        """Validate a plan against the graph (weights, times) and return what sampling it needs."""

    def sample_blocks(self, plan: "FanoutPlan", seeds: dict[str, np.ndarray],
                      seed: Any) -> "SampledSubgraph":
        """Fanout sample of validated ``{ntype: dense ids}`` seeds with 64-bit ``seed``."""

    def sample_negatives(self, n: int | None = None, *, ntype: str | None = None, etype: Any = None,
                         distribution: str = "uniform", power: float = 0.75,
                         exclude_neighbors_of: Any = None, max_retries: int = 16,
                         random_state: Any = None) -> np.ndarray:
        """See :func:`~vastgraph.sampling.negative.sample_negatives`."""

    def corrupt_edges(self, src: Any, dst: Any, *, etype: Any = None, num_negatives: int = 1,
                      mode: str = "tail", filtered: bool = True, distribution: str = "uniform",
                      power: float = 0.75, max_retries: int = 16,
                      random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """See :func:`~vastgraph.sampling.negative.corrupt_edges`."""

    def sample_edges(self, n: int, *, etype: Any = None, weighted: bool | None = None,
                     random_state: Any = None) -> EdgeSample:
        """``n`` edges drawn with replacement, uniformly or ∝ weight (None: when weighted)."""

    def edge_attributes(self, etype: Any, positions: Any, *,
                        reverse: bool = False) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(weights, times)`` of the edges at ``positions`` (as in ``SampledNeighbors.edge_pos``,
        in-edge order when ``reverse``); None where the edge type has none."""

    def node_degrees(self, ntype: str, etypes: Sequence["EdgeType"] | None = None) -> np.ndarray:
        """Edges each ``ntype`` node takes part in over ``etypes`` (None: all); an undirected edge
        counts once. int64, cached."""

    def hop(self, etype: Any, nodes: np.ndarray, direction: str, *, k: int | None = None,
            by: str = "uniform", replace: bool = False, seed: Any = 0) -> HopResult:
        """A query hop from ``nodes`` along ``etype``: ``direction`` ``"out"``, ``"in"`` or
        ``"both"`` (out- then in-neighbours); all neighbours (``k=None``) or ``k`` per node drawn
        ``by`` ``"uniform"``, ``"weight"``, ``"topk"`` or ``"latest"``."""

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per engine (graph instance) and ``key``: derived data of the graph."""


# ---------------------------------------------------------------------------- the factory
_FACTORIES: dict[type, Callable[[Any], SamplingEngine]] = {}
_ENGINES: "weakref.WeakKeyDictionary[Any, SamplingEngine]" = weakref.WeakKeyDictionary()
_BUILTIN = ("vastgraph.sampling.local",)  # import registers the local store's engine
_LOCK = threading.Lock()
_loaded = False


def register_engine(graph_type: type, factory: Callable[[Any], SamplingEngine]) -> None:
    """Make ``engine_for(graph)`` build ``factory(graph)`` for instances of ``graph_type``.

    The most specific registered class in the graph's MRO wins, so a backend registers its own
    graph class (a subclass of a registered one included). Engines already built are kept.
    """
    if not isinstance(graph_type, type):
        raise ValidationError(f"graph_type={graph_type!r}: expected a class")
    if not callable(factory):
        raise ValidationError(f"factory={factory!r}: expected a callable graph -> engine")
    _FACTORIES[graph_type] = factory


def registered_engines() -> dict[type, Callable[[Any], SamplingEngine]]:
    """A copy of the registry (graph class → engine factory)."""
    _load_builtin()
    return dict(_FACTORIES)


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        for mod in _BUILTIN:
            importlib.import_module(mod)
        _loaded = True


def _factory(graph: Any) -> Callable[[Any], SamplingEngine]:
    _load_builtin()
    for cls in type(graph).__mro__:
        f = _FACTORIES.get(cls)
        if f is not None:
            return f
    known = ", ".join(sorted(c.__name__ for c in _FACTORIES)) or "(none)"
    raise ValidationError(f"graph: no sampling engine for {type(graph).__name__}; engines are "
                          f"registered for {known} (a backend calls register_engine)")


def engine_for(graph: GraphView) -> SamplingEngine:
    """The sampling engine of ``graph``: one per graph instance, built on first use and reused."""
    eng = _ENGINES.get(graph)
    if eng is None:
        with _LOCK:
            eng = _ENGINES.get(graph)
            if eng is None:
                eng = _factory(graph)(graph)
                _ENGINES[graph] = eng
    return eng
