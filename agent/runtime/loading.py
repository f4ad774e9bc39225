"""Loading the model on a thread of its own while the caller opens the memory store."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

SWITCH_S = 0.0002
"""Python's thread switch interval while a model loads beside other work (default 5 ms): the
load makes many short calls into llama.cpp, each of which lets go of the GIL and then waits a
whole interval to take it back from the Python running beside it."""

_switch_lock = threading.Lock()
_switch_depth = 0
_switch_saved = 0.0


@contextlib.contextmanager
def short_switches() -> Iterator[None]:
    """Inside: the short switch interval (nesting and threads share one count; the last one out
    puts back the interval found by the first one in)."""
    global _switch_depth, _switch_saved
    with _switch_lock:
        if _switch_depth == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_S)
        _switch_depth += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_depth -= 1
            if _switch_depth == 0:
                sys.setswitchinterval(_switch_saved)


class Beside(Generic[T]):
    """`load()` on a daemon thread, then `after()` unless `abandon` came first.

    llama.cpp's load and onnxruntime's session are C code that lets go of the GIL: on two
    cores they run while the caller's thread does Python (opening the memory store, whose
    chromadb import is most of a cold start's own work). `wait` hands back what `load` made or
    raises its error; `after` is a warm-up whose failure is only logged (what it warms loads
    again where it is used, and fails there in the usual way)."""

    def __init__(self, load: Callable[[], T], after: Callable[[], object] | None = None) -> None:
        self._load = load
        self._after = after
        self._loaded: list[T] = []  # empty until `load` returns
        self._error: BaseException | None = None
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hearth-load", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._loaded.append(self._load())
        except BaseException as exc:  # raised again by `wait`, on the caller's thread
            self._error = exc
            return
        if self._after is None or self._abandoned.is_set():
            return
        try:
            self._after()
        except Exception:
            log.warning("a warm-up beside the model load failed", exc_info=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self) -> T:
        """What `load` made (after `after` has run), or its error."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._loaded[0]

    def abandon(self) -> T | None:
        """The caller failed: `after` is skipped if not begun, and what `load` made (to
        close) is handed back once it ends; None if it failed."""
        self._abandoned.set()
        self._thread.join()
        return self._loaded[0] if self._loaded else None
