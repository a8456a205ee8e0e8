"""The query language's plan: immutable step dataclasses, predicates and the canonical text form.

A plan is a tuple of :class:`Step` records built one step at a time by :meth:`Plan.add` — the
single entry point that both the fluent :class:`~vastgraph.sampling.query.Traversal` and the text
parser (:mod:`vastgraph.sampling.query_parser`) call, so the two spellings of a query build equal
plans. ``str(plan)`` prints the canonical text, which parses back to an equal plan.

Everything checked here needs no graph (argument types and ranges, step order, ``as``/``select``
names); what needs the schema (types, fields, ids) is checked when the plan runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.sampling.query_literals import (Predicate, canonical_field, format_args,
                                               normalize_literal)

HAS_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in")
SAMPLE_BY = ("uniform", "weight", "topk", "latest")
SAMPLE_N_BY = ("uniform", "degree")
PER = (None, "origin")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING = object()


# --------------------------------------------------------------------------- steps
@dataclass(frozen=True)
class Step:
    """One step of a plan; :meth:`text` is its canonical text."""

    def text(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


@dataclass(frozen=True)
class VStep(Step):
    """Start at nodes of ``ntype``: the given external ``ids`` (one origin each) or all of them."""

    ntype: str
    ids: tuple | None = None

    def text(self) -> str:
        args = (self.ntype,) if self.ids is None else (self.ntype, self.ids)
        return f"V({format_args(*args)})"


@dataclass(frozen=True)
class EStep(Step):
    """Start at every edge of ``etype`` (one origin each)."""

    etype: str | None = None

    def text(self) -> str:
        return "E()" if self.etype is None else f"E({format_args(self.etype)})"


@dataclass(frozen=True)
class Hop(Step):
    """Nodes → neighbours (``emit="V"``) or incident edges (``emit="E"``) along ``etype``.

    ``k`` set: draw ``k`` per frontier node instead of taking all (``by``: uniform, weight, topk,
    latest; ``replace``: with replacement).
    """

    direction: str  # "out" | "in" | "both"
    emit: str  # "V" | "E"
    etype: str | None = None
    k: int | None = None
    replace: bool = False
    by: str | None = None

    def text(self) -> str:
        out = f"{self.direction}{self.emit}({'' if self.etype is None else format_args(self.etype)})"
        if self.k is not None:
            out += f".sample({format_args(self.k, **({'replace': True} if self.replace else {}))})"
        if self.by is not None:
            out += f".by({format_args(self.by)})"
        return out


@dataclass(frozen=True)
class Endpoint(Step):
    """Edges → their source (``side="out"``), destination (``"in"``) or both endpoint nodes."""

    side: str

    def text(self) -> str:
        return f"{self.side}V()"


@dataclass(frozen=True)
class SampleNodes(Step):
    """``n`` random nodes of ``ntype`` (with replacement): as the first step, ``n`` origins; later,
    ``n`` per frontier row (e.g. negatives). ``by``: uniform or proportional to degree."""

    ntype: str
    n: int
    by: str | None = None

    def text(self) -> str:
        out = f"sampleN({format_args(self.ntype, self.n)})"
        return out if self.by is None else out + f".by({format_args(self.by)})"


@dataclass(frozen=True)
class Has(Step):
    """Keep rows whose ``field`` compares true against ``value`` under ``op``."""

    field: str
    op: str
    value: Any

    def text(self) -> str:
        return f"has({format_args(self.field, self.op, self.value)})"


@dataclass(frozen=True)
class OrderBy(Step):
    """Stable global sort of the rows by ``field``."""

    field: str
    desc: bool = False

    def text(self) -> str:
        return f"order_by({format_args(self.field, **({'desc': True} if self.desc else {}))})"


@dataclass(frozen=True)
class Limit(Step):
    """Keep the first ``n`` rows (``per="origin"``: the first ``n`` of each origin)."""

    n: int
    per: str | None = None

    def text(self) -> str:
        return f"limit({format_args(self.n, **({'per': self.per} if self.per else {}))})"


@dataclass(frozen=True)
class Dedup(Step):
    """Drop rows repeating an earlier row's node (edge: (src, dst)); ``per="origin"``: within an origin."""

    per: str | None = None

    def text(self) -> str:
        return f"dedup({format_args(**({'per': self.per} if self.per else {}))})"


