"""How much Hearth understands the person: bits per token of their words, with and without memory.

A mind that knows you is less surprised by you. For each of the person's messages the model
reads the recent conversation and then the message, once as it is and once with the notes
Hearth would have recalled before the message was written, placed as the chat places them.
The difference in bits per token is how much the memory made the person less surprising.

No leak from the message into its notes: they come from the memory as it stood just before
it (`AsOf`: memories learned earlier, citing only earlier messages), found with a query built
from the turns before it, never from the message itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.context import memory_block, system_prompt
from agent.recall import recall
from memory.clock import now
from memory.errors import ConfigError
from memory.graph.db.filters import AsOf
from memory.graph.nodes import Hit, Memory
from memory.journal.schemas import ChatMessage, Message, Surprise
from memory.settings import MemorySettings

if TYPE_CHECKING:
    from agent.runtime.backend import LlamaBackend
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal

RECENT_TOKENS = 512
"""The recent conversation a message is read after: its session's last turns, this many
tokens at most (a long window costs every message a long forward pass)."""

QUERY_TURNS = 2
"""The turns before a message that make the query for its notes (the chat uses the message
itself, which would leak the answer into the question)."""

WINDOW = 2048
"""The scoring window: recent turns, the notes (an eighth of it) and the message."""


class Moment(BaseModel):
    """One of the person's messages and what a Hearth looking back at it may see."""

    message_id: int
    session_id: int
    at: datetime
    text: str
    before: list[tuple[int, ChatMessage]]
    """The conversation before it in its session, oldest first, with journal ids; the model
    reads its end (`recent_turns`)."""
    query: str
    """The turns before it ('' when there are none: no notes)."""
    as_of: AsOf


class Figures(BaseModel):
    """Bits per token over some messages, token-weighted."""

    messages: int
    tokens: int
    bits_alone: float
    """Given the recent conversation alone."""
    bits_with: float
    """Given it plus the notes."""
    saved: float
    """bits_alone - bits_with: how much less surprising memory made the person."""
    less_surprising: float
    """Share of messages with fewer bits per token with the notes than without."""
    with_notes: int
    """Messages that had any notes (the rest read the same both ways)."""


class SessionFigures(Figures):
    session_id: int
    started: datetime


class UnderstandingReport(BaseModel):
    """What one `hearth understanding` run did and found (`--json` prints it)."""

    model: str
    model_sha256: str
    measured: int
    """Messages measured in this run."""
    done_before: int
    """Messages this model had measured already (a run resumes)."""
    skipped: list[int]
    """Messages too long for the scoring window."""
    seconds: float
    overall: Figures
    sessions: list[SessionFigures]
    plot: str | None = None


def bits(mean_logprob: float) -> float:
    """A mean log-probability (nats per token) as bits per token of surprise."""
    return -mean_logprob / math.log(2)


def figures(rows: Sequence[Surprise]) -> Figures:
    tokens = sum(r.tokens for r in rows)

    def weighted(values: Sequence[float]) -> float:
        if not tokens:
            return 0.0
        return sum(v * r.tokens for v, r in zip(values, rows, strict=True)) / tokens

    alone = weighted([r.bits_alone for r in rows])
    with_ = weighted([r.bits_with for r in rows])
    return Figures(
        messages=len(rows),
        tokens=tokens,
        bits_alone=round(alone, 4),
        bits_with=round(with_, 4),
        saved=round(alone - with_, 4),
        less_surprising=round(sum(r.bits_with < r.bits_alone for r in rows) / len(rows), 4)
        if rows
        else 0.0,
        with_notes=sum(r.notes > 0 for r in rows),
    )


def per_session(rows: Sequence[Surprise]) -> list[SessionFigures]:
    """Figures for each session, in the order of their first message (a session resumed
    after another is still one row)."""
    by_session: dict[int, list[Surprise]] = {}
    for row in rows:
        by_session.setdefault(row.session_id, []).append(row)
    return [
        SessionFigures(
            **figures(listed).model_dump(),
            session_id=session_id,
            started=listed[0].at or listed[0].scored_at,
        )
        for session_id, listed in by_session.items()
    ]


def recent_turns(
    before: Sequence[tuple[int, ChatMessage]], count: Callable[[str], int]
) -> tuple[list[ChatMessage], list[int]]:
    """The last turns that fit `RECENT_TOKENS`, oldest first, a speaker's consecutive turns
    as one message (chat templates expect turns to alternate), and their journal ids; a turn
    that would not fit ends it (the conversation is not shown with holes)."""
    kept: list[tuple[int, ChatMessage]] = []
    used = 0
    for message_id, message in reversed(before):
        used += count(message.content) + 8  # the template's role markers around it
        if used > RECENT_TOKENS:
            break
        kept.append((message_id, message))
    kept.reverse()
    # The shown turns start with the person, as a resumed conversation does.
    while kept and kept[0][1].role != "user":
        kept.pop(0)
    merged: list[ChatMessage] = []
    for _id, message in kept:
        if merged and merged[-1].role == message.role:
            joined = f"{merged[-1].content}\n{message.content}"
            merged[-1] = ChatMessage(role=message.role, content=joined)
        else:
            merged.append(message)
    return merged, [i for i, _m in kept]


