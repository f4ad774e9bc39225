"""Damaged SQLite files: told apart from other errors, kept as a copy, their readable rows saved."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import BaseModel

from memory import sqlite_header
from memory.clock import now
from memory.errors import DataDirCorruptError, DataDirMismatchError

# The command that recovers each kind of file (`Database.what`), for the one-line error.
RECOVER_COMMANDS = {"journal": "hearth logs recover", "memory database": "hearth memory recover"}
# `PRAGMA quick_check` reads every page: measured at about 3 ms a MB (13 ms for a 2 MB journal,
# 140 ms for 45 MB). Files up to this size are checked at every open; larger ones are caught at
# the first damaged page a command reads.
QUICK_CHECK_MAX_BYTES = 16 << 20
# Past a damaged page, the salvage looks for the next readable rowid this far ahead at most.
MAX_SKIP = 1 << 40


def is_corruption(exc: BaseException) -> bool:
    """Whether a SQLite error means the file's bytes are damaged (not busy, full or locked)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return True
    text = str(exc)
    return "malformed" in text or "not a database" in text


def corrupt_error(path: Path, what: str, detail: object) -> DataDirCorruptError:
    command = RECOVER_COMMANDS.get(what)
    run = f"`{command}`" if command else "`hearth logs recover` or `hearth memory recover`"
    return DataDirCorruptError(
        f"the {what} {path} is damaged ({detail}); run {run}: it keeps a copy of the damaged "
        "file and saves every readable row into a fresh one"
    )


def quick_check(conn: sqlite3.Connection, path: Path, what: str) -> None:
    """Refuse a damaged file at open (DataDirCorruptError), when it is small enough to check."""
    with contextlib.suppress(OSError):
        if path.stat().st_size > QUICK_CHECK_MAX_BYTES:
            return
    try:
        problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check(1)").fetchall()]
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise corrupt_error(path, what, exc) from exc
        raise
    if problems and problems != ["ok"]:
        first = problems[0].replace("*** in database main ***", "")
        raise corrupt_error(path, what, " ".join(first.split()))


# Below this much free space SQLite cannot make the -shm file a read of a WAL database needs
# (it leaves a partial one, up to 32 KB: the last bytes the disk had).
FULL_DISK_BYTES = 1 << 20


def _has_wal(path: Path) -> bool:
    wal = Path(f"{path}-wal")
    return wal.exists() and wal.stat().st_size > 0


