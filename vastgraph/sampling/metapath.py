"""Metapath-guided random walks over a heterogeneous graph (metapath2vec)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import WalkSpec, engine_for
from vastgraph.sampling.walks import check_start

REVERSE_PREFIX = "~"


def resolve_metapath(graph: GraphView, metapath: Any) -> list[tuple[EdgeType, bool]]:
    """``[(edge type, reverse)]`` of a metapath; checks that consecutive steps chain.

    An element is anything ``graph.edge_type`` accepts (``"src:rel:dst"``, a bare relation, a
    3-tuple, an :class:`EdgeType`), or a string with the prefix ``"~"`` (``"~click"``,
    ``"~query:click:ad"``) for that edge type walked backwards, from its destination to its source.
    """
    if (isinstance(metapath, (str, bytes, EdgeType)) or not isinstance(metapath, Sequence)
            or len(metapath) == 0):
        raise ValidationError(f"metapath={metapath!r}: expected a non-empty list of edge types, "
                              f"e.g. ['query:click:ad', '{REVERSE_PREFIX}query:click:ad']")
    steps = []
    for elem in metapath:
        if isinstance(elem, str) and elem.startswith(REVERSE_PREFIX):
            steps.append((graph.edge_type(elem[len(REVERSE_PREFIX):]), True))
        else:
            steps.append((graph.edge_type(elem), False))
    return steps


def _ends(step: tuple[EdgeType, bool]) -> tuple[str, str]:
    et, rev = step
    return (et.dst, et.src) if rev else (et.src, et.dst)


def _spell(step: tuple[EdgeType, bool]) -> str:
    return (REVERSE_PREFIX if step[1] else "") + str(step[0])


def metapath_walks(graph: GraphView, metapath: Sequence[Any], *, start: Any = None, walks_per_node: int = 10,
                   walk_length: int = 80, weighted: bool | None = None,
                   random_state: Any = None) -> np.ndarray:
    """Random walks whose i-th step follows edge type ``metapath[i % len(metapath)]``.

    metapath2vec (Dong, Chawla & Swami, KDD 2017): the walk's node types follow a pattern such as
    query → ad → query, so the walk's context mixes types in a controlled way. Each step picks an
    out-edge of the current node in the step's edge type, uniformly or ∝ weight (alias tables).

    The steps must chain: the destination type of step ``i`` is the source type of step ``i + 1``;
    when the walk is longer than the metapath, the metapath repeats, so its last destination type
    must also equal its first source type. Element ``"~name"`` walks edge type ``name`` backwards
    (destination → source, through the CSC). A walk that reaches a node without out-edges in the
    next step's edge type stops; the rest of its row is -1. Row order: repetition-major (all start
    nodes for repetition 0, then repetition 1, ...); one random stream per walk, so results do not
    depend on the number of threads.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.
        metapath: edge types (see above), e.g. ``["query:click:ad", "~query:click:ad"]``.
        start: dense ids of the first step's source type; default all its nodes.
        walks_per_node: walks from each start node (>= 1). Default 10.
        walk_length: steps per walk (>= 1); rows hold ``walk_length + 1`` nodes. Default 80.
        weighted: ``None`` (default) uses the weights of every step whose edge type has them;
            ``True`` requires them on every step; ``False`` ignores them.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        int64 ``(len(start) · walks_per_node, walk_length + 1)`` global node ids
        (``graph.node_offsets()[type] + dense id``), -1 after a dead end.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder()
        >>> _ = b.add_edges([0, 1], [0, 0], etype=("query", "click", "ad"))
        >>> g = b.build()
        >>> metapath_walks(g, ["click", "~click"], walk_length=2, walks_per_node=1, random_state=0).shape
        (2, 3)
    """
    resolve_metapath(graph, metapath)  # a bad metapath fails here, before any other check
    spec = WalkSpec("metapath", walks_per_node=walks_per_node, walk_length=walk_length,
                    weighted=weighted, metapath=tuple(metapath))
    return engine_for(graph).walks(spec, start, random_state=random_state).nodes


def check_metapath(graph: GraphView, spec: WalkSpec,
                   start: Any) -> tuple[list[tuple[EdgeType, bool]], list[bool], np.ndarray, str]:
    """Validate a metapath walk: ``(steps, weighted flag per step, start ids, start node type)``."""
    steps = resolve_metapath(graph, spec.metapath)
    for i in range(len(steps) - 1):
        if _ends(steps[i])[1] != _ends(steps[i + 1])[0]:
            raise ValidationError(
                f"metapath step {i} ({_spell(steps[i])}) ends at node type {_ends(steps[i])[1]!r} but "
                f"step {i + 1} ({_spell(steps[i + 1])}) starts at {_ends(steps[i + 1])[0]!r}")
    length = spec.walk_length
    if length > len(steps) and _ends(steps[-1])[1] != _ends(steps[0])[0]:
        raise ValidationError(
            f"metapath ends at node type {_ends(steps[-1])[1]!r} but starts at {_ends(steps[0])[0]!r}; "
            f"walk_length={length} > {len(steps)} steps repeats the metapath, so it must close "
            "into a cycle (or pass walk_length <= len(metapath))")
    start_type = _ends(steps[0])[0]
    starts = check_start(graph, start_type, start)
    weighted = spec.weighted
    flags = []
    for et, _rev in steps:
        if weighted is None:
            flags.append(bool(graph.has_weights(et)))
        elif weighted and not graph.has_weights(et):
            raise ValidationError(f"weighted=True but metapath edge type {str(et)!r} has no weights")
        else:
            flags.append(bool(weighted))
    return steps, flags, starts, start_type


def ends(step: tuple[EdgeType, bool]) -> tuple[str, str]:
    """``(first, last)`` node type of a metapath step ``(edge type, reverse)``."""
    return _ends(step)
