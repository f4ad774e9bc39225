"""A forget reaching the backups outside the data dir (memory/backup_ledger.py lists them):
rewritten without the words (their manifest made again), or deleted."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Literal

from memory.backup_ledger import (
    BACKUP_FILES,
    MARKER,
    OutsideBackup,
    holds,
    outside,
    phrase_pattern,
    recorded,
    write_ledger,
)
from memory.text import straighten_apostrophes

Action = Literal["list", "rewrite", "delete"]


def reach(data_dir: Path, phrase: str | None, action: Action) -> list[OutsideBackup]:
    """List the backups outside the data dir; with `rewrite`, take the phrase out of those that
    hold it; with `delete`, delete those that hold it (every one, without a phrase)."""
    listed = outside(data_dir, phrase)
    if action == "list":
        return listed
    if action == "delete" or phrase is None:
        done = delete_listed(listed)
        gone = {b.path for b in done if b.done == "deleted"}
        write_ledger(data_dir, [r for r in recorded(data_dir) if r.path not in gone])
        return done
    done = []
    for backup in listed:
        if not backup.exists or backup.holds_phrase is False:
            done.append(backup)
            continue
        rewrite(Path(backup.path), phrase)
        held = holds(Path(backup.path), phrase_pattern(phrase))
        done.append(backup.model_copy(update={"done": "rewritten", "holds_phrase": held}))
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
