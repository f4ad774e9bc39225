"""`hearth logs ...`: list, show and locate the conversation journal's messages."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from memory.controls import inert
from memory.settings import resolve_paths
from tui.cli.options import JsonOpt
from tui.cli.output import out, print_json

logs_app = typer.Typer(help="Read the conversation journal.", no_args_is_help=True)


@logs_app.command("list")
def logs_list(
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Only this session.")
    ] = None,
    n: Annotated[int, typer.Option("-n", help="How many messages.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List messages, newest first."""
    from agent.startup import open_home

    home = open_home()
    try:
        msgs = home.journal.messages(session_id=session, limit=n)
    finally:
        home.close()
    if as_json:
        print_json([m.model_dump(mode="json", exclude={"prompt"}) for m in msgs])
        return
    table = Table("id", "session", "when", "role", "status", "text", box=None)
    for m in msgs:
        # Control characters as symbols before cutting, so the cell is measured as shown.
        snippet = inert(m.text.replace("\n", " "))
        table.add_row(
            str(m.id),
            str(m.session_id),
            m.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            m.role,
            m.status,
            Text(snippet[:70] + ("…" if len(snippet) > 70 else "")),
        )
    out.print(table, soft_wrap=True)


@logs_app.command("show")
def logs_show(
    message_id: Annotated[int, typer.Argument(help="A message id from `hearth logs list`.")],
    prompt: Annotated[bool, typer.Option("--prompt", help="Show what the model saw.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one message; with --prompt, the exact messages the model saw for that reply."""
    from agent.startup import open_home

    home = open_home()
    try:
        msg = home.journal.message(message_id)
    finally:
        home.close()
    if prompt:
        shown = [m.model_dump() for m in msg.prompt or []]
        if as_json:
            print_json({"messages": shown})
            return
        for m in shown:
            out.print(Rule(m["role"]), soft_wrap=True)
            out.print(m["content"], markup=False, highlight=False, soft_wrap=True)
        return
    if as_json:
        print_json(msg.model_dump(mode="json"))
        return
    out.print(
        f"[bold]#{msg.id}[/] {msg.role} · {msg.status} · session {msg.session_id} · "
        f"{msg.created_at.astimezone():%Y-%m-%d %H:%M:%S}",
        soft_wrap=True,
    )
    if msg.model:
        u = msg.usage
        out.print(
            f"model {msg.model.name} · prompt {u.prompt_tokens} tokens"
            f" · reply {u.completion_tokens} tokens",
            markup=False,  # the model's name comes from its file
            highlight=False,
            soft_wrap=True,
        )
    out.print(msg.text, markup=False, highlight=False, soft_wrap=True)


@logs_app.command("path")
def logs_path() -> None:
    """Print where the journal lives."""
    out.print(str(resolve_paths().journal), markup=False, highlight=False, soft_wrap=True)


@logs_app.command("status")
def logs_status(as_json: JsonOpt = False) -> None:
    """Counts and the journal's location and schema version."""
    from agent.startup import open_home

    home = open_home()
    try:
        info: dict[str, Any] = {
            "path": str(home.paths.journal),
            "schema_version": home.journal.schema_version(),
            **home.journal.counts(),
        }
    finally:
        home.close()
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        out.print(f"{key}: {value}", markup=False, highlight=False, soft_wrap=True)
