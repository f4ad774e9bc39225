"""`hearth bench understanding`: surprise with memory and not (benchmarks.understanding_bits)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import turns_bar as _turns_bar
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


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