def connect_ro(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection that writes nothing beside the file: on a nearly full disk,
    without a write-ahead log to apply, the file is read as it stands (`immutable`)."""
    try:
        full = shutil.disk_usage(path.parent).free < FULL_DISK_BYTES
    except OSError:
        full = False
    immutable = full and not _has_wal(path)
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=timeout)


def integrity_ok(path: Path) -> bool:
    """`PRAGMA integrity_check` on a file, opened read-only."""
    try:
        db = connect_ro(path)
        try:
            return [r[0] for r in db.execute("PRAGMA integrity_check(1)")] == ["ok"]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return False


class RecoveryReport(BaseModel):
    """What `hearth logs recover` / `hearth memory recover` did."""

    path: str
    kept: str
    """The damaged file, copied byte for byte before anything else was done."""
    method: str
    """`sqlite3 .recover` (the sqlite3 program) or `salvage` (row by row, in Python), after
    `header repaired, ` when SQLite's file header had to be written back first."""
    rows: dict[str, int]
    """Rows recovered, by table."""
    intact: bool
    """The file passed the integrity check: nothing was changed."""


def _stamp() -> str:
    return now().strftime("%Y%m%dT%H%M%S")


def _private_copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    target.chmod(0o600)


def _with_wal(path: Path) -> list[tuple[Path, str]]:
    """The file and its write-ahead log (which holds the latest commits), where there is one."""
    found = [(Path(f"{path}{suffix}"), suffix) for suffix in ("", "-wal")]
    return [(p, suffix) for p, suffix in found if p.exists() and (not suffix or p.stat().st_size)]


def keep_copy(path: Path, kept: Path) -> None:
    for part, suffix in _with_wal(path):
        _private_copy(part, Path(f"{kept}{suffix}"))


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def recover(
    path: Path,
    what: str,
    make_fresh: Callable[[Path], None],
    *,
    program: str | None = None,
    force: bool = False,
) -> RecoveryReport:
    """Keep a copy of a damaged database, then bring every row that can be read into a fresh
    file with the current schema (`make_fresh` creates one) that takes its place.

    `program`: the sqlite3 program to run `.recover` with (None: salvage in Python). A file
    that passes the integrity check is left alone unless `force`."""
    if not path.exists():
        raise corrupt_error(path, what, "the file is missing")
    if not force and integrity_ok(path):
        return RecoveryReport(path=str(path), kept="", method="", rows={}, intact=True)
    stamp = _stamp()
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    keep_copy(path, kept)
    work = path.with_name(f"{path.name}.recovering-{stamp}")
    fresh = path.with_name(f"{path.name}.recovered-{stamp}")
    # A working copy: reading a WAL database may checkpoint it, and the kept copy stays as found.
    keep_copy(kept, work)
    try:
        # A damaged header hides every page behind it: written back first, the rows are read.
        header = sqlite_header.repair(work)
        method = "header repaired, salvage" if header else "salvage"
        source = work
        if program is not None:
            recovered = path.with_name(f"{path.name}.sql-recover-{stamp}")
            if _run_recover(program, work, recovered):
                method = "header repaired, sqlite3 .recover" if header else "sqlite3 .recover"
                source = recovered
        make_fresh(fresh)
        rows = copy_rows(source, fresh)
        _remove(path)
        os.replace(fresh, path)
        path.chmod(0o600)
    finally:
        for leftover in (work, fresh, path.with_name(f"{path.name}.sql-recover-{stamp}")):
            _remove(leftover)
    return RecoveryReport(path=str(path), kept=str(kept), method=method, rows=rows, intact=False)


def _run_recover(program: str, damaged: Path, target: Path) -> bool:
    """The sqlite3 program's `.recover` into a new file; False when it could not run."""
    try:
        dump = subprocess.run(
            [program, str(damaged), ".recover"], capture_output=True, check=True, timeout=3600
        ).stdout
        subprocess.run(
            [program, str(target)], input=dump, capture_output=True, check=True, timeout=3600
        )
    except (OSError, subprocess.SubprocessError):
        _remove(target)
        return False
    target.chmod(0o600)
    return True


def _tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        " AND sql NOT LIKE 'CREATE VIRTUAL%'"
    ).fetchall()
    names = [str(r[0]) for r in rows]
    # The shadow tables of a full-text index are rebuilt from their table, never copied.
    virtual = [
        str(r[0])
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'"
        ).fetchall()
    ]
    return [n for n in names if not any(n.startswith(f"{v}_") for v in virtual)]


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    try:
        return [str(r[1]) for r in db.execute(f'PRAGMA table_info("{table}")').fetchall()]
    except sqlite3.DatabaseError:
        return []


def copy_rows(source: Path, fresh: Path) -> dict[str, int]:
    """Every readable row of each of the fresh file's tables, from source (same names, the
    columns both have); rows already there are kept. Rows recovered, by table."""
    dst = sqlite3.connect(fresh, isolation_level=None)
    src = sqlite3.connect(source, isolation_level=None)
    counts: dict[str, int] = {}
    try:
        dst.execute("BEGIN")
        for table in _tables(dst):
            wanted = _columns(dst, table)
            found = _columns(src, table) or wanted
            columns = [c for c in wanted if c in found]
            if not columns:
                continue
            quoted = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" * len(columns))
            insert = f'INSERT OR IGNORE INTO "{table}"({quoted}) VALUES ({marks})'
            counts[table] = 0
            for row in salvage_rows(src, table, quoted):
                counts[table] += dst.execute(insert, row[1:]).rowcount
        _keep_sequences(src, dst)
        dst.execute("COMMIT")
    finally:
        src.close()
        dst.close()
    return counts


def _keep_sequences(src: sqlite3.Connection, dst: sqlite3.Connection) -> None:
    """Ids handed out before stay handed out: a lost row's id is never given to a new one (the
    memory database may cite it)."""
    try:
        seqs = src.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
    except sqlite3.DatabaseError:
        return
    for name, seq in seqs:
        with contextlib.suppress(sqlite3.DatabaseError):
            dst.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, name))


def salvage_rows(db: sqlite3.Connection, table: str, columns: str) -> Iterator[tuple[object, ...]]:
    """(key, *columns) of every row that can be read, skipping damaged pages."""
    keys = _without_rowid_keys(db, table)
    if keys:
        yield from _from_both_ends(db, table, columns, keys)
    else:
        yield from _by_rowid(db, table, columns)


def _without_rowid_keys(db: sqlite3.Connection, table: str) -> list[str]:
    """A WITHOUT ROWID table's primary key columns (none for an ordinary table)."""
    try:
        row = db.execute("SELECT sql FROM sqlite_master WHERE name=?", (table,)).fetchone()
        if row is None or "WITHOUT ROWID" not in str(row[0]).upper():
            return []
        info = db.execute(f'PRAGMA table_info("{table}")').fetchall()
    except sqlite3.DatabaseError:
        return []
    return [str(r[1]) for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]


