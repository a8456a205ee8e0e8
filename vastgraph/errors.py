"""The vastgraph error hierarchy.

Every error raised for bad user input is a :class:`VastgraphError` and also subclasses the
matching built-in (``ValueError``, ``KeyError``, ``FileNotFoundError`` ...), so callers can catch
either. Messages name the parameter or file, the value found and what was expected.
"""

from __future__ import annotations


class VastgraphError(Exception):
    """Base class of all vastgraph errors."""


class ValidationError(VastgraphError, ValueError):
    """A parameter or an array has a value, shape or dtype that is not allowed."""


class SchemaError(VastgraphError, KeyError):
    """An unknown node type, edge type, field or id was named."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class UnknownIdError(SchemaError):
    """An external node id that the graph does not hold."""


class ParseError(VastgraphError, ValueError):
    """Malformed input text: carries the file, line and field where it went wrong."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.line = line
        self.field = field


class EmptyInputError(ValidationError):
    """The input held no records."""


class StoreError(VastgraphError, OSError):
    """A store folder cannot be read or written as asked."""


class StoreExistsError(StoreError, FileExistsError):
    """The output path already holds a store and overwrite was not asked for."""


class FormatVersionError(StoreError):
    """A store folder written by an unknown or newer format version."""


class CorruptStoreError(StoreError):
    """A store array whose size, header or checksum does not match meta.json."""


class NotFittedError(VastgraphError, AttributeError):
    """A model was used before ``fit``."""


class RegistryError(SchemaError):
    """A name that a registry does not know; the message lists the known names."""


class DatasetError(VastgraphError, FileNotFoundError):
    """A dataset that cannot be found, downloaded or verified."""
