"""Which memories a read may return, as a SQL condition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memory.graph.db.rows import iso
from memory.graph.nodes import Kind, Memory


@dataclass(frozen=True)
class AsOf:
    """The memory as it stood just before journal message `message_id` was written: what a
    Hearth looking back at that moment may have known, so nothing said later leaks in."""

    message_id: int
    """Only memories every source message of which came before this one."""
    at: datetime | None = None
    """Only memories learned before this time and not expired or ended by then (None: no time
    test, for an imported data set, whose memories were all learned at import time)."""

    def admits(self, memory: Memory) -> bool:
        """The same test as `sql`, for a memory already read."""
        if any(i >= self.message_id for i in memory.provenance):
            return False
        if self.at is None:
            return True
        return (
            memory.learned_at < self.at
            and (memory.expired_at is None or memory.expired_at > self.at)
            and (memory.valid_to is None or memory.valid_to > self.at)
        )

    def sql(self) -> tuple[str, list[Any]]:
        clauses = ["NOT EXISTS (SELECT 1 FROM json_each(provenance_json) WHERE value >= ?)"]
        args: list[Any] = [self.message_id]
        if self.at is not None:
            clauses.append(
                "learned_at < ? AND (expired_at IS NULL OR expired_at > ?)"
                " AND (valid_to IS NULL OR valid_to > ?)"
            )
            args.extend([iso(self.at)] * 3)
        return " AND ".join(clauses), args


@dataclass(frozen=True)
class Filters:
    """Which memories a read may return; applied in SQL."""

    valid_at: datetime | None = None
    """Only memories current at this time (None: every memory, expired ones included)."""
    kinds: Sequence[Kind] | None = None
    since: datetime | None = None
    """Only memories true (or learned, when valid_from is unknown) at or after this time."""
    until: datetime | None = None
    as_of: AsOf | None = None
    """Only memories known before a message (`AsOf`); use it with `valid_at` None."""
    sources: Sequence[int] | None = None
    """Only memories learned from one of these journal messages."""

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
        if self.sources is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(provenance_json)"
                f" WHERE value IN ({','.join('?' * len(self.sources)) or 'NULL'}))"
            )
            args.extend(self.sources)
        if self.as_of is not None:
            where, more = self.as_of.sql()
            clauses.append(where)
            args.extend(more)
        return (" AND ".join(clauses) or "1"), args
