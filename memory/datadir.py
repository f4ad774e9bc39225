"""The private data dir: created 0700, files 0600, and one writer at a time."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from pathlib import Path
from typing import IO

from memory import lending
from memory.errors import DataDirLockedError, StorageError

BORROWED_LOCK_WAIT_S = 10.0
"""After the holder has released the lock for us, how long another process may hold it first."""


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
        self._lease: socket.socket | None = None
        """The connection to the holder that lent us the lock, open while we hold it."""

    @property
    def borrowed(self) -> bool:
        """Held on loan from the open chat (memory/lending.py), which takes it back after."""
        return self._lease is not None

    def acquire(self, *, borrow: str | None = None, wait: bool = False) -> DataDirLock:
        """Take the lock, or refuse with DataDirLockedError. With `borrow` (the command's name)
        a holder that lends (the open chat) is asked first; `wait` blocks until it is free."""
        fh = self.lock_file.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            refused = DataDirLockedError(
                f"another Hearth (pid {holder}) is using {self.lock_file.parent}; "
                "close it first, or set HEARTH_HOME to use another data dir"
            )
            if borrow is not None and self._borrow(borrow, holder):
                return self
            raise refused from None
        self._own(fh)
        return self

    def _borrow(self, command: str, holder: str) -> bool:
        try:
            lease = lending.borrow(lending.socket_path(self.lock_file.parent), command)
        except TimeoutError:
            raise DataDirLockedError(
                f"the open Hearth (pid {holder}) did not hand over {self.lock_file.parent} "
                f"within {lending.REPLY_PATIENCE_S:.0f} s; try again when its reply has ended"
            ) from None
        except RuntimeError as exc:
            raise DataDirLockedError(
                f"the open Hearth (pid {holder}) could not hand over {self.lock_file.parent}: {exc}"
            ) from None
        if lease is None:
            return False
        deadline = time.monotonic() + BORROWED_LOCK_WAIT_S
        fh = self.lock_file.open("a+")
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Released for us, but a third command may have slipped in: it ends soon.
                if time.monotonic() > deadline:
                    fh.close()
                    lease.close()
                    return False
                time.sleep(0.05)
        self._own(fh)
        self._lease = lease
        return True

    def _own(self, fh: IO[str]) -> None:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
        if self._lease is not None:
            # After the unlock: hanging up tells the holder it can take the data dir back.
            self._lease.close()
            self._lease = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
