"""`hearth bench extraction`: what the write path remembers (benchmarks.extraction_recall)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import per_100, share
from tui.cli.bench_common import turns_bar as _turns_bar
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


def bench_extraction(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="Conversations with questions, in the neutral format.", dir_okay=False
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", "-m", help="Measure the model extractor with this GGUF (default: the rules)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_json: JsonBenchOpt = False,
) -> None:
    """Whether the write path (not the import-time memories) made a memory that cites each
    question's evidence turn and states it: overall, per question category and per memory
    kind, with how many memories it made per 100 turns."""
    from benchmarks.extraction_recall import extractor_for, run_extraction_bench

    name, extractor = extractor_for(model, _model_settings())
    with _turns_bar(as_json) as bar:
        report = run_extraction_bench(
            dataset, extractor=extractor, extractor_name=name, limit=limit, **bar
        )
    if as_json:
        print_json(report.model_dump())
        return
    title = f"extraction coverage: {report.dataset}, {report.extractor}"
    table = Table("evidence turns", "n", "cited", "stated", title=title)
    rows = [
        ("all", report.overall),
        *((f"category {c}", v) for c, v in report.per_category.items()),
    ]
    for label, c in rows:
        table.add_row(
            label, str(c.evidence), f"{c.cited} ({share(c.cited, c.evidence)})",
            f"{c.stated} ({share(c.stated, c.evidence)})",
        )  # fmt: skip
    out.print(table)
    kinds = Table(
        "kind", "memories", "per 100 turns", "best citing", "best stating",
        title="per memory kind (evidence turns by the kind of their best memory)",
    )  # fmt: skip
    for kind, k in report.per_kind.items():
        kinds.add_row(
            kind, str(k.memories), per_100(k.memories, report.turns),
            str(k.cited), f"{k.stated} ({share(k.stated, report.overall.evidence)})",
        )  # fmt: skip
    out.print(kinds)
    actions = ", ".join(f"{n} {a}" for a, n in report.actions.items())
    out.print(
        f"{report.conversations} conversations, {report.turns:,} turns: {report.memories:,} "
        f"memories made ({per_100(report.memories, report.turns)} per 100 turns; actions: "
        f"{actions}); {report.turns_with_memory:,} turns cited by one. Distinct evidence turns "
        f"stated: {report.distinct_stated} of {report.distinct_evidence} "
        f"({share(report.distinct_stated, report.distinct_evidence)}). Questions with every "
        f"evidence turn stated: {report.questions_stated} of {report.questions} "
        f"({share(report.questions_stated, report.questions)}); {report.skipped} skipped (no "
        f"evidence turn in the conversation). {report.seconds:.0f} s.\n{report.rule}",
        highlight=False,
    )
