"""SIGTERM and SIGHUP stop Hearth as ctrl+c does: the reply so far saved `interrupted`, the run
closed cleanly (its runs/ marker removed, so the next start reports no crash)."""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

_received: int | None = None


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


def _raise(signum: int, frame: FrameType | None) -> None:
    note_received(signum)
    # Only once: a second signal must not cut short the cleanup the first one started.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


def raise_on_stop_signals() -> None:
    """From now on SIGTERM and SIGHUP raise Terminated in this process's main thread."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise)
