"""Graph schema: node types, edge types and how a user may name them."""

from __future__ import annotations

from typing import Iterable, NamedTuple

from vastgraph.errors import SchemaError, ValidationError


class EdgeType(NamedTuple):
    """An edge type ``(src, relation, dst)``; the CSR of an edge type is over ``src``."""

    src: str
    rel: str
    dst: str

    def __str__(self) -> str:
        return f"{self.src}:{self.rel}:{self.dst}"

    @classmethod
    def parse(cls, text: str) -> "EdgeType":
        """Parse ``"src:rel:dst"`` (or ``"src,rel,dst"``)."""
        parts = text.split(":") if ":" in text else text.split(",")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValidationError(
                f"edge type {text!r}: expected 'src:relation:dst' with three non-empty parts")
        return cls(*(p.strip() for p in parts))


def check_name(kind: str, name: object) -> str:
    """Return ``name`` if it is a usable type name, else raise."""
    if not isinstance(name, str) or not name or any(c in name for c in ":/\\\n\t"):
        raise ValidationError(
            f"{kind} name {name!r}: expected a non-empty string without ':', '/', '\\' or whitespace controls")
    return name


def resolve_edge_type(etype: object, known: Iterable[EdgeType]) -> EdgeType:
    """Resolve a user's edge-type spelling to one of ``known``.

    Accepts an :class:`EdgeType`, a 3-tuple, ``"src:rel:dst"``, or a bare relation name when it is
    unique. Raises :class:`SchemaError` listing the known edge types otherwise.
    """
    known = list(known)
    if isinstance(etype, str):
        if ":" in etype or "," in etype:
            try:
                cand = EdgeType.parse(etype)
            except ValidationError:
                cand = None
            if cand is not None and cand in known:
                return cand
        else:
            hits = [et for et in known if et.rel == etype]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise SchemaError(
                    f"edge type {etype!r} is ambiguous: it names {', '.join(map(str, hits))}; "
                    "write it as 'src:relation:dst'")
    elif isinstance(etype, tuple) and len(etype) == 3:
        cand = EdgeType(*etype)
        if cand in known:
            return cand
    names = ", ".join(str(e) for e in known) or "(none)"
    raise SchemaError(f"unknown edge type {etype!r}; known edge types: {names}")


def resolve_node_type(ntype: object, known: Iterable[str]) -> str:
    """Check that ``ntype`` is one of ``known``; raise listing them otherwise."""
    known = list(known)
    if ntype in known:
        return ntype  # type: ignore[return-value]
    raise SchemaError(f"unknown node type {ntype!r}; known node types: {', '.join(known) or '(none)'}")
