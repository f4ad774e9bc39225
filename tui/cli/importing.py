"""`hearth import`: conversations from another app or a data set, brought in as history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from agent.access import opened
from agent.importing.formats import FORMATS
from tui.cli.options import DATE_FORMATS, JsonTextOpt, as_local
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.face import Journal, MemoryStore
    from agent.importing.conversations import ImportReport
    from agent.importing.history import ThreadsReport
    from agent.importing.plan import ImportOptions, Summary
    from agent.importing.records import Dataset
    from agent.importing.threads import Thread

R = TypeVar("R")


def _known(name: str) -> str:
    if name != "auto" and name not in FORMATS:
        raise typer.BadParameter(f"{name!r} is not one of auto, {', '.join(FORMATS)}")
    return name


class TurnsPerSecond(ProgressColumn):
    """How many messages a second the import goes through."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} turns/s" if speed else "- turns/s")


def import_file(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="The export: its .zip, the folder it unpacks to, or its files (a JSON data "
            "set for the neutral format; logs.db for llm).",
            show_default=False,
        ),
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="|".join(("auto", *FORMATS)),
            callback=_known,
            help="The export's format; auto tells it from the files.",
        ),
    ] = "auto",
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show the conversations, messages, dates, speakers, what would be skipped and "
            "how many memories would be made; write nothing.",
        ),
    ] = False,
    journal_only: Annotated[
        bool,
        typer.Option("--journal-only", help="Journal the conversations; remember nothing."),
    ] = False,
    remember: Annotated[
        bool,
        typer.Option(
            "--remember",
            help="Remember the person's messages of a SillyTavern chat (journaled only, else).",
        ),
    ] = False,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            formats=DATE_FORMATS,
            help="Only conversations with a message from this date (local time) on.",
        ),
    ] = None,
    conversation: Annotated[
        list[str] | None,
        typer.Option("--conversation", help="Only this conversation (its id in the export)."),
    ] = None,
    include_instructions: Annotated[
        bool,
        typer.Option(
            "--include-instructions",
            help="Bring ChatGPT's custom instructions in as one memory to review.",
        ),
    ] = False,
    as_json: JsonTextOpt = False,
) -> None:
    """Import conversations as history. From another app (ChatGPT, Claude, SillyTavern, Open
    WebUI, llm) the person's messages go through the same write path as a chat and the other
    model's replies are journaled as its own, never remembered, scored or exported (unless
    `hearth export --include-imported`); a second run adds only what is new. From a neutral
    data set every turn becomes a message by its speaker, dated with its session."""
    from agent.importing.files import export_files
    from agent.importing.formats import detect, get
    from agent.importing.records import Dataset

    # The files are read and checked before the data dir is touched: a bad file changes nothing.
    files = export_files(paths)
    chosen = detect(files) if format == "auto" else get(format)
    parsed = chosen.read(files)
    if isinstance(parsed, Dataset):
        if dry_run or journal_only or since or conversation:
            raise typer.BadParameter(
                "--dry-run, --journal-only, --since and --conversation are for other apps' "
                "exports, not the neutral format",
                param_hint="--format neutral",
            )
        _neutral(parsed, as_json)
        return
    from agent.importing.plan import ImportOptions, select, summarize
    from memory.settings import load_settings, resolve_paths

    options = ImportOptions(
        since=as_local(since),
        conversations=conversation or [],
        remember=not journal_only and (chosen.remembers or remember),
        include_instructions=include_instructions,
        user_name=load_settings(resolve_paths()).chat.user_name,
    )
    threads = select(parsed, options)
    summary = summarize(chosen.name, threads, options)
    if dry_run:
        _show_summary(summary, as_json)
        return
    report = _threads(threads, summary, options, as_json)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    _threads_summary(report)


def _progress(as_json: bool) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    timing = (TurnsPerSecond(), TimeElapsedColumn(), TimeRemainingColumn())
    return Progress(*columns, *timing, console=err, transient=as_json)


