"""The options more than one `hearth` command takes, each with its one help text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, overload

import typer

if TYPE_CHECKING:
    from agent.serving.client import Remote

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
"""--json where the text output is a table (or lines of fields)."""
JsonTextOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
"""--json for the training-data and import commands."""
JsonBenchOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
"""--json for the bench commands."""

DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
"""How a --since date may be typed (local time)."""
SinceOpt = Annotated[
    datetime | None,
    typer.Option("--since", formats=DATE_FORMATS, help="Only from this date (local time) on."),
]
"""--since for the commands that measure the journal (score, understanding)."""


@overload
def as_local(moment: datetime) -> datetime: ...
@overload
def as_local(moment: None) -> None: ...
def as_local(moment: datetime | None) -> datetime | None:
    """A date typed without a zone (--since), read as this machine's local time."""
    return moment if moment is None or moment.tzinfo is not None else moment.astimezone()


SessionOpt = Annotated[int | None, typer.Option("--session", "-s", help="Only this session.")]

ModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="A GGUF file to chat with.", dir_okay=False)
]
ConnectOpt = Annotated[
    str | None,
    typer.Option(
        "--connect",
        metavar="URL",
        help="Use the Hearth served at URL (`hearth serve` there; remote.url), not this data dir.",
    ),
]
NoMemoryOpt = Annotated[
    bool,
    typer.Option(
        "--no-memory",
        help="Off the record: no memory read or written, never exported, deleted on leaving.",
    ),
]


def model_overrides(model: Path | None) -> dict[str, Any]:
    """Settings overrides for a --model option: none when it is not given. A GGUF named on the
    command line is loaded here, whatever model.backend says."""
    return {"model": {"path": model, "backend": "llama-cpp"}} if model is not None else {}


def server_for(connect: str | None, *, here: bool = True) -> Remote | None:
    """The Hearth server a command goes through: --connect URL (or remote.url), else (with
    `here`) the one serving this data dir, if one runs; None: the command opens the data dir
    itself (borrowing it from a chat or server that holds it)."""
    from memory.serving import running
    from memory.settings import load_settings, resolve_paths

    paths = resolve_paths()
    settings = load_settings(paths)
    url = connect or settings.remote.url
    if not url and not (here and running(paths) is not None):
        # No server to ask: the client (and httpx under it, a tenth of a second) stays unloaded.
        return None
    from agent.serving.client import local, remote

    if url:
        return remote(url, settings.remote)
    return local(paths, settings.remote)


def no_model_with_remote(model: Path | None, connect: str | None) -> None:
    """--model names a GGUF here; a Hearth elsewhere chats with its own (usage error, exit 2)."""
    if model is None:
        return
    from memory.settings import load_settings, resolve_paths

    if connect or load_settings(resolve_paths()).remote.url:
        raise typer.BadParameter(
            "--model does not go with --connect (or remote.url): the Hearth there chats with "
            "its own model"
        )
