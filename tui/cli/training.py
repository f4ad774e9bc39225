"""`hearth export`: the journal as training data, with a dataset card and a ledger entry."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from agent.access import opened
from agent.training_data import (
    EXPORT_KINDS,
    ExportKind,
    candidates_refused,
    in_words,
    writes_frozen,
)
from tui.cli.options import JsonTextOpt
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from agent.training_data import ExportResult, Progress


if TYPE_CHECKING:

    class ExportKindChoice(StrEnum):
        """What `hearth export` writes (not a memory's kind: see memory.graph.kinds)."""

else:
    # One choice per registered kind (memory/export/kinds.py): a new kind is offered as it is.
    ExportKindChoice = StrEnum("ExportKindChoice", {k.upper(): k for k in EXPORT_KINDS})


class FileFormat(StrEnum):
    JSONL = "jsonl"
    PARQUET = "parquet"


class SystemPrompt(StrEnum):
    KEEP = "keep"
    STRIP = "strip"


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
    kind: Annotated[ExportKindChoice, typer.Argument(help=f"{in_words()}.")],
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
        typer.Option(
            "--include-synthetic",
            help="Include dreams accepted or edited in review (never pending or rejected ones).",
        ),
    ] = False,
    include_imported: Annotated[
        bool,
        typer.Option(
            "--include-imported",
            help="Include replies other models wrote, brought in by `hearth import` (their "
            "providers' terms may restrict training on them).",
        ),
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
    include_sensitive: Annotated[
        bool,
        typer.Option(
            "--include-sensitive",
            help="Keep rows about health, feelings or other people's private matters (a "
            "sensitive memory's source, or text that reads so); left out by default.",
        ),
    ] = False,
    candidates: Annotated[
        bool,
        typer.Option(
            "--candidates",
            help="Only training candidates: replies whose mean log-probability dropped by at "
            "least 0.5 nats a token without their recalled notes (`hearth score` first; an "
            "unscored reply is never one). sft and sharegpt need --context-frozen; dpo keeps "
            "pairs whose chosen reply is one; openai weights only them.",
        ),
    ] = False,
    as_json: JsonTextOpt = False,
) -> None:
    """Export the journal as training data, with a dataset card and a ledger entry.

    sft: TRL `messages`, every reply trained; with --context-frozen, `prompt` / `completion`.

    dpo: `prompt` / `chosen` / `rejected`, from kept versus other versions and from edits.

    kto: `prompt` / `completion` / `label`, from thumbs up and down.

    openai: `messages` with a `weight` on each reply. sharegpt: `conversations` (`from`, `value`).

    Every row carries score_full, score_no_notes and score_drop (null when unscored).
    """
    from agent.training_data import export as run_export
    from agent.training_data import export_path, options

    name = cast("ExportKind", kind.value)
    if candidates and candidates_refused(name, context_frozen):
        raise typer.BadParameter(
            f"{kind.value} rows train whole conversations; add --context-frozen",
            param_hint="--candidates",
        )
    with opened() as here:
        home = here.home
        frozen = writes_frozen(name, context_frozen)
        if out_path is None or out_path.is_dir():
            folder = out_path or home.paths.data_dir / "exports"
            target = export_path(folder, name, file_format.value, frozen)
        else:
            target = out_path
        chosen = options(
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
                "include_imported": include_imported,
                "redact": redact,
                "include_sensitive": include_sensitive,
                "context_frozen": context_frozen,
                "system_prompt": system_prompt.value,
                "candidates": candidates,
                "command": shlex.join(["hearth", *sys.argv[1:]]),
            }
        )
        result = _run_with_progress(lambda progress: run_export(home, chosen, progress))
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    left_out = (
        f"; {result.sensitive_left_out} sensitive rows left out (--include-sensitive keeps them)"
        if result.sensitive_left_out
        else ""
    )
    if result.candidates is not None:
        # So a user whose replies were never scored knows why nothing or little was kept.
        c = result.candidates
        out.print(
            f"candidates: {c.candidates} of {c.replies} replies, {result.rows} rows kept"
            + (f"; {c.unscored} replies never scored (run `hearth score`)" if c.unscored else ""),
            markup=False,
            highlight=False,
        )
    if result.path is None:
        out.print(
            f"nothing to export: no {kind.value} rows match{left_out}",
            markup=False,
            highlight=False,
        )
        return
    out.print(
        f"wrote {result.rows} {kind.value} rows to {result.path}{left_out}\ncard: {result.card}",
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
