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

from tui.cli.bench_common import model_settings as _model_settings
from tui.cli.bench_common import status as _status
from tui.cli.bench_common import turns_bar as _turns_bar
from tui.cli.bench_common import user_settings as _settings
from tui.cli.options import JsonBenchOpt
from tui.cli.output import err, out, print_json

if TYPE_CHECKING:
    from agent.bench.memory_store import SizeResult

bench_app = typer.Typer(help="Measure Hearth on this machine.", no_args_is_help=True)

BenchModelOpt = Annotated[
    Path | None, typer.Option("--model", "-m", help="A GGUF (default: the embedded model).")
]


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
    from agent.bench.memory_store import load_embedder, run_memory_bench

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
    from agent.bench.turn import run_turn_bench
    from agent.runtime.model_files import embedded_model

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
    from agent.bench.server import run_server_bench

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
    from agent.bench.say import run_say_bench
    from agent.runtime.model_files import resolve_model
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


@bench_app.command("keys")
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


@bench_app.command("manners")
def bench_manners(
    model: BenchModelOpt = None,
    seed: Annotated[int, typer.Option(help="Sampling seed, the same in both arms.")] = 1,
    turns: Annotated[int, typer.Option(help="Turns of the script to run.", min=1, max=10)] = 10,
    as_json: JsonBenchOpt = False,
) -> None:
    """Replies that loop and how long replies run, over a scripted ten-turn chat: before (512
    tokens, no loop guard) and after (the loop guard, short replies for a small model)."""
    from agent.bench.manners import run_manners_bench
    from agent.runtime.model_files import embedded_model

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


@bench_app.command("threads")
def bench_threads(
    model: BenchModelOpt = None,
    tokens: Annotated[int, typer.Option(help="Tokens generated per measurement.")] = 128,
    as_json: JsonBenchOpt = False,
) -> None:
    """Prompt and generation speed for each llama.cpp thread count, quiet and beside a busy
    process (how `model.n_threads`' default was chosen)."""
    from agent.bench.threads import run_thread_bench
    from agent.runtime.model_files import embedded_model

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


@bench_app.command("placement")
def bench_placement(model: BenchModelOpt = None, as_json: JsonBenchOpt = False) -> None:
    """Where the model extractor runs: a second instance of the model, or the chat's own
    between turns with its KV cache saved and put back (memory, time, the next turn's reuse)."""
    from agent.bench.placement import measure
    from agent.runtime.model_files import embedded_model

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


@bench_app.command("cpu")
def bench_cpu(
    model: BenchModelOpt = None,
    tokens: Annotated[int, typer.Option(help="Tokens generated per measurement.")] = 128,
    repeat: Annotated[int, typer.Option(help="Fresh loads per setting (median reported).")] = 3,
    as_json: JsonBenchOpt = False,
) -> None:
    """Prompt and generation speed with llama.cpp's extra buffer types (AMX, weight repacking)
    on and off, and what `model.extra_buffer_types = auto` picks on this CPU."""
    from agent.bench.threads import run_cpu_bench
    from agent.runtime.model_files import embedded_model

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


@bench_app.command("retrieval")
def bench_retrieval(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="Conversations with questions, in the neutral format.", dir_okay=False
        ),
    ],
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_chat: Annotated[
        bool,
        typer.Option(
            "--as-chat",
            help="Remember as a chat would: only the user's turns, through the chat's write path.",
        ),
    ] = False,
    as_json: JsonBenchOpt = False,
) -> None:
    """Evidence recall@1/5/10/20 and MRR of Hearth's memory (each conversation imported into a
    fresh temporary data dir, questions asked through store.search) against BM25, dense and
    hybrid retrieval over the same raw turns."""
    from agent.bench.retrieval import SYSTEMS, run_retrieval_bench

    with _turns_bar(as_json) as bar:
        report = run_retrieval_bench(dataset, limit=limit, as_chat=as_chat, **bar)
    if as_json:
        sys.stdout.write(report.model_dump_json(by_alias=True) + "\n")
        return
    table = Table("system", "n", "R@1", "R@5", "R@10", "R@20", "MRR",
                  title=f"evidence retrieval: {report.dataset}")  # fmt: skip
    for name in SYSTEMS:
        scores = report.systems[name]
        rows = [(name, scores), *((f"  category {c}", s) for c, s in scores.per_category.items())]
        for label, s in rows:
            table.add_row(
                label, str(s.questions), f"{s.recall_1:.3f}", f"{s.recall_5:.3f}",
                f"{s.recall_10:.3f}", f"{s.recall_20:.3f}", f"{s.mrr:.3f}",
            )  # fmt: skip
        table.add_section()
    out.print(table)
    t = report.timings
    best = max(report.systems[s].recall_10 for s in SYSTEMS if s != "hearth")
    hearth = report.systems["hearth"].recall_10
    out.print(
        f"recall@10 hearth/best baseline: {hearth / best if best else 0.0:.2f}; "
        f"{report.skipped} questions skipped (no evidence turn in the conversation); "
        f"ingest {t.ingest_s:.0f} s, search p50 {t.query_p50_ms:.1f} ms, "
        f"p95 {t.query_p95_ms:.1f} ms",
        highlight=False,
    )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


