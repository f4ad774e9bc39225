"""Run `hearth` in this process, as the installed command would run it, and capture what it prints.

A `hearth` subprocess spends seconds importing, and more reading the model's metadata and loading
the embedder, which this process has done once already: the CLI tests (`run_hearth`) run here.
What a subprocess has of its own is set up for each call and put back after: the environment
(HEARTH_HOME, TZ, COLUMNS), the time zone, argv, the three standard streams (stdin empty, like
DEVNULL), Rich's consoles (made again for the new streams and environment, as at import), the
logging handlers and signal handlers a run installs. `main()` itself runs, so exit codes and error
lines are the real ones. What only a process can show (signals, a crash, imports, a terminal)
is tested with a real one.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console

from memory import faults


@dataclass(frozen=True)
class Done:
    """What a finished run left: like subprocess.CompletedProcess's fields."""

    returncode: int
    stdout: str
    stderr: str


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env)
    time.tzset()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        time.tzset()


# A run may install its own handlers for these (tui/stop_signals.py); pytest's come back after.
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _loggers() -> dict[str, logging.Logger]:
    """The root logger and every named one: a run adds handlers to some (hearth.notice)."""
    named = logging.Logger.manager.loggerDict.items()
    return {"": logging.getLogger(), **{n: lg for n, lg in named if isinstance(lg, logging.Logger)}}


def _new_console(stderr: bool) -> Console:
    from tui.cli import output

    return output.new_console(stderr=stderr)


def _consoles() -> list[tuple[Console, bool]]:
    from tui.cli import output

    return [(output.out, False), (output.err, True)]


def run_main(*args: str, env: Mapping[str, str]) -> Done:
    """`hearth ARGS` with `env` added to the environment; never raises SystemExit."""
    from tui.cli.main import main

    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="\n")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="\n")
    streams = (sys.stdin, sys.stdout, sys.stderr, sys.argv)
    consoles = [(c, dict(vars(c))) for c, _ in _consoles()]
    loggers = _loggers()
    saved_loggers = {name: (list(lg.handlers), lg.level) for name, lg in loggers.items()}
    saved_signals = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    code: int | str | None
    with _environment(env):
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), stdout, stderr
        sys.argv = ["hearth", *args]
        try:
            # Made again in place (other modules hold these objects), reading this environment
            # and these streams as they would at a subprocess's import.
            for console, is_err in _consoles():
                vars(console).clear()
                vars(console).update(vars(_new_console(is_err)))
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code
        finally:
            sys.stdin, sys.stdout, sys.stderr, sys.argv = streams
            for console, state in consoles:
                vars(console).clear()
                vars(console).update(state)
            for name, lg in _loggers().items():
                handlers, level = saved_loggers.get(name, ([], logging.NOTSET))
                for handler in lg.handlers:
                    if handler not in handlers:
                        handler.close()
                lg.handlers, lg.level = handlers, level
            for sig, previous in saved_signals.items():
                signal.signal(sig, previous)
            faults.arm(None)  # a fault point armed by this run's settings dies with the "process"
    stdout.flush()
    stderr.flush()
    return Done(
        returncode=code if isinstance(code, int) else 1,
        stdout=stdout.buffer.getvalue().decode("utf-8"),  # type: ignore[attr-defined]
        stderr=stderr.buffer.getvalue().decode("utf-8"),  # type: ignore[attr-defined]
    )
