"""The one clock: `now()`, the current time in UTC, that every stored timestamp is read from."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
