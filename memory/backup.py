"""`hearth backup` / `hearth restore`: the databases copied consistently, with counts checked."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.metadata
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from memory import backup_ledger, faults, restore_swap
from memory.clock import now
from memory.coordination.lock import DataDirLock
from memory.damage import integrity_ok
from memory.datadir import ensure_data_dir, make_private
from memory.errors import BackupError, DataDirNewerError, EmbedderChangedError, RestoreError
from memory.graph.db.migrations import MIGRATIONS as MEMORY_MIGRATIONS
from memory.graph.nodes import EmbedderIdentity
from memory.health import read_only
from memory.journal.migrations import MIGRATIONS as JOURNAL_MIGRATIONS
from memory.settings import Paths, Settings

MANIFEST = "manifest.json"
JOURNAL = "journal.sqlite3"
MEMORY = "memory.sqlite3"
CONFIG = "config.toml"
# What each count is, read from which copied database.
COUNTS = {
    "sessions": (JOURNAL, "SELECT count(*) FROM sessions"),
    "messages": (JOURNAL, "SELECT count(*) FROM messages"),
    "memories": (MEMORY, "SELECT count(*) FROM memories"),
}
KNOWN_SCHEMA = {JOURNAL: len(JOURNAL_MIGRATIONS), MEMORY: len(MEMORY_MIGRATIONS)}


class Manifest(BaseModel):
    """What a backup folder holds, written beside the copies as manifest.json."""

    hearth_version: str
    created_at: datetime
    schema_versions: dict[str, int]
    """user_version of each database copied, by file name."""
    counts: dict[str, int]
    embedder: EmbedderIdentity | None
    """The model that made the stored vectors (None before the first memory)."""
    config: bool
    """Whether config.toml was copied."""
    checksums: dict[str, str] = {}
    """sha256 of each file copied, by name (empty in backups made before they were kept): they
    catch a damaged copy, not a deliberate change (whoever edits a file can edit this too)."""


class CountCheck(BaseModel):
    """One count after a restore, against the manifest's."""

    name: str
    expected: int
    found: int
    against: str = "backup"
    """Where the expected count comes from."""

    @property
    def ok(self) -> bool:
        return self.expected == self.found

    def line(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH"
        return f"{self.name}: {self.found} ({self.against}: {self.expected}) {verdict}"


class RestoreReport(BaseModel):
    counts: list[CountCheck]
    config: str
    """What happened to config.toml, in words."""
    moved_aside: Path | None
    warning: str | None = None
    """Said when the backup predates the last forget or reject here: it brings those back."""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.counts)


def _version() -> str:
    try:
        return importlib.metadata.version("hearth")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def _writable(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path, timeout=30.0)
    try:
        yield db
    finally:
        db.close()


def _copy_database(source: sqlite3.Connection, target: Path) -> None:
    """SQLite's online backup: one consistent snapshot, even while a chat writes the source."""
    with _writable(target) as db:
        source.backup(db)
        # The copy stands alone: no write-ahead log left beside it.
        db.execute("PRAGMA journal_mode=DELETE")
    target.chmod(0o600)


@contextlib.contextmanager
def _peek(path: Path) -> Iterator[sqlite3.Connection]:
    """Read a database under the data dir lock leaving not a byte behind: without a -wal to
    apply, opened as immutable (a read-only open of a WAL database leaves -wal and -shm
    files, and a failed restore must leave the data dir exactly as it was)."""
    if Path(f"{path}-wal").exists():
        with read_only(path) as db:
            yield db
        return
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        yield db
    finally:
        db.close()


def _count(folder: Path, file: str, sql: str) -> int:
    if not (folder / file).exists():
        return 0
    with _peek(folder / file) as db:
        return int(db.execute(sql).fetchone()[0])


def _describe(folder: Path, has_config: bool) -> Manifest:
    """The manifest of the databases now in `folder` (copies that nothing else writes)."""
    versions: dict[str, int] = {}
    for file in (JOURNAL, MEMORY):
        if (folder / file).exists():
            with read_only(folder / file) as db:
                versions[file] = int(db.execute("PRAGMA user_version").fetchone()[0])
    embedder = None
    if (folder / MEMORY).exists():
        with read_only(folder / MEMORY) as db:
            row = db.execute("SELECT name, dimension, hash FROM embedder").fetchone()
        if row is not None:
            embedder = EmbedderIdentity(name=row[0], dimension=row[1], hash=row[2])
    return Manifest(
        hearth_version=_version(),
        created_at=now(),
        schema_versions=versions,
        counts={name: _count(folder, file, sql) for name, (file, sql) in COUNTS.items()},
        embedder=embedder,
        config=has_config,
    )


