"""Which memories a read may return, as a SQL condition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memory.graph.db.rows import iso
from memory.graph.nodes import Kind


@dataclass(frozen=True)
class Filters:
    """Which memories a read may return; applied in SQL."""

    valid_at: datetime | None = None
    """Only memories current at this time (None: every memory, expired ones included)."""
    kinds: Sequence[Kind] | None = None
    since: datetime | None = None
    """Only memories true (or learned, when valid_from is unknown) at or after this time."""
    until: datetime | None = None

    def sql(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.valid_at is not None:
            clauses.append("expired_at IS NULL AND (valid_to IS NULL OR valid_to > ?)")
            args.append(iso(self.valid_at))
        if self.kinds:
            clauses.append(f"kind IN ({','.join('?' * len(self.kinds))})")
            args.extend(self.kinds)
        if self.since is not None:
            clauses.append("COALESCE(valid_from, learned_at) >= ?")
            args.append(iso(self.since))
        if self.until is not None:
            clauses.append("COALESCE(valid_from, learned_at) < ?")
            args.append(iso(self.until))
        return (" AND ".join(clauses) or "1"), args
