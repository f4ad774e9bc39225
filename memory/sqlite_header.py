"""SQLite's 100-byte file header: told when it is damaged, and written back from what the
rest of the file shows (https://www.sqlite.org/fileformat.html#the_database_header)."""

from __future__ import annotations

import contextlib
import sqlite3
import struct
from pathlib import Path

MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
"""Every size SQLite allows, the default first."""


def _page_size(header: bytes) -> int | None:
    raw = struct.unpack(">H", header[16:18])[0]
    size = 65536 if raw == 1 else raw
    return size if size in PAGE_SIZES else None


def damaged(path: Path) -> bool:
    """Whether the fixed parts of the header are wrong (SQLite would not open the file)."""
    try:
        with path.open("rb") as fh:
            header = fh.read(HEADER_BYTES)
    except OSError:
        return False
    if len(header) < HEADER_BYTES:
        return False  # too short to be a database at all: nothing to repair
    return (
        header[:16] != MAGIC
        or _page_size(header) is None
        or header[18] not in (1, 2)
        or header[19] not in (1, 2)
        or header[21:24] != b"\x40\x20\x20"
        or struct.unpack(">I", header[44:48])[0] not in (1, 2, 3, 4)
        or struct.unpack(">I", header[56:60])[0] not in (1, 2, 3)
    )


def _rebuilt(header: bytes, page_size: int, wal: bool, file_size: int) -> bytes:
    """The header with its fixed fields written back; the counters kept where they fit."""
    fields = bytearray(header)
    fields[:16] = MAGIC
    fields[16:18] = struct.pack(">H", 1 if page_size == 65536 else page_size)
    # A database in WAL mode says so here; written as 1 its -wal (the latest commits) is ignored.
    fields[18] = fields[19] = 2 if wal else 1
    fields[20] = 0  # reserved bytes per page: nothing Hearth's SQLite uses
    fields[21:24] = b"\x40\x20\x20"
    if struct.unpack(">I", fields[44:48])[0] not in (1, 2, 3, 4):
        fields[44:48] = struct.pack(">I", 4)
    if struct.unpack(">I", fields[56:60])[0] not in (1, 2, 3):
        fields[56:60] = struct.pack(">I", 1)
    # The page count at 28 is trusted only when the change counter (24) equals the
    # version-valid-for number (92); else SQLite counts pages from the file's size.
    pages = struct.unpack(">I", fields[28:32])[0]
    valid_for = struct.unpack(">I", fields[92:96])[0]
    counter = valid_for if pages * page_size == file_size else (valid_for + 1) % 2**32
    fields[24:28] = struct.pack(">I", counter)
    return bytes(fields)


def _readable(path: Path) -> tuple[bool, int]:
    """(passes the integrity check, how many schema rows and table rows can be read)."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.DatabaseError:
        return False, -1
    try:
        try:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        except sqlite3.DatabaseError:
            return False, -1
        rows = len(names)
        for name in names:
            with contextlib.suppress(sqlite3.DatabaseError):
                rows += int(db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        try:
            ok = [r[0] for r in db.execute("PRAGMA integrity_check(1)")] == ["ok"]
        except sqlite3.DatabaseError:
            ok = False
        return ok, rows
    finally:
        db.close()


def repair(path: Path) -> bool:
    """Write a sound header onto a file whose header is damaged, trying each page size the
    file's length allows and keeping the one that reads best. True when it was changed.

    Run on a working copy only: the damaged file itself is kept as it was found."""
    if not damaged(path):
        return False
    size = path.stat().st_size
    with path.open("rb") as fh:
        original = fh.read(HEADER_BYTES)
    recorded = _page_size(original)
    wal = Path(f"{path}-wal").exists() and Path(f"{path}-wal").stat().st_size > 0
    sizes = [recorded] if recorded else []
    sizes += [s for s in PAGE_SIZES if s != recorded and size % s == 0]
    best: tuple[bool, int, bytes] | None = None
    for page_size in sizes:
        header = _rebuilt(original, page_size, wal, size)
        with path.open("r+b") as fh:
            fh.write(header)
        ok, rows = _readable(path)
        if best is None or (ok, rows) > best[:2]:
            best = (ok, rows, header)
        if ok:
            break
    if best is None or best[1] < 0:
        with path.open("r+b") as fh:
            fh.write(original)
        return False
    with path.open("r+b") as fh:
        fh.write(best[2])
    return True
