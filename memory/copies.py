"""Safety copies Hearth keeps in the data dir (before a migration, a recovery or a restore),
found so that a forget reaches them too."""

from __future__ import annotations

from pathlib import Path

COPY_GLOBS = ("backups/*.sqlite3", "*.damaged-*", "replaced-*/**/*")
"""Migration backups (memory/sqlite.py), damaged files kept by a recover (memory/damage.py),
files a restore moved aside (memory/backup.py)."""


def safety_copies(data_dir: Path) -> list[Path]:
    """Every file of a safety copy in the data dir, oldest name first."""
    found = {p for pattern in COPY_GLOBS for p in data_dir.glob(pattern) if p.is_file()}
    return sorted(found)


def holding(paths: list[Path], texts: list[str]) -> list[Path]:
    """The files whose bytes hold any of the texts, ignoring case (SQLite stores text as plain
    UTF-8, so a byte scan finds it in live rows and in free pages alike)."""
    wanted = [t.lower().encode() for t in texts if t.strip()]
    if not wanted:
        return []
    found = []
    for path in paths:
        try:
            data = path.read_bytes().lower()
        except OSError:
            continue
        if any(w in data for w in wanted):
            found.append(path)
    return found