@dataclass(frozen=True)
class As(Step):
    """Name the current frontier so :class:`Select` can return it beside later rows."""

    name: str

    def text(self) -> str:
        return f"as({format_args(self.name)})"


@dataclass(frozen=True)
class Select(Step):
    """Return the named frontiers' rows (by ``by``, default external id) for each current row."""

    names: tuple
    by: str | None = None

    def text(self) -> str:
        out = f"select({format_args(*self.names)})"
        return out if self.by is None else out + f".by({format_args(self.by)})"


@dataclass(frozen=True)
class Values(Step):
    """Return the given fields of the current rows."""

    fields: tuple

    def text(self) -> str:
        return f"values({format_args(*self.fields)})"


@dataclass(frozen=True)
class Count(Step):
    """Return the number of rows (``per="origin"``: per origin, zeros included)."""

    per: str | None = None

    def text(self) -> str:
        return f"count({format_args(**({'per': self.per} if self.per else {}))})"


TERMINAL = (Select, Values, Count)


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Plan:
    """An immutable query plan: a tuple of steps. ``str(plan)`` is its canonical text.

    Example:
        >>> p = Plan().add("V", "query", ["q1"]).add("outV", "click").add("sample", 5)
        >>> str(p)
        'g.V("query", ["q1"]).outV("click").sample(5)'
    """

    steps: tuple = ()

    def __str__(self) -> str:
        return "g" + "".join("." + s.text() for s in self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    @property
    def names(self) -> tuple:
        """Names given by ``as`` so far, in order."""
        return tuple(s.name for s in self.steps if isinstance(s, As))

    def frontier_kind(self) -> str | None:
        """``"node"``, ``"edge"`` or None (no step yet) for the rows after the last step."""
        kind = None
        for s in self.steps:
            if isinstance(s, (VStep, SampleNodes, Endpoint)):
                kind = "node"
            elif isinstance(s, EStep):
                kind = "edge"
            elif isinstance(s, Hop):
                kind = "node" if s.emit == "V" else "edge"
        return kind

    def add(self, name: str, *args: Any, **kwargs: Any) -> "Plan":
        """This plan with one more step (text name, e.g. ``"outV"``); raises on a misplaced step."""
        builder = STEP_BUILDERS.get(STEP_ALIASES.get(name, name))
        if builder is None:
            raise SchemaError(f"unknown step {name!r}; valid steps: {', '.join(STEP_NAMES)}")
        return builder(self, *args, **kwargs)

    # -- helpers for the builders
    def _then(self, step: Step) -> "Plan":
        return Plan(self.steps + (step,))

    def _replace_last(self, step: Step) -> "Plan":
        return Plan(self.steps[:-1] + (step,))

    def _need_frontier(self, what: str) -> None:
        if not self.steps:
            raise ValidationError(f"{what} needs a frontier: start the traversal with V(...), E(...) "
                                  "or sampleN(...)")
        last = self.steps[-1]
        if isinstance(last, TERMINAL):
            raise ValidationError(f"{what} cannot follow {last.text()}: values(), select() and "
                                  "count() end a traversal")


# --------------------------------------------------------------------------- builders
def _int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{what}={value!r}: expected an integer >= {minimum}")
    if int(value) < minimum:
        raise ValidationError(f"{what}={int(value)}: expected an integer >= {minimum}")
    return int(value)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, (str, np.str_)) or not str(value):
        raise ValidationError(f"{what}={value!r}: expected a non-empty string")
    return str(value)


def _per(value: Any, what: str) -> str | None:
    if value not in PER:
        raise ValidationError(f"{what}(per={value!r}): expected 'origin' or None (global)")
    return value


