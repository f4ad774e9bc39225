"""`hearth bench keys`: key-to-echo latency in the chat (tui.latency)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from tui.cli.bench_common import status as _status
from tui.cli.bench_common import user_settings as _settings
from tui.cli.options import JsonBenchOpt
from tui.cli.output import out


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
