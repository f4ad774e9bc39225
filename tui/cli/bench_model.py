"""`hearth bench threads`, `placement` and `cpu`: how llama.cpp runs the model on this machine."""

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


def bench_placement(model: BenchModelOpt = None, as_json: JsonBenchOpt = False) -> None:
    """Where the model extractor runs: a second instance of the model, or the chat's own
    between turns with its KV cache saved and put back (memory, time, the next turn's reuse)."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.placement import measure

    with _status() as status:
        status("loading the model and running a conversation")
        settings = _model_settings().model_copy(update={"n_threads": 1})
        report = measure(model or embedded_model(), settings)
    if as_json:
        print_json(report.model_dump())
        return
    second, shared = report.second_instance, report.shared_instance
    table = Table("", "a second instance", "the chat's own, between turns", title=report.model)
    table.add_row(
        "next turn evaluates (tokens)",
        str(second.next_turn_evaluated),
        str(shared.next_turn_evaluated),
    )
    table.add_row("memory held (MiB)", f"{second.extra_mib.rss:.0f}", f"{shared.state_mib:.1f}")
    table.add_row(
        "time", f"load {second.load_seconds:.1f} s", f"{shared.save_and_restore_seconds:.3f} s"
    )
    out.print(table)
    out.print(
        f"without the restore the next turn evaluates {shared.next_turn_evaluated_unrestored}"
        " tokens; --json for every figure",
        highlight=False,
    )


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
