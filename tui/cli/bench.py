"""`hearth bench memory`: add throughput and search latency of the memory store, in a temp dir."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from memory.graph.embedder import Embedder
    from memory.graph.nodes import NewMemory
    from memory.graph.store import MemoryStore
    from memory.settings import ModelSettings

bench_app = typer.Typer(help="Measure Hearth on this machine.", no_args_is_help=True)

out = Console(stderr=True)

BATCH = 256
SEED = 20240601

_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kofi"]
_PLACES = ["Lisbon", "Porto", "Berlin", "Nairobi", "Osaka", "Quito", "Oslo", "Lima", "Hanoi"]
_THINGS = [
    "green tea",
    "sourdough bread",
    "jazz records",
    "mountain bikes",
    "old maps",
    "chess",
    "spicy ramen",
    "oil painting",
    "tide pools",
    "crossword puzzles",
    "sci-fi novels",
    "vegetable gardens",
    "board games",
    "violin lessons",
    "trail running",
    "pottery",
]
_TIMES = [
    "on Sundays",
    "every morning",
    "last winter",
    "since childhood",
    "after work",
    "when it rains",
    "during holidays",
    "twice a week",
    "at night",
    "in the spring",
]
_FEELINGS = ["loves", "dislikes", "is learning", "used to enjoy", "wants to try", "collects"]
_TEMPLATES = [
    "{name} {feeling} {thing} {time}.",
    "I met {name} in {place} {time}.",
    "My friend {name} moved to {place} and {feeling} {thing}.",
    "I {verb} {thing} {time} in {place}.",
    "{name} promised to bring {thing} to {place} {time}.",
    "We talked about {thing} and {other} while in {place}.",
]
_VERBS = ["enjoy", "avoid", "practise", "talk about", "think about", "read about"]
_QUESTIONS = [
    "What does {name} like?",
    "Who lives in {place}?",
    "When do I do {thing}?",
    "Tell me about {thing} and {name}.",
    "What happened in {place} {time}?",
]


def _fill(template: str, rng: random.Random, n: int) -> str:
    return template.format(
        name=rng.choice(_NAMES),
        place=rng.choice(_PLACES),
        thing=rng.choice(_THINGS),
        other=rng.choice(_THINGS),
        time=rng.choice(_TIMES),
        feeling=rng.choice(_FEELINGS),
        verb=rng.choice(_VERBS),
    ) + ("" if n % 3 else f" (note {n})")


def sentences(count: int, seed: int = SEED) -> list[str]:
    """Varied, deterministic memory texts: the first N are the same for any count."""
    rng = random.Random(seed)
    return [_fill(rng.choice(_TEMPLATES), rng, i) for i in range(count)]


def questions(count: int, seed: int = SEED + 1) -> list[str]:
    rng = random.Random(seed)
    return [_fill(rng.choice(_QUESTIONS), rng, 1) for _ in range(count)]


class SizeResult(BaseModel):
    """Figures for one store size."""

    n: int
    embedded: int
    """How many of the n memories were embedded during the timed add (the rest reused
    perturbed vectors from that pool: see `precomputed`)."""
    precomputed: bool
    add_per_s: float
    """Memories added per second; embedding included unless `precomputed`."""
    embed_per_s: float
    """Texts embedded per second (one thread, batched)."""
    search_p50_ms: float
    search_p95_ms: float
    """store.search(): query embedding included."""
    search_vec_p50_ms: float
    search_vec_p95_ms: float
    """store.search_by_vector(): query embedding excluded."""
    queries: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _items(texts: list[str]) -> Iterator[NewMemory]:
    from memory.graph.nodes import KINDS, NewMemory

    rng = random.Random(SEED + 2)
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for i, text in enumerate(texts):
        # One in twenty is no longer true, so the default valid-only filter has work to do.
        yield NewMemory(
            text=text,
            kind=KINDS[i % 7],
            importance=round(rng.random(), 2),
            valid_to=past if i % 20 == 0 else None,
        )


class _EmbedCache:
    """Embeddings by text, kept across sizes (the first texts are the same at every size)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.vectors: dict[str, npt.NDArray[np.float32]] = {}
        self.rate = 0.0
        """Texts embedded per second, as last measured."""

    def matrix(self, texts: list[str]) -> npt.NDArray[np.float32]:
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        start = time.perf_counter()
        for i in range(0, len(todo), BATCH):
            chunk = todo[i : i + BATCH]
            self.vectors.update(zip(chunk, self.embedder.embed(chunk), strict=True))
        if todo:
            self.rate = len(todo) / (time.perf_counter() - start)
        matrix: npt.NDArray[np.float32] = np.stack([self.vectors[t] for t in texts])
        return matrix


