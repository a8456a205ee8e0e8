"""Text form of the query language: a hand-written tokenizer and recursive-descent parser.

Grammar (whitespace is free between tokens)::

    query     := ["g" "."] step ("." step)*
    step      := NAME "(" [arg ("," arg)*] ")"
    arg       := NAME "=" literal | literal
    literal   := STRING | NUMBER | "true" | "false" | list | predicate
    list      := "[" [literal ("," literal)*] "]"
    predicate := NAME "(" [literal ("," literal)*] ")"      e.g. gt(3), within(["a", "b"])

Strings take single or double quotes with ``\\\\``, ``\\"``, ``\\'``, ``\\n``, ``\\t`` escapes;
numbers are ints or floats (``-1``, ``2.5``, ``1e-3``); ``True``/``False`` are accepted too.
Each step is applied with :meth:`Plan.add`, the same call the fluent API makes, so the text and
the fluent spelling of a query give equal plans. No ``eval`` and no Python parser touch the text.

Errors raise :class:`~vastgraph.errors.ParseError` naming the column (1-based), what was expected
and what was found, followed by the query with a caret under the place.

Example:
    >>> str(parse_query("g.V('query', ['q1']).outV('click').sample(10).by('weight')"))
    'g.V("query", ["q1"]).outV("click").sample(10).by("weight")'
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from vastgraph.errors import ParseError, SchemaError, ValidationError
from vastgraph.sampling.query_literals import PREDICATES
from vastgraph.sampling.query_plan import STEP_ALIASES, STEP_BUILDERS, STEP_NAMES, Plan

_PUNCT = "()[],.="
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}
_BOOLS = {"true": True, "false": False, "True": True, "False": False}


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``name``, ``string``, ``number``, ``bool``, a punctuation character
    or ``end``; ``col`` is its 1-based column."""

    kind: str
    value: Any
    col: int

    def describe(self) -> str:
        if self.kind == "end":
            return "end of query"
        if self.kind == "name":
            return f"name {self.value!r}"
        if self.kind == "string":
            return f"string {self.value!r}"
        if self.kind in ("number", "bool"):
            return repr(self.value).lower() if self.kind == "bool" else repr(self.value)
        return repr(self.kind)


def _error(text: str, col: int, message: str) -> ParseError:
    """A ParseError whose message ends with the query and a caret under column ``col``."""
    shown = text.replace("\n", " ").replace("\t", " ")
    err = ParseError(f"{message}\n  {shown}\n  {' ' * (col - 1)}^")
    err.column = col  # type: ignore[attr-defined]
    err.text = text  # type: ignore[attr-defined]
    return err


