"""A SQLite file kept the Hearth way: WAL, full sync, named migrations, one writer, compaction."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from memory.errors import DataDirNewerError, StorageError
from memory.recovery import corrupt_error, is_corruption, quick_check

# A migration: a name, and its statements in order. Never edit one that has shipped.
Migration = tuple[str, Sequence[str]]


def statements(script: str) -> list[str]:
    """A SQL script's statements in order, each stripped of its closing semicolon and of the
    comment lines before it. A statement ends with the line that completes it
    (`sqlite3.complete_statement`), so the semicolons inside a trigger body stay inside."""
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending.strip() and line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip().removesuffix(";").rstrip())
            pending = ""
    if pending.strip():
        raise ValueError(f"a SQL statement has no closing semicolon: {pending.strip()[:60]!r}")
    return found


def migrations(scripts: Sequence[tuple[str, str]]) -> list[Migration]:
    """Named SQL scripts as migrations: each script split into its statements."""
    return [(name, statements(script)) for name, script in scripts]


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


class Database:
    """One connection, shared across threads behind a lock, with write transactions that wait
    for a busy file instead of failing and turn a full disk into a StorageError."""

    def __init__(
        self,
        path: Path,
        *,
        what: str,
        migrations: Sequence[Migration],
        secure_delete: bool = False,
    ) -> None:
        self.path = path
        self.what = what
        self.lock = threading.RLock()
        self._migrations = migrations
        if path.exists():
            self._refuse_newer()
        try:
            self.conn = sqlite3.connect(
                path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the {what} {path}: {exc}") from exc
        self.conn.row_factory = sqlite3.Row
        try:
            self._setup(secure_delete)
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            if is_corruption(exc):
                raise corrupt_error(path, what, exc) from exc
            raise
        except BaseException:
            self.conn.close()
            raise

    def _setup(self, secure_delete: bool) -> None:
        self.conn.execute("PRAGMA journal_mode=WAL")
        # FULL: what is reported as saved survives power loss, not just a process crash.
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        if secure_delete:
            # Deleted rows' bytes are zeroed, not left in free pages: forget means gone.
            self.conn.execute("PRAGMA secure_delete=ON")
        # Damage is found at open, before anything is written over it (small files: see there).
        quick_check(self.conn, self.path, self.what)
        self._migrate()

    def _refuse_newer(self) -> None:
        # Read-only, so a file from a newer Hearth is refused without a byte changed.
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                version = int(db.execute("PRAGMA user_version").fetchone()[0])
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            if is_corruption(exc):
                raise corrupt_error(self.path, self.what, exc) from exc
            raise StorageError(
                f"{self.path} is not a readable {self.what} ({exc}); move it aside to start fresh"
            ) from exc
        known = len(self._migrations)
        if version > known:
            raise DataDirNewerError(
                f"the {self.what} {self.path} was written by a newer Hearth (schema {version}, "
                f"this one knows {known}); upgrade Hearth or set HEARTH_HOME elsewhere"
            )

    def _migrate(self) -> None:
        version = self.schema_version()
        for index, (_name, steps) in enumerate(self._migrations[version:], start=version + 1):
            with self.tx() as db:
                for step in steps:
                    db.execute(step)
                db.execute(f"PRAGMA user_version = {index}")

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so a busy database waits rather than fails."""
        with self.lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                    self.conn.execute("COMMIT")
                except BaseException:
                    # SQLite may have rolled back already (disk full, I/O error): a second
                    # ROLLBACK would raise and hide the real error.
                    if self.conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            self.conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                name = getattr(exc, "sqlite_errorname", "")
                if name.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY")):
                    raise StorageError(f"could not save to {self.path}: {exc}") from exc
                raise

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self.lock:
            self.conn.close()