@bench_app.command("extraction")
def bench_extraction(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="Conversations with questions, in the neutral format.", dir_okay=False
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", "-m", help="Measure the model extractor with this GGUF (default: the rules)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_json: JsonBenchOpt = False,
) -> None:
    """Whether the write path (not the import-time memories) made a memory that cites each
    question's evidence turn and states it: overall, per question category and per memory
    kind, with how many memories it made per 100 turns."""
    from agent.bench.extraction import extractor_for, run_extraction_bench

    name, extractor = extractor_for(model, _model_settings())
    with _turns_bar(as_json) as bar:
        report = run_extraction_bench(
            dataset, extractor=extractor, extractor_name=name, limit=limit, **bar
        )
    if as_json:
        print_json(report.model_dump())
        return
    title = f"extraction coverage: {report.dataset}, {report.extractor}"
    table = Table("evidence turns", "n", "cited", "stated", title=title)
    rows = [
        ("all", report.overall),
        *((f"category {c}", v) for c, v in report.per_category.items()),
    ]
    for label, c in rows:
        table.add_row(
            label, str(c.evidence), f"{c.cited} ({_share(c.cited, c.evidence)})",
            f"{c.stated} ({_share(c.stated, c.evidence)})",
        )  # fmt: skip
    out.print(table)
    kinds = Table(
        "kind", "memories", "per 100 turns", "best citing", "best stating",
        title="per memory kind (evidence turns by the kind of their best memory)",
    )  # fmt: skip
    for kind, k in report.per_kind.items():
        kinds.add_row(
            kind, str(k.memories), _per_100(k.memories, report.turns),
            str(k.cited), f"{k.stated} ({_share(k.stated, report.overall.evidence)})",
        )  # fmt: skip
    out.print(kinds)
    actions = ", ".join(f"{n} {a}" for a, n in report.actions.items())
    out.print(
        f"{report.conversations} conversations, {report.turns:,} turns: {report.memories:,} "
        f"memories made ({_per_100(report.memories, report.turns)} per 100 turns; actions: "
        f"{actions}); {report.turns_with_memory:,} turns cited by one. Distinct evidence turns "
        f"stated: {report.distinct_stated} of {report.distinct_evidence} "
        f"({_share(report.distinct_stated, report.distinct_evidence)}). Questions with every "
        f"evidence turn stated: {report.questions_stated} of {report.questions} "
        f"({_share(report.questions_stated, report.questions)}); {report.skipped} skipped (no "
        f"evidence turn in the conversation). {report.seconds:.0f} s.\n{report.rule}",
        highlight=False,
    )


@bench_app.command("understanding")
def bench_understanding(
    dataset: Annotated[
        Path,
        typer.Option(
            "--dataset", help="Long-term conversations, in the neutral format.", dir_okay=False
        ),
    ],
    model: BenchModelOpt = None,
    sample: Annotated[
        int,
        typer.Option("--sample", min=1, help="The person's messages to measure, drawn at random."),
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random sample.")] = 0,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N conversations (quick runs).")
    ] = None,
    as_json: JsonBenchOpt = False,
) -> None:
    """Bits per token of a random sample of the person's messages (from every session after
    the first) after the recent turns alone and with the notes Hearth recalls for them, each
    from the memory as it stood before the message (`hearth understanding` on a data set)."""
    from agent.bench.understanding import run_understanding_bench
    from agent.runtime.model_files import embedded_model

    path = model or embedded_model()
    with _turns_bar(as_json) as bar:
        report = run_understanding_bench(
            dataset, path, _model_settings(), sample=sample, seed=seed, limit=limit, **bar
        )
    if as_json:
        print_json(report.model_dump())
        return
    table = Table(
        "conversation", "messages", "bits alone", "with memory", "saved", "less surprising",
        "had notes", title=f"understanding: {report.dataset}, {report.model}",
    )  # fmt: skip
    for label, f in [
        *((c.conversation, c) for c in report.conversations),
        ("all", report.overall),
    ]:
        table.add_row(
            label, str(f.messages), f"{f.bits_alone:.3f}", f"{f.bits_with:.3f}",
            f"{f.saved:+.3f}", f"{f.less_surprising:.1%}", str(f.with_notes),
        )  # fmt: skip
    out.print(table)
    out.print(
        f"{report.overall.messages} of {report.candidates:,} later-session messages (seed "
        f"{report.seed}; {report.skipped} too long); ingest {report.ingest_s:.0f} s, "
        f"reading {report.scoring_s:.0f} s ({report.per_message_s or 0:.2f} s a message).\n"
        f"{report.rule}",
        highlight=False,
    )


def _per_100(part: int, turns: int) -> str:
    return f"{100 * part / turns:.1f}" if turns else "-"


@bench_app.command("voice")
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
    from agent.bench.voice import in_context, run_voice_bench
    from agent.runtime.model_files import embedded_model

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
        "all", str(result.replies), f"{result.claiming} ({_share(result.claiming, result.replies)})"
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


# Its own module: this one is long enough.
from tui.cli.bench_answers import bench_answers  # noqa: E402

bench_app.command("answers")(bench_answers)
