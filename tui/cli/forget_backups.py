"""`hearth memory forget --backups`: backups outside the data dir, reached by a forget."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from agent.face import OutsideBackup
from tui.cli.output import out

if TYPE_CHECKING:
    from agent.face import Action

BackupsOpt = Annotated[
    str,
    typer.Option(
        "--backups",
        help="Backups `hearth backup` wrote outside the data dir: list them (the default), "
        "rewrite them without the words (their manifest's counts and checksums with them), "
        "or delete them.",
        case_sensitive=False,
    ),
]
ACTIONS: tuple[Action, ...] = ("list", "rewrite", "delete")


def action(given: str) -> Action:
    for known in ACTIONS:
        if given.lower() == known:
            return known
    raise typer.BadParameter(f"--backups takes {', '.join(ACTIONS)}, not {given!r}")


WOULD = {"rewrite": "rewritten without it", "delete": "deleted"}


def show(listed: list[OutsideBackup], chosen: Action, *, done: bool, to: Console = out) -> None:
    """One line a backup; before the forget, what `chosen` would do to it."""
    for backup in listed:
        line = backup.line()
        if not done and chosen != "list" and backup.exists and backup.holds_phrase is not False:
            line = f"backup elsewhere, would be {WOULD[chosen]}: {backup.path}"
        to.print(Text(line), soft_wrap=True)


def apply(data_dir: Path, phrase: str, chosen: Action) -> list[dict[str, Any]]:
    """After a forget of `phrase`: the backups listed, rewritten or deleted."""
    from agent.upkeep import reach_backups

    return [b.model_dump() for b in reach_backups(data_dir, phrase, chosen)]
