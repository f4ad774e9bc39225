"""Read-only health checks of a data dir for `hearth doctor`: each one a `Check` with its fix."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from memory.damage import FULL_DISK_BYTES
from memory.damage import connect_ro as recovery_connect_ro
from memory.graph.db.rows import stack
from memory.settings import MemorySettings, Paths

MIN_FREE_BYTES = 200 * 1024 * 1024
"""Below this much free space a turn, a memory write or a backup may fail half-way."""
VECTOR_SAMPLE = 32
"""How many indexed vectors are compared with the stored ones (enough to catch a stale index)."""
FIX_INDEX = "`hearth doctor --fix` rebuilds the index from memory.sqlite3"
FIX_MODES = "`hearth doctor --fix` tightens them (or chmod 700 folders, 600 files)"
_SHOWN = 5  # offending paths named in one line


class Check(BaseModel):
    """One finding: what was checked, whether it is healthy, what was seen and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def connect_ro(path: Path) -> sqlite3.Connection:
    """A read-only connection: a check never changes a byte, and works beside a running chat.
    On a full disk, without a write-ahead log to apply, the file is read as it stands: SQLite
    would otherwise try to make its -shm file there, fail, and call an intact file unreadable."""
    return recovery_connect_ro(path, timeout=10.0)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    db = connect_ro(path)
    try:
        yield db
    finally:
        db.close()


