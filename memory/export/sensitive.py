"""Export rows about sensitive kinds (health, feelings, private matters), left out by default."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from memory.export.rows import Row
from memory.sensitivity import sensitive


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def is_sensitive(row: Row, sources: Collection[int]) -> bool:
    """A row is sensitive when one of its messages is the source of a sensitive memory, or
    when any text in it (a message, a reply, notes recalled into a frozen prompt) reads so."""
    ids = {*row.trained_ids, *row.context_ids}
    return bool(ids.intersection(sources)) or any(sensitive(t) for t in _texts(row.data))


def leave_out_sensitive(rows: list[Row], sources: Collection[int]) -> tuple[list[Row], int]:
    """The rows that are not sensitive, and how many were left out."""
    kept = [r for r in rows if not is_sensitive(r, sources)]
    return kept, len(rows) - len(kept)
