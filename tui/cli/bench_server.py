"""`hearth bench server`: first token through a model server (benchmarks.server_first_token)."""

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


def bench_server(
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="An OpenAI-compatible server up to /v1 (default: model.base_url under the "
            "openai backend, else serve_llama started here with the model).",
        ),
    ] = None,
    model: BenchModelOpt = None,
    n_ctx: Annotated[int, typer.Option(help="Context window; small, so the script trims.")] = 1024,
    threads: Annotated[int, typer.Option(help="Threads of a server started here.")] = 1,
    reply_tokens: Annotated[int, typer.Option(help="Reply length at most.")] = 32,
    as_json: JsonBenchOpt = False,
) -> None:
    """Time to first token per turn through a model server over a scripted 20-turn chat:
    Hearth's turn (recall, context, journal, request) against the same messages and
    parameters sent raw by a bare client (temperature 0)."""
    from benchmarks.server_first_token import run_server_bench

    settings = _model_settings()
    # The configured server, its model and key; a --base-url names another server's.
    configured = settings.backend == "openai" and base_url in (None, settings.base_url)
    if configured:
        base_url = settings.base_url
    with _status() as status:
        result = run_server_bench(
            base_url,
            model=model,
            n_ctx=n_ctx,
            threads=threads,
            reply_tokens=reply_tokens,
            progress=status,
            api_key=settings.secret_key() if base_url is not None else None,
            server_model=settings.server_model if configured else None,
        )
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    table = Table("turn", "prompt", "hearth ms", "request ms", "raw ms", title=result.server)
    for t in result.turns:
        table.add_row(
            str(t.turn), str(t.prompt_tokens), f"{t.hearth_ms:.0f}", f"{t.request_ms:.0f}",
            f"{t.raw_ms:.0f}",
        )  # fmt: skip
    out.print(table)
    out.print(
        f"{result.model} (token counts: {result.tokenizer}); median time to first token: "
        f"hearth {result.median_hearth_ms:.0f} ms (its request {result.median_request_ms:.0f} "
        f"ms), raw {result.median_raw_ms:.0f} ms; median overhead "
        f"{result.median_overhead_ms:+.0f} ms",
        soft_wrap=True,
    )
