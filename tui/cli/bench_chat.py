"""`hearth bench keys`, `manners` and `voice`: scripted chats replayed through Hearth."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import BenchModelOpt, share
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.bench_common import user_settings as _settings
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out, print_json


def bench_keys(
    reply_tokens: Annotated[int, typer.Option(help="Reply length while keys are typed.")] = 96,
    keys: Annotated[int, typer.Option(help="Keys typed with nothing else running.")] = 40,
    messages: Annotated[int, typer.Option(help="Scripted messages sent (1-5).", min=1, max=5)] = 5,
    as_json: JsonBenchOpt = False,
) -> None:
    """Key-to-echo latency in the chat (headless): idle, while a reply streams, and while the
    memory write after it runs, over scripted messages."""
    from tui.latency import run_keys_bench

    with _status() as status:
        result = run_keys_bench(
            _settings(),
            reply_tokens=reply_tokens,
            keys=keys,
            messages=messages,
            progress=status,
        )
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    table = Table("while", "keys", "p50", "p95", "max", title=f"key to echo ({result.model})")
    for name in ("idle", "streaming", "remembering"):
        phase = getattr(result, name)
        table.add_row(
            name, str(phase.keys), f"{phase.p50_ms:.1f} ms", f"{phase.p95_ms:.1f} ms",
            f"{phase.max_ms:.1f} ms",
        )  # fmt: skip
    out.print(table)


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
