"""`hearth import`: conversations from elsewhere brought in as history, through the write path."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from agent.importing.memories import Built, MemoryBuilder
from agent.importing.records import Conversation, Dataset, DatasetSession
from agent.learn.extract import Candidate, extract
from agent.learn.write_path import MAX_EXTRACT_CHARS, MIN_IMPORTANCE, Extractor, remember
from memory.errors import DatasetError
from memory.graph.nodes import EmbedderIdentity
from memory.journal.schemas import Message, MessageMeta

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
# Turns written as one unit of work: one commit (and one sync to disk) a file for this many,
# not several a turn; a kill re-does at most this many turns' memories.
BATCH = 64

T = TypeVar("T")

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
    return dataset_from(raw, str(path), format)


def dataset_from(raw: Any, path: str, format: str = "neutral") -> Dataset:
    """A data set read from a JSON value, checked; `path` names its file in errors."""
    try:
        return Dataset.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise DatasetError(
            f"{path} is not in the {format} format: {_record(raw, first['loc'])}{where}: "
            f"{first['msg']}; nothing was imported (see `hearth import --help`)"
        ) from exc


def _record(raw: Any, loc: Sequence[int | str]) -> str:
    """ "conversation c1, " for an error inside a conversation whose id can be read."""
    try:
        conversation = raw["conversations"][loc[1]]
        return f"conversation {conversation['id']}, " if loc[0] == "conversations" else ""
    except (KeyError, IndexError, TypeError):
        return ""


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


def prime(store: MemoryStore, texts: Sequence[str]) -> None:
    """Embed, in big batches, what the write path is about to embed one by one."""
    embedder = store.embedder
    if not isinstance(embedder, CachedEmbedder):
        return
    todo = [t for t in dict.fromkeys(texts) if not embedder.known(t)]
    for start in range(0, len(todo), PRIME_BATCH):
        chunk = todo[start : start + PRIME_BATCH]
        store.embed(chunk)


class ExtractedOnce:
    """The rules' candidates for each message, found once: priming the embedder reads them
    before the write path asks again for the same words."""

    def __init__(self, inner: Extractor = extract) -> None:
        self.inner = inner
        self._found: dict[tuple[str, str, datetime], list[Candidate]] = {}

    def __call__(self, text: str, *, speaker: str, when: datetime) -> list[Candidate]:
        key = (text, speaker, when)
        if key not in self._found:
            self._found[key] = self.inner(text, speaker=speaker, when=when)
        return self._found[key]

    def texts(self, text: str, *, speaker: str, when: datetime) -> list[str]:
        """What the write path will embed of this message (the candidates it keeps)."""
        found = self(text[:MAX_EXTRACT_CHARS], speaker=speaker, when=when)
        return [c.text for c in found if c.importance >= MIN_IMPORTANCE or c.flags]

    def clear(self) -> None:
        self._found.clear()


def batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """`items` in runs of `size`: each one unit of work in the memory and the journal."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


JournaledTurns = tuple[int | None, dict[str, Message]]
"""An import's journal session (None: not made yet) and the messages of its turns, by turn id."""


def _journaled(journal: Journal, conversation: Conversation, source: str) -> JournaledTurns:
    """What an earlier run of this import left in the journal: its session (None when there is
    none) and the messages of the turns it journaled, by turn id."""
    for session in journal.sessions():
        if session.title != conversation.id:
            continue
        messages = journal.messages(session.id, newest_first=False)
        # An empty session of that title is where a run stopped before its first turn.
        if not messages or messages[0].meta.source == source:
            turns = {m.meta.source_turn_id: m for m in messages if m.meta.source == source}
            return session.id, {t: m for t, m in turns.items() if t is not None}
    return None, {}


def is_complete(conversation: Conversation, turns: Mapping[str, Message], cited: set[int]) -> bool:
    """Whether an earlier import of the conversation finished every step. One by a Hearth that
    marked no steps is complete when every turn is journaled and cited by a memory (each turn
    is remembered as itself)."""
    all_turns = conversation.turns()
    if not all_turns or any(t.id not in turns for _s, _i, t in all_turns):
        return False
    if turns[all_turns[-1][2].id].meta.import_complete:
        return True
    unmarked = not any(m.meta.remembered for m in turns.values())
    return unmarked and all(m.id in cited for m in turns.values())


