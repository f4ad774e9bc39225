"""`hearth bench embedder`: the ONNX embedder against torch (benchmarks.embedder_parity)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from tui.cli.options import JsonBenchOpt
from tui.cli.output import err, out


def bench_embedder(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="Conversations with questions, in the neutral format.", dir_okay=False
        ),
    ],
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_json: JsonBenchOpt = False,
) -> None:
    """The embedder Hearth runs (the bundled model's ONNX export, no torch) against the same
    model through sentence-transformers: the cosine of their vectors for every turn and
    question, each question's 10 nearest turns, and each one's load time, memory and speed (each
    in a fresh process)."""
    from benchmarks.embedder_parity import run_embedder_bench

    columns = (TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=as_json) as progress:
        task = progress.add_task("loading", total=None)
        report = run_embedder_bench(
            dataset, limit=limit, describe=lambda text: progress.update(task, description=text)
        )
    if as_json:
        sys.stdout.write(report.model_dump_json() + "\n")
        return
    table = Table("embedder", "load", "RSS loaded", "peak RSS", "texts/s", "torch imported",
                  title=f"embedder: {report.dataset}, {report.texts} texts")  # fmt: skip
    for arm in report.arms:
        table.add_row(
            arm.name, f"{arm.load_s:.2f} s", f"{arm.load_rss_mib:.0f} MiB",
            f"{arm.peak_rss_mib:.0f} MiB", f"{arm.texts_per_s:.1f}", str(arm.imported_torch),
        )  # fmt: skip
    out.print(table)
    out.print(
        f"cosine onnx/torch: min {report.min_cosine:.6f}, mean {report.mean_cosine:.6f}; "
        f"top-10 turns of {report.questions} questions: {report.same_top10:.1%} identical, "
        f"{report.same_top10_set:.1%} the same set",
        highlight=False,
    )