def understand(
    scorer: LlamaBackend,
    store: MemoryStore | None,
    moment: Moment,
    *,
    persona: str,
    name: str,
    memory: MemorySettings,
    model_sha256: str,
) -> Surprise:
    """One message's bits per token, alone and with the notes recalled before it."""
    recent, visible = recent_turns(moment.before, scorer.count_text)
    hits: list[Hit] = []
    pinned: list[Memory] = []
    if store is not None:
        if moment.query:
            hits = recall(
                store,
                moment.query,
                exclude=set(),
                # Memories made only of turns the model is reading anyway add nothing.
                visible=set(visible),
                settings=memory,
                count=scorer.count_text,
                window=scorer.n_ctx,
                as_of=moment.as_of,
                # Recalled by the turns before the message, not by the message: no floor
                # (with one, the person was more surprising with memory in tests/test_surprise).
                floor=False,
            )
        pinned = [m for m in store.pinned() if moment.as_of.admits(m)]
    # The person's turn just before this one (nobody answered it) is the start of the same
    # message, as the chat would show two turns sent together: the notes go before both.
    carry = f"{recent.pop().content}\n" if recent and recent[-1].role == "user" else ""
    # The same instructions in both arms (who is who included): only the notes differ.
    alone = [ChatMessage(role="system", content=system_prompt(persona, [], name)), *recent]
    mean_alone, tokens = scorer.message_logprob(alone, carry, moment.text)
    mean_with = mean_alone
    if hits or pinned:
        # Dated relative to the message and the most relevant last, as the chat shows them,
        # but read after the instructions, not between the person's header and their first
        # words: there (the chat's place, where they serve the reply) the first three tokens
        # of a REALTALK message were 1.35 bits more surprising with notes, the rest 0.05 bits
        # less (docs/benchmarks.md): the measure was of the notes' position, not of knowing
        # the person.
        block = memory_block([h.memory for h in reversed(hits)], name, now=moment.at)
        instructed = system_prompt(persona, pinned, name)
        system = ChatMessage(
            role="system", content=f"{instructed}\n\n{block}" if block else instructed
        )
        mean_with, _ = scorer.message_logprob([system, *recent], carry, moment.text)
    return Surprise(
        message_id=moment.message_id,
        model_sha256=model_sha256,
        tokens=tokens,
        bits_alone=bits(mean_alone),
        bits_with=bits(mean_with),
        notes=len(hits) + len(pinned),
        scored_at=now(),
        session_id=moment.session_id,
        at=moment.at,
    )


def understand_all(
    scorer: LlamaBackend,
    store: MemoryStore | None,
    moments: Sequence[Moment],
    *,
    persona: str,
    name: str,
    memory: MemorySettings,
    model_sha256: str,
    keep: Callable[[Surprise], None] = lambda row: None,
    advance: Callable[[], None] = lambda: None,
) -> tuple[list[Surprise], list[int]]:
    """Each moment measured in turn (`keep` is handed each row as it is made, so a stopped
    run keeps what it did); returns the rows and the messages too long for the window."""
    rows: list[Surprise] = []
    skipped: list[int] = []
    for moment in moments:
        try:
            row = understand(
                scorer,
                store,
                moment,
                persona=persona,
                name=name,
                memory=memory,
                model_sha256=model_sha256,
            )
        except ConfigError:
            skipped.append(moment.message_id)  # the message alone overflows the window
        else:
            keep(row)
            rows.append(row)
        advance()
    return rows, skipped


# -- the person's own journal -------------------------------------------------------------


def _spoken(thread: Sequence[Message]) -> list[Message]:
    """The turns of a conversation a measure reads: said on the record by the person or
    written by Hearth, with text; imported and made-up turns are not the person's."""
    return [
        m
        for m in thread
        if m.role in ("user", "assistant")
        and m.text
        and m.status != "error"
        and not m.off_record
        and not m.meta.synthetic
        and m.meta.source is None
        and m.meta.imported is None
    ]


def journal_moments(
    journal: Journal,
    *,
    session_id: int | None = None,
    since: datetime | None = None,
) -> list[Moment]:
    """A moment for each of the person's messages in the journal (the kept branch of each
    session), oldest first. A session's first message is looked up with the
    end of the session before it: what Hearth would have had in mind when they came back."""
    moments: list[Moment] = []
    last_turns: list[Message] = []
    for session in sorted(journal.sessions(), key=lambda s: s.id):
        if session.temporary:
            continue
        turns = _spoken(journal.thread(session.id))
        said = [(m.id, ChatMessage(role=m.role, content=m.text)) for m in turns]
        wanted = session_id is None or session.id == session_id
        for i, message in enumerate(turns):
            if not wanted or message.role != "user":
                continue
            if since is not None and message.created_at < since:
                continue
            asked = (turns[:i] or last_turns)[-QUERY_TURNS:]
            moments.append(
                Moment(
                    message_id=message.id,
                    session_id=session.id,
                    at=message.created_at,
                    text=message.text,
                    before=said[:i],
                    query="\n".join(m.text for m in asked),
                    as_of=AsOf(message_id=message.id, at=message.created_at),
                )
            )
        if turns:
            last_turns = turns
    return moments