def _jitter(pool: npt.NDArray[np.float32], n: int) -> npt.NDArray[np.float32]:
    """n unit vectors near the pool's (cycled, with small noise), so none are exact duplicates."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    base = pool[np.arange(n) % len(pool)]
    noisy = base + rng.normal(0.0, 0.02, size=base.shape).astype(np.float32)
    unit: npt.NDArray[np.float32] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return unit.astype(np.float32)


def _timed_add(
    store: MemoryStore,
    texts: list[str],
    vectors: npt.NDArray[np.float32] | None,
    advance: Callable[[int], None],
) -> float:
    items = list(_items(texts))
    start = time.perf_counter()
    for i in range(0, len(items), BATCH):
        chunk = items[i : i + BATCH]
        store.add_many(chunk, vectors=None if vectors is None else vectors[i : i + BATCH])
        advance(len(chunk))
    return len(items) / (time.perf_counter() - start)


def _latencies(fn: Callable[[int], object], count: int) -> list[float]:
    for i in range(min(5, count)):  # warm caches (and the model) before timing
        fn(i)
    times = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _measure_size(
    n: int, pool: int, queries: int, cache: _EmbedCache, progress: Progress
) -> SizeResult:
    from memory.graph.store import MemoryStore
    from memory.settings import Paths, Settings

    texts = sentences(n)
    precomputed = n > pool
    task = progress.add_task(f"n={n:,}: adding", total=n)
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        home = Path(tmp)
        paths = Paths(config_file=home / "config.toml", data_dir=home, models_dir=home / "models")
        store = MemoryStore.open(paths, Settings(), write=True, embedder=cache.embedder)
        try:
            vectors = None
            if precomputed:
                progress.update(task, description=f"n={n:,}: embedding a pool of {pool:,}")
                vectors = _jitter(cache.matrix(texts[:pool]), n)
                progress.update(task, description=f"n={n:,}: adding (precomputed vectors)")
            add_rate = _timed_add(store, texts, vectors, lambda k: progress.advance(task, k))
            if not precomputed:
                cache.matrix(texts[: min(n, 512)])
            progress.update(task, description=f"n={n:,}: searching")
            asks = questions(queries)
            qvecs = cache.embedder.embed(asks)
            full = _latencies(lambda i: store.search(asks[i]), queries)
            bare = _latencies(lambda i: store.search_by_vector(asks[i], qvecs[i]), queries)
        finally:
            store.close()
    progress.update(task, description=f"n={n:,}: done")
    return SizeResult(
        n=n,
        embedded=min(n, pool),
        precomputed=precomputed,
        add_per_s=add_rate,
        embed_per_s=cache.rate,
        search_p50_ms=_percentile(full, 0.5),
        search_p95_ms=_percentile(full, 0.95),
        search_vec_p50_ms=_percentile(bare, 0.5),
        search_vec_p95_ms=_percentile(bare, 0.95),
        queries=queries,
    )


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Add throughput and search latency (p50/p95) at each size, in a temporary data dir."""
    from memory.datadir import make_private
    from memory.graph.embedder import SentenceEmbedder

    sizes = [int(s.replace("_", "")) for s in n.split(",") if s.strip()]
    make_private()
    cache = _EmbedCache(SentenceEmbedder(batch_size=64))
    cache.embedder.embed(["warm up"])  # load the model before anything is timed
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=out, transient=as_json) as progress:
        results = [_measure_size(s, pool, queries, cache, progress) for s in sizes]
    machine = {
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "date": dt.date.today().isoformat(),
    }
    if as_json:
        data = {"machine": machine, "results": [r.model_dump() for r in results]}
        sys.stdout.write(json.dumps(data) + "\n")
        return
    Console().print(_table(results))
    Console().print(
        f"{machine['cpus']} cores, {machine['machine']}, Python {machine['python']}, "
        f"{machine['date']}. * = vectors precomputed: only {pool:,} texts were embedded; "
        "add/s then excludes embedding (see embed/s). Search p95 target: < 50 ms at 100k "
        "excluding the query embedding.",
        highlight=False,
    )


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=out)


