"""The one-writer lock on the data dir: held by one process, lent to a command beside it."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from memory.coordination import lending
from memory.errors import DataDirLockedError


class DataDirLock:
    """An advisory lock on the data dir, held by the one process that writes memory.

    flock is released by the kernel when the process dies, so a crash never leaves a stale lock.
    The open chat lends it to a command run beside it (lending.py): the command is handed the
    chat's own open lock file, so the lock is never released in between.
    """

    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self._fh: IO[str] | None = None
        self._lease: lending.Lease | None = None
        """The loan from the open chat, kept while we hold its lock."""

    @property
    def borrowed(self) -> bool:
        """Held on loan from the open chat (lending.py), which takes it back after."""
        return self._lease is not None

    def fileno(self) -> int:
        """The held lock file's descriptor (to lend it)."""
        if self._fh is None:
            raise RuntimeError("the data dir lock is not held")
        return self._fh.fileno()

    def acquire(self, *, borrow: str | None = None) -> DataDirLock:
        """Take the lock, or refuse with DataDirLockedError. With `borrow` (the command's name)
        a holder that lends (the open chat) is asked first."""
        if self._take():
            return self
        holder = self._holder()
        if borrow is not None:
            if self._borrow(borrow, holder):
                return self
            if self._take():  # the holder has just gone
                return self
        raise DataDirLockedError(
            f"another Hearth (pid {holder}) is using {self.lock_file.parent}; "
            "close it first, or set HEARTH_HOME to use another data dir"
        )

    def _take(self) -> bool:
        fh = self.lock_file.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        # Unbuffered: on a full disk the pid is not written (the flock is the lock; the pid only
        # names its holder), and nothing is left in a buffer to fail again at close.
        with contextlib.suppress(OSError):
            os.ftruncate(fh.fileno(), 0)
            os.pwrite(fh.fileno(), str(os.getpid()).encode(), 0)
        self._fh = fh
        return True

    def _holder(self) -> str:
        with contextlib.suppress(OSError):
            return self.lock_file.read_text().strip() or "unknown"
        return "unknown"

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
        # The holder's own open file: its lock is ours while we keep it (the pid in the file
        # stays the holder's, which is who to ask about the data dir).
        os.set_inheritable(lease.lock_fd, False)  # never into a child process
        self._fh = open(lease.lock_fd, "a+")  # noqa: SIM115 - kept open while the lock is held
        self._lease = lease
        return True

    def release(self) -> None:
        if self._fh is not None:
            # Closing, never LOCK_UN: a lent lock file is open in two processes, and unlocking
            # it in one would unlock it in both. The lock goes with the file's last descriptor.
            self._fh.close()
            self._fh = None
        if self._lease is not None:
            self._lease.conn.close()  # hanging up: the holder takes its data dir back
            self._lease = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
