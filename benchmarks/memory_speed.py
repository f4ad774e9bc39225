"""Measuring the memory store: add throughput and search latency at each size, in a temp dir."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from benchmarks.machine import Machine

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from memory.graph.embedder import Embedder
    from memory.graph.nodes import NewMemory
    from memory.graph.store import MemoryStore

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


class MemoryBench(BaseModel):
    """`hearth bench memory --json`."""

    machine: Machine
    chroma: str = "embedded"
    """Where the index was: memory.chroma for the run ("embedded", or a server's URL)."""
    results: list[SizeResult]


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


class EmbedCache:
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


def load_embedder() -> EmbedCache:
    """The embedding model, loaded before anything is timed; files made from now on are private."""
    from memory.datadir import make_private
    from memory.graph.embedder import SentenceEmbedder

    make_private()
    cache = EmbedCache(SentenceEmbedder(batch_size=64))
    cache.embedder.embed(["warm up"])
    return cache


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
    n: int,
    pool: int,
    queries: int,
    cache: EmbedCache,
    describe: Callable[[str], None],
    advance: Callable[[int], None],
    chroma: str = "embedded",
) -> SizeResult:
    from memory.graph import chroma_server
    from memory.graph.store import MemoryStore
    from memory.graph.vector_index import COLLECTION
    from memory.settings import MemorySettings, Paths, Settings

    settings = Settings(memory=MemorySettings(chroma=chroma))

    texts = sentences(n)
    precomputed = n > pool
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        home = Path(tmp)
        paths = Paths(config_file=home / "config.toml", data_dir=home, models_dir=home / "models")
        store = MemoryStore.open(paths, settings, write=True, embedder=cache.embedder)
        try:
            vectors = None
            if precomputed:
                describe(f"n={n:,}: embedding a pool of {pool:,}")
                vectors = _jitter(cache.matrix(texts[:pool]), n)
                describe(f"n={n:,}: adding (precomputed vectors)")
            add_rate = _timed_add(store, texts, vectors, advance)
            if not precomputed:
                cache.matrix(texts[: min(n, 512)])
            describe(f"n={n:,}: searching")
            asks = questions(queries)
            qvecs = cache.embedder.embed(asks)
            full = _latencies(lambda i: store.search(asks[i]), queries)
            bare = _latencies(lambda i: store.search_by_vector(asks[i], qvecs[i]), queries)
        finally:
            store.close()
            # The temporary data dir goes; its collection on a server must not outlive it.
            if (where := chroma_server.place(paths, settings.memory, create=False)) is not None:
                chroma_server.drop(where, COLLECTION)
    describe(f"n={n:,}: done")
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


def run_memory_bench(
    sizes: list[int],
    pool: int,
    queries: int,
    cache: EmbedCache,
    *,
    start: Callable[[str, int], None] = lambda text, total: None,
    describe: Callable[[str], None] = lambda text: None,
    advance: Callable[[int], None] = lambda n: None,
    chroma: str = "embedded",
) -> MemoryBench:
    """Fill a fresh store in a temporary data dir to each size and time adds and searches.

    Above `pool` memories only `pool` texts are embedded; the rest get perturbed copies of
    their vectors; `chroma` is memory.chroma for the run. `start` is called as each size begins
    (what runs, how many memories will be added), `describe` says what runs now, `advance`
    counts the memories added."""
    results = []
    for n in sizes:
        start(f"n={n:,}: adding", n)
        results.append(_measure_size(n, pool, queries, cache, describe, advance, chroma))
    return MemoryBench(machine=Machine.here(), chroma=chroma, results=results)
