"""Sending llama.cpp's C-level stderr to the log file, so it never garbles the screen."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def stderr_to(log_file: Path, *, keep_terminal: bool = False) -> Iterator[None]:
    """Point file descriptor 2 at `log_file` for the duration.

    With `keep_terminal`, Python's `sys.__stderr__` is swapped for a copy of the original
    descriptor: Textual draws the screen through it, while C code writing to fd 2 (llama.cpp,
    ggml) lands in the log.
    """
    fd = 2  # the C-level descriptor llama.cpp writes to, whatever sys.stderr is now
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    saved = os.dup(fd)
    target = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    original = (sys.stderr, sys.__stderr__)
    terminal = None
    try:
        if keep_terminal:
            terminal = os.fdopen(os.dup(saved), "w", encoding="utf-8", errors="replace")
            sys.stderr = sys.__stderr__ = terminal  # type: ignore[misc]
        os.dup2(target, fd)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        sys.stderr, sys.__stderr__ = original  # type: ignore[misc]
        if terminal is not None:
            with contextlib.suppress(OSError, ValueError):
                terminal.close()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(target)
