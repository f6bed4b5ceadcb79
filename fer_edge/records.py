"""Typed records for what crosses a file or process boundary (a JSON file, a child process).

A record is a frozen dataclass with a ``SCHEMA_VERSION``; ``to_dict``/``to_json`` write it with a
``schema_version`` key first, ``from_dict``/``from_json`` read it back. A file from before versions
(no ``schema_version``) reads as version 0 through the record's ``upgrade``; a file from a newer
fer-edge, or one that is not the record at all, is a one-line ``FerEdgeError`` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from fer_edge.errors import FerEdgeError

R = TypeVar("R", bound="Record")


def plain(value: Any) -> Any:
    """``value`` as JSON types: records and dataclasses as dicts, tuples as lists, paths as strings."""
    if isinstance(value, Record):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


class Record:
    """Base of the typed records; subclasses are ``@dataclass(frozen=True)``."""

    SCHEMA_VERSION: ClassVar[int] = 1

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": self.SCHEMA_VERSION, **{f.name: plain(getattr(self, f.name)) for f in fields(self)}}  # type: ignore[arg-type]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def upgrade(cls, raw: dict[str, Any], version: int) -> dict[str, Any]:
        """Turn a dict of an older ``version`` (0: before versions) into this version's; override when needed."""
        return raw

    @classmethod
    def from_dict(cls: type[R], raw: Mapping[str, Any], source: str = "") -> R:
        where = f"{source}: " if source else ""
        if not isinstance(raw, Mapping):
            raise FerEdgeError(f"{where}expected a JSON object for {cls.__name__}, got {type(raw).__name__}")
        version = raw.get("schema_version", 0)
        if not isinstance(version, int) or version > cls.SCHEMA_VERSION:
            raise FerEdgeError(
                f"{where}{cls.__name__} schema {version!r} is newer than this fer-edge reads "
                f"({cls.SCHEMA_VERSION}); upgrade fer-edge"
            )
        data = cls.upgrade({k: v for k, v in raw.items() if k != "schema_version"}, version)
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except (TypeError, ValueError) as e:
            raise FerEdgeError(f"{where}not a {cls.__name__} record ({e})") from None

    @classmethod
    def from_json(cls: type[R], text: str, source: str = "") -> R:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as e:
            raise FerEdgeError(f"{source or cls.__name__}: not valid JSON ({e.msg} at line {e.lineno})") from None
        return cls.from_dict(raw, source)

    @classmethod
    def read(cls: type[R], path: Path) -> R:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise FerEdgeError(f"{path}: cannot read it ({e.strerror})") from None
        return cls.from_json(text, str(path))
