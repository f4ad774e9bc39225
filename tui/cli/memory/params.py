"""Arguments and options the `hearth memory` commands share, and reading --kind."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.face import KINDS, Kind

IdArg = Annotated[str, typer.Argument(help="A memory id from `hearth memory list`.")]
KindOpt = Annotated[
    list[str] | None,
    typer.Option("--kind", help=f"Only these kinds (repeatable): {', '.join(KINDS)}."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Include superseded and expired memories.")]
ListAllOpt = Annotated[
    bool,
    typer.Option(
        "--all", help="Include superseded and expired memories, and the person's words (said)."
    ),
]


def parse_kind(name: str) -> Kind:
    for kind in KINDS:
        if kind == name:
            return kind
    raise typer.BadParameter(f"unknown kind {name!r}; use one of {', '.join(KINDS)}")


def parse_kinds(names: list[str] | None) -> list[Kind] | None:
    return [parse_kind(n) for n in names] if names else None