def import_conversation(
    journal: Journal,
    store: MemoryStore,
    conversation: Conversation,
    *,
    source: str,
    advance: Callable[[int], None] = lambda n: None,
    resume: JournaledTurns | None = None,
) -> ImportedConversation:
    """Journal every turn as a human message by its speaker and run the write path on each
    (every speaker's words count: half of what matters is often said by the other person),
    adding the import-time memories session by session. `advance` is called once a turn.

    `resume`: what an earlier, interrupted run left (`_journaled`): turns journaled are not
    journaled again, turns remembered not remembered again, memories already made not made
    again, so a re-run ends where an uninterrupted one would have."""
    session_id, done = resume or (None, {})
    if session_id is None:
        session_id = journal.create_session(title=conversation.id).id
    made = made_memories(store) if done else set()
    builder = MemoryBuilder(conversation)
    ids: dict[str, int] = {t: m.id for t, m in done.items()}
    remembered = {t for t, m in done.items() if m.meta.remembered}
    actions = 0
    extracted = ExtractedOnce()
    for session in conversation.sessions:
        # Each batch of turns is one transaction in the journal, then one in the memory (with
        # one index sync), then one marking them remembered: a kill loses no journaled turn
        # and leaves a batch's memories whole or absent (a re-run makes what is missing).
        for batch in batches([(i, t) for i, t in enumerate(session.turns) if t.id not in ids]):
            with journal.unit():
                for index, turn in batch:
                    message = journal.append(
                        session_id,
                        "user",
                        turn.text,
                        speaker=turn.speaker,
                        created_at=turn_time(session, index),
                        meta=MessageMeta(
                            source_turn_id=turn.id, source=source, conversation=conversation.id
                        ),
                    )
                    ids[turn.id] = message.id
        built = _new(builder.session(session, ids, aware(session.date)), made)
        todo = [(i, t) for i, t in enumerate(session.turns) if t.id not in remembered]
        texts = [
            text
            for index, turn in todo
            for text in extracted.texts(
                turn.text, speaker=turn.speaker, when=turn_time(session, index)
            )
        ]
        prime(store, [*texts, *(m.text for m in built.items)])
        advance(len(session.turns) - len(todo))
        for number, batch in enumerate(batches(todo)):
            final = number == (len(todo) - 1) // BATCH
            with store.unit():
                for index, turn in batch:
                    actions += len(
                        remember(
                            store,
                            turn.text,
                            message_id=ids[turn.id],
                            speaker=turn.speaker,
                            when=turn_time(session, index),
                            user_speaker=conversation.user,
                            actor="import",
                            extract=extracted,
                        )
                    )
                if final:  # the session's own memories, with its last turns
                    builder.add(store, built)
            with journal.unit():
                for _index, turn in batch:
                    journal.update(ids[turn.id], meta={"remembered": True})
            advance(len(batch))
        if not todo:
            builder.add(store, built)
        extracted.clear()
    built = _new(builder.finish(), made)
    prime(store, [m.text for m in built.items])
    with store.unit():
        builder.add(store, built)
    last = conversation.turns()
    if last:
        journal.update(ids[last[-1][2].id], meta={"import_complete": True})
    return ImportedConversation(
        conversation=conversation.id,
        session_id=session_id,
        message_ids=ids,
        extracted=actions,
        memories=builder.count,
    )


def made_memories(store: MemoryStore) -> set[tuple[str, tuple[int, ...]]]:
    """Memories already in the store, as (text, provenance): a resumed import skips these."""
    return {(m.text, tuple(m.provenance)) for m in store.list(valid_only=False)}


def _new(built: Built, made: set[tuple[str, tuple[int, ...]]]) -> Built:
    """The built memories not made by an earlier run (names are recorded idempotently)."""
    if made:
        built.items = [m for m in built.items if (m.text, tuple(m.provenance)) not in made]
    return built


class ImportReport(BaseModel):
    """What `hearth import` did."""

    dataset: str
    imported: list[ImportedConversation]
    skipped: list[str]
    """Conversations already imported from this data set (their ids)."""

    @property
    def turns(self) -> int:
        return sum(len(c.message_ids) for c in self.imported)


def import_dataset(
    journal: Journal,
    store: MemoryStore,
    dataset: Dataset,
    *,
    advance: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Import every conversation not imported before (so running it twice adds nothing), and
    finish any an interrupted run left half done."""
    report = ImportReport(dataset=dataset.name, imported=[], skipped=[])
    cited: set[int] | None = None
    for conversation in dataset.conversations:
        resume = _journaled(journal, conversation, dataset.name)
        if resume[1]:
            if cited is None:
                cited = {i for m in store.list(valid_only=False) for i in m.provenance}
            if is_complete(conversation, resume[1], cited):
                report.skipped.append(conversation.id)
                advance(len(conversation.turns()))
                continue
        report.imported.append(
            import_conversation(
                journal, store, conversation, source=dataset.name, advance=advance, resume=resume
            )
        )
        if isinstance(store.embedder, CachedEmbedder):
            store.embedder.clear()  # one conversation's texts at a time: memory stays flat
    return report
