"""Where `hearth backup` wrote each backup (a ledger in the data dir), and which of those
outside the data dir hold a forgotten phrase: what a forget lists."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from memory.text import APOSTROPHE, CURLY_APOSTROPHE, straighten_apostrophes

LEDGER = "backup-ledger.json"
MARKER = "[forgotten]"
BACKUP_FILES = ("journal.sqlite3", "memory.sqlite3", "config.toml", "manifest.json")
"""What `hearth backup` writes in its folder: a delete removes these, and the folder if empty."""


class BackupRecord(BaseModel):
    """One backup made from this data dir: where, and when."""

    path: str
    created_at: datetime


class OutsideBackup(BaseModel):
    """A recorded backup outside the data dir, as a forget found (and left) it."""

    path: str
    exists: bool
    """False: not there now (moved, deleted, or on a disk not mounted): unreachable."""
    holds_phrase: bool | None
    """Whether one of its files holds the words (None: not looked for, or unreadable)."""
    done: Literal["listed", "rewritten", "deleted"] = "listed"

    def line(self) -> str:
        if not self.exists:
            return f"backup elsewhere, unreachable (not there now): {self.path}"
        if self.done == "rewritten":
            return f"backup elsewhere, rewritten without it: {self.path}"
        if self.done == "deleted":
            return f"backup elsewhere, deleted: {self.path}"
        if self.holds_phrase is False:
            return f"backup elsewhere, not touched (does not hold it): {self.path}"
        return (
            f"backup elsewhere, NOT touched, still holds it: {self.path} "
            "(--backups rewrite or --backups delete reaches it)"
        )


_RECORDS = TypeAdapter(list[BackupRecord])


def recorded(data_dir: Path) -> list[BackupRecord]:
    """Every backup recorded in the ledger (none when there is no ledger, or it is unreadable)."""
    try:
        return _RECORDS.validate_json((data_dir / LEDGER).read_bytes())
    except (OSError, ValidationError):
        return []


def record(data_dir: Path, dest: Path, created_at: datetime) -> None:
    """Add a backup to the ledger; a new file renamed over the old one, so a crash leaves one
    or the other. Written beside a running chat too: it is no database, and nothing else
    writes it but a backup or a forget."""
    if not data_dir.exists():
        return
    kept = [r for r in recorded(data_dir) if Path(r.path) != dest]
    write_ledger(data_dir, [*kept, BackupRecord(path=str(dest), created_at=created_at)])


def write_ledger(data_dir: Path, records: list[BackupRecord]) -> None:
    partial = data_dir / f"{LEDGER}.partial"
    partial.write_bytes(_RECORDS.dump_json(records, indent=2))
    partial.chmod(0o600)
    os.replace(partial, data_dir / LEDGER)


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase in any case, with either apostrophe (as the forget itself matches it)."""
    forms = dict.fromkeys(
        [phrase, straighten_apostrophes(phrase), phrase.replace(APOSTROPHE, CURLY_APOSTROPHE)]
    )
    return re.compile("|".join(re.escape(f) for f in forms), re.IGNORECASE)


def holds(folder: Path, pattern: re.Pattern[str]) -> bool | None:
    """A byte scan of each file (SQLite keeps text as plain UTF-8, in live rows and free pages)."""
    found = False
    for name in BACKUP_FILES[:3]:
        path = folder / name
        if not path.exists():
            continue
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return None
        found = found or pattern.search(text) is not None
    return found


def outside(data_dir: Path, phrase: str | None) -> list[OutsideBackup]:
    """The recorded backups outside the data dir, each once, with whether it holds the phrase."""
    root = data_dir.resolve()
    pattern = phrase_pattern(phrase) if phrase else None
    found = []
    for path in dict.fromkeys(Path(r.path) for r in recorded(data_dir)):
        if path.resolve().is_relative_to(root):
            continue
        exists = (path / "manifest.json").is_file()
        held = holds(path, pattern) if exists and pattern is not None else None
        found.append(OutsideBackup(path=str(path), exists=exists, holds_phrase=held))
    return found
