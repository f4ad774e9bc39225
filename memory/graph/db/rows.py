"""memory.sqlite3 rows as records and back: times as ISO text, lists as JSON, vectors as blobs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from memory.graph.flags import with_flags
from memory.graph.nodes import HistoryEntry, Memory

Vectors = npt.NDArray[np.float32]

MEMORY_COLUMNS = (
    "id, kind, text, subject, importance, pinned, flags_json, provenance_json,"
    " valid_from, valid_to, learned_at, expired_at, slot, recalled_count, last_recalled_at,"
    " base_importance, quote"
)
MEMORY_FIELDS = MEMORY_COLUMNS.count(",") + 1


def iso(dt: datetime) -> str:
    """UTC ISO text, so SQL string comparison is time comparison; naive times are taken as UTC."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.isoformat(timespec="microseconds")


def _iso_or_none(dt: datetime | None) -> str | None:
    return iso(dt) if dt is not None else None


def memory_values(memory: Memory) -> tuple[Any, ...]:
    """A memory's values in MEMORY_COLUMNS order."""
    return (
        memory.id,
        memory.kind,
        memory.text,
        memory.subject,
        memory.importance,
        int(memory.pinned),
        json.dumps(memory.flags),
        json.dumps(memory.provenance),
        _iso_or_none(memory.valid_from),
        _iso_or_none(memory.valid_to),
        iso(memory.learned_at),
        _iso_or_none(memory.expired_at),
        memory.slot,
        memory.recalled_count,
        _iso_or_none(memory.last_recalled_at),
        memory.base_importance,
        memory.quote,
    )


def column_value(name: str, value: Any) -> tuple[str, Any]:
    """One field of a memory as its column and stored value (json-encoding lists, ISO-encoding
    times)."""
    if name in ("flags", "provenance"):
        return f"{name}_json", json.dumps(value)
    if isinstance(value, datetime):
        return name, iso(value)
    if isinstance(value, bool):
        return name, int(value)
    return name, value


def row_to_memory(row: sqlite3.Row) -> Memory:
    return Memory(
        id=row["id"],
        kind=row["kind"],
        text=row["text"],
        subject=row["subject"],
        importance=row["importance"],
        pinned=bool(row["pinned"]),
        # Read through the classifiers too: memories stored before a flag existed earn it.
        flags=with_flags(row["text"], json.loads(row["flags_json"])),
        provenance=json.loads(row["provenance_json"]),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        learned_at=row["learned_at"],
        expired_at=row["expired_at"],
        slot=row["slot"],
        recalled_count=row["recalled_count"],
        last_recalled_at=row["last_recalled_at"],
        base_importance=row["base_importance"],
        quote=row["quote"],
    )


def row_to_history(row: sqlite3.Row) -> HistoryEntry:
    return HistoryEntry(
        n=row["n"],
        memory_id=row["memory_id"],
        action=row["action"],
        actor=row["actor"],
        at=row["at"],
        text=row["text"],
        detail=json.loads(row["detail_json"]),
    )


def vector_blob(vector: Vectors) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def stack(blobs: Sequence[bytes]) -> Vectors:
    """Stored vectors as one matrix, a row each (0x0 for none)."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])
