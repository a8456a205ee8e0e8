"""Literals and predicates of the query language: canonical text, normalisation, ``gt(3)`` & co."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from vastgraph.errors import ValidationError

_FEATURE_RE = re.compile(r"^features?\[(\d+)\]$")


# --------------------------------------------------------------------------- literals
def format_literal(value: Any) -> str:
    """Canonical text of a plan literal (str, int, float, bool or a tuple of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        esc = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{esc}"'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(format_literal(v) for v in value) + "]"
    raise ValidationError(f"value {value!r} ({type(value).__name__}) has no text form")


def normalize_literal(value: Any, what: str) -> Any:
    """Plain Python scalar (or tuple of scalars) for a user value, so equal inputs give equal plans."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ValidationError(f"{what}: {value!r} is not a finite number")
        return float(value)
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        items = np.asarray(value, dtype=object).ravel().tolist() if isinstance(value, np.ndarray) else value
        out = tuple(normalize_literal(v, what) for v in items)
        if any(isinstance(v, tuple) for v in out):
            raise ValidationError(f"{what}: nested lists are not allowed")
        return out
    raise ValidationError(f"{what}: {value!r} is a {type(value).__name__}; "
                          "expected a string, number, boolean or a list of them")


def format_args(*args: Any, **kwargs: Any) -> str:
    """Canonical text of a call's arguments: ``"a", 3, per="origin"``."""
    parts = [format_literal(a) for a in args]
    parts += [f"{k}={format_literal(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def canonical_field(field: Any, what: str) -> str:
    """Check a field name's spelling: ``features`` → ``feature``, ``features[2]`` → ``feature[2]``."""
    if not isinstance(field, (str, np.str_)) or not str(field):
        raise ValidationError(f"{what}: field {field!r}: expected a non-empty string")
    field = str(field)
    if field == "features":
        return "feature"
    m = _FEATURE_RE.match(field)
    if m:
        return f"feature[{int(m.group(1))}]"
    if field.startswith("degree:") and len(field) == len("degree:"):
        raise ValidationError(f"{what}: field {field!r}: expected 'degree:<edge type>'")
    return field


# --------------------------------------------------------------------------- predicates
@dataclass(frozen=True)
class Predicate:
    """A comparison for ``has()``: ``gt(3)`` is ``Predicate(">", 3)``."""

    op: str
    value: Any


def eq(value: Any) -> Predicate:
    """``has(field, eq(v))``: field == v."""
    return Predicate("==", value)


def neq(value: Any) -> Predicate:
    """``has(field, neq(v))``: field != v."""
    return Predicate("!=", value)


def lt(value: Any) -> Predicate:
    """``has(field, lt(v))``: field < v."""
    return Predicate("<", value)


def lte(value: Any) -> Predicate:
    """``has(field, lte(v))``: field <= v."""
    return Predicate("<=", value)


def gt(value: Any) -> Predicate:
    """``has(field, gt(v))``: field > v."""
    return Predicate(">", value)


def gte(value: Any) -> Predicate:
    """``has(field, gte(v))``: field >= v."""
    return Predicate(">=", value)


def within(values: Any) -> Predicate:
    """``has(field, within([a, b]))``: field is one of the values."""
    return Predicate("in", values)


def without(values: Any) -> Predicate:
    """``has(field, without([a, b]))``: field is none of the values."""
    return Predicate("not_in", values)


PREDICATES: dict[str, Callable[[Any], Predicate]] = {
    "eq": eq, "neq": neq, "lt": lt, "lte": lte, "gt": gt, "gte": gte, "within": within, "without": without}
