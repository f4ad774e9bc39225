"""Folding messages that leave the window into an `episode` memory, so they are not forgotten."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory.graph.nodes import Memory
from memory.journal.journal import Journal
from memory.secrets import without_secrets
from memory.text import sentences

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

# Extractive on purpose: a 135M model's summary would invent things; quoted sentences cannot.
MAX_SENTENCE = 160
MAX_EPISODE = 700


def _first_sentence(text: str) -> str:
    sentence = next(iter(sentences(" ".join(text.split()))), "")
    return sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 1] + "…"


def episode_text(lines: Sequence[tuple[str, str]], date: str) -> str:
    """`[(speaker, text)]` → 'On 2026-11-20, Sam said: "…" / "…"', within MAX_EPISODE chars."""
    quotes: list[str] = []
    size = 0
    for speaker, text in lines:
        quote = f'{speaker}: "{_first_sentence(text)}"'
        if size + len(quote) > MAX_EPISODE:
            break
        quotes.append(quote)
        size += len(quote) + 3
    return f"Conversation on {date}: " + " / ".join(quotes)


def fold_episode(store: MemoryStore, journal: Journal, message_ids: Sequence[int]) -> Memory | None:
    """One episode for messages trimmed from the window, built from the human side only (the
    model's own words are never stored as facts), with provenance to every trimmed message
    said on the record."""
    messages = [journal.message(i) for i in message_ids]
    # Words said with memory off were never to be remembered, not even when they leave the window.
    human = [
        m
        for m in messages
        if m.role == "user"
        and m.text.strip()
        and m.meta.memory
        and not m.off_record
        and not m.meta.synthetic  # dreams never write memories about the person
    ]
    if not human:
        return None
    date = human[0].created_at.date().isoformat()
    # An episode quotes many messages: a secret in one is blanked out, the rest is kept.
    text = without_secrets(episode_text([(m.speaker or "user", m.text) for m in human], date))
    return store.add(
        text,
        kind="episode",
        subject="user",
        importance=0.4,
        # Off-record messages are not even named: they are purged when the session is left.
        provenance=[m.id for m in messages if not m.off_record],
        valid_from=human[0].created_at,
        actor="extraction",
    )
