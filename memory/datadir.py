"""The private data dir: created 0700, files 0600 (its lock: memory/coordination/lock.py)."""

from __future__ import annotations

import os
from pathlib import Path

from memory.errors import StorageError


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
