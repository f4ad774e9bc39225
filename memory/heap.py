"""Heap hygiene: while Chroma works, fresh allocations start zeroed and freed ones are
overwritten, so no stale bytes of this process (a phrase just forgotten) reach its files.

Chroma writes its HNSW files from `malloc`'d buffers at their full capacity, slots never filled
included (chroma-core/chroma#7688): whatever the process freed there before, message text
included, can land in `data_level0.bin` and `length.bin`. glibc's `M_PERTURB` fills every
allocation with `~byte` and every freed chunk with `byte`; with 0xFF an allocation reads as
zeros, the bytes an untouched page holds. It is on only inside `scrubbed()`: process-wide it
would also fill the buffers llama.cpp allocates and never touches (the tiny model's resident
memory doubled). Chunks of up to 1 KiB come from glibc's per-thread cache, which the option
does not reach: those stay as the allocator left them.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

M_PERTURB = -6
"""mallopt's parameter number, from glibc's malloc.h."""
FILL = 0xFF

_lock = threading.Lock()
_depth = 0
_libc: Any = None


def _mallopt() -> Any:
    """glibc's mallopt, or None where the C library is another (musl, macOS, Windows keep their
    own allocators, and the leak stays upstream's)."""
    global _libc
    if _libc is None:
        _libc = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                _libc = ctypes.CDLL(None).mallopt
            except (OSError, AttributeError):
                log.warning("glibc's mallopt not found: freed memory is not scrubbed")
    return _libc or None


@contextmanager
def scrubbed() -> Iterator[None]:
    """Inside: allocations are zero-filled and frees overwritten (nesting and threads share one
    count; the last one out turns it off)."""
    global _depth
    mallopt = _mallopt()
    if mallopt is None:
        yield
        return
    with _lock:
        if _depth == 0:
            mallopt(M_PERTURB, FILL)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                mallopt(M_PERTURB, 0)
