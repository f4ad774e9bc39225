"""The writing `hearth memory` commands: add, edit, pin and unpin (secrets refused)."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.access import Here, opened, reach
from agent.face import KINDS, SECRET, Memory, has_secret, secret_kinds
from tui.cli.memory.params import IdArg, parse_kind
from tui.cli.memory.render import (
    print_memory,
)
from tui.cli.options import ConnectOpt, JsonOpt
from tui.cli.output import err, note

SecretOpt = Annotated[
    bool,
    typer.Option(
        "--secret",
        help="Keep it even though it holds a password, PIN, card number, key or token.",
    ),
]


def _refuse_secret(text: str, allowed: bool) -> None:
    """A secret is never remembered without the person's say-so: one line, exit 2 (usage)."""
    found = secret_kinds(text)
    if found and not allowed:
        kinds = ", ".join(found)
        err.print(
            f"hearth: not remembered: the text holds a secret ({kinds}); "
            "add --secret to keep it anyway",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)


def memory_add(
    text: Annotated[str, typer.Argument(help="What to remember.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of {', '.join(KINDS)}.")] = "fact",
    subject: Annotated[str, typer.Option("--subject", help="Who it is about.")] = "user",
    importance: Annotated[float, typer.Option("--importance", min=0.0, max=1.0)] = 0.5,
    pin: Annotated[bool, typer.Option("--pin", help="Keep it always in view.")] = False,
    secret: SecretOpt = False,
    connect: ConnectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remember something. Text holding a password, PIN, card number, key or token is refused
    unless --secret says to keep it."""
    _refuse_secret(text, secret)  # before it leaves this machine, too
    with reach(connect, write=True, store=True, on_wait=note) as where:
        if isinstance(where, Here):
            memory = where.memory.add(
                text,
                kind=parse_kind(kind),
                subject=subject,
                importance=importance,
                pinned=pin,
                flags=[SECRET] if secret and has_secret(text) else [],
            )
        else:
            from agent.serving.schemas import MemoryIn

            asked = MemoryIn(
                text=text,
                kind=parse_kind(kind),
                subject=subject,
                importance=importance,
                pin=pin,
                secret=secret,
            )
            memory = Memory.model_validate(where.add(asked))
    print_memory(memory, as_json, "remembered")


def memory_edit(
    memory_id: IdArg,
    text: Annotated[str, typer.Argument(help="The corrected text.")],
    secret: SecretOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Correct a memory's text (history keeps the earlier version); a secret in it is refused
    unless --secret says to keep it."""
    _refuse_secret(text, secret)
    with opened(write=True, store=True) as here:
        memory = here.memory.update_text(memory_id, text)
    print_memory(memory, as_json, "edited")


def memory_pin(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Keep a memory always in view."""
    with opened(write=True, store=True) as here:
        memory = here.memory.pin(memory_id)
    print_memory(memory, as_json, "pinned")


def memory_unpin(memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Stop keeping a memory always in view."""
    with opened(write=True, store=True) as here:
        memory = here.memory.unpin(memory_id)
    print_memory(memory, as_json, "unpinned")
