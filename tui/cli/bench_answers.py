"""`hearth bench answers`: does memory make the reply right (the personal set)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tui.cli.options import JsonBenchOpt
from tui.cli.output import err, out, print_json


def bench_answers(
    personal: Annotated[
        bool,
        typer.Option(
            "--personal",
            help="The built-in personal set: twelve things a person says about themselves, "
            "each asked back in a later session.",
        ),
    ] = False,
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="A conversation data set (not built yet).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A GGUF (default: the embedded model).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed, the same in both arms.")] = 1,
    facts: Annotated[
        int, typer.Option(help="Only the first N of the twelve (a quick check).", min=1, max=12)
    ] = 12,
    as_json: JsonBenchOpt = False,
) -> None:
    """Questions about what the person said, asked in later sessions through the chat's own
    turn loop, with memory on and off: answered, echoed notes, borrowed identity, wall time."""
    if dataset is not None or not personal:
        err.print(
            "bench answers --dataset is not built yet; run `hearth bench answers --personal`",
            highlight=False,
        )
        raise typer.Exit(2)
    from agent.bench.answers_personal import PERSONAL, run_personal_bench
    from agent.runtime.model_files import embedded_model
    from memory.settings import load_settings, resolve_paths

    # The user's model settings (the CPU path), from config and HEARTH_*; nothing else of theirs.
    model_settings = load_settings(resolve_paths()).model
    columns = (TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=as_json) as bar:
        task = bar.add_task("starting")
        result = run_personal_bench(
            model or embedded_model(),
            model_settings=model_settings,
            seed=seed,
            progress=lambda text: bar.update(task, description=text),
            facts=PERSONAL[:facts],
        )
    if as_json:
        print_json(result.model_dump())
        return
    table = Table(
        "memory", "answered", "remembered", "echoed", "borrowed", "seconds",
        title=f"personal set, {result.model}, seed {result.seed}",
    )  # fmt: skip
    for arm in (result.on, result.off):
        n = result.questions
        table.add_row(
            "on" if arm.memory else "off", f"{arm.answered}/{n}", f"{arm.remembered}/{n}",
            f"{arm.echoed}/{2 * n}", f"{arm.borrowed}/{2 * n}", f"{arm.seconds:.0f}",
        )  # fmt: skip
    out.print(table)
    for r in result.on.replies:
        mark = "yes" if r.answered else "no "
        out.print(f"{mark} {r.question} -> {r.reply[:100]!r}", markup=False, highlight=False)
    for b in result.on.borrowings:
        out.print(f"borrowed (memory on): {b}", markup=False, highlight=False)
