"""What every `hearth` command prints through: one stdout/stderr console pair, JSON, warnings."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

out = Console()
"""Standard output. Wraps long lines at the terminal's width unless a print passes
`soft_wrap=True` (the root command and the logs, models and config groups always do)."""
err = Console(stderr=True)
"""Standard error: warnings, errors, notes and progress bars. Wraps like `out`."""


def print_json(data: Any) -> None:
    """One line of JSON on stdout; what JSON cannot hold (dates, paths) is written as text."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


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