@bench_app.command("turn")
def bench_turn(
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A GGUF (default: the embedded model).")
    ] = None,
    n_ctx: Annotated[int, typer.Option(help="Context window; small, so the script trims.")] = 1024,
    threads: Annotated[int, typer.Option(help="llama.cpp threads, the same in both arms.")] = 1,
    reply_tokens: Annotated[int, typer.Option(help="Fixed reply length (EOS suppressed).")] = 32,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Prompt tokens evaluated per new token over a scripted 20-turn chat, and the time
    overhead against plain llama-cpp-python over the full history (temperature 0)."""
    from agent.bench.turn import run_turn_bench
    from agent.runtime.model_files import embedded_model

    with _progress() as progress:
        task = progress.add_task("starting")
        result = run_turn_bench(
            model or embedded_model(),
            n_ctx=n_ctx,
            threads=threads,
            reply_tokens=reply_tokens,
            progress=lambda text: progress.update(task, description=text),
            extra_buffer_types=_model_settings().extra_buffer_types,
        )
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    table = Table("turn", "prompt", "new", "evaluated", "eval/new", "hearth ms", "raw ms")
    for f in result.turns:
        ratio = "trim" if f.trimmed else f"{f.ratio:.2f}"
        table.add_row(
            str(f.turn), str(f.prompt_tokens), str(f.new_tokens), str(f.evaluated), ratio,
            f"{f.hearth_ms:.0f}", f"{f.raw_ms:.0f}",
        )  # fmt: skip
    Console().print(table)
    Console().print(
        f"median evaluated/new over turns 2-20 (trim turns {result.trim_turns} apart): "
        f"{result.median_ratio:.2f}; median overhead vs raw: {result.median_overhead:+.1%}"
    )


@bench_app.command("threads")
def bench_threads(
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A GGUF (default: the embedded model).")
    ] = None,
    tokens: Annotated[int, typer.Option(help="Tokens generated per measurement.")] = 128,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Prompt and generation speed for each llama.cpp thread count, quiet and beside a busy
    process (how `model.n_threads`' default was chosen)."""
    from agent.bench.threads import run_thread_bench
    from agent.runtime.model_files import embedded_model

    with _progress() as progress:
        task = progress.add_task("starting")
        figures = run_thread_bench(
            model or embedded_model(),
            _model_settings(),
            tokens,
            lambda t: progress.update(task, description=t),
        )
    if as_json:
        sys.stdout.write(json.dumps([f.model_dump() for f in figures]) + "\n")
        return
    table = Table("threads", "machine", "prompt tok/s", "generation tok/s", "extra buffers")
    for f in figures:
        table.add_row(
            str(f.n_threads), "busy" if f.busy else "quiet", f"{f.prompt_tps:.0f}",
            f"{f.gen_tps:.1f}", "on" if f.extra_buffers else "off",
        )  # fmt: skip
    Console().print(table)


@bench_app.command("cpu")
def bench_cpu(
    model: Annotated[
        Path | None, typer.Option("--model", "-m", help="A GGUF (default: the embedded model).")
    ] = None,
    tokens: Annotated[int, typer.Option(help="Tokens generated per measurement.")] = 128,
    repeat: Annotated[int, typer.Option(help="Fresh loads per setting (median reported).")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Prompt and generation speed with llama.cpp's extra buffer types (AMX, weight repacking)
    on and off, and what `model.extra_buffer_types = auto` picks on this CPU."""
    from agent.bench.threads import run_cpu_bench
    from agent.runtime.model_files import embedded_model

    with _progress() as progress:
        task = progress.add_task("starting")
        result = run_cpu_bench(
            model or embedded_model(),
            _model_settings(),
            tokens,
            repeat,
            lambda t: progress.update(task, description=t),
        )
    if as_json:
        sys.stdout.write(result.model_dump_json() + "\n")
        return
    table = Table("extra buffers", "prompt tok/s", "generation tok/s")
    for f in result.figures:
        table.add_row("on" if f.extra_buffers else "off", f"{f.prompt_tps:.0f}", f"{f.gen_tps:.1f}")
    Console().print(table)
    Console().print(
        f"{result.model}, {result.n_threads} thread(s), median of {result.repeat} loads; "
        f"auto here: {result.auto}\n{result.system_info}",
        markup=False,
        highlight=False,
    )


def _model_settings() -> ModelSettings:
    """The user's model settings (for the CPU path and batch size), from config and HEARTH_*."""
    from memory.settings import load_settings, resolve_paths

    return load_settings(resolve_paths()).model


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evidence recall@1/5/10/20 and MRR of Hearth's memory (each conversation imported into a
    fresh temporary data dir, questions asked through store.search) against BM25, dense and
    hybrid retrieval over the same raw turns."""
    from agent.bench.retrieval import SYSTEMS, run_retrieval_bench

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=out, transient=as_json) as progress:
        task = progress.add_task("loading", total=None)
        report = run_retrieval_bench(
            dataset,
            limit=limit,
            on_total=lambda n: progress.update(task, total=n),
            advance=lambda n: progress.advance(task, n),
            describe=lambda text: progress.update(task, description=text),
        )
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
    Console().print(table)
    t = report.timings
    best = max(report.systems[s].recall_10 for s in SYSTEMS if s != "hearth")
    hearth = report.systems["hearth"].recall_10
    Console().print(
        f"recall@10 hearth/best baseline: {hearth / best if best else 0.0:.2f}; "
        f"{report.skipped} questions skipped (no evidence turn in the conversation); "
        f"ingest {t.ingest_s:.0f} s, search p50 {t.query_p50_ms:.1f} ms, "
        f"p95 {t.query_p95_ms:.1f} ms",
        highlight=False,
    )