def _from_both_ends(
    db: sqlite3.Connection, table: str, columns: str, keys: list[str]
) -> Iterator[tuple[object, ...]]:
    """A table keyed by its columns: read in key order up to the damage, then backwards from
    the other end up to it (one damaged region loses only its own rows)."""
    for direction in ("ASC", "DESC"):
        order = ", ".join(f'"{k}" {direction}' for k in keys)
        sql = f'SELECT 0, {columns} FROM "{table}" ORDER BY {order}'
        try:
            for row in db.execute(sql):
                yield tuple(row)
            return  # read to the end: nothing is damaged
        except sqlite3.DatabaseError:
            continue


def _by_rowid(db: sqlite3.Connection, table: str, columns: str) -> Iterator[tuple[object, ...]]:
    """A scan stops at a damaged page; the next readable rowid is found by looking ever further
    ahead, and the rows between are then read one by one."""
    scan = f'SELECT rowid, {columns} FROM "{table}" WHERE rowid >= ? ORDER BY rowid'
    one = f'SELECT rowid, {columns} FROM "{table}" WHERE rowid = ?'
    start = 1
    while True:
        last = start - 1
        try:
            for row in db.execute(scan, (start,)):
                last = int(row[0])
                yield tuple(row)
            return
        except sqlite3.DatabaseError:
            pass
        resume = _next_readable(db, table, last + 1)
        if resume is None:
            return
        for rowid in range(last + 1, resume):
            with contextlib.suppress(sqlite3.DatabaseError):
                found = db.execute(one, (rowid,)).fetchone()
                if found is not None:
                    yield tuple(found)
        start = resume


def _next_readable(db: sqlite3.Connection, table: str, after: int) -> int | None:
    """The first rowid from which a scan reads again, looking `after + 1, +2, +4...` ahead."""
    probe = f'SELECT rowid FROM "{table}" WHERE rowid >= ? ORDER BY rowid LIMIT 1'
    step = 1
    while step <= MAX_SKIP:
        try:
            row = db.execute(probe, (after + step,)).fetchone()
        except sqlite3.DatabaseError:
            step *= 2
            continue
        return None if row is None else after + step
    return None


def _journal_messages(journal: Path) -> tuple[int, int] | None:
    """(messages in the journal, the last message id it handed out): (0, 0) when it is missing
    or empty, None when it cannot be read (its own open then says why)."""
    if not journal.exists() or journal.stat().st_size == 0:
        return 0, 0
    try:
        db = connect_ro(journal)
        try:
            count = int(db.execute("SELECT count(*) FROM messages").fetchone()[0])
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name='messages'").fetchone()
            return count, int(row[0]) if row else 0
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return None


def _cited(memory_db: Path) -> tuple[int, int, int]:
    """(memories citing a message, distinct messages cited, the highest id cited) in
    memory.sqlite3."""
    if not memory_db.exists() or memory_db.stat().st_size == 0:
        return 0, 0, 0
    try:
        db = connect_ro(memory_db)
        try:
            row = db.execute(
                "SELECT count(DISTINCT memories.id), count(DISTINCT cited.value),"
                " max(CAST(cited.value AS INTEGER))"
                " FROM memories, json_each(memories.provenance_json) AS cited"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return 0, 0, 0
    return int(row[0]), int(row[1]), int(row[2] or 0)


def mismatch(journal: Path, memory_db: Path) -> str | None:
    """Why writing to this journal is unsafe, or None: it is empty or missing while memories
    cite its messages, and its id counter is below the ids they cite (new messages would take
    the old ids, and the memories would point at words never said)."""
    found = _journal_messages(journal)
    if found is None or found[0] != 0:
        return None
    memories, messages, top = _cited(memory_db)
    if not messages or found[1] >= top:
        return None
    state = "missing" if not journal.exists() else "empty"
    return (
        f"the journal {journal} is {state} but {memories} memories in {memory_db.name} cite "
        f"{messages} of its messages"
    )


FIX_MISMATCH = (
    "`hearth doctor --fix` recreates the messages the memories quote (the rest cannot come "
    "back), or restore journal.sqlite3 from a backup, or move {memory} and chroma/ aside to "
    "start fresh"
)


def refuse_mismatch(journal: Path, memory_db: Path) -> None:
    """Refuse to write to an empty or missing journal while memories cite its messages."""
    problem = mismatch(journal, memory_db)
    if problem is not None:
        raise DataDirMismatchError(f"{problem}; {FIX_MISMATCH.format(memory=memory_db.name)}")
