"""A Gremlin-like traversal language over the graph store, fluent in Python and as text.

After Euler's and GraphLearn/AliGraph's query languages (Zhu et al., "AliGraph: a comprehensive
graph neural network platform", VLDB 2019). A traversal is a chain of steps over *frontiers*:
numpy arrays of rows — nodes of one type, or edges of one type — each row remembering the start
row it came from (its ``origin``), so results group by start vertex::

    g = Traversal(graph)
    r = (g.V("query", ["q1", "q2"]).outV("click").sample(10).by("weight")
          .as_("ads").values("id", "feature")).execute(random_state=0)
    r["origin"], r["id"], r["feature"]          # one row per sampled ad

    run_query(graph, 'g.V("query", ["q1", "q2"]).outV("click").sample(10).by("weight")'
                     '.as("ads").values("id", "feature")', random_state=0)   # the same rows

Steps (text names; the fluent method of ``as`` is ``as_``):

* starts — ``V(ntype, ids=None)``: the nodes with these external ids, one origin each (all nodes
  of the type without ids); ``E(etype=None)``: every stored edge entry of a type (an undirected
  edge twice); ``sampleN(ntype, n)``: ``n`` random nodes (with replacement), ``.by("degree")``
  draws them in proportion to degree.
* hops from nodes — ``outV(etype)``/``inV(etype)``/``bothV(etype)``: all neighbours along an
  edge type (out of the frontier along its CSR, into it along its CSC; both: out then in, once
  for an undirected type); ``outE``/``inE``: the edges themselves (src, dst, weight, time). A bare
  relation name resolves when unique. ``.sample(k, replace=False)`` right after a hop draws
  ``k`` per frontier node instead of all (``min(k, deg)`` distinct edges without replacement),
  ``.by(...)``: ``"uniform"`` (default), ``"weight"`` (P ∝ edge weight; without replacement by
  successive sampling), ``"topk"`` (the ``k`` heaviest), ``"latest"`` (the ``k`` most recent).
* hops from edges — ``outV()``: sources, ``inV()``: destinations, ``bothV()``: both.
* mid-traversal ``sampleN(ntype, n)``: ``n`` random nodes per row (e.g. negatives).
* filters — ``has(field, op, value)`` with ops ``== != < <= > >= in not_in`` (also
  ``has(field, value)`` for ==, and predicates ``has("degree", gt(3))``: eq, neq, lt, lte, gt,
  gte, within, without); ``order_by(field, desc=False)``: stable global sort;
  ``limit(n, per=None)``: the first ``n`` rows, or with ``per="origin"`` the first ``n`` of each
  origin (so ``order_by("weight", desc=True).limit(3, per="origin")`` is a per-origin top 3);
  ``dedup(per=None)``: drop rows repeating an earlier row's node (edges: (src, dst)), globally or
  within each origin.
* names — ``as(name)`` names the frontier; ``select(*names)`` (optionally ``.by(field)``,
  default external id) returns, for each current row, the named rows it came through.
* ends — ``values(*fields)``, ``count(per=None)``, ``select(...)``; with no end the result holds
  ``origin`` and ``id`` (edges: ``src``, ``dst``, ``weight``, ``time``).

Fields: nodes — ``id`` (external id), ``label``, ``degree`` (edges over all types touching the
node, an undirected edge once), ``degree:<etype>``, ``feature`` (the vector), ``feature[i]``, and
any named node data array; edges — ``src``, ``dst`` (external ids), ``weight``, ``time``.
"""

from __future__ import annotations

from typing import Any

from vastgraph.graph.view import GraphView
from vastgraph.sampling.query_exec import execute_plan
from vastgraph.sampling.query_parser import parse_query
from vastgraph.sampling.query_plan import Plan
from vastgraph.sampling.query_result import QueryResult


