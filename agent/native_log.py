"""Sending llama.cpp's C-level stderr to the log file, so it never garbles the screen."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def stderr_to(log_file: Path) -> Iterator[None]:
    """Point file descriptor 2 at `log_file` for the duration; Python's sys.stderr follows."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        # No real stderr (pytest capture, an embedded interpreter): nothing to protect.
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    target = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, fd)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(target)
