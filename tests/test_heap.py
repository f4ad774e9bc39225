"""Heap hygiene: inside `scrubbed()` a reused chunk reads as zeros, not as what was freed."""

from __future__ import annotations

import ctypes
import platform

import pytest

from memory.heap import scrubbed

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="M_PERTURB is glibc's",
)

SIZE = 64_000
"""Past glibc's per-thread cache (1 KiB), which M_PERTURB does not reach, under its mmap
threshold (128 KiB), whose fresh pages are zeros anyway; Chroma's buffers are this size."""
MARK = b"Quokka-Canary-51d2e8"


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def _reused_chunk(libc: ctypes.CDLL) -> bytes:
    """Free a chunk holding the mark, allocate one of the same size (glibc hands the same one
    back from its per-thread cache) and read it."""
    freed = libc.malloc(SIZE)
    ctypes.memmove(freed, MARK * (SIZE // len(MARK)), SIZE // len(MARK) * len(MARK))
    libc.free(freed)
    again = libc.malloc(SIZE)
    try:
        return ctypes.string_at(again, SIZE)
    finally:
        libc.free(again)


def test_a_reused_chunk_reads_as_zeros_inside_and_as_the_old_bytes_outside() -> None:
    libc = _libc()
    assert MARK in _reused_chunk(libc)  # what Chroma's unfilled slots would have written
    with scrubbed():
        assert _reused_chunk(libc) == bytes(SIZE)
        with scrubbed():  # nested: still on
            assert _reused_chunk(libc) == bytes(SIZE)
        assert _reused_chunk(libc) == bytes(SIZE)
    assert MARK in _reused_chunk(libc)  # off again: the rest of the process pays nothing
