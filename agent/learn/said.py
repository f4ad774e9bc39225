"""The person's chat message kept as their own words (`said` memories), linked to what was
learned from it, as `hearth import` keeps a turn; never Hearth's reply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from agent.learn.extract import extract as rules
from agent.learn.write_path import Extractor, WriteAction, remember
from memory import faults
from memory.graph.kinds import SAID
from memory.graph.nodes import Memory, NewMemory
from memory.journal.journal import Journal
from memory.journal.schemas import Message
from memory.secrets import without_secrets
from memory.text import sentences as split_sentences

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

# As the import: a sentence shorter than this says too little to be a memory of its own, and
# a message of one sentence is its own sentence.
MIN_SENTENCE_WORDS = 4
# Below the write path's facts (0.45 and up): what was learned ranks before the words it came
# from when both match a search equally.
SAID_IMPORTANCE = 0.4
# The previous message is context, not the same thing said: a lighter edge than a fact's.
CONTEXT_WEIGHT = 0.5


def said_parts(text: str) -> list[str]:
    """The message whole, then each sentence of a long one (one embedding cannot hold five
    topics); nothing for an empty one."""
    whole = text.strip()
    if not whole:
        return []
    kept = [p for p in split_sentences(whole) if len(p.split()) >= MIN_SENTENCE_WORDS]
    return [whole, *(kept if len(kept) >= 2 else [])]


def _squashed(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def holds(said: str, words: str) -> bool:
    """Whether the kept words `said` hold `words` (case, spacing and punctuation aside)."""
    wanted = _squashed(words)
    return bool(wanted) and f" {wanted} " in f" {_squashed(said)} "


# How far up the thread the previous message is looked for (a reply, or a few in a row).
LOOK_BACK = 4


def previous_message(journal: Journal, message: Message) -> Message | None:
    """The person's message before this one in its thread (above the reply), if any."""
    parent = message.parent_id
    for _ in range(LOOK_BACK):
        if parent is None:
            return None
        before = journal.message(parent)
        if before.role == "user":
            return None if before.off_record else before
        parent = before.parent_id
    return None


def learn_message(
    store: MemoryStore,
    journal: Journal,
    message: Message,
    *,
    speaker: str,
    when: datetime,
    extract: Extractor = rules,
) -> list[WriteAction]:
    """The chat's write path for one of the person's messages: what it teaches (the write
    path's facts), then the words themselves (`keep_said`). `hearth bench retrieval --as-chat`
    replays a conversation through this same function."""
    actions = remember(
        store,
        message.text,
        message_id=message.id,
        speaker=speaker,
        when=when,
        user_speaker=speaker,
        extract=extract,
    )
    # The facts are written, the words not yet: a crash here must leave neither (the turn's
    # unit of work).
    faults.reached("mid-memory-write")
    keep_said(store, journal, message, when=when, learned=actions)
    return actions


def keep_said(
    store: MemoryStore,
    journal: Journal,
    message: Message,
    *,
    when: datetime,
    learned: Sequence[WriteAction],
) -> list[Memory]:
    """Keep the person's message as `said` memories (the words as said, dated, about the
    person; a secret in them blanked out), linked from every memory learned from them
    (`derived_from`: forgetting one reaches the words) and to the previous message's words
    (its context). A part whose sentence the person rejected is not kept again."""
    parts = [p for p in said_parts(message.text) if not _rejected(store, p, message.text)]
    if not parts:
        return []
    items = [
        NewMemory(
            text=without_secrets(p),
            kind=SAID,
            subject="user",
            importance=SAID_IMPORTANCE,
            provenance=[message.id],
            valid_from=when,
        )
        for p in parts
    ]
    kept = store.add_many(items, actor="extraction")
    for action in learned:
        _link_learned(store, action.memory_id, kept)
    before = previous_message(journal, message)
    if before is not None:
        earlier = _whole(store, before)
        if earlier is not None:
            store.link(kept[0].id, earlier.id, "related", CONTEXT_WEIGHT, actor="extraction")
    return kept


def link_to_said(store: MemoryStore, message_id: int, learned: Sequence[WriteAction]) -> None:
    """Link memories learned later from a message (`hearth memory extract`) to the words the
    chat kept of it, if it kept any (a message sent before `said` memories has none)."""
    kept = store.list(kinds=[SAID], sources=[message_id], valid_only=False)
    if not kept or not learned:
        return
    # The whole message first (its text is the longest of its parts).
    kept.sort(key=lambda m: -len(m.text))
    for action in learned:
        _link_learned(store, action.memory_id, kept)


def _rejected(store: MemoryStore, part: str, message: str) -> bool:
    sentences = split_sentences(part) or [part]
    return store.rejected(part, *sentences, said_in=message)


def _link_learned(store: MemoryStore, memory_id: str, kept: Sequence[Memory]) -> None:
    """Link a learned memory to the kept words holding what it was learned from (its quote,
    else its text): the whole message always, a sentence when it holds them."""
    memory = store.get(memory_id)
    words = memory.quote or memory.text
    holding = [s for s in kept[1:] if holds(s.text, words)]
    for said in [kept[0], *holding]:
        store.link(memory_id, said.id, "derived_from", actor="extraction")


def _whole(store: MemoryStore, message: Message) -> Memory | None:
    found = store.list(kinds=[SAID], sources=[message.id], valid_only=False)
    whole = message.text.strip()
    return next((m for m in found if m.text == without_secrets(whole)), None)
