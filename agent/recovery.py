"""`hearth logs recover` / `hearth memory recover`: a damaged database saved, under the lock."""

from __future__ import annotations

import shutil
from pathlib import Path

from memory.coordination.lock import DataDirLock
from memory.damage import RecoveryReport, recover
from memory.datadir import ensure_data_dir
from memory.graph.db import MemoryDB
from memory.journal.journal import Journal
from memory.settings import load_settings, resolve_paths


def _program(salvage: bool) -> str | None:
    """The sqlite3 program when installed (its `.recover` reads more than a row-by-row scan)."""
    return None if salvage else shutil.which("sqlite3")


def _fresh_journal(path: Path) -> None:
    Journal(path).close()


def _fresh_memory_db(path: Path) -> None:
    MemoryDB(path).close()


def recover_journal(*, salvage: bool = False, force: bool = False) -> RecoveryReport:
    """Keep a copy of a damaged journal.sqlite3 and replace it with every row that can be
    read; `salvage` skips the sqlite3 program, `force` recovers a file that checks as sound."""
    paths = resolve_paths()
    ensure_data_dir(paths.data_dir)
    with DataDirLock(paths.lock_file):
        return recover(
            paths.journal, "journal", _fresh_journal, program=_program(salvage), force=force
        )


def recover_memory(*, salvage: bool = False, force: bool = False) -> RecoveryReport:
    """The same for memory.sqlite3, then its word index and the vector index made again."""
    from memory.graph.store import MemoryStore

    paths = resolve_paths()
    settings = load_settings(paths)
    ensure_data_dir(paths.data_dir)
    with DataDirLock(paths.lock_file) as lock:
        report = recover(
            paths.memory_db,
            "memory database",
            _fresh_memory_db,
            program=_program(salvage),
            force=force,
        )
        if not report.intact:
            # Stored vectors are reused (the embedder is not even loaded) unless some were lost.
            lost = report.rows.get("vectors", 0) < report.rows.get("memories", 0)
            with MemoryStore.open(
                paths, settings, write=True, lock=lock, verify_embedder=False
            ) as store:
                store.rebuild(reembed=lost, actor="user")
        return report
