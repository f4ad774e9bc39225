"""Making a forget physical: compacting SQLite files and scrubbing the log of forgotten text."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

MARKER = "[forgotten]"


def compact(db: sqlite3.Connection) -> None:
    """Rewrite a database so no freed page keeps old bytes, and empty its write-ahead log.

    VACUUM rebuilds every page; the TRUNCATE checkpoint then copies them home and cuts the WAL
    (which still holds old page images) to zero bytes. Temp space stays in memory so the
    copy VACUUM makes never lands in a temp file.
    """
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def compact_file(path: Path) -> None:
    """`compact` through a connection of its own (for a file another object holds open)."""
    if not path.exists():
        return
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        compact(db)
    finally:
        db.close()


def log_files(log_file: Path) -> list[Path]:
    """The log and any rotated copies beside it (hearth.log.1, ...)."""
    return sorted(p for p in log_file.parent.glob(log_file.name + "*") if p.is_file())


def scrub_file(path: Path, phrases: Sequence[str], marker: str = MARKER) -> int:
    """Replace each phrase (ignoring case) in a text file, in place; occurrences replaced."""
    wanted = [p for p in phrases if p]
    if not wanted or not path.exists():
        return 0
    pattern = re.compile("|".join(re.escape(p) for p in wanted), re.IGNORECASE)
    with path.open("r+", encoding="utf-8", errors="surrogateescape") as fh:
        text, count = pattern.subn(marker, fh.read())
        if count:
            # Rewritten in place (not a new file renamed over it) so a process logging to it
            # keeps writing to the same file.
            fh.seek(0)
            fh.write(text)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
    return count
