"""Backups `hearth backup` wrote outside the data dir, recorded in a ledger so that a forget
reaches them: listed, rewritten without the words (their manifest made again), or deleted."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from memory.text import APOSTROPHE, CURLY_APOSTROPHE, straighten_apostrophes

LEDGER = "backup-ledger.json"
MARKER = "[forgotten]"
BACKUP_FILES = ("journal.sqlite3", "memory.sqlite3", "config.toml", "manifest.json")
"""What `hearth backup` writes in its folder: a delete removes these, and the folder if empty."""
Action = Literal["list", "rewrite", "delete"]


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
    _write(data_dir, [*kept, BackupRecord(path=str(dest), created_at=created_at)])


def _write(data_dir: Path, records: list[BackupRecord]) -> None:
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


def _holds(folder: Path, pattern: re.Pattern[str]) -> bool | None:
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
        holds = _holds(path, pattern) if exists and pattern is not None else None
        found.append(OutsideBackup(path=str(path), exists=exists, holds_phrase=holds))
    return found


def reach(data_dir: Path, phrase: str | None, action: Action) -> list[OutsideBackup]:
    """List the backups outside the data dir; with `rewrite`, take the phrase out of those that
    hold it; with `delete`, delete those that hold it (every one, without a phrase)."""
    listed = outside(data_dir, phrase)
    if action == "list":
        return listed
    if action == "delete" or phrase is None:
        done = delete_listed(listed)
        gone = {b.path for b in done if b.done == "deleted"}
        _write(data_dir, [r for r in recorded(data_dir) if r.path not in gone])
        return done
    done = []
    for backup in listed:
        if not backup.exists or backup.holds_phrase is False:
            done.append(backup)
            continue
        rewrite(Path(backup.path), phrase)
        holds = _holds(Path(backup.path), phrase_pattern(phrase))
        done.append(backup.model_copy(update={"done": "rewritten", "holds_phrase": holds}))
    return done


def delete_listed(listed: list[OutsideBackup]) -> list[OutsideBackup]:
    """Delete each listed backup that is there and may hold the words."""
    done = []
    for backup in listed:
        if backup.exists and backup.holds_phrase is not False:
            delete(Path(backup.path))
            backup = backup.model_copy(update={"done": "deleted", "holds_phrase": None})
        done.append(backup)
    return done


def delete(folder: Path) -> None:
    """The files `hearth backup` wrote, then the folder when nothing else is in it."""
    for name in BACKUP_FILES:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{folder / name}{suffix}").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()


def _standalone(path: Path) -> None:
    """Back to a single file (no -wal beside it), as `hearth backup` leaves its copies."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def rewrite(folder: Path, phrase: str) -> None:
    """Take the phrase out of a backup as `forget --matching` takes it out of the data dir:
    the memories holding it deleted (a tombstone kept), the phrase replaced in the journal's
    texts and the history, freed pages wiped; then its manifest's counts and checksums made
    again."""
    from memory.backup import refresh_manifest
    from memory.graph.db import MemoryDB
    from memory.journal.journal import Journal
    from memory.sqlite import compact_file

    pattern = phrase_pattern(phrase)
    journal_file, memory_file = folder / "journal.sqlite3", folder / "memory.sqlite3"
    if journal_file.exists():
        journal = Journal(journal_file)
        try:
            journal.redact(pattern, MARKER)
        finally:
            journal.close()
        compact_file(journal_file)
        _standalone(journal_file)
    if memory_file.exists():
        db = MemoryDB(memory_file)
        try:
            ids = db.matching(phrase)
            with db.tx() as tx:
                if ids:
                    db.delete(tx, ids)
                for memory_id in ids:
                    db.record(tx, memory_id, "forget", "user")
                for form in dict.fromkeys([phrase, straighten_apostrophes(phrase)]):
                    db.redact_history(tx, form, MARKER)
                db.forget_names(tx, [phrase])
            db.compact()
        finally:
            db.close()
        _standalone(memory_file)
    config = folder / "config.toml"
    if config.exists() and pattern.search(config.read_text(encoding="utf-8", errors="replace")):
        config.write_text(pattern.sub(MARKER, config.read_text(encoding="utf-8")), "utf-8")
    # A migration on open may have left a copy of the old file: it holds the words too.
    for old in [*folder.glob("backups/journal-v*"), *folder.glob("backups/memory-v*")]:
        old.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        (folder / "backups").rmdir()
    refresh_manifest(folder)
