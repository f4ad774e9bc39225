"""Fault points for Hearth's own crash tests: armed only by the `testing.fault_point` setting."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3

from memory.settings import FaultPoint

_armed: FaultPoint | None = None

# Where the process kills itself (as kill -9 would); the others raise the error they name.
_KILLS: frozenset[FaultPoint] = frozenset(
    {"before-memory-write", "mid-memory-write", "before-index-write", "mid-restore-swap"}
)


def arm(point: FaultPoint | None) -> None:
    """Arm one fault point for this process (None disarms); set from `testing.fault_point`."""
    global _armed
    _armed = point


def reached(point: FaultPoint) -> None:
    """Die or fail here if this is the armed point; otherwise nothing at all."""
    if _armed != point:
        return
    if point in _KILLS:
        os.kill(os.getpid(), signal.SIGKILL)
    if point == "commit-fsync-error":
        # A named fake: a failing fsync cannot be produced here without a custom SQLite VFS,
        # so this raises what SQLite raises when it happens (SQLITE_IOERR_FSYNC, EIO).
        exc = sqlite3.OperationalError(f"disk I/O error ({os.strerror(errno.EIO)} in fsync)")
        exc.sqlite_errorcode = 1034  # SQLITE_IOERR_FSYNC
        exc.sqlite_errorname = "SQLITE_IOERR_FSYNC"
        raise exc
