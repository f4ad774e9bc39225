"""Training-data commands: regenerate, choose, edit and rate replies, and export the journal."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from agent.startup import Home
    from memory.export.writer import ExportResult, Progress

out = Console()
err = Console(stderr=True)

TurnArg = Annotated[int, typer.Argument(help="A message id from `hearth logs list`.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class Kind(StrEnum):
    SFT = "sft"
    DPO = "dpo"
    KTO = "kto"
    OPENAI = "openai"
    SHAREGPT = "sharegpt"


class FileFormat(StrEnum):
    JSONL = "jsonl"
    PARQUET = "parquet"


class SystemPrompt(StrEnum):
    KEEP = "keep"
    STRIP = "strip"


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def _note(message: str) -> None:
    err.print(message, style="dim", markup=False, highlight=False)


def _open() -> Home:
    from agent.startup import open_home

    return open_home()


def _echo(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


def regenerate(
    turn: TurnArg,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A GGUF file to reply with.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a new reply beside reply TURN (or to your message TURN); the new one is kept."""
    from agent.feedback import regenerate as regenerate_reply
    from agent.startup import load_agent, open_home

    home = open_home({"model": {"path": model}} if model else None, write_lock=True)
    try:
        agent = load_agent(home)
        result = regenerate_reply(agent, turn, on_piece=None if as_json else _echo)
        versions = [m.id for m in home.journal.siblings(result.turn_id)]
    finally:
        home.close()
    if as_json:
        _print_json({**result.model_dump(), "siblings": versions})
    else:
        sys.stdout.write("\n")
        others = ", ".join(f"#{i}" for i in versions if i != result.turn_id) or "none"
        _note(f"reply #{result.turn_id} ({result.status}); other versions: {others}")
    if result.status == "interrupted":
        raise typer.Exit(130)


def choose(turn: TurnArg, as_json: JsonOpt = False) -> None:
    """Keep reply TURN over its other versions (by default the latest is kept)."""
    from agent.feedback import choose as choose_reply

    home = _open()
    try:
        kept = choose_reply(home.journal, turn)
        versions = [m.id for m in home.journal.siblings(kept.id)]
    finally:
        home.close()
    if as_json:
        _print_json({"kept": kept.id, "parent_id": kept.parent_id, "siblings": versions})
        return
    others = ", ".join(f"#{i}" for i in versions if i != kept.id) or "none"
    out.print(f"kept #{kept.id}; alternatives: {others}", markup=False, highlight=False)