def _etype(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 3 and all(isinstance(v, str) for v in value):
        return ":".join(value)
    return _name(value, f"{what} edge type")


def _start(plan: Plan, what: str) -> None:
    if plan.steps:
        raise ValidationError(f"{what} starts a traversal; it cannot follow {plan.steps[-1].text()}")


def _add_V(plan: Plan, ntype: str, ids: Any = None) -> Plan:
    _start(plan, "V()")
    ntype = _name(ntype, "V() node type")
    if ids is not None:
        ids = normalize_literal(ids if isinstance(ids, (list, tuple, np.ndarray)) else [ids], "V() ids")
        if any(isinstance(v, (bool, float)) for v in ids):
            raise ValidationError(f"V() ids {list(ids)[:5]}: expected strings or integers")
    return plan._then(VStep(ntype, ids))


def _add_E(plan: Plan, etype: Any = None) -> Plan:
    _start(plan, "E()")
    return plan._then(EStep(_etype(etype, "E()")))


def _hop(direction: str, emit: str) -> Callable[..., Plan]:
    step = f"{direction}{emit}"

    def add(plan: Plan, etype: Any = None) -> Plan:
        plan._need_frontier(f"{step}()")
        et = _etype(etype, f"{step}()")
        if plan.frontier_kind() == "edge":
            if emit == "E":
                raise ValidationError(f"{step}() needs a node frontier; the frontier holds edges "
                                      f"(after {plan.steps[-1].text()}): use outV()/inV() first")
            if et is not None:
                raise ValidationError(f"{step}({et!r}): on an edge frontier {step}() takes no edge "
                                      "type; it returns the edges' endpoints")
            return plan._then(Endpoint(direction))
        return plan._then(Hop(direction, emit, et))

    add.__name__ = f"_add_{step}"
    return add


def _add_sample(plan: Plan, k: int, replace: bool = False) -> Plan:
    last = plan.steps[-1] if plan.steps else None
    if not isinstance(last, Hop):
        after = last.text() if last is not None else "nothing"
        raise ValidationError(f"sample(k) must follow outV/inV/bothV/outE/inE from nodes; it follows {after}")
    if last.k is not None:
        raise ValidationError(f"sample() given twice after {last.direction}{last.emit}()")
    k = _int(k, "sample() k", 1)
    if not isinstance(replace, (bool, np.bool_)):
        raise ValidationError(f"sample(replace={replace!r}): expected true or false")
    return plan._replace_last(Hop(last.direction, last.emit, last.etype, k, bool(replace), last.by))


def _add_by(plan: Plan, key: str) -> Plan:
    last = plan.steps[-1] if plan.steps else None
    key = _name(key, "by()")
    if isinstance(last, Hop) and last.k is not None and last.by is None:
        if key not in SAMPLE_BY:
            raise ValidationError(f"sample().by({key!r}): expected one of {', '.join(SAMPLE_BY)}")
        if last.replace and key in ("topk", "latest"):
            raise ValidationError(f"sample(replace=true).by({key!r}): top-k selection draws no "
                                  "replacement; drop replace")
        return plan._replace_last(Hop(last.direction, last.emit, last.etype, last.k, last.replace, key))
    if isinstance(last, SampleNodes) and last.by is None:
        if key not in SAMPLE_N_BY:
            raise ValidationError(f"sampleN().by({key!r}): expected one of {', '.join(SAMPLE_N_BY)}")
        return plan._replace_last(SampleNodes(last.ntype, last.n, key))
    if isinstance(last, Select) and last.by is None:
        return plan._replace_last(Select(last.names, canonical_field(key, "select().by()")))
    after = last.text() if last is not None else "nothing"
    raise ValidationError(f"by({key!r}) modulates sample(), sampleN() or select() (once); it follows {after}")


def _add_sampleN(plan: Plan, ntype: str, n: int) -> Plan:
    if plan.steps:
        plan._need_frontier("sampleN()")
    return plan._then(SampleNodes(_name(ntype, "sampleN() node type"), _int(n, "sampleN() n", 1)))


def _add_has(plan: Plan, field: str, op: Any, value: Any = _MISSING) -> Plan:
    plan._need_frontier("has()")
    field = canonical_field(field, "has()")
    if isinstance(op, Predicate):
        if value is not _MISSING:
            raise ValidationError(f"has({field!r}, {op.op}(...), ...): a predicate takes no third argument")
        op, value = op.op, op.value
    elif value is _MISSING:
        op, value = "==", op
    if op not in HAS_OPS:
        raise ValidationError(f"has({field!r}): unknown operator {op!r}; valid: {', '.join(HAS_OPS)}")
    value = normalize_literal(value, f"has({field!r}, {op!r}) value")
    if op in ("in", "not_in") and not isinstance(value, tuple):
        raise ValidationError(f"has({field!r}, {op!r}, {value!r}): expected a list of values")
    if op not in ("in", "not_in") and isinstance(value, tuple):
        raise ValidationError(f"has({field!r}, {op!r}, [...]): expected one value (use 'in' for a list)")
    return plan._then(Has(field, op, value))


def _add_order_by(plan: Plan, field: str, desc: bool = False) -> Plan:
    plan._need_frontier("order_by()")
    if not isinstance(desc, (bool, np.bool_)):
        raise ValidationError(f"order_by(desc={desc!r}): expected true or false")
    return plan._then(OrderBy(canonical_field(field, "order_by()"), bool(desc)))


def _add_limit(plan: Plan, n: int, per: str | None = None) -> Plan:
    plan._need_frontier("limit()")
    return plan._then(Limit(_int(n, "limit() n", 0), _per(per, "limit")))


def _add_dedup(plan: Plan, per: str | None = None) -> Plan:
    plan._need_frontier("dedup()")
    return plan._then(Dedup(_per(per, "dedup")))


def _add_as(plan: Plan, name: str) -> Plan:
    plan._need_frontier("as()")
    name = _name(name, "as() name")
    if not _NAME_RE.match(name) or name == "origin":
        raise ValidationError(f"as({name!r}): expected an identifier (letters, digits, _) other than "
                              "'origin'")
    if name in plan.names:
        raise ValidationError(f"as({name!r}): the name is already used in this traversal")
    return plan._then(As(name))


def _add_select(plan: Plan, *names: str) -> Plan:
    plan._need_frontier("select()")
    if not names:
        raise ValidationError("select(): name at least one frontier given by as()")
    names = tuple(_name(n, "select() name") for n in names)
    known = plan.names
    for n in names:
        if n not in known:
            raise SchemaError(f"select({n!r}): no frontier was named {n!r}; named: "
                              f"{', '.join(known) or '(none)'}")
    return plan._then(Select(names))


def _add_values(plan: Plan, *fields: str) -> Plan:
    plan._need_frontier("values()")
    if not fields:
        raise ValidationError("values(): name at least one field")
    return plan._then(Values(tuple(canonical_field(f, "values()") for f in fields)))


def _add_count(plan: Plan, per: str | None = None) -> Plan:
    plan._need_frontier("count()")
    return plan._then(Count(_per(per, "count")))


STEP_BUILDERS: dict[str, Callable[..., Plan]] = {
    "V": _add_V, "E": _add_E, "sampleN": _add_sampleN,
    "outV": _hop("out", "V"), "inV": _hop("in", "V"), "bothV": _hop("both", "V"),
    "outE": _hop("out", "E"), "inE": _hop("in", "E"),
    "sample": _add_sample, "by": _add_by, "has": _add_has, "order_by": _add_order_by,
    "limit": _add_limit, "dedup": _add_dedup, "as": _add_as, "select": _add_select,
    "values": _add_values, "count": _add_count,
}
STEP_ALIASES = {"as_": "as", "orderBy": "order_by", "order": "order_by", "sample_n": "sampleN"}
STEP_NAMES = tuple(STEP_BUILDERS)
