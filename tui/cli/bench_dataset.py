"""`hearth bench retrieval`, `extraction` and `understanding`: the memory measured on a data set."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt, per_100, share
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import turns_bar as _turns_bar
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


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


def bench_understanding(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="Long-term conversations, in the neutral format.", dir_okay=False
        ),
    ],
    model: BenchModelOpt = None,
    sample: Annotated[
        int,
        typer.Option("--sample", min=1, help="The person's messages to measure, drawn at random."),
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random sample.")] = 0,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_json: JsonBenchOpt = False,
) -> None:
    """Bits per token of a random sample of the person's messages (from every session after
    the first) after the recent turns alone and with the notes Hearth recalls for them, each
    from the memory as it stood before the message (`hearth understanding` on a data set)."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.understanding_bits import run_understanding_bench

    path = model or embedded_model()
    with _turns_bar(as_json) as bar:
        report = run_understanding_bench(
            dataset, path, _model_settings(), sample=sample, seed=seed, limit=limit, **bar
        )
    if as_json:
        print_json(report.model_dump())
        return
    table = Table(
        "conversation", "messages", "bits alone", "with memory", "saved", "less surprising",
        "had notes", title=f"understanding: {report.dataset}, {report.model}",
    )  # fmt: skip
    for label, f in [
        *((c.conversation, c) for c in report.conversations),
        ("all", report.overall),
    ]:
        table.add_row(
            label, str(f.messages), f"{f.bits_alone:.3f}", f"{f.bits_with:.3f}",
            f"{f.saved:+.3f}", f"{f.less_surprising:.1%}", str(f.with_notes),
        )  # fmt: skip
    out.print(table)
    out.print(
        f"{report.overall.messages} of {report.candidates:,} later-session messages (seed "
        f"{report.seed}; {report.skipped} too long); ingest {report.ingest_s:.0f} s, "
        f"reading {report.scoring_s:.0f} s ({report.per_message_s or 0:.2f} s a message).\n"
        f"{report.rule}",
        highlight=False,
    )
