"""A stop signal stops a headless turn even where Python cannot raise it (a ctypes callback)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable, Iterator

import pytest

from tui import stop_signals


@pytest.fixture
def own_handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (*stop_signals.STOP_SIGNALS, signal.SIGINT)}
    hook = sys.unraisablehook
    try:
        stop_signals.raise_on_stop_signals()
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        sys.unraisablehook = hook
        stop_signals._received = None
        stop_signals.stop_requested.clear()


def _sort_with_a_python_comparator(on_compare: Callable[[object, object], int]) -> None:
    """libc's qsort calling back into Python, as llama.cpp calls a Python sampler."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    values = (ctypes.c_int * 2)(2, 1)
    libc.qsort(values, 2, ctypes.sizeof(ctypes.c_int), compare(on_compare))


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> list[BaseException | None]:
    """What would reach Python's default hook, which prints it with a traceback."""
    seen: list[BaseException | None] = []
    monkeypatch.setattr(sys, "__unraisablehook__", lambda u: seen.append(u.exc_value))
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    return seen


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_landing_in_a_ctypes_callback_still_requests_the_stop(
    printed: list[BaseException | None], own_handlers: None, sig: signal.Signals
) -> None:
    def compare(a: object, b: object) -> int:
        os.kill(os.getpid(), sig)  # handled at the next bytecode: inside this callback
        return 0

    _sort_with_a_python_comparator(compare)  # the raise was dropped at the C boundary...

    assert stop_signals.stop_requested.is_set()  # ...so the stream stops on this instead
    assert stop_signals.received() == sig
    assert printed == []  # and no traceback on the person's screen


def test_a_new_run_starts_with_no_stop_requested(own_handlers: None) -> None:
    stop_signals.note_received(signal.SIGTERM)
    stop_signals.raise_on_stop_signals()
    assert not stop_signals.stop_requested.is_set() and stop_signals.received() is None
