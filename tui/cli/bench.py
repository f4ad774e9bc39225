"""`hearth bench ...`: measure memory, turn cost, CPU paths, retrieval, extraction and replies."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
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

from tui.cli.bench_answers import bench_answers
from tui.cli.bench_chat import bench_keys, bench_manners, bench_voice
from tui.cli.bench_common import BenchModelOpt
from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.bench_dataset import bench_extraction, bench_retrieval, bench_understanding
from tui.cli.bench_model import bench_cpu, bench_placement, bench_threads
from tui.cli.options import JsonBenchOpt
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from benchmarks.memory_speed import SizeResult

bench_app = typer.Typer(help="Measure Hearth on this machine.", no_args_is_help=True)


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


@bench_app.command("memory")
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


@bench_app.command("turn")
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


@bench_app.command("server")
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


@bench_app.command("say")
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


# Their own modules, mirroring their benches; registered here in `hearth bench --help`'s order.
bench_app.command("keys")(bench_keys)
bench_app.command("manners")(bench_manners)
bench_app.command("threads")(bench_threads)
bench_app.command("placement")(bench_placement)
bench_app.command("cpu")(bench_cpu)
bench_app.command("retrieval")(bench_retrieval)
bench_app.command("extraction")(bench_extraction)
bench_app.command("understanding")(bench_understanding)
bench_app.command("voice")(bench_voice)
bench_app.command("answers")(bench_answers)
