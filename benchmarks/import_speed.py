"""`hearth bench import`: an import's turns a second against the embedder's own ceiling."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from agent.importing.conversations import CachedEmbedder, import_conversation, load_dataset
from benchmarks.dataset import scratch_home
from benchmarks.machine import Machine
from memory.graph.embedder import Embedder, OnnxEmbedder
from memory.graph.nodes import EmbedderIdentity
from memory.settings import MemorySettings


class _Recording:
    """The embedder, with every call's texts kept: the ceiling replays exactly these calls."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    @property
    def identity(self) -> EmbedderIdentity:
        return self.inner.identity

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if texts:
            self.calls.append(list(texts))
        return self.inner.embed(texts)


class ImportBench(BaseModel):
    """`hearth bench import --json`."""

    machine: Machine
    dataset: str
    conversations: int
    turns: int
    texts_embedded: int
    """Texts the import handed the embedder (after its cache): about 3 a turn."""
    import_s: float
    """Every conversation imported as `hearth import` does (journal, write path, memories,
    index), each into a fresh temporary data dir, the embedder already loaded."""
    turns_per_s: float
    embed_s: float
    """The same embedder making the same calls again, alone, right after."""
    ceiling_turns_per_s: float
    """turns / embed_s: what an import could reach if everything but embedding were free."""
    share_of_ceiling: float
    """turns_per_s / ceiling_turns_per_s (the goal: at least 0.8)."""


def run_import_bench(
    path: Path,
    *,
    limit: int | None,
    advance: Callable[[int], None] = lambda n: None,
    on_total: Callable[[int], None] = lambda n: None,
    describe: Callable[[str], None] = lambda text: None,
) -> ImportBench:
    """Import the first `limit` conversations, then replay their embedder calls alone."""
    dataset = load_dataset(path)
    conversations = dataset.conversations[:limit] if limit else dataset.conversations
    turns = sum(len(c.turns()) for c in conversations)
    on_total(turns)
    memory = MemorySettings()
    describe("loading the embedding model")
    embedder = OnnxEmbedder(batch_size=memory.embed_batch_size)
    embedder.embed(["warm up"])
    recording = _Recording(embedder)
    import_s = 0.0
    for number, conversation in enumerate(conversations, start=1):
        describe(f"importing {number}/{len(conversations)} {conversation.id}")
        # As `hearth import` runs it: the embedder behind a cache the import primes in batches.
        with scratch_home("hearth-bench-import-", CachedEmbedder(recording), memory) as (
            store,
            journal,
        ):
            start = time.perf_counter()
            import_conversation(
                journal, store, conversation, source=conversation.id, advance=advance
            )
            import_s += time.perf_counter() - start
    describe("the embedder alone, the same calls")
    start = time.perf_counter()
    for call in recording.calls:
        embedder.embed(call)
    embed_s = time.perf_counter() - start
    turns_per_s = turns / import_s if import_s else 0.0
    ceiling = turns / embed_s if embed_s else 0.0
    return ImportBench(
        machine=Machine.here(),
        dataset=dataset.name,
        conversations=len(conversations),
        turns=turns,
        texts_embedded=sum(len(c) for c in recording.calls),
        import_s=import_s,
        turns_per_s=turns_per_s,
        embed_s=embed_s,
        ceiling_turns_per_s=ceiling,
        share_of_ceiling=turns_per_s / ceiling if ceiling else 0.0,
    )
