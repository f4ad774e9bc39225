"""A model file's sha256, read once per process: each data dir's journal keeps its own copy."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memory.journal.journal import Journal

_KNOWN: dict[tuple[str, int, int], str] = {}
_GUARD = threading.Lock()


def model_sha256(journal: Journal, path: Path) -> str:
    """`journal.model_sha256(path)`, which hashes the file unless this data dir has seen it,
    skipped when this process has already hashed the same file (path, size and mtime alike):
    a command that opens a second data dir, or a test suite's hundred, reads the GGUF once."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _GUARD:
        known = _KNOWN.get(key)
    if known is not None:
        return known
    sha = journal.model_sha256(path)
    with _GUARD:
        _KNOWN[key] = sha
    return sha
