"""`hearth import`: conversations from another app or a data set, brought in as history."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tui.cli.options import JsonTextOpt
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from agent.importing.conversations import ImportReport


class Format(StrEnum):
    NEUTRAL = "neutral"


def import_file(
    file: Annotated[Path, typer.Argument(help="A JSON file of conversations.", dir_okay=False)],
    format: Annotated[
        Format, typer.Option("--format", help="The file's format (see the README).")
    ] = Format.NEUTRAL,
    as_json: JsonTextOpt = False,
) -> None:
    """Import conversations as history: every turn becomes a message by its speaker, dated
    with its session, and goes through the same write path as a chat. Conversations already
    imported from the same data set are skipped."""
    from agent.importing.conversations import CachedEmbedder, import_dataset, load_dataset
    from agent.startup import open_home
    from memory.graph.embedder import make_embedder
    from memory.graph.store import MemoryStore

    # The file is checked before the data dir is touched: a bad file changes nothing.
    dataset = load_dataset(file, format.value)
    home = open_home(write_lock=True, borrow=True)
    try:
        memory = home.settings.memory
        embedder = CachedEmbedder(
            make_embedder(memory.embedder, batch_size=memory.embed_batch_size)
        )
        store = MemoryStore.open(
            home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
        )
        try:
            total = sum(len(c.turns()) for c in dataset.conversations)
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, TimeElapsedColumn(), console=err, transient=as_json) as bar:
                task = bar.add_task(f"importing {escape(dataset.name)}", total=total)
                report = import_dataset(
                    home.journal, store, dataset, advance=lambda n: bar.advance(task, n)
                )
        finally:
            store.close()
    finally:
        home.close()
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    _summary(report)


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
