"""Typed, validated configuration for components.

Each component's keyword hyperparameters *are* its schema: :func:`params_model` turns a class's
``__init__`` signature (annotations and defaults) into a pydantic model, so a YAML file or CLI
flags are validated with the same types and defaults the library uses, and errors name the
parameter, the value and what was expected.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from pathlib import Path
from typing import Any, get_type_hints

import pydantic

from vastgraph.errors import ParseError, ValidationError


@lru_cache(maxsize=None)
def params_model(cls: type) -> type[pydantic.BaseModel]:
    """A pydantic model of ``cls.__init__``'s keyword parameters (unknown keys are rejected)."""
    sig = inspect.signature(cls.__init__)
    try:
        hints = get_type_hints(cls.__init__)
    except Exception:  # unresolved forward references: fall back to Any
        hints = {}
    fields: dict[str, Any] = {}
    for name, p in sig.parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        ann = hints.get(name, Any)
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[name] = (ann, default)
    return pydantic.create_model(f"{cls.__name__}Params", __config__=pydantic.ConfigDict(
        extra="forbid", arbitrary_types_allowed=True), **fields)


def validate_params(cls: type, params: dict[str, Any], *, where: str = "parameters") -> dict[str, Any]:
    """Validate ``params`` against ``cls``'s schema; returns only the keys that were given."""
    model = params_model(cls)
    try:
        obj = model(**params)
    except pydantic.ValidationError as exc:
        msgs = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e["loc"])
            if e["type"] == "extra_forbidden":
                valid = ", ".join(sorted(model.model_fields))
                msgs.append(f"unknown parameter {loc!r} (valid: {valid})")
            else:
                msgs.append(f"{loc}={e.get('input')!r}: {e['msg']}")
        raise ValidationError(f"{cls.__name__} {where}: " + "; ".join(msgs)) from None
    return {k: getattr(obj, k) for k in params}


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """Parse CLI ``key=value`` items; values are read as YAML scalars/lists (``p=0.25``, ``metapath=[a,b]``)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValidationError(f"--set {item!r}: expected key=value")
        k, v = item.split("=", 1)
        try:
            out[k.strip().replace("-", "_")] = yaml.safe_load(v)
        except yaml.YAMLError as exc:
            raise ValidationError(f"--set {item!r}: value is not valid YAML ({exc})") from None
    return out


def load_yaml_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; errors name the file and line."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"config file {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParseError(f"invalid YAML ({getattr(exc, 'problem', exc)})", path=str(p),
                         line=None if mark is None else mark.line + 1) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParseError(f"expected a mapping of parameters, found {type(data).__name__}", path=str(p))
    return data
