"""A SQLite file kept the Hearth way: WAL, full sync, named migrations, one writer, compaction."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from memory import faults
from memory.clock import now
from memory.damage import corrupt_error, is_corruption, quick_check
from memory.errors import DataDirNewerError, StorageError

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


# Below this many free bytes a failed open is put down to a full disk, not a broken file.
FULL_BELOW = 1 << 20


def full_disk(path: Path) -> str | None:
    """A line saying the disk holding `path` is full, or None when it has room."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    if free >= FULL_BELOW:
        return None
    return (
        f"the disk holding {path.parent} is full ({free:,} bytes free); "
        "free some space and try again"
    )


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def _user_version(path: Path, mode: str) -> int:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
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
        self._unit = False
        """Inside a `unit` (on the thread holding the lock): `tx` joins its transaction."""
        self._migrations = migrations
        self.full_disk: str | None = None
        """Set when the disk was full at open: the file is then read as it stands, and every
        write is refused with this line."""
        if path.exists():
            self._refuse_newer()
        try:
            # On a full disk the first open would leave a partial -shm file (32 KB a file, the
            # last bytes a full disk has): the file is read as it stands from the start.
            if path.exists() and full_disk(path) is not None and not _has_wal(path):
                raise sqlite3.OperationalError("the disk is full")
            self.conn = self._open(secure_delete)
        except sqlite3.Error as exc:
            if is_corruption(exc):
                raise corrupt_error(path, what, exc) from exc
            self.full_disk = full_disk(path)
            if self.full_disk is None or not path.exists():
                reason = self.full_disk or exc
                raise StorageError(f"cannot open the {what} {path}: {reason}") from exc
            # Reading must go on when nothing can be written (not even SQLite's -shm file).
            self.conn = self._open_immutable()
        try:
            # Damage is found at open, before anything is written over it (small files: see there).
            quick_check(self.conn, self.path, self.what)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            if is_corruption(exc):
                raise corrupt_error(path, what, exc) from exc
            raise
        except BaseException:
            self.conn.close()
            raise

    def _open(self, secure_delete: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: what is reported as saved survives power loss, not just a process crash.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            if secure_delete:
                # Deleted rows' bytes are zeroed, not left in free pages: forget means gone.
                conn.execute("PRAGMA secure_delete=ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_immutable(self) -> sqlite3.Connection:
        """The file as it stands, read without the -shm file SQLite would need to create. A
        clean close leaves no write-ahead log; one a crash left behind cannot be read so."""
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StorageError(f"cannot read the {self.what} {self.path}: {self.full_disk}")
        conn = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?immutable=1",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        return conn

    def _refuse_newer(self) -> None:
        # Read-only, so a file from a newer Hearth is refused without a byte changed.
        # On a full disk, read in place from the start: a read-only open would leave a -shm.
        full_now = full_disk(self.path) is not None and not _has_wal(self.path)
        try:
            version = _user_version(self.path, "immutable=1" if full_now else "mode=ro")
        except sqlite3.DatabaseError as exc:
            if is_corruption(exc):
                raise corrupt_error(self.path, self.what, exc) from exc
            full = full_disk(self.path)
            if full is not None:
                # Not a broken file: SQLite could not make its -shm file. Never "move it aside".
                try:
                    version = _user_version(self.path, "immutable=1")
                except sqlite3.DatabaseError:
                    raise StorageError(f"cannot read the {self.what} {self.path}: {full}") from exc
                self._check_version(version)
                return
            raise StorageError(
                f"{self.path} is not a readable {self.what} ({exc}); move it aside to start fresh"
            ) from exc
        self._check_version(version)

    def _check_version(self, version: int) -> None:
        known = len(self._migrations)
        if version > known:
            raise DataDirNewerError(
                f"the {self.what} {self.path} was written by a newer Hearth (schema {version}, "
                f"this one knows {known}); upgrade Hearth or set HEARTH_HOME elsewhere"
            )

    def _migrate(self) -> None:
        version = self.schema_version()
        if 0 < version < len(self._migrations):
            self._back_up(version)
        for index, (_name, steps) in enumerate(self._migrations[version:], start=version + 1):
            with self.tx() as db:
                for step in steps:
                    db.execute(step)
                db.execute(f"PRAGMA user_version = {index}")

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so a busy database waits rather than fails.
        Inside a `unit` it is a savepoint of the unit's one transaction instead: all or
        nothing of it is kept when the unit commits."""
        with self.lock:
            if self.full_disk is not None:
                raise StorageError(f"could not save to {self.path}: {self.full_disk}")
            if self._unit:
                with self._saving():
                    if not self.conn.in_transaction:
                        self.conn.execute("BEGIN IMMEDIATE")
                    self.conn.execute("SAVEPOINT tx")
                    try:
                        yield self.conn
                    except BaseException:
                        if self.conn.in_transaction:
                            with contextlib.suppress(sqlite3.Error):
                                self.conn.execute("ROLLBACK TO tx")
                                self.conn.execute("RELEASE tx")
                        raise
                    self.conn.execute("RELEASE tx")
                return
            with self._saving():
                self.conn.execute("BEGIN IMMEDIATE")
                with self._committing():
                    yield self.conn

    @contextlib.contextmanager
    def unit(self) -> Iterator[None]:
        """One unit of work: every `tx` inside, on this thread, joins one transaction (begun at
        the first write, committed once when this ends, with one sync to disk), and an error
        anywhere inside rolls all of it back. Other threads' writes wait for it to end. A unit
        inside a unit is part of the outer one."""
        with self.lock:
            if self._unit:
                yield
                return
            self._unit = True
            try:
                with self._saving(), self._committing():
                    yield
            finally:
                self._unit = False

    @contextlib.contextmanager
    def _committing(self) -> Iterator[None]:
        """Commit what is open when the block ends; roll it back on an error inside."""
        try:
            yield
            if self.conn.in_transaction:
                faults.reached("commit-fsync-error")
                self.conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (disk full, I/O error): a second
            # ROLLBACK would raise and hide the real error.
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def _saving(self) -> Iterator[None]:
        """A full disk, an I/O error or a read-only file while writing: a StorageError."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            name = getattr(exc, "sqlite_errorname", "")
            if name.startswith(("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY")):
                reason = full_disk(self.path) or (
                    f"{exc}; free some disk space (or check the data dir's permissions) "
                    "and try again"
                )
                raise StorageError(f"could not save to {self.path}: {reason}") from exc
            raise

    def _back_up(self, version: int) -> Path:
        """A copy of the file as it is, before the migrations past `version` change it:
        backups/<name>-v<version>-<time>.sqlite3 in the data dir, 0600 (SQLite's online backup,
        so a copy of a live file is consistent)."""
        if self.full_disk is not None:
            raise StorageError(
                f"the {self.what} {self.path} needs an upgrade, which cannot run: {self.full_disk}"
            )
        folder = self.path.parent / "backups"
        stamp = now().strftime("%Y%m%dT%H%M%S%fZ")
        target = folder / f"{self.path.stem}-v{version}-{stamp}.sqlite3"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            copy = sqlite3.connect(target)
            try:
                self.conn.backup(copy)
            finally:
                copy.close()
        except (OSError, sqlite3.Error) as exc:
            with contextlib.suppress(OSError):
                target.unlink()
            full = full_disk(self.path)
            raise StorageError(
                f"could not back up the {self.what} {self.path} before upgrading it: "
                f"{full or exc}; nothing was changed"
            ) from exc
        return target

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self.lock:
            self.conn.close()
