"""`hearth bench voice`: replies claiming the person's identity (benchmarks.voice)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt, share
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


def bench_voice(
    model: BenchModelOpt = None,
    seed: Annotated[int, typer.Option(help="The first sampling seed.")] = 1,
    runs: Annotated[
        int, typer.Option(help="Runs of the script, seeds seed, seed+1, ...", min=1)
    ] = 5,
    sessions: Annotated[int, typer.Option(help="Sessions of the script to run.", min=1, max=3)] = 3,
    turns: Annotated[
        int | None, typer.Option(help="Turns per session (default: all).", min=1)
    ] = None,
    as_json: JsonBenchOpt = False,
) -> None:
    """Replies in which the model claims the person's identity or things as its own (first
    person: "I'm Priya", "my cat"), over a scripted three-session chat with memory on: later
    sessions know her only from the memory notes."""
    from agent.runtime.model_files import embedded_model
    from benchmarks.voice import in_context, run_voice_bench

    with _status() as status:
        result = run_voice_bench(
            model or embedded_model(),
            model_settings=_model_settings(),
            seeds=range(seed, seed + runs),
            sessions=sessions,
            turns=turns,
            progress=status,
        )
    if as_json:
        print_json(result.model_dump())
        return
    seeds = ", ".join(str(s) for s in result.seeds)
    table = Table(
        "session", "replies", "with a claim",
        title=f"{result.model}, seeds {seeds}, {result.max_tokens}-token replies",
    )  # fmt: skip
    for number, (replies, claiming) in result.per_session.items():
        table.add_row(str(number), str(replies), str(claiming))
    table.add_section()
    table.add_row(
        "all", str(result.replies), f"{result.claiming} ({share(result.claiming, result.replies)})"
    )
    out.print(table)
    kinds = ", ".join(f"{kind} {n}" for kind, n in result.per_kind.items())
    out.print(f"replies with a claim, by kind: {kinds}", highlight=False)
    out.print(
        f"notes as shown (session 2):\n{result.notes or '(none)'}", markup=False, highlight=False
    )
    for r in result.turns:
        if r.claims:
            said = "; ".join(f"{c.kind}: {c.said!r}" for c in r.claims)
            out.print(
                f"seed {r.seed}, session {r.session}, turn {r.turn}: {said}\n"
                f"  {in_context(r.reply, r.claims[0])}",
                markup=False,
                highlight=False,
            )
