"""`hearth bench say`: say served, raw and cold (benchmarks.say_latency)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt
from tui.cli.bench_common import status as _status
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out


def bench_say(
    model: BenchModelOpt = None,
    runs: Annotated[int, typer.Option("--runs", help="Measured runs of each arm.", min=1)] = 5,
    tokens: Annotated[
        int, typer.Option("--tokens", help="Reply length in every arm (EOS suppressed).", min=1)
    ] = 32,
    as_json: JsonBenchOpt = False,
) -> None:
    """`hearth say` through a running `hearth serve` against raw llama-cpp-python loading the
    same model and answering the same message, and a cold `hearth say` (no server); paired
    runs, interleaved, in scratch data dirs (target: served at most 1.2x raw)."""
    from agent.runtime.model_files import resolve_model
    from benchmarks.say_latency import run_say_bench
    from memory.settings import ModelSettings

    with tempfile.TemporaryDirectory() as empty:
        path = resolve_model(model, Path(empty)).path  # --model, else models/, else embedded
    with _status() as status:
        result = run_say_bench(
            path, runs=runs, tokens=tokens, progress=status, settings=ModelSettings()
        )
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    table = Table("arm", "median wall", "median max RSS", "wall per run (s)", title=result.model)
    for arm in (result.served, result.raw, result.cold):
        table.add_row(
            arm.name, f"{arm.median_wall_s:.2f} s", f"{arm.median_max_rss_mib:.0f} MiB",
            " ".join(f"{r.wall_s:.2f}" for r in arm.runs),
        )  # fmt: skip
    out.print(table)
    for arm in (result.served, result.raw, result.cold):
        out.print(f"{arm.name}: {arm.command}", highlight=False, markup=False, soft_wrap=True)
    out.print(
        f"{result.tokens} tokens per reply, {result.n_threads} thread(s), n_ctx {result.n_ctx}, "
        f"median of {runs}; served/raw {result.ratio:.2f}x (paired {result.paired_ratio:.2f}x; "
        f"target <= 1.2x), cold/raw {result.cold_ratio:.2f}x",
        highlight=False,
    )
