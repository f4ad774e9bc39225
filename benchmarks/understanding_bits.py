"""`hearth bench understanding`: bits per token of a person's messages with and without memory.

Each conversation of a long-term data set is imported into a fresh temporary data dir (the
journal, the write path, the import-time memories: Hearth's memory of it). Then a random sample
of the person's messages from every session after the first is read by the model after the
recent turns of its session, once alone and once with the notes Hearth recalls for it, placed as
the chat places them (`agent.understanding`).

The rule against leaks: for each scored message, the notes come only from memories every source
turn of which came before it (`AsOf`; the import learns everything at once, so the test is on
the turns a memory cites, not on when it was learned), found with a query made of the two
turns before it, never of the message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.importing.conversations import import_conversation, turn_time
from agent.importing.records import Conversation, Turn
from agent.runtime.backend import LlamaBackend, scoring_instance
from agent.understanding import (
    QUERY_TURNS,
    RECENT_TOKENS,
    WINDOW,
    Figures,
    Moment,
    figures,
    understand_all,
)
from benchmarks.dataset import open_dataset, scratch_home
from memory.graph.db.filters import AsOf
from memory.journal.schemas import ChatMessage, Surprise
from memory.settings import ChatSettings, MemorySettings, ModelSettings

if TYPE_CHECKING:
    from agent.importing.conversations import CachedEmbedder

SAMPLE = 200
"""Messages scored by default, drawn at random over every conversation's later sessions."""

RULE = (
    "notes only from memories whose every source turn came before the scored message, found "
    f"with a query made of the {QUERY_TURNS} turns before it (never the message itself); "
    f"recent turns: the message's own session, up to {RECENT_TOKENS} tokens"
)


class ConversationFigures(Figures):
    conversation: str


class UnderstandingBenchReport(BaseModel):
    dataset: str
    model: str
    sample: int
    """Messages asked for."""
    candidates: int
    """The person's messages in sessions after the first (what the sample is drawn from)."""
    seed: int
    overall: Figures
    conversations: list[ConversationFigures]
    skipped: int
    """Sampled messages too long for the scoring window."""
    ingest_s: float
    scoring_s: float
    per_message_s: float | None
    rule: str


def person_of(conversation: Conversation) -> str:
    """Whose messages are measured: the conversation's user, else its first speaker."""
    first = next((t.speaker for _s, _i, t in conversation.turns()), "")
    return conversation.user or first


def later_turns(conversation: Conversation) -> list[Turn]:
    """The person's turns with words, in every session after the first."""
    person = person_of(conversation)
    return [
        t
        for session in conversation.sessions[1:]
        for t in session.turns
        if t.speaker == person and t.text.strip()
    ]


def dataset_moments(
    conversation: Conversation, ids: dict[str, int], picked: set[str]
) -> list[Moment]:
    """A moment for each picked turn: the turns of its session before it (the other speakers
    as the assistant) and the query before it."""
    person = person_of(conversation)
    moments: list[Moment] = []
    previous: list[Turn] = []
    for number, session in enumerate(conversation.sessions):
        before: list[tuple[int, ChatMessage]] = []
        for index, turn in enumerate(session.turns):
            if turn.id in picked:
                asked = (session.turns[:index] or previous)[-QUERY_TURNS:]
                moments.append(
                    Moment(
                        message_id=ids[turn.id],
                        session_id=number,
                        at=turn_time(session, index),
                        text=turn.text,
                        before=list(before),
                        query="\n".join(t.text for t in asked),
                        as_of=AsOf(message_id=ids[turn.id]),
                    )
                )
            role = "user" if turn.speaker == person else "assistant"
            before.append((ids[turn.id], ChatMessage(role=role, content=turn.text)))
        if session.turns:
            previous = session.turns
    return moments


def _measure(
    conversation: Conversation,
    picked: set[str],
    scorer: LlamaBackend,
    embedder: CachedEmbedder,
    timings: list[float],
    advance: Callable[[int], None],
) -> tuple[list[Surprise], int]:
    memory = MemorySettings()
    with scratch_home("hearth-understanding-", embedder, memory) as (store, journal):
        start = time.perf_counter()
        imported = import_conversation(
            journal, store, conversation, source=conversation.id, advance=advance
        )
        timings[0] += time.perf_counter() - start
        start = time.perf_counter()
        moments = dataset_moments(conversation, imported.message_ids, picked)
        rows, skipped = understand_all(
            scorer,
            store,
            moments,
            persona=ChatSettings().persona,
            name=person_of(conversation),
            memory=memory,
            model_sha256="",
            advance=lambda: advance(1),
        )
        timings[1] += time.perf_counter() - start
    return rows, len(skipped)


def pick(
    conversations: Sequence[Conversation], sample: int, seed: int
) -> tuple[dict[str, set[str]], int]:
    """A random sample of the person's later-session turns over every conversation (turn ids
    by conversation id), and how many there were to draw from."""
    everything = [(c.id, t.id) for c in conversations for t in later_turns(c)]
    chosen: dict[str, set[str]] = {}
    for conversation, turn in random.Random(seed).sample(everything, min(sample, len(everything))):
        chosen.setdefault(conversation, set()).add(turn)
    return chosen, len(everything)


def run_understanding_bench(
    path: Path,
    model: Path,
    model_settings: ModelSettings,
    *,
    sample: int = SAMPLE,
    seed: int = 0,
    limit: int | None = None,
    on_total: Callable[[int], None] = lambda n: None,
    advance: Callable[[int], None] = lambda n: None,
    describe: Callable[[str], None] = lambda text: None,
) -> UnderstandingBenchReport:
    """Import each conversation that has a sampled message and measure those messages.
    `advance` is called once for each turn imported and each message measured."""
    dataset, conversations, cached = open_dataset(path, limit, None, lambda n: None, describe)
    chosen, candidates = pick(conversations, sample, seed)
    wanted = [c for c in conversations if c.id in chosen]
    on_total(sum(len(c.turns()) for c in wanted) + sum(len(t) for t in chosen.values()))
    describe(f"loading {model.name}")
    timings = [0.0, 0.0]
    rows: list[Surprise] = []
    per: list[ConversationFigures] = []
    skipped = 0
    with scoring_instance(model, model_settings, WINDOW) as scorer:
        for number, conversation in enumerate(wanted, start=1):
            describe(f"{number}/{len(wanted)} {conversation.id}")
            found, missed = _measure(
                conversation, chosen[conversation.id], scorer, cached, timings, advance
            )
            rows.extend(found)
            skipped += missed
            if found:
                per.append(
                    ConversationFigures(**figures(found).model_dump(), conversation=conversation.id)
                )
            cached.clear()  # each conversation's texts are its own; keep memory flat
    return UnderstandingBenchReport(
        dataset=dataset.name,
        model=model.name,
        sample=sample,
        candidates=candidates,
        seed=seed,
        overall=figures(rows),
        conversations=per,
        skipped=skipped,
        ingest_s=round(timings[0], 1),
        scoring_s=round(timings[1], 1),
        per_message_s=round(timings[1] / len(rows), 3) if rows else None,
        rule=RULE,
    )