def edit(
    turn: TurnArg,
    text: Annotated[str, typer.Argument(help="The corrected text.")],
    reply: Annotated[
        bool, typer.Option("--reply", help="After editing your own message, reply to it.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Store a corrected version of message TURN; the original stays.

    An edited reply becomes the kept version (a DPO pair: edit over original). An edited user
    message starts a new branch from the same point; --reply answers it at once.
    """
    from agent.feedback import edit as edit_message

    home = _open()
    try:
        edited = edit_message(home.journal, turn, text)
    finally:
        home.close()
    result = None
    if reply and edited.role == "user":
        from agent.feedback import regenerate as regenerate_reply
        from agent.startup import load_agent, open_home

        home = open_home(write_lock=True)
        try:
            result = regenerate_reply(
                load_agent(home), edited.id, on_piece=None if as_json else _echo
            )
        finally:
            home.close()
        if not as_json:
            sys.stdout.write("\n")
    if as_json:
        _print_json(
            {
                "id": edited.id,
                "edit_of": turn,
                "role": edited.role,
                "reply": result.model_dump() if result else None,
            }
        )
        return
    _note(f"#{edited.id} is the edited version of #{turn}; #{turn} stays in the journal")


def feedback(
    turn: TurnArg,
    up: Annotated[bool, typer.Option("--up", help="Thumbs up: a reply to learn from.")] = False,
    down: Annotated[bool, typer.Option("--down", help="Thumbs down: a reply to avoid.")] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the thumb (unrated).")] = False,
    note: Annotated[str | None, typer.Option("--note", help="Say what was right or wrong.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rate reply TURN: --up (+1), --down (-1) or --clear (0), and/or leave a --note."""
    if up + down + clear > 1:
        raise typer.BadParameter("give one of --up, --down and --clear")
    if not (up or down or clear) and note is None:
        raise typer.BadParameter("give --up, --down, --clear or --note TEXT")
    from agent.feedback import feedback as rate

    rating = 1 if up else -1 if down else 0 if clear else None
    home = _open()
    try:
        found = rate(home.journal, turn, rating=rating, note=note)
    finally:
        home.close()
    if as_json:
        _print_json(found.model_dump(mode="json"))
        return
    thumb = {1: "thumbs up", -1: "thumbs down", 0: "unrated"}[found.rating]
    extra = f"; note: {found.note}" if found.note else ""
    out.print(f"#{turn}: {thumb}{extra}", markup=False, highlight=False)


def _date(value: str | None, *, end: bool) -> datetime | None:
    """An ISO date or date-time; a bare date --until includes that whole day."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1 if end else 0), datetime.min.time())
        return datetime.fromisoformat(value)
    except ValueError:
        flag = "--until" if end else "--since"
        raise typer.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM", param_hint=flag
        ) from None


def export(
    kind: Annotated[Kind, typer.Argument(help="sft, dpo, kto, openai or sharegpt.")],
    file_format: Annotated[FileFormat, typer.Option("--format", help="File format.")] = (
        FileFormat.JSONL
    ),
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: exports/ in the data dir)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Replies written on or after this date.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Replies written before this date-time (a date: that day)."),
    ] = None,
    session: Annotated[
        int | None, typer.Option("--session", "-s", help="Only this session.")
    ] = None,
    min_rating: Annotated[
        int | None,
        typer.Option(
            "--min-rating",
            min=-1,
            max=1,
            help="Train only replies rated at least this (-1, 0, 1). Default 0, so thumbs-down "
            "replies are left out; -1 for kto, whose negatives they are. A `messages` row "
            "trains every reply in it, so it stops before the first reply rated below this.",
        ),
    ] = None,
    only_new: Annotated[
        bool, typer.Option("--only-new", help="Only replies no earlier export of KIND trained.")
    ] = False,
    include_synthetic: Annotated[
        bool,
        typer.Option("--include-synthetic", help="Include synthetic (dream loop) messages."),
    ] = False,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace emails, phone and card numbers, IBANs, SSNs and IP addresses "
            "(presidio-analyzer, offline); if redaction fails nothing is written.",
        ),
    ] = False,
    context_frozen: Annotated[
        bool,
        typer.Option(
            "--context-frozen",
            help="One row per reply after its prompt exactly as the model saw it (memories "
            "included), so only the reply is trained: sft writes prompt/completion, openai "
            "weights only the last reply. dpo and kto always use that prompt.",
        ),
    ] = False,
    system_prompt: Annotated[
        SystemPrompt,
        typer.Option(
            "--system-prompt",
            help="keep or strip the system message (the persona); strip also removes it from "
            "the exact prompts of --context-frozen, dpo and kto.",
        ),
    ] = SystemPrompt.KEEP,
    as_json: JsonOpt = False,
) -> None:
    """Export the journal as training data, with a dataset card and a ledger entry.

    sft: TRL `messages`, every reply trained; with --context-frozen, `prompt` / `completion`.

    dpo: `prompt` / `chosen` / `rejected`, from kept versus other versions and from edits.

    kto: `prompt` / `completion` / `label`, from thumbs up and down.

    openai: `messages` with a `weight` on each reply. sharegpt: `conversations` (`from`, `value`).
    """
    from memory.export.writer import ExportOptions, default_export_path, run_export

    home = _open()
    try:
        frozen = context_frozen and kind.value in ("sft", "openai", "sharegpt")
        if out_path is None or out_path.is_dir():
            folder = out_path or home.paths.data_dir / "exports"
            target = default_export_path(folder, kind.value, file_format.value, frozen)
        else:
            target = out_path
        options = ExportOptions.model_validate(
            {
                "kind": kind.value,
                "file_format": file_format.value,
                "out": target.absolute(),
                "since": _date(since, end=False),
                "until": _date(until, end=True),
                "session_id": session,
                "min_rating": min_rating,
                "only_new": only_new,
                "include_synthetic": include_synthetic,
                "redact": redact,
                "context_frozen": context_frozen,
                "system_prompt": system_prompt.value,
                "command": shlex.join(["hearth", *sys.argv[1:]]),
            }
        )
        result = _run_with_progress(lambda progress: run_export(home.journal, options, progress))
    finally:
        home.close()
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    if result.path is None:
        out.print(f"nothing to export: no {kind.value} rows match", markup=False, highlight=False)
        return
    out.print(
        f"wrote {result.rows} {kind.value} rows to {result.path}\ncard: {result.card}",
        markup=False,
        highlight=False,
    )


def _run_with_progress(job: Callable[[Progress], ExportResult]) -> ExportResult:
    """Run an export with a progress bar on the terminal (none when output is piped)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return job(progress)


def register(app: typer.Typer) -> None:
    """Add the training-data commands to the `hearth` app."""
    app.command()(regenerate)
    app.command()(choose)
    app.command()(edit)
    app.command()(feedback)
    app.command()(export)
