"""The private data dir: created 0700, files 0600, and one writer at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from memory.errors import DataDirLockedError, StorageError


def make_private() -> None:
    """Files we (and Chroma, and SQLite) create from now on are readable by the owner only."""
    os.umask(0o077)


def ensure_data_dir(path: Path) -> Path:
    """Create the data dir if missing and make sure it is private."""
    make_private()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)
    except OSError as exc:
        raise StorageError(
            f"cannot create data dir {path}: {exc.strerror}; set HEARTH_HOME"
        ) from exc
    return path


class DataDirLock:
    """An advisory lock on the data dir, held by the one process that writes memory.

    flock is released by the kernel when the process dies, so a crash never leaves a stale lock.
    """

    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self._fh: IO[str] | None = None

    def acquire(self) -> DataDirLock:
        fh = self.lock_file.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise DataDirLockedError(
                f"another Hearth (pid {holder}) is using {self.lock_file.parent}; "
                "close it first, or set HEARTH_HOME to use another data dir"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