class Traversal:
    """Fluent, immutable builder of a query :class:`Plan` bound to a graph; each step returns a new
    traversal.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView` (labels, features and node data are read
            from it).
        plan: a plan to continue. Default: empty.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder()
        >>> _ = b.add_edges(["q1", "q1", "q2"], ["a1", "a2", "a2"], etype=("query", "click", "ad"),
        ...                 weight=[1.0, 2.0, 1.0])
        >>> g = Traversal(b.build())
        >>> t = g.V("query", ["q1"]).outV("click").sample(2).by("weight").values("id")
        >>> str(t.plan)
        'g.V("query", ["q1"]).outV("click").sample(2).by("weight").values("id")'
        >>> sorted(t.execute(random_state=0)["id"].tolist())
        ['a1', 'a2']
    """

    def __init__(self, graph: GraphView, plan: Plan | None = None) -> None:
        self.graph = graph
        self.plan = plan if plan is not None else Plan()

    def _add(self, name: str, *args: Any, **kwargs: Any) -> "Traversal":
        return Traversal(self.graph, self.plan.add(name, *args, **kwargs))

    # ------------------------------------------------------------------ starts
    def V(self, ntype: str, ids: Any = None) -> "Traversal":
        """Start at the nodes of ``ntype`` with external ``ids`` (all of them when None)."""
        return self._add("V", ntype, ids)

    def E(self, etype: Any = None) -> "Traversal":
        """Start at every edge entry of ``etype`` (the only edge type when None)."""
        return self._add("E", etype)

    def sampleN(self, ntype: str, n: int) -> "Traversal":
        """``n`` random ``ntype`` nodes (with replacement): the start, or ``n`` per current row."""
        return self._add("sampleN", ntype, n)

    # ------------------------------------------------------------------ hops
    def outV(self, etype: Any = None) -> "Traversal":
        """Out-neighbours along ``etype`` (on edges: the sources)."""
        return self._add("outV", etype)

    def inV(self, etype: Any = None) -> "Traversal":
        """In-neighbours along ``etype`` via the CSC (on edges: the destinations)."""
        return self._add("inV", etype)

    def bothV(self, etype: Any = None) -> "Traversal":
        """Out- then in-neighbours (an undirected type once; on edges: both endpoints)."""
        return self._add("bothV", etype)

    def outE(self, etype: Any = None) -> "Traversal":
        """The out-edges of each frontier node."""
        return self._add("outE", etype)

    def inE(self, etype: Any = None) -> "Traversal":
        """The in-edges of each frontier node."""
        return self._add("inE", etype)

    def sample(self, k: int, replace: bool = False) -> "Traversal":
        """Draw ``k`` neighbours/edges per node in the hop just before (``min(k, deg)`` distinct
        unless ``replace``)."""
        return self._add("sample", k, replace=replace)

    def by(self, key: str) -> "Traversal":
        """Modulate the step before: sample (uniform/weight/topk/latest), sampleN (uniform/degree)
        or select (the field to return)."""
        return self._add("by", key)

    # ------------------------------------------------------------------ filters
    def has(self, field: str, op: Any, value: Any = ...) -> "Traversal":
        """Keep rows where ``field op value`` (``has(f, v)``: ==; ``has(f, gt(3))``: a predicate)."""
        if value is ...:
            return self._add("has", field, op)
        return self._add("has", field, op, value)

    def order_by(self, field: str, desc: bool = False) -> "Traversal":
        """Stable global sort by ``field``."""
        return self._add("order_by", field, desc=desc)

    def limit(self, n: int, per: str | None = None) -> "Traversal":
        """The first ``n`` rows (``per="origin"``: the first ``n`` of each origin)."""
        return self._add("limit", n, per=per)

    def dedup(self, per: str | None = None) -> "Traversal":
        """Drop repeated nodes (edges: (src, dst)); ``per="origin"``: within each origin."""
        return self._add("dedup", per=per)

    # ------------------------------------------------------------------ names and ends
    def as_(self, name: str) -> "Traversal":
        """Name the current frontier (text form: ``as(name)``)."""
        return self._add("as", name)

    def select(self, *names: str) -> "Traversal":
        """Return the named frontiers' rows for each current row."""
        return self._add("select", *names)

    def values(self, *fields: str) -> "Traversal":
        """Return these fields of the current rows."""
        return self._add("values", *fields)

    def count(self, per: str | None = None) -> "Traversal":
        """Return the number of rows (``per="origin"``: per origin, zeros included)."""
        return self._add("count", per=per)

    # ------------------------------------------------------------------ run
    def execute(self, random_state: Any = None) -> QueryResult:
        """Run the traversal; ``random_state`` (None, int or Generator) fixes every random step."""
        return execute_plan(self.graph, self.plan, random_state)

    run = execute

    def __str__(self) -> str:
        return str(self.plan)

    def __repr__(self) -> str:
        return f"Traversal({self.plan})"


def query(graph: GraphView, text: str | None = None) -> Traversal:
    """A traversal over ``graph``: empty (to continue fluently) or parsed from ``text``."""
    return Traversal(graph, None if text is None else parse_query(text))


def run_query(graph: GraphView, text: str, random_state: Any = None) -> QueryResult:
    """Parse and run query ``text`` (e.g. ``'g.V("query", ["q1"]).outV("click").count()'``).

    Args:
        graph: the store.
        text: the query (see :mod:`vastgraph.sampling.query_parser` for the grammar).
        random_state: None, an int or a ``numpy.random.Generator``. Default None.

    Returns:
        A :class:`QueryResult`; ``.to_pandas()`` gives the table the CLI prints.
    """
    return execute_plan(graph, parse_query(text), random_state)
