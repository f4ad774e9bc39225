"""`hearth import`: conversations from elsewhere brought in as history, through the write path."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from agent.importing.memories import MemoryBuilder
from agent.importing.records import Conversation, Dataset, DatasetSession
from agent.learn.extract import extract
from agent.learn.write_path import MIN_IMPORTANCE, remember
from memory.errors import DatasetError
from memory.graph.nodes import EmbedderIdentity
from memory.journal.schemas import MessageMeta

if TYPE_CHECKING:
    from memory.graph.embedder import Embedder
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal

FORMATS = ("neutral",)
# Turns of one session are a second apart, so their order survives any sort by time.
TURN_SPACING = timedelta(seconds=1)
# Texts embedded per batch while priming: big enough to keep the model busy, small enough that
# the progress bar moves.
PRIME_BATCH = 256

Vectors = npt.NDArray[np.float32]


class ImportedConversation(BaseModel):
    """Where one conversation went: its journal session and each turn's message id."""

    conversation: str
    session_id: int
    message_ids: dict[str, int]
    """Dataset turn id -> journal message id."""
    extracted: int
    """Write-path actions (add, update, supersede, noop) from the turns' own words."""
    memories: int
    """Import-time memories (episodes, people) added beside the extracted ones."""


def load_dataset(path: Path, format: str = "neutral") -> Dataset:
    """Read and check a data set; every problem is a DatasetError with one line."""
    if format not in FORMATS:
        raise DatasetError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not JSON: {exc}") from exc
    try:
        return Dataset.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise DatasetError(
            f"{path} is not in the {format} format: {where}: {first['msg']} "
            "(see `hearth import --help`)"
        ) from exc


def aware(moment: datetime) -> datetime:
    """Times without a zone are taken as UTC, the way the memory store reads them."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def turn_time(session: DatasetSession, index: int) -> datetime:
    return aware(session.date) + index * TURN_SPACING


class CachedEmbedder:
    """An embedder that remembers each text's vector: the import embeds every text it will
    write in large batches first, and the write path's one-at-a-time calls then cost nothing."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self._vectors: dict[str, Vectors] = {}

    @property
    def identity(self) -> EmbedderIdentity:
        return self.inner.identity

    def embed(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.inner.embed(missing), strict=True))
        if not texts:
            return self.inner.embed([])
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)

    def known(self, text: str) -> bool:
        return text in self._vectors

    def clear(self) -> None:
        self._vectors.clear()


def _prime(store: MemoryStore, texts: Sequence[str]) -> None:
    """Embed, in big batches, what the write path is about to embed one by one."""
    embedder = store.embedder
    if not isinstance(embedder, CachedEmbedder):
        return
    todo = [t for t in dict.fromkeys(texts) if not embedder.known(t)]
    for start in range(0, len(todo), PRIME_BATCH):
        chunk = todo[start : start + PRIME_BATCH]
        store.embed(chunk)


def _extracted_texts(session: DatasetSession) -> list[str]:
    return [
        c.text
        for index, turn in enumerate(session.turns)
        for c in extract(turn.text, speaker=turn.speaker, when=turn_time(session, index))
        if c.importance >= MIN_IMPORTANCE or c.flags
    ]


def import_conversation(
    journal: Journal,
    store: MemoryStore,
    conversation: Conversation,
    *,
    source: str,
    advance: Callable[[int], None] = lambda n: None,
) -> ImportedConversation:
    """Journal every turn as a human message by its speaker and run the write path on each
    (every speaker's words count: half of what matters is often said by the other person),
    adding the import-time memories session by session. `advance` is called once a turn."""
    journal_session = journal.create_session(title=conversation.id)
    builder = MemoryBuilder(conversation)
    ids: dict[str, int] = {}
    actions = 0
    for session in conversation.sessions:
        for index, turn in enumerate(session.turns):
            message = journal.append(
                journal_session.id,
                "user",
                turn.text,
                speaker=turn.speaker,
                created_at=turn_time(session, index),
                meta=MessageMeta(
                    source_turn_id=turn.id, source=source, conversation=conversation.id
                ),
            )
            ids[turn.id] = message.id
        built = builder.session(session, ids, aware(session.date))
        _prime(store, [*_extracted_texts(session), *(m.text for m in built.items)])
        for index, turn in enumerate(session.turns):
            actions += len(
                remember(
                    store,
                    turn.text,
                    message_id=ids[turn.id],
                    speaker=turn.speaker,
                    when=turn_time(session, index),
                    user_speaker=conversation.user,
                    actor="import",
                )
            )
            advance(1)
        builder.add(store, built)
    built = builder.finish()
    _prime(store, [m.text for m in built.items])
    builder.add(store, built)
    return ImportedConversation(
        conversation=conversation.id,
        session_id=journal_session.id,
        message_ids=ids,
        extracted=actions,
        memories=builder.count,
    )


class ImportReport(BaseModel):
    """What `hearth import` did."""

    dataset: str
    imported: list[ImportedConversation]
    skipped: list[str]
    """Conversations already imported from this data set (their ids)."""

    @property
    def turns(self) -> int:
        return sum(len(c.message_ids) for c in self.imported)


def already_imported(journal: Journal, conversation: Conversation, source: str) -> bool:
    """Whether a journal session holds this conversation from this data set already."""
    for session in journal.sessions():
        if session.title != conversation.id:
            continue
        first = journal.messages(session.id, limit=1, newest_first=False)
        if first and first[0].meta.source == source:
            return True
    return False


def import_dataset(
    journal: Journal,
    store: MemoryStore,
    dataset: Dataset,
    *,
    advance: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Import every conversation not imported before (so running it twice adds nothing)."""
    report = ImportReport(dataset=dataset.name, imported=[], skipped=[])
    for conversation in dataset.conversations:
        if already_imported(journal, conversation, dataset.name):
            report.skipped.append(conversation.id)
            advance(len(conversation.turns()))
            continue
        report.imported.append(
            import_conversation(journal, store, conversation, source=dataset.name, advance=advance)
        )
        if isinstance(store.embedder, CachedEmbedder):
            store.embedder.clear()  # one conversation's texts at a time: memory stays flat
    return report
