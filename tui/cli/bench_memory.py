"""`hearth bench memory`: the store's add and search speed (benchmarks.memory_speed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from tui.cli.options import JsonBenchOpt
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from benchmarks.memory_speed import SizeResult


def _table(results: list[SizeResult]) -> Table:
    table = Table(
        "memories",
        "add/s",
        "embed/s",
        "search p50",
        "search p95",
        "no-embed p50",
        "no-embed p95",
        title="memory store",
    )
    for r in results:
        table.add_row(
            f"{r.n:,}",
            f"{r.add_per_s:,.0f}" + (" *" if r.precomputed else ""),
            f"{r.embed_per_s:,.0f}",
            f"{r.search_p50_ms:.1f} ms",
            f"{r.search_p95_ms:.1f} ms",
            f"{r.search_vec_p50_ms:.1f} ms",
            f"{r.search_vec_p95_ms:.1f} ms",
        )
    return table


def bench_memory(
    n: Annotated[str, typer.Option("--n", help="Store sizes, comma-separated.")] = (
        "1000,10000,100000"
    ),
    pool: Annotated[
        int,
        typer.Option(
            "--pool",
            help="Above this size, embed only this many texts and add the rest with "
            "perturbed copies of their vectors (marked * in the output).",
        ),
    ] = 10000,
    queries: Annotated[int, typer.Option("--queries", help="Searches timed per size.")] = 200,
    chroma: Annotated[
        str,
        typer.Option(
            "--chroma",
            help='Where the index goes: "embedded" or a Chroma server\'s URL (memory.chroma); '
            "the bench's collection is deleted from the server afterwards.",
        ),
    ] = "embedded",
    as_json: JsonBenchOpt = False,
) -> None:
    """Add throughput and search latency (p50/p95) at each size, in a temporary data dir."""
    from benchmarks.memory_speed import load_embedder, run_memory_bench

    sizes = [int(s.replace("_", "")) for s in n.split(",") if s.strip()]
    cache = load_embedder()  # before the progress bars: loading the model is not measured
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=as_json) as progress:
        tasks: list[TaskID] = []
        report = run_memory_bench(
            sizes,
            pool,
            queries,
            cache,
            start=lambda text, total: tasks.append(progress.add_task(text, total=total)),
            describe=lambda text: progress.update(tasks[-1], description=text),
            advance=lambda k: progress.advance(tasks[-1], k),
            chroma=chroma,
        )
    if as_json:
        print_json(report.model_dump())
        return
    machine = report.machine
    out.print(_table(report.results))
    out.print(
        f"{machine.cpus} cores, {machine.machine}, Python {machine.python}, "
        f"{machine.date}, index: {report.chroma}. * = vectors precomputed: only {pool:,} texts "
        "were embedded; add/s then excludes embedding (see embed/s). Search p95 target: "
        "< 50 ms at 100k excluding the query embedding.",
        highlight=False,
    )
