"""`hearth bench retrieval`: evidence recall of Hearth's memory (benchmarks.retrieval_*)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import turns_bar as _turns_bar
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out


def bench_retrieval(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="Conversations with questions, in the neutral format.", dir_okay=False
        ),
    ],
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_chat: Annotated[
        bool,
        typer.Option(
            "--as-chat",
            help="Remember as a chat would: only the user's turns, through the chat's write path.",
        ),
    ] = False,
    as_json: JsonBenchOpt = False,
) -> None:
    """Evidence recall@1/5/10/20 and MRR of Hearth's memory (each conversation imported into a
    fresh temporary data dir, questions asked through store.search) against BM25, dense and
    hybrid retrieval over the same raw turns."""
    from benchmarks.retrieval_recall import SYSTEMS, run_retrieval_bench

    with _turns_bar(as_json) as bar:
        report = run_retrieval_bench(dataset, limit=limit, as_chat=as_chat, **bar)
    if as_json:
        sys.stdout.write(report.model_dump_json(by_alias=True) + "\n")
        return
    table = Table("system", "n", "R@1", "R@5", "R@10", "R@20", "MRR",
                  title=f"evidence retrieval: {report.dataset}")  # fmt: skip
    for name in SYSTEMS:
        scores = report.systems[name]
        rows = [(name, scores), *((f"  category {c}", s) for c, s in scores.per_category.items())]
        for label, s in rows:
            table.add_row(
                label, str(s.questions), f"{s.recall_1:.3f}", f"{s.recall_5:.3f}",
                f"{s.recall_10:.3f}", f"{s.recall_20:.3f}", f"{s.mrr:.3f}",
            )  # fmt: skip
        table.add_section()
    out.print(table)
    t = report.timings
    best = max(report.systems[s].recall_10 for s in SYSTEMS if s != "hearth")
    hearth = report.systems["hearth"].recall_10
    out.print(
        f"recall@10 hearth/best baseline: {hearth / best if best else 0.0:.2f}; "
        f"{report.skipped} questions skipped (no evidence turn in the conversation); "
        f"ingest {t.ingest_s:.0f} s, search p50 {t.query_p50_ms:.1f} ms, "
        f"p95 {t.query_p95_ms:.1f} ms",
        highlight=False,
    )
