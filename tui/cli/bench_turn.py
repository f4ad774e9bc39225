"""`hearth bench turn`: prompt tokens evaluated per new token (benchmarks.turn_cost)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out


def bench_turn(
    model: BenchModelOpt = None,
    n_ctx: Annotated[int, typer.Option(help="Context window; small, so the script trims.")] = 1024,
    threads: Annotated[int, typer.Option(help="llama.cpp threads, the same in both arms.")] = 1,
    reply_tokens: Annotated[int, typer.Option(help="Fixed reply length (EOS suppressed).")] = 32,
    as_json: JsonBenchOpt = False,
) -> None:
    """Prompt tokens evaluated per new token over a scripted 20-turn chat, and the time
    overhead against plain llama-cpp-python over the full history (temperature 0)."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.turn_cost import run_turn_bench

    with _status() as status:
        result = run_turn_bench(
            model or embedded_model(),
            n_ctx=n_ctx,
            threads=threads,
            reply_tokens=reply_tokens,
            progress=status,
            extra_buffer_types=_model_settings().extra_buffer_types,
        )
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    table = Table(
        "turn", "prompt", "new", "evaluated", "eval/new", "hearth ms", "raw ms", "write ms"
    )
    for f in result.turns:
        ratio = "trim" if f.trimmed else f"{f.ratio:.2f}"
        table.add_row(
            str(f.turn), str(f.prompt_tokens), str(f.new_tokens), str(f.evaluated), ratio,
            f"{f.hearth_ms:.0f}", f"{f.raw_ms:.0f}", f"{f.write_ms:.0f}",
        )  # fmt: skip
    out.print(table)
    out.print(
        f"median evaluated/new over turns 2-20 (trim turns {result.trim_turns} apart): "
        f"{result.median_ratio:.2f}; median overhead vs raw: {result.median_overhead:+.1%}"
    )