def _with_store(work: Callable[[Journal, MemoryStore | None], R], remember: bool) -> R:
    """Run `work(journal, store)` on the data dir, the store None when nothing is remembered."""
    from agent.importing.conversations import CachedEmbedder
    from agent.upkeep import make_embedder

    with opened(write=True) as here:
        home = here.home
        if not remember:
            return work(home.journal, None)
        memory = home.settings.memory
        embedder = CachedEmbedder(
            make_embedder(memory.embedder, batch_size=memory.embed_batch_size)
        )
        # Closed with the data dir.
        return work(home.journal, home.open_store(embedder))


def _neutral(dataset: Dataset, as_json: bool) -> None:
    from agent.importing.conversations import import_dataset

    def work(journal: Journal, store: MemoryStore | None) -> ImportReport:
        assert store is not None
        total = sum(len(c.turns()) for c in dataset.conversations)
        with _progress(as_json) as bar:
            task = bar.add_task(f"importing {escape(dataset.name)}", total=total)
            return import_dataset(journal, store, dataset, advance=lambda n: bar.advance(task, n))

    report = _with_store(work, remember=True)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    _summary(report)


def _threads(
    threads: list[Thread], summary: Summary, options: ImportOptions, as_json: bool
) -> ThreadsReport:
    from agent.importing.history import import_threads

    def work(journal: Journal, store: MemoryStore | None) -> ThreadsReport:
        with _progress(as_json) as bar:
            task = bar.add_task(f"importing {summary.format}", total=summary.messages)
            return import_threads(
                journal, store, threads, summary, options, advance=lambda n: bar.advance(task, n)
            )

    return _with_store(work, remember=options.remember)


def _line(text: str) -> None:
    out.print(text, markup=False, highlight=False)


def _show_summary(summary: Summary, as_json: bool) -> None:
    if as_json:
        print_json({**summary.model_dump(mode="json"), "dry_run": True})
        return
    span = "no dates"
    if summary.first and summary.last:
        span = f"{summary.first:%Y-%m-%d} to {summary.last:%Y-%m-%d}"
    _line(
        f"{summary.format}: {summary.conversations} conversations, {summary.messages} messages "
        f"({summary.person} the person's, {summary.replies} replies by other models), {span}"
    )
    _line(f"speakers: {', '.join(summary.speakers) or 'none'}")
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.items())
    _line(f"would skip: {skipped or 'nothing'}")
    _line(f"would make about {summary.memories} memories")
    for text in summary.instructions:
        first = text.splitlines()[0] if text else ""
        _line(f"custom instructions (left out without --include-instructions): {first}")
    _line("dry run: nothing was written")


def _threads_summary(report: ThreadsReport) -> None:
    for c in report.imported:
        if c.added or c.remembered:
            _line(
                f"{c.title or c.conversation}: {c.added} messages into session {c.session_id}, "
                f"{c.remembered} remembered"
            )
    skipped = ", ".join(f"{n} {why}" for why, n in report.skipped.items())
    _line(
        f"imported {report.added} new messages of {report.messages} in "
        f"{report.conversations} {report.format} conversations ({report.made} memories); "
        f"skipped: {skipped or 'nothing'}; `hearth logs list` shows them"
    )


def _summary(report: ImportReport) -> None:
    for c in report.imported:
        out.print(
            f"{c.conversation}: {len(c.message_ids)} turns into session {c.session_id}, "
            f"{c.extracted} extracted memories, {c.memories} conversation memories",
            markup=False,
            highlight=False,
        )
    for conversation in report.skipped:
        out.print(f"{conversation}: already imported, skipped", markup=False, highlight=False)
    out.print(
        f"imported {len(report.imported)} conversations ({report.turns} turns) "
        f"from {report.dataset}; `hearth logs list` shows them",
        markup=False,
        highlight=False,
    )
