"""Run `hearth` in this process, as the installed command would run it, and capture what it prints.

A `hearth` subprocess spends most of a second importing; a test that runs hundreds of reading
commands (tests/test_old_datadir.py) runs them here instead. What a subprocess has of its own is
set up for each call and put back after: the environment (HEARTH_HOME, TZ, COLUMNS), the time
zone, argv, the three standard streams (stdin empty, like DEVNULL), Rich's consoles (made again
for the new streams and environment, as at import), the logging handlers a run adds, and the
settings file. `main()` itself runs, so exit codes and error lines are the real ones.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console


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
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    code: int | str | None
    with _environment(env):
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), stdout, stderr
        sys.argv = ["hearth", *args]
        try:
            # Made again in place (other modules hold these objects), reading this environment
            # and these streams as they would at a subprocess's import.
            for console, is_err in _consoles():
                console.__init__(stderr=is_err)  # type: ignore[misc]
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
            for handler in root.handlers:
                if handler not in handlers:
                    handler.close()
            root.handlers, root.level = handlers, level
    stdout.flush()
    stderr.flush()
    return Done(
        returncode=code if isinstance(code, int) else 1,
        stdout=stdout.buffer.getvalue().decode("utf-8"),  # type: ignore[attr-defined]
        stderr=stderr.buffer.getvalue().decode("utf-8"),  # type: ignore[attr-defined]
    )
