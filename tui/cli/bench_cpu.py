"""`hearth bench threads` and `cpu`: llama.cpp's speed on this CPU (benchmarks.cpu_speed)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


def bench_threads(
    model: BenchModelOpt = None,
    tokens: Annotated[int, typer.Option(help="Tokens generated per measurement.")] = 128,
    as_json: JsonBenchOpt = False,
) -> None:
    """Prompt and generation speed for each llama.cpp thread count, quiet and beside a busy
    process (how `model.n_threads`' default was chosen)."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.cpu_speed import run_thread_bench

    with _status() as status:
        figures = run_thread_bench(
            model or embedded_model(),
            _model_settings(),
            tokens,
            status,
        )
    if as_json:
        print_json([f.model_dump() for f in figures])
        return
    table = Table("threads", "machine", "prompt tok/s", "generation tok/s", "extra buffers")
    for f in figures:
        table.add_row(
            str(f.n_threads), "busy" if f.busy else "quiet", f"{f.prompt_tps:.0f}",
            f"{f.gen_tps:.1f}", "on" if f.extra_buffers else "off",
        )  # fmt: skip
    out.print(table)


def bench_cpu(
    model: BenchModelOpt = None,
    tokens: Annotated[int, typer.Option(help="Tokens generated per measurement.")] = 128,
    repeat: Annotated[int, typer.Option(help="Fresh loads per setting (median reported).")] = 3,
    as_json: JsonBenchOpt = False,
) -> None:
    """Prompt and generation speed with llama.cpp's extra buffer types (AMX, weight repacking)
    on and off, and what `model.extra_buffer_types = auto` picks on this CPU."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.cpu_speed import run_cpu_bench

    with _status() as status:
        result = run_cpu_bench(
            model or embedded_model(),
            _model_settings(),
            tokens,
            repeat,
            status,
        )
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    table = Table("extra buffers", "prompt tok/s", "generation tok/s")
    for f in result.figures:
        table.add_row("on" if f.extra_buffers else "off", f"{f.prompt_tps:.0f}", f"{f.gen_tps:.1f}")
    out.print(table)
    out.print(
        f"{result.model}, {result.n_threads} thread(s), median of {result.repeat} loads; "
        f"auto here: {result.auto}\n{result.system_info}",
        markup=False,
        highlight=False,
    )
