"""SIGTERM and SIGHUP stop Hearth as ctrl+c does: the reply so far saved `interrupted`, the run
closed cleanly (its runs/ marker removed, so the next start reports no crash)."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

_received: int | None = None

# Set with the raise: a signal that lands while llama.cpp runs a Python sampler callback (ctypes)
# has its exception printed and dropped there, so a stream must also stop on this event.
stop_requested = threading.Event()


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM or SIGHUP, where ctrl+c raises KeyboardInterrupt:
    every `except KeyboardInterrupt` that saves a reply as interrupted saves this one too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int | None) -> int:
    """128 + the signal's number, as a shell reports a process a signal ended; 130 for ctrl+c."""
    return 128 + (signum if signum is not None else signal.SIGINT)


def received() -> int | None:
    """The stop signal this process was sent, if any."""
    return _received


def note_received(signum: int) -> None:
    global _received
    _received = signum
    stop_requested.set()


def _raise(signum: int, frame: FrameType | None) -> None:
    note_received(signum)
    # Only once: a second signal must not cut short the cleanup the first one started.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    note_received(signum)
    signal.default_int_handler(signum, frame)


def _quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """A stop raised in a ctypes callback cannot leave it: Python prints it with a traceback.
    `stop_requested` carries it instead, so it is not worth a traceback on the person's screen."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def raise_on_stop_signals() -> None:
    """From now on SIGTERM and SIGHUP raise Terminated in this process's main thread, ctrl+c
    KeyboardInterrupt as before, and all three set `stop_requested`."""
    global _received
    _received = None
    stop_requested.clear()
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise)
    signal.signal(signal.SIGINT, _interrupt)
    sys.unraisablehook = _quiet_unraisable
