"""Reading an export's records field by field: a broken one names its file, record and field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

from agent.importing.threads import REFUSED
from memory.errors import DatasetError

T = TypeVar("T")
_MISSING = object()


class Record:
    """One record (a conversation, a message) of a file, with where it is for errors."""

    def __init__(self, value: Any, file: str, where: str) -> None:
        if not isinstance(value, dict):
            raise DatasetError(f"{file}: {where}: not an object{REFUSED}")
        self.value: dict[str, Any] = value
        self.file = file
        self.where = where

    def refuse(self, field: str, what: str) -> DatasetError:
        return DatasetError(f"{self.file}: {self.where}, field {field}: {what}{REFUSED}")

    def get(self, field: str, kind: type[T] | tuple[type, ...], default: Any = _MISSING) -> Any:
        """The field's value, checked to be of `kind`; a missing or null field is `default`
        (refused when none is given)."""
        value = self.value.get(field)
        if value is None:
            if default is _MISSING:
                raise self.refuse(field, "missing")
            return default
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.refuse(field, f"is {type(value).__name__}, not {names}")
        return value

    def text(self, field: str, default: str | None = "") -> str | None:
        value = self.get(field, (str, int, float), default)
        return None if value is None else str(value)

    def child(self, field: str, where: str) -> Record:
        return Record(self.get(field, dict), self.file, where)

    def time(self, field: str) -> datetime | None:
        """A time as seconds since 1970 (milliseconds when that large) or ISO 8601; None when
        missing. ISO without a zone is UTC."""
        value = self.get(field, (str, int, float), None)
        if value is None:
            return None
        moment = parse_time(value)
        if moment is None:
            raise self.refuse(field, f"{value!r} is not a time")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_time(value: str | float) -> datetime | None:
    """Seconds or milliseconds since 1970 (UTC), or ISO 8601 (its zone, or none); None when it
    is neither."""
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        value = float(value)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def records(value: Any, file: str, what: str, ident: str) -> list[Record]:
    """A file's top-level array of records, each named by its `ident` field where it has one."""
    if not isinstance(value, list):
        raise DatasetError(f"{file}: not an array of {what}s{REFUSED}")
    out = []
    for i, item in enumerate(value):
        name = item.get(ident) if isinstance(item, dict) else None
        out.append(Record(item, file, f"{what} {name}" if name else f"{what} #{i}"))
    return out
