"""What a forget shows: its preview, its report, and what it kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from agent.face import ForgetReport, Memory, OutsideBackup
from tui.cli.forget_backups import show as show_backups
from tui.cli.output import err, out, print_json, warn

if TYPE_CHECKING:
    from agent.face import ForgetPreview, MemoryStore


def usage_error(message: str) -> NoReturn:
    """A bad argument, said in one line (exit 2, like click's usage errors)."""
    err.print(f"[red]hearth:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


# What each journal count of a forget counts, in words.
_PLACES = {
    "message_texts_redacted": "message texts",
    "prompts_redacted": "stored prompts",
    "notes_shown_redacted": "recalled notes kept with a message",
    "session_titles_redacted": "session titles",
    "feedback_notes_redacted": "feedback notes",
    "prompts_with_note_removed": "stored prompts or notes that showed it",
}


def print_preview(preview: ForgetPreview, phrase: bool, to: Console = out) -> None:
    count = len(preview.memories)
    to.print(Text(f"would forget {count} {'memory' if count == 1 else 'memories'}"))
    for memory in preview.memories[:5]:
        to.print(Text(f"  {memory.id}: {memory.text}"))
    if count > 5:
        to.print(Text(f"  … and {count - 5} more"))
    places = [f"{n} {_PLACES.get(what, what)}" for what, n in preview.journal.items()]
    places.append(f"{preview.log_lines} log lines")
    places.append(f"{len(preview.exports.inside)} export files in exports/")
    to.print(
        Text(("would redact " if phrase else "would remove its notes from ") + ", ".join(places))
    )
    for snippet in preview.snippets:
        to.print(Text(f"  {snippet}"))
    print_elsewhere([e.model_dump() for e in preview.exports.elsewhere], to)
    show_backups(preview.backups, "list", done=False, to=to)
    for path in preview.copies:
        to.print(Text(f"would delete a safety copy that holds it: {path}"), soft_wrap=True)


def print_elsewhere(listed: list[dict[str, Any]], to: Console = out) -> None:
    """Exports outside the data dir: never touched, each named with its path."""
    for entry in listed:
        if not entry["exists"]:
            line = f"export elsewhere, no longer there: {entry['path']}"
        elif entry.get("holds_phrase") is False:
            line = f"export elsewhere, not touched (does not hold it): {entry['path']}"
        else:
            line = f"export elsewhere, NOT touched, still holds it: {entry['path']}"
        to.print(Text(line), soft_wrap=True)


def print_report(report: ForgetReport) -> None:
    out.print(Text(f"forgot {len(report.memory_ids)} memories: {' '.join(report.memory_ids)}"))
    table = Table("store", "what", "count", box=None)
    for name in ("memory_db", "chroma", "journal", "log", "exports"):
        for what, count in getattr(report, name).items():
            table.add_row(name, what, str(count))
    out.print(table)
    if unreadable := report.exports.get("files_unreadable"):
        warn(f"{unreadable} export files in exports/ could not be read, so still hold it "
             "(named in hearth.log): remove them yourself")  # fmt: skip
    print_elsewhere(report.exports_elsewhere)
    show_backups([OutsideBackup(**b) for b in report.backups_elsewhere], "list", done=True)
    for path in report.copies_deleted:
        out.print(Text(f"deleted a safety copy that held it: {path}"), soft_wrap=True)


def show_preview(preview: ForgetPreview, as_json: bool, *, phrase: bool) -> None:
    if as_json:
        print_json(preview.model_dump(mode="json"))
    else:
        print_preview(preview, phrase)


COMPACTION = (
    "the Chroma server's own files may keep the old vectors' bytes until it compacts them "
    "(its write-ahead log and index files are the server's to clean)"
)


def show_report(report: ForgetReport, as_json: bool, *, server: str | None = None) -> None:
    """`server`: the Chroma server's URL when the index is on one (its compaction note)."""
    if as_json:
        extra = {"chroma_server_note": f"{server}: {COMPACTION}"} if server else {}
        print_json({**report.model_dump(mode="json"), **extra})
        return
    print_report(report)
    if server:
        out.print(Text(f"forgotten on the server at {server} too; {COMPACTION}"), soft_wrap=True)


def chroma_server(store: MemoryStore) -> str | None:
    return None if store.settings.chroma == "embedded" else store.settings.chroma


def say_conversation_kept(memory: Memory, *, remote: bool = False) -> None:
    where = (
        f"message {', '.join(str(i) for i in memory.provenance)} still says it"
        if memory.provenance
        else "messages that say it keep"
    )
    # --everywhere runs where the data dir is: on that machine, for a Hearth elsewhere.
    there = " (run there)" if remote else ""
    out.print(
        Text(
            f"the conversation is kept: {where} in its own words; "
            f"`hearth memory forget {memory.id} --everywhere`{there} would remove those words too"
        ),
        soft_wrap=True,
    )
