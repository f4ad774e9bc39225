"""`hearth logs ...`: list, show and locate the conversation journal's messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from agent.access import opened
from agent.face import inert
from memory.settings import resolve_paths
from tui.cli.options import JsonOpt
from tui.cli.output import confirm, err, out, print_json

if TYPE_CHECKING:
    from agent.face import Message, RecoveryReport

logs_app = typer.Typer(help="Read the conversation journal.", no_args_is_help=True)

OFF_RECORD = "off the record"


def _marks(m: Message) -> str:
    """What a message is besides its status: off the record, or a made-up dream's."""
    marks = [OFF_RECORD] if m.off_record else []
    if m.meta.synthetic:
        dream = m.meta.dream
        marks.append(f"synthetic: dream, {dream.review}" if dream is not None else "synthetic")
    return " · ".join(marks)


@logs_app.command("list")
def logs_list(
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Only this session.")
    ] = None,
    n: Annotated[int, typer.Option("-n", help="How many messages.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List messages, newest first."""
    with opened() as here:
        home = here.home
        msgs = home.journal.messages(session_id=session, limit=n)
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
            " · ".join(filter(None, [m.status, _marks(m)])),
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
    with opened() as here:
        home = here.home
        msg = home.journal.message(message_id)
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
        + (f"{_marks(msg)} · " if _marks(msg) else "")
        + f"{msg.created_at.astimezone():%Y-%m-%d %H:%M:%S}",
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
    with opened() as here:
        home = here.home
        info: dict[str, Any] = {
            "path": str(home.paths.journal),
            "schema_version": home.journal.schema_version(),
            **home.journal.counts(),
        }
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        out.print(f"{key}: {value}", markup=False, highlight=False, soft_wrap=True)


SalvageOpt = Annotated[
    bool,
    typer.Option("--salvage", help="Read row by row in Python, not with the sqlite3 program."),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Recover even a file that passes the integrity check.")
]


@logs_app.command("recover")
def logs_recover(
    salvage: SalvageOpt = False, force: ForceOpt = False, as_json: JsonOpt = False
) -> None:
    """Save a damaged journal: keep a copy of it (journal.sqlite3.damaged-<time>), then bring
    every row that can be read into a fresh journal (with the sqlite3 program's `.recover` where
    it is installed, else row by row) and report how many came back."""
    from agent.recovery import recover_journal

    print_recovery(recover_journal(salvage=salvage, force=force), "journal", as_json)


def print_recovery(report: RecoveryReport, what: str, as_json: bool) -> None:
    """What a recover command did, in one line (or JSON)."""
    if as_json:
        print_json(report.model_dump())
        return
    if report.intact:
        out.print(
            f"the {what} {report.path} passed the integrity check: nothing to recover "
            "(--force recovers it anyway)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    counts = ", ".join(f"{table} {n}" for table, n in report.rows.items())
    out.print(
        f"recovered the {what} with {report.method}: {counts}; the damaged file is kept as "
        f"{report.kept}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@logs_app.command("purge")
def logs_purge(
    off_record: Annotated[
        bool,
        typer.Option("--off-record", help="Delete every message said off the record, now."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask first.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete what was said off the record (memory off) and the replies to it, in every session.

    Hearth deletes it by itself when you leave the session; this is for now, or after a crash.
    """
    if not off_record:
        raise typer.BadParameter("say what to purge: --off-record")

    with opened(write=True, borrow=False, purge_off_record=False) as here:
        home = here.home
        found = sum(home.journal.off_record_sessions().values())
        if found:
            err.print(f"{found} off-record messages will be deleted", markup=False, highlight=False)
            confirm(yes, f"Delete {found} off-record messages for good?", "this purge")
        removed = home.journal.purge_off_record() if found else 0
    if as_json:
        print_json({"removed": removed})
        return
    out.print(
        f"removed {removed} off-record messages", markup=False, highlight=False, soft_wrap=True
    )
