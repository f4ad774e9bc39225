"""`hearth bench manners`: replies that loop and how long replies run (benchmarks.manners)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


def bench_manners(
    model: BenchModelOpt = None,
    seed: Annotated[int, typer.Option(help="Sampling seed, the same in both arms.")] = 1,
    turns: Annotated[int, typer.Option(help="Turns of the script to run.", min=1, max=10)] = 10,
    as_json: JsonBenchOpt = False,
) -> None:
    """Replies that loop and how long replies run, over a scripted ten-turn chat: before (512
    tokens, no loop guard) and after (the loop guard, short replies for a small model)."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.manners import run_manners_bench

    with _status() as status:
        result = run_manners_bench(
            model or embedded_model(),
            model_settings=_model_settings(),
            seed=seed,
            turns=turns,
            progress=status,
        )
    if as_json:
        print_json(result.model_dump())
        return
    table = Table(
        "arm", "max tokens", "guard", "replies", "loop", "cut", "at max", "median tok",
        "longest", "median words", title=f"{result.model}, seed {result.seed}",
    )  # fmt: skip
    for arm in (result.before, result.after):
        table.add_row(
            arm.name, str(arm.max_tokens), "on" if arm.stop_loops else "off", str(arm.replies),
            str(arm.looping), str(arm.cut_for_looping), str(arm.at_limit),
            f"{arm.median_tokens:.0f}", str(arm.max_tokens_seen), f"{arm.median_words:.0f}",
        )  # fmt: skip
    out.print(table)
