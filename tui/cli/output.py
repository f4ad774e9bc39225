"""What every `hearth` command prints through: one stdout/stderr console pair, JSON, warnings."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO, cast

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook, RenderResult
from rich.markup import escape
from rich.segment import Segment

from agent.face import inert, json_line


class _Inert:
    """A renderable whose text segments show control characters as symbols."""

    def __init__(self, renderable: ConsoleRenderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        segments: Iterable[Segment] = console.render(self.renderable, options)
        for segment in segments:
            # Control segments are Rich's own cursor moves (progress bars), never stored text.
            yield segment if segment.control else Segment(inert(segment.text), segment.style)


class _InertHook(RenderHook):
    """Stored and imported text reaches the terminal through these consoles: whatever a print
    site forgot, an escape sequence in it is shown as symbols, never obeyed."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Inert(r) for r in renderables]


def new_console(*, stderr: bool = False) -> Console:
    """A console for stdout or stderr that shows control characters inert."""
    console = Console(stderr=stderr)
    console.push_render_hook(_InertHook())
    return console


class ClosedPipeGuard:
    """Standard output for a run whose reader may leave early (`hearth say ... | head -2`).

    A closed pipe ends the printing, not the command: the write that finds the reader gone, and
    every write after it, is dropped instead of raising, so a reply goes on being generated and
    is journaled whole, and the command keeps its own exit code (doctor's 18). The descriptor is
    pointed at /dev/null, so what Python still buffers for the pipe goes nowhere at exit instead
    of failing a second time."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        if not self.reader_left:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._drop_the_rest()
        return len(text)

    def flush(self) -> None:
        if not self.reader_left:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop_the_rest()

    def _drop_the_rest(self) -> None:
        self.reader_left = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)  # fileno, isatty, encoding...: the real stream's


def guard_closed_pipe() -> ClosedPipeGuard | None:
    """Put a ClosedPipeGuard over the process's own stdout when it is not a terminal (a pipe or
    a file); None when stdout is a terminal or has already been replaced (a test's capture)."""
    if sys.stdout is not sys.__stdout__ or sys.stdout is None or sys.stdout.isatty():
        return None
    guard = ClosedPipeGuard(sys.stdout)
    sys.stdout = cast(TextIO, guard)  # Rich's consoles look sys.stdout up at each write
    return guard


out = new_console()
"""Standard output. Wraps long lines at the terminal's width unless a print passes
`soft_wrap=True` (the root command and the logs, models and config groups always do).
Control characters in what it prints are shown inert."""
err = new_console(stderr=True)
"""Standard error: warnings, errors, notes and progress bars. Wraps like `out`; inert too."""


def print_json(data: Any) -> None:
    """One line of JSON on stdout; what JSON cannot hold (dates, paths) is written as text, and
    every control character is escaped (DEL, C1 and bidi controls included)."""
    sys.stdout.write(json_line(data) + "\n")


def write_raw(text: str) -> None:
    """Text that is not Rich's to lay out (a streamed reply, a graph file), control characters
    shown inert, written at once."""
    sys.stdout.write(inert(text))
    sys.stdout.flush()


def warn(message: str) -> None:
    """A `hearth: warning:` line on stderr."""
    err.print(f"[yellow]hearth: warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def note(message: str) -> None:
    """A dim line on stderr, beside a command's real output."""
    err.print(message, style="dim", markup=False, highlight=False)


def confirm(yes: bool, question: str, what: str) -> None:
    """Go on with --yes; ask on a terminal; otherwise stop (exit 15) having changed nothing."""
    import typer

    from memory.errors import ConfirmationError

    if yes:
        return
    if not sys.stdin.isatty():
        raise ConfirmationError(
            f"{what} needs --yes to go ahead (no terminal to ask on); nothing was changed: "
            "check what it would change above, then run it again with --yes"
        )
    if not typer.confirm(question, default=False):
        raise ConfirmationError("not confirmed: nothing was changed")