def _inspect(
    path: Path, counts: dict[str, str], *, immutable: bool = False
) -> tuple[list[str], int, dict[str, int]]:
    """(quick_check's problems, user_version, the counts), read without writing a byte."""
    if immutable:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    else:
        db = connect_ro(path)
    try:
        problems = [str(r[0]) for r in db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            return problems, 0, {}
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        found = {key: int(db.execute(sql).fetchone()[0]) for key, sql in counts.items()}
    finally:
        db.close()
    return problems, version, found


def _has_wal(path: Path) -> bool:
    wal = Path(f"{path}-wal")
    return wal.exists() and wal.stat().st_size > 0


def _unreadable(name: str, path: Path, exc: sqlite3.DatabaseError, fix_corrupt: str) -> Check:
    """A file SQLite would not open: damage only when its error says so (a full disk or a
    permission is not damage, and recovering an intact file would be the wrong fix)."""
    from memory.damage import is_corruption

    if is_corruption(exc):
        return Check(
            name=name, ok=False, detail=f"{path.name} cannot be read: {exc}", fix=fix_corrupt
        )
    free = shutil.disk_usage(path.parent).free
    if free < FULL_DISK_BYTES:
        return Check(
            name=name,
            ok=False,
            detail=f"{path.name} could not be checked: the disk is full ({free:,} bytes free); "
            "nothing says it is damaged",
            fix="free some space, then run `hearth doctor` again",
        )
    return Check(
        name=name,
        ok=False,
        detail=f"{path.name} could not be opened ({exc}); nothing says it is damaged",
        fix="check that the file and its folder are yours and readable (ls -l)",
    )


def database(
    name: str, path: Path, *, known_schema: int, counts: dict[str, str], fix_corrupt: str
) -> Check:
    """A SQLite file's integrity (`PRAGMA quick_check`), schema version and row counts."""
    if not path.exists():
        return Check(name=name, ok=True, detail=f"{path.name}: none yet")
    if path.stat().st_size == 0:
        # SQLite would take an empty file for a new database, and lose what cites its rows.
        return Check(name=name, ok=False, detail=f"{path.name} is empty (0 bytes)", fix=fix_corrupt)
    note = ""
    try:
        problems, version, found = _inspect(path, counts)
    except sqlite3.DatabaseError as exc:
        from memory.damage import is_corruption

        # Reading a database SQLite must make a -shm file for fails on a full disk; without a
        # write-ahead log to apply, the file alone says everything and needs nothing written.
        if is_corruption(exc) or _has_wal(path):
            return _unreadable(name, path, exc, fix_corrupt)
        try:
            problems, version, found = _inspect(path, counts, immutable=True)
        except sqlite3.DatabaseError as again:
            return _unreadable(name, path, again, fix_corrupt)
        note = " (read in place: nothing could be written beside it)"
    if problems != ["ok"]:
        return Check(
            name=name,
            ok=False,
            detail=f"{path.name} is damaged: {'; '.join(problems)}",
            fix=fix_corrupt,
        )
    if version > known_schema:
        return Check(
            name=name,
            ok=False,
            detail=f"{path.name} has schema {version}, newer than this Hearth's {known_schema}",
            fix="upgrade Hearth",
        )
    shown = ", ".join(f"{n} {key}" for key, n in found.items())
    return Check(name=name, ok=True, detail=f"{path.name}: intact, schema {version}, {shown}{note}")


def _stored(paths: Paths, sample: int) -> tuple[set[str], int, dict[str, np.ndarray]]:
    """memory.sqlite3's ids, its pending index queue, and a random sample of its vectors."""
    with read_only(paths.memory_db) as db:
        ids = {r[0] for r in db.execute("SELECT id FROM memories")}
        pending = int(db.execute("SELECT count(*) FROM index_pending").fetchone()[0])
        chosen = random.sample(sorted(ids), min(sample, len(ids)))
        rows = db.execute(
            f"SELECT id, vector FROM vectors WHERE id IN ({','.join('?' * len(chosen))})", chosen
        ).fetchall()
    vectors = stack([r[1] for r in rows])
    return ids, pending, {r[0]: vectors[i] for i, r in enumerate(rows)}


def index(paths: Paths, settings: MemorySettings) -> Check:
    """The Chroma index against memory.sqlite3: the same ids, and sampled vectors equal."""
    from memory.errors import VectorServerError
    from memory.graph import chroma_server
    from memory.graph.vector_index import VectorIndex

    if not paths.memory_db.exists():
        return Check(name="index", ok=True, detail="no memories yet")
    free = shutil.disk_usage(paths.data_dir).free
    if free < FULL_DISK_BYTES and not chroma_server.is_remote(settings):
        # Chroma writes to its files as it opens them: on a full disk that fails, and the
        # index would be called damaged. The disk check says what to do.
        return Check(
            name="index",
            ok=True,
            detail=f"not checked: the disk is full ({free:,} bytes free), and Chroma writes as "
            "it opens",
        )
    try:
        ids, pending, sample = _stored(paths, VECTOR_SAMPLE)
    except sqlite3.DatabaseError as exc:
        return Check(
            name="index",
            ok=False,
            detail=f"memory.sqlite3 cannot be read ({exc}), so the index cannot be checked",
            fix="fix the memory database first",
        )
    server = chroma_server.place(paths, settings, create=False)
    exists = server is not None if chroma_server.is_remote(settings) else paths.chroma_dir.exists()
    if not exists:
        ok = not ids
        detail = "no index yet" if ok else f"the index is missing ({len(ids)} memories)"
        return Check(name="index", ok=ok, detail=detail, fix="" if ok else FIX_INDEX)
    try:
        vector_index = VectorIndex(
            paths.chroma_dir,
            ef_search=settings.ef_search,
            ef_construction=settings.ef_construction,
            write=False,
            server=server,
        )
        try:
            indexed = vector_index.ids() if vector_index.count() else set()
            found = vector_index.vectors(sorted(set(sample) & indexed))
        finally:
            vector_index.close()
    except VectorServerError as exc:
        return Check(
            name="index",
            ok=False,
            detail=str(exc).split(": start it", 1)[0],
            fix='start the Chroma server, or set memory.chroma = "embedded"',
        )
    except Exception as exc:  # a damaged Chroma fails in many ways, all of them "rebuild it"
        return Check(
            name="index", ok=False, detail=f"the index cannot be read ({exc})", fix=FIX_INDEX
        )
    missing, extra = len(ids - indexed), len(indexed - ids)
    differ = sum(
        1
        for memory_id, vector in found.items()
        if not np.allclose(vector, sample[memory_id], atol=1e-4)
    )
    problems = [
        f"{missing} memories missing from it" if missing else "",
        f"{extra} ids it should not hold" if extra else "",
        f"{differ} of {len(found)} sampled vectors differ" if differ else "",
        f"{pending} changes not yet applied" if pending else "",
    ]
    problems = [p for p in problems if p]
    if problems:
        return Check(name="index", ok=False, detail="index: " + ", ".join(problems), fix=FIX_INDEX)
    return Check(
        name="index",
        ok=True,
        detail=f"{len(indexed)} ids match memory.sqlite3, {len(found)} sampled vectors equal",
    )


def embedder(paths: Paths, setting: str) -> Check:
    """The embedding model that made the stored vectors against the one `memory.embedder`
    names now."""
    from memory.errors import HearthError
    from memory.graph.embedder import configured_identity
    from memory.graph.nodes import EmbedderIdentity

    try:
        current = configured_identity(setting)
    except (HearthError, OSError, ValueError) as exc:
        return Check(
            name="embedder", ok=False, detail=f"no embedding model: {exc}", fix="reinstall Hearth"
        )
    recorded = None
    if paths.memory_db.exists():
        try:
            with read_only(paths.memory_db) as db:
                row = db.execute("SELECT name, dimension, hash FROM embedder").fetchone()
        except sqlite3.DatabaseError:
            row = None  # the database check reports it
        recorded = (
            EmbedderIdentity(name=str(row[0]), dimension=int(row[1]), hash=str(row[2]))
            if row
            else None
        )
    mine = current.label()
    if recorded is None:
        return Check(name="embedder", ok=True, detail=f"{mine}; no vectors recorded yet")
    if not recorded.same_vectors(current):
        return Check(
            name="embedder",
            ok=False,
            detail=f"the vectors were made by {recorded.label()}, "
            f"the embedding model is now {mine}",
            fix="`hearth memory rebuild --reembed`",
        )
    return Check(name="embedder", ok=True, detail=f"{mine}, the one the vectors were made with")


def too_open(data_dir: Path) -> list[Path]:
    """Folders not 0700 and files not 0600 in the data dir (models/ holds public downloads)."""
    found: list[Path] = []
    if not data_dir.exists():
        return found
    for path in [data_dir, *sorted(data_dir.rglob("*"))]:
        if path.name == "models" and path.parent == data_dir:
            continue
        if data_dir / "models" in path.parents:
            continue
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        if stat.S_IMODE(mode) & 0o077:
            found.append(path)
    return found


def tighten(paths: list[Path]) -> int:
    """Make each folder 0700 and each file 0600; how many were changed."""
    for path in paths:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return len(paths)


def permissions(data_dir: Path) -> Check:
    offenders = too_open(data_dir)
    if not offenders:
        return Check(name="permissions", ok=True, detail="folders 0700, files 0600")
    named = ", ".join(
        f"{p.relative_to(data_dir) if p != data_dir else p} ({stat.S_IMODE(p.lstat().st_mode):04o})"
        for p in offenders[:_SHOWN]
    )
    more = f" and {len(offenders) - _SHOWN} more" if len(offenders) > _SHOWN else ""
    return Check(
        name="permissions",
        ok=False,
        detail=f"{len(offenders)} readable by others: {named}{more}",
        fix=FIX_MODES,
    )


def _flock_holder(lock_file: Path) -> int | None:
    """The pid holding an exclusive flock on this file, read from Linux's /proc/locks, or None
    when no one does. Raises OSError where there is no /proc/locks."""
    st = lock_file.stat()
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF" (a waiter's line has "->")
        if fields[1:4] == ["FLOCK", "ADVISORY", "WRITE"] and fields[5:6] == [where]:
            return int(fields[4])
    return None


def lock_holder(lock_file: Path) -> int | str | None:
    """The pid of the Hearth that holds the data dir lock, or None when it is free.

    Read from /proc/locks where there is one, so a chat starting this very moment is never
    refused because doctor was looking; elsewhere probed with a shared, non-blocking flock
    released at once. The lock file is never created or written."""
    if not lock_file.exists():
        return None
    with contextlib.suppress(OSError):
        return _flock_holder(lock_file)
    try:
        fh = lock_file.open("r")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = fh.read().strip()
            return int(holder) if holder.isdigit() else "unknown"
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


def lock(lock_file: Path) -> Check:
    holder = lock_holder(lock_file)
    detail = "free" if holder is None else f"held by a running Hearth (pid {holder})"
    return Check(name="lock", ok=True, detail=detail)


def disk(data_dir: Path, minimum: int = MIN_FREE_BYTES) -> Check:
    where = data_dir if data_dir.exists() else next(p for p in data_dir.parents if p.exists())
    free = shutil.disk_usage(where).free
    shown = f"{free / 1024**2:,.0f} MB free"
    if free < minimum:
        return Check(
            name="disk",
            ok=False,
            detail=f"only {shown} under {where} (fewer than {minimum // 1024**2} MB)",
            fix="free some space: a full disk stops saving turns and memories",
        )
    return Check(name="disk", ok=True, detail=shown)


def stale_files(paths: Paths) -> list[Path]:
    """What a killed `hearth serve` or chat left: serve.json naming a process that is gone,
    and hearth.sock while no Hearth holds the data dir (the holder is the one who answers it)."""
    from memory.coordination.lending import socket_path
    from memory.coordination.serve_files import running

    found = []
    if paths.serve_address.exists() and running(paths) is None:
        found.append(paths.serve_address)
    sock = socket_path(paths.data_dir)
    if sock.exists() and lock_holder(paths.lock_file) is None:
        found.append(sock)
    return found


def leftovers(paths: Paths) -> Check:
    stale = stale_files(paths)
    if not stale:
        return Check(name="leftovers", ok=True, detail="no files of a stopped server or chat")
    named = ", ".join(p.name for p in stale)
    return Check(
        name="leftovers",
        ok=False,
        detail=f"{named} left by a Hearth that was killed (no process serves them now)",
        fix="`hearth doctor --fix` removes them (or delete them yourself)",
    )