def tokenize(text: str) -> list[Token]:
    """Split query text into tokens (the last one is ``end``)."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in _PUNCT:
            out.append(Token(c, c, i + 1))
            i += 1
        elif c in "'\"":
            start, i = i, i + 1
            chars = []
            while True:
                if i >= n:
                    raise _error(text, start + 1, f"unterminated string starting at column {start + 1}")
                ch = text[i]
                if ch == c:
                    i += 1
                    break
                if ch == "\\":
                    if i + 1 >= n or text[i + 1] not in _ESCAPES:
                        bad = text[i + 1] if i + 1 < n else "end of query"
                        raise _error(text, i + 1, f"unknown escape '\\{bad}' at column {i + 1}; "
                                     "valid: \\\\ \\\" \\' \\n \\t")
                    chars.append(_ESCAPES[text[i + 1]])
                    i += 2
                else:
                    chars.append(ch)
                    i += 1
            out.append(Token("string", "".join(chars), start + 1))
        elif c.isdigit() or (c in "+-" and i + 1 < n and text[i + 1].isdigit()):
            tok, i = _number(text, i)
            out.append(tok)
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            out.append(Token("bool", _BOOLS[word], i + 1) if word in _BOOLS else Token("name", word, i + 1))
            i = j
        else:
            raise _error(text, i + 1, f"unexpected character {c!r} at column {i + 1}")
    out.append(Token("end", None, n + 1))
    return out


def _number(text: str, i: int) -> tuple[Token, int]:
    j, n = i, len(text)
    if text[j] in "+-":
        j += 1
    while j < n and text[j].isdigit():
        j += 1
    is_float = False
    if j < n and text[j] == "." and j + 1 < n and text[j + 1].isdigit():
        is_float = True
        j += 1
        while j < n and text[j].isdigit():
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and text[k].isdigit():
            is_float = True
            j = k
            while j < n and text[j].isdigit():
                j += 1
    if j < n and (text[j].isalpha() or text[j] == "_"):
        raise _error(text, j + 1, f"malformed number {text[i:j + 1]!r} at column {i + 1}")
    raw = text[i:j]
    return Token("number", float(raw) if is_float else int(raw), i + 1), j


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def fail(self, expected: str, tok: Token | None = None) -> ParseError:
        tok = tok or self.tok
        return _error(self.text, tok.col, f"expected {expected} at column {tok.col}, found {tok.describe()}")

    def take(self, kind: str, expected: str | None = None) -> Token:
        if self.tok.kind != kind:
            raise self.fail(expected or repr(kind))
        tok = self.tok
        self.i += 1
        return tok

    def at(self, kind: str, offset: int = 0) -> bool:
        return self.toks[min(self.i + offset, len(self.toks) - 1)].kind == kind

    # ---------------------------------------------------------------- grammar
    def query(self) -> Plan:
        if self.at("end"):
            raise self.fail("a query such as g.V(\"type\")")
        if self.tok.kind == "name" and self.tok.value == "g" and not self.at("(", 1):
            self.i += 1
            self.take(".", "'.' after 'g'")
        plan = Plan()
        while True:
            plan = self.step(plan)
            if self.at("end"):
                return plan
            self.take(".", "'.' or end of query")

    def step(self, plan: Plan) -> Plan:
        name_tok = self.take("name", "a step name")
        name = STEP_ALIASES.get(name_tok.value, name_tok.value)
        if name not in STEP_BUILDERS:
            raise _error(self.text, name_tok.col, f"unknown step {name_tok.value!r} at column "
                         f"{name_tok.col}; valid steps: {', '.join(STEP_NAMES)}")
        self.take("(", f"'(' after {name_tok.value!r}")
        args, kwargs = self.arguments()
        builder = STEP_BUILDERS[name]
        try:
            inspect.signature(builder).bind(plan, *args, **kwargs)
        except TypeError as e:
            sig = _signature_text(name)
            raise _error(self.text, name_tok.col,
                         f"step {name_tok.value} at column {name_tok.col}: {e}; expected {sig}") from None
        try:
            return builder(plan, *args, **kwargs)
        except (ValidationError, SchemaError) as e:
            raise _error(self.text, name_tok.col, f"{e} (step at column {name_tok.col})") from e

    def arguments(self) -> tuple[list[Any], dict[str, Any]]:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if self.at(")"):
            self.i += 1
            return args, kwargs
        while True:
            if self.at("name") and self.at("=", 1):
                key_tok = self.take("name")
                self.i += 1
                if key_tok.value in kwargs:
                    raise _error(self.text, key_tok.col, f"argument {key_tok.value!r} given twice "
                                 f"at column {key_tok.col}")
                kwargs[key_tok.value] = self.literal()
            else:
                if kwargs:
                    raise self.fail("a keyword argument (name=value) after a keyword argument")
                args.append(self.literal())
            if self.at(")"):
                self.i += 1
                return args, kwargs
            self.take(",", "',' or ')'")

    def literal(self) -> Any:
        tok = self.tok
        if tok.kind in ("string", "number", "bool"):
            self.i += 1
            return tok.value
        if tok.kind == "[":
            self.i += 1
            items: list[Any] = []
            if self.at("]"):
                self.i += 1
                return items
            while True:
                items.append(self.literal())
                if self.at("]"):
                    self.i += 1
                    return items
                self.take(",", "',' or ']'")
        if tok.kind == "name" and self.at("(", 1):
            pred = PREDICATES.get(tok.value)
            if pred is None:
                raise _error(self.text, tok.col, f"unknown predicate {tok.value!r} at column {tok.col}; "
                             f"valid predicates: {', '.join(PREDICATES)}")
            self.i += 2
            args: list[Any] = []
            if not self.at(")"):
                args.append(self.literal())
                while self.at(","):
                    self.i += 1
                    args.append(self.literal())
            self.take(")", "')'")
            if len(args) != 1:
                raise _error(self.text, tok.col, f"predicate {tok.value}() at column {tok.col} takes "
                             f"exactly one value, got {len(args)}")
            return pred(args[0])
        raise self.fail("a value (string, number, true/false, [list] or predicate such as gt(3))")


def _signature_text(name: str) -> str:
    params = list(inspect.signature(STEP_BUILDERS[name]).parameters.values())[1:]
    parts = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"{p.name}...")
        elif p.default is p.empty:
            parts.append(p.name)
        elif p.default is None or isinstance(p.default, (bool, int, str)):
            parts.append(f"{p.name}={p.default!r}")
        else:
            parts.append(f"[{p.name}]")
    return f"{name}({', '.join(parts)})"


def parse_query(text: str) -> Plan:
    """Parse query text into a :class:`Plan` (raises :class:`ParseError` naming the column).

    Args:
        text: e.g. ``g.V("query", ["q1"]).outV("click").sample(10).by("weight").values("id")``.

    Returns:
        The plan; ``str(plan)`` is its canonical text, which parses back to an equal plan.
    """
    if not isinstance(text, str):
        raise ValidationError(f"query text: got {type(text).__name__}; expected a string")
    return _Parser(text).query()
