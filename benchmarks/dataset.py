"""A data set of conversations as the benches read it: loaded, its evidence, scratch data dirs."""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent.importing.conversations import CachedEmbedder, load_dataset
from agent.importing.records import Conversation, Dataset
from memory.settings import MemorySettings, Paths, Settings

if TYPE_CHECKING:
    from memory.graph.embedder import Embedder
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal

_SEPARATORS = re.compile(r"[;,\s]+")
_STRAY = "()[]{}.'\"`:!?"
_ID = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def _span(start: str, end: str, turn_ids: Sequence[str], known: set[str]) -> list[str]:
    """`D12:3-D12:5` or `D12:3-5`: each id between, by number when the prefixes agree (ids
    need not be consecutive), else in the conversation's order when both ends are turns."""
    a, b = _ID.match(start), _ID.match(end)
    if a and b and (b["prefix"] in ("", a["prefix"])):
        low, high = int(a["number"]), int(b["number"])
        return [f"{a['prefix']}{n}" for n in range(low, high + 1) if f"{a['prefix']}{n}" in known]
    if start in known and end in known:
        i, j = turn_ids.index(start), turn_ids.index(end)
        return list(turn_ids[min(i, j) : max(i, j) + 1])
    return []


def evidence_turns(evidence: Iterable[str], turn_ids: Sequence[str]) -> list[str]:
    """The conversation's turns named by the evidence strings, in first-named order: split on
    `;`, `,` and whitespace, ranges expanded, stray punctuation stripped, unknown ids dropped."""
    known = set(turn_ids)
    found: list[str] = []
    for item in evidence:
        for token in _SEPARATORS.split(item):
            token = token.strip(_STRAY)
            if not token:
                continue
            if token in known:
                found.append(token)
            elif "-" in token:
                start, _, end = token.partition("-")
                found.extend(_span(start.strip(_STRAY), end.strip(_STRAY), turn_ids, known))
    return list(dict.fromkeys(found))


def turn_document(date: str, speaker: str, text: str) -> str:
    """A turn as a line of text (the baselines' documents, transcripts): `[date] Speaker: text`."""
    return f"[{date}] {speaker}: {text}"


@contextlib.contextmanager
def scratch_home(
    prefix: str, embedder: Embedder, memory: MemorySettings
) -> Iterator[tuple[MemoryStore, Journal]]:
    """A temporary data dir's memory store and journal, gone afterwards. Default settings
    only: neither the user's config.toml nor HEARTH_* may change a benchmark."""
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        home = Path(tmp)
        paths = Paths(config_file=home / "config.toml", data_dir=home, models_dir=home / "models")
        settings = Settings.model_construct(memory=memory)
        with MemoryStore.open(paths, settings, write=True, embedder=embedder) as store:
            journal = Journal(paths.journal)
            try:
                yield store, journal
            finally:
                journal.close()


def open_dataset(
    path: Path,
    limit: int | None,
    embedder: Embedder | None,
    on_total: Callable[[int], None],
    describe: Callable[[str], None],
) -> tuple[Dataset, list[Conversation], CachedEmbedder]:
    """The dataset, the conversations a bench runs of it (the first `limit`), the embedding model
    loaded before anything is timed; files it writes are private (0600)."""
    from memory.datadir import make_private
    from memory.graph.embedder import OnnxEmbedder

    make_private()
    dataset: Dataset = load_dataset(path)
    conversations = dataset.conversations[:limit] if limit else dataset.conversations
    on_total(sum(len(c.turns()) for c in conversations))
    batch = MemorySettings().embed_batch_size
    cached = CachedEmbedder(embedder or OnnxEmbedder(batch_size=batch))
    describe("loading the embedding model")
    cached.embed(["warm up"])
    return dataset, list(conversations), cached