def backup(paths: Paths, dest: Path) -> Manifest:
    """Copy journal.sqlite3, memory.sqlite3 and config.toml into a new private folder, with a
    manifest. Read-only on the data dir, so it works while a chat holds the lock; the Chroma
    index is not copied (a restore rebuilds it from memory.sqlite3)."""
    make_private()
    sources = [f for f in (JOURNAL, MEMORY) if (paths.data_dir / f).exists()]
    if not sources:
        raise BackupError(f"nothing to back up: {paths.data_dir} holds no journal or memories")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not an empty folder; name a new one")
    try:
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
        dest.chmod(0o700)
        for file in sources:
            with read_only(paths.data_dir / file) as source:
                _copy_database(source, dest / file)
        has_config = paths.config_file.exists()
        if has_config:
            shutil.copyfile(paths.config_file, dest / CONFIG)
            (dest / CONFIG).chmod(0o600)
        manifest = _describe(dest, has_config)
        copied = [*sources, *([CONFIG] if has_config else [])]
        manifest.checksums = {f: sha256_of(dest / f) for f in copied}
        (dest / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        (dest / MANIFEST).chmod(0o600)
        # Where it went, so a forget can find it (`forget --matching` lists or rewrites it).
        backup_ledger.record(paths.data_dir, dest, manifest.created_at)
    except OSError as exc:
        raise BackupError(f"could not write the backup to {dest}: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise BackupError(
            f"could not copy the databases into {dest}: {exc}; `hearth doctor` checks them"
        ) from exc
    return manifest


def refresh_manifest(folder: Path) -> Manifest:
    """The manifest of a backup made again after its files were changed (a forget rewrote
    them): counts, schemas and checksums from the files as they are now; its date kept."""
    old = read_manifest(folder)
    new = _describe(folder, old.config)
    new.created_at, new.hearth_version = old.created_at, old.hearth_version
    copied = [f for f in (JOURNAL, MEMORY, CONFIG) if (folder / f).exists()]
    new.checksums = {f: sha256_of(folder / f) for f in copied}
    partial = folder / f"{MANIFEST}.partial"
    partial.write_text(new.model_dump_json(indent=2) + "\n", encoding="utf-8")
    partial.chmod(0o600)
    os.replace(partial, folder / MANIFEST)
    return new


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise RestoreError(
            f"{source} is not a Hearth backup (no {MANIFEST}); name a folder `hearth backup` made"
        ) from None
    except OSError as exc:
        raise RestoreError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    except ValidationError as exc:
        # One line, not pydantic's report: what is wrong first, then where.
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise RestoreError(
            f"{path} is not a backup manifest ({where}: {first['msg']}); the backup is damaged, "
            "use another one"
        ) from None


def _held(paths: Paths) -> dict[str, int]:
    """What the data dir holds now (a file that cannot be read counts as holding something)."""
    held: dict[str, int] = {}
    for name, (file, sql) in COUNTS.items():
        try:
            found = _count(paths.data_dir, file, sql)
        except sqlite3.Error:
            found = 1
        if found:
            held[name] = found
    return held


DATABASE_FILES = [
    f"{db}{suffix}" for db in (JOURNAL, MEMORY) for suffix in ("", "-wal", "-shm", "-journal")
]


def _stamp() -> str:
    return now().strftime("%Y%m%dT%H%M%S%f")


def _stage(manifest: Manifest, source: Path, staged: Path) -> dict[str, int]:
    """Copy the backup's databases into `staged` and check them there: each file's sha256
    (where the manifest has them), SQLite's integrity check, then the counts. The counts found;
    RestoreError naming the first problem."""
    for file in manifest.schema_versions:
        with (source / file).open("rb") as src, (staged / file).open("xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        (staged / file).chmod(0o600)
        expected = manifest.checksums.get(file)
        if expected is not None and sha256_of(staged / file) != expected:
            raise RestoreError(
                f"the backup's {file} differs from its checksum in {MANIFEST}: the copy is "
                "damaged; use another backup"
            )
        if not integrity_ok(staged / file):
            raise RestoreError(
                f"the backup's {file} is damaged (SQLite's integrity check fails); use another "
                "backup"
            )
    try:
        found = {name: _count(staged, file, sql) for name, (file, sql) in COUNTS.items()}
    except sqlite3.Error as exc:
        raise RestoreError(
            f"the backup's databases cannot be read ({exc}); use another backup"
        ) from exc
    wrong = [
        f"{name} {found[name]} (manifest: {manifest.counts.get(name, 0)})"
        for name in COUNTS
        if found[name] != manifest.counts.get(name, 0)
    ]
    if wrong:
        raise RestoreError(
            f"the backup holds {', '.join(wrong)}: it differs from its {MANIFEST} and may be "
            "damaged; use another backup"
        )
    return found


def _last_forget(paths: Paths) -> datetime | None:
    """When a memory was last forgotten or rejected here (None: never, or unreadable)."""
    if not paths.memory_db.exists():
        return None
    try:
        with _peek(paths.memory_db) as db:
            row = db.execute(
                "SELECT max(at) FROM history WHERE action IN ('forget', 'reject')"
            ).fetchone()
    except sqlite3.Error:
        return None
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def _failed(paths: Paths, exc: BaseException) -> RestoreError:
    if isinstance(exc, RestoreError):
        return exc
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        why = "the disk is full; free some space"
    else:
        why = str(getattr(exc, "strerror", None) or exc)
    return RestoreError(f"the restore could not be made ({why}); {paths.data_dir} is unchanged")


def restore(paths: Paths, settings: Settings, source: Path, *, force: bool) -> RestoreReport:
    """Bring a backup into this data dir, all or nothing: staged in a folder inside the data
    dir and checked there (checksums, integrity, counts), then swapped in (the current files
    moved aside to `replaced-<time>/`, a marker rolling a crash back at the next start). Any
    failure leaves the data dir as it was (RestoreError). Then the index is rebuilt.

    Refused while another Hearth holds the lock (DataDirLockedError), and when the data dir
    already holds a conversation or memories unless `force`."""
    from memory.graph.embedder import configured_identity
    from memory.graph.store import MemoryStore

    faults.arm(settings.testing.fault_point)
    manifest = read_manifest(source)
    for file, version in manifest.schema_versions.items():
        if file not in KNOWN_SCHEMA or not (source / file).exists():
            raise RestoreError(f"{source} is incomplete: {file} is missing or unknown")
        if version > KNOWN_SCHEMA[file]:
            raise DataDirNewerError(
                f"the backup's {file} was written by a newer Hearth (schema {version}, this one "
                f"knows {KNOWN_SCHEMA[file]}); upgrade Hearth first"
            )
    current = configured_identity(settings.memory.embedder)
    if manifest.embedder is not None and not manifest.embedder.same_vectors(current):
        raise EmbedderChangedError(
            f"the backup's vectors were made by {manifest.embedder.name} "
            f"({manifest.embedder.hash[:12]}) but the embedding model here is {current.name} "
            f"({current.hash[:12]}); install the same Hearth version, or restore and then run "
            "`hearth memory rebuild --reembed`"
        )
    ensure_data_dir(paths.data_dir)
    with DataDirLock(paths.lock_file) as lock:
        restore_swap.roll_back(paths.data_dir)
        held = _held(paths)
        if held and not force:
            what = ", ".join(f"{n} {name}" for name, n in held.items())
            raise BackupError(
                f"{paths.data_dir} already holds {what}; `hearth restore {source} --force` "
                "moves them aside first (into a replaced-… folder in the data dir)"
            )
        forgotten = _last_forget(paths)
        stamp = _stamp()
        staged = paths.data_dir / f"restoring-{stamp}"
        try:
            staged.mkdir(mode=0o700)
            found = _stage(manifest, source, staged)
            # Even an empty journal goes: a stale -wal beside a copied database would corrupt it.
            names = [*DATABASE_FILES, "chroma"]
            moved = [n for n in names if (paths.data_dir / n).exists()]
            aside = paths.data_dir / f"replaced-{stamp}"
            restore_swap.swap(paths.data_dir, staged, aside, moved, list(manifest.schema_versions))
        except BaseException as exc:
            shutil.rmtree(staged, ignore_errors=True)
            if isinstance(exc, (OSError, sqlite3.Error, RestoreError)):
                raise _failed(paths, exc) from exc
            raise
        moved_aside = aside if moved else None
        if not moved:
            aside.rmdir()
        config = "none in the backup"
        if manifest.config and (source / CONFIG).exists():
            if paths.config_file.exists():
                kept = paths.config_file
                config = f"kept this machine's {kept} (the backup's: {source / CONFIG})"
            else:
                paths.config_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                shutil.copyfile(source / CONFIG, paths.config_file)
                paths.config_file.chmod(0o600)
                config = f"restored to {paths.config_file}"
        counts = [
            CountCheck(name=name, expected=manifest.counts.get(name, 0), found=found[name])
            for name in COUNTS
        ]
        if (paths.data_dir / MEMORY).exists():
            with MemoryStore.open(
                paths, settings, write=True, lock=lock, verify_embedder=False
            ) as store:
                indexed = store.rebuild()["indexed"]
            counts.append(
                CountCheck(
                    name="indexed", expected=found["memories"], found=indexed, against="memories"
                )
            )
    warning = None
    if forgotten is not None and forgotten > manifest.created_at:
        warning = (
            f"this backup was made {manifest.created_at:%Y-%m-%d %H:%M}, before the last forget "
            f"or reject here ({forgotten:%Y-%m-%d %H:%M}): what was forgotten since is back; "
            "forget it again (`hearth memory forget`)"
        )
    return RestoreReport(counts=counts, config=config, moved_aside=moved_aside, warning=warning)
