"""`hearth bench import`: an import's turns a second (benchmarks.import_speed)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tui.cli.options import JsonBenchOpt
from tui.cli.output import err, out


def bench_import(
    dataset: Annotated[
        Path,
        typer.Option("--dataset", help="Conversations in the neutral format.", dir_okay=False),
    ],
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_json: JsonBenchOpt = False,
) -> None:
    """Turns a second of an import (as `hearth import` runs it, each conversation into a fresh
    temporary data dir) against the embedder's own ceiling in the same run: the same embedder
    calls made again, alone."""
    from benchmarks.import_speed import run_import_bench

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    timing = (TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, *timing, console=err, transient=as_json) as progress:
        task = progress.add_task("loading", total=None)
        report = run_import_bench(
            dataset,
            limit=limit,
            on_total=lambda n: progress.update(task, total=n),
            advance=lambda n: progress.advance(task, n),
            describe=lambda text: progress.update(task, description=text),
        )
    if as_json:
        sys.stdout.write(report.model_dump_json() + "\n")
        return
    r = report
    out.print(
        f"{r.turns} turns in {r.import_s:.1f} s: {r.turns_per_s:.1f} turns/s; "
        f"the embedder alone, the same {r.texts_embedded} texts: {r.embed_s:.1f} s, "
        f"{r.ceiling_turns_per_s:.1f} turns/s; import/ceiling {r.share_of_ceiling:.2f}",
        highlight=False,
    )
