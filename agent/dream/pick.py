"""Which memories a dream draws on: recent, important, rarely recalled and corrected ones."""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from memory.graph.flags import INSTRUCTION_LIKE, SECRET
from memory.graph.kinds import DREAMED_KINDS
from memory.graph.nodes import HistoryEntry, Memory
from memory.journal.journal import Journal
from memory.secrets import has_secret

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

# Which kinds a dream draws on is the registry's word (`memory.graph.kinds`): episodes,
# reflections and the person's kept words (`said`) are summaries or transcript, not things a
# person would bring up; core memories are in every prompt already; feelings are private.

HALF_LIFE_DAYS = 30.0
"""A memory learned this long ago weighs half as much for recency as one learned today."""
CORRECTED = 3.0
"""How much more a memory the person corrected weighs: the moments most worth rehearsing."""


class Pickable(BaseModel):
    """A memory a dream may draw on, and what it was before the person corrected it."""

    memory: Memory
    corrected: bool = False
    old_text: str | None = None
    """The value the person corrected (None: not corrected, or the old words are gone)."""
    weight: float = 0.0


def unsafe(memory: Memory) -> bool:
    """A secret (flagged, or one the detector finds) or a sensitive memory (health, feelings,
    someone's private matters): a dream becomes training data, so such a memory never makes
    a dream nor is recalled into one's prompt."""
    return (
        SECRET in memory.flags
        or has_secret(memory.text)
        or bool(memory.quote and has_secret(memory.quote))
        or memory.sensitive
    )


def safe(memory: Memory) -> bool:
    """A memory a dream may quote: of a kind a person would bring up, not `unsafe`, and not
    one that reads as an order to the model."""
    return (
        memory.kind in DREAMED_KINDS and not unsafe(memory) and INSTRUCTION_LIKE not in memory.flags
    )


def weight(memory: Memory, corrected: bool, at: datetime) -> float:
    """Recent (halving every HALF_LIFE_DAYS since learned), important, rarely recalled (the
    more replies it was shown to, the less it needs rehearsing) and corrected. Each factor has
    a floor, so no memory is never picked."""
    age_days = max((at - memory.learned_at).total_seconds() / 86400, 0.0)
    recency: float = 0.5 ** (age_days / HALF_LIFE_DAYS)
    rarely = 1.0 / (1 + memory.recalled_count)
    factor = CORRECTED if corrected else 1.0
    return (0.25 + memory.importance) * (0.5 + recency) * (0.5 + rarely) * factor


def _old_texts(history: list[HistoryEntry]) -> dict[str, str]:
    """Memory id -> the words it had before the person's last edit of it."""
    texts: dict[str, list[str]] = {}
    old: dict[str, str] = {}
    for entry in history:  # oldest first
        if entry.memory_id is None or entry.text is None:
            continue
        before = texts.setdefault(entry.memory_id, [])
        if entry.action == "edit" and entry.actor == "user" and before:
            old[entry.memory_id] = before[-1]
        before.append(entry.text)
    return old


def pickable(store: MemoryStore, journal: Journal, at: datetime) -> list[Pickable]:
    """Every memory valid at `at` that a dream may draw on, weighted.

    A memory the person corrected is one they edited themselves (its old value: the words
    before that edit), or one that superseded an older memory when they said so (`hearth
    memory` as the person, or the write path reading a message flagged as a correction; its
    old value: the superseded memory's words). Memories come only from what was said on the
    record: off-record and temporary sessions never make memories, so never feed dreams.
    """
    history = store.history()
    old = _old_texts(history)
    superseded: dict[str, tuple[str, str]] = {}  # new id -> (old id, actor)
    for entry in history:
        if entry.action == "add" and entry.memory_id and "supersedes" in entry.detail:
            superseded[entry.memory_id] = (str(entry.detail["supersedes"]), entry.actor)
    found: list[Pickable] = []
    for memory in store.list():
        if not memory.is_valid(at) or not safe(memory):
            continue
        old_text = old.get(memory.id)
        if old_text is None and memory.id in superseded:
            old_id, actor = superseded[memory.id]
            if actor == "user" or _said_as_correction(journal, memory.provenance):
                old_text = _text_of(store, old_id)
        if old_text is not None and has_secret(old_text):
            old_text = None  # never said again, not even to be corrected
        corrected = memory.id in old or (memory.id in superseded and old_text is not None)
        found.append(
            Pickable(
                memory=memory,
                corrected=corrected,
                old_text=old_text,
                weight=weight(memory, corrected, at),
            )
        )
    return found


def _said_as_correction(journal: Journal, provenance: list[int]) -> bool:
    from memory.errors import NotFoundError

    for message_id in provenance:
        try:
            if journal.message(message_id).meta.correction:
                return True
        except NotFoundError:  # a message deleted with its session
            continue
    return False


def _text_of(store: MemoryStore, memory_id: str) -> str | None:
    from memory.errors import NotFoundError

    try:
        return store.get(memory_id).text
    except NotFoundError:  # forgotten since
        return None


def pick(pool: list[Pickable], n: int, rng: random.Random) -> list[Pickable]:
    """Up to n of them, each drawn by weight from those not drawn yet (so the same seed over
    the same memories draws the same)."""
    left = sorted(pool, key=lambda p: p.memory.id)  # an order that does not depend on storage
    picked: list[Pickable] = []
    while left and len(picked) < n:
        choice = rng.choices(range(len(left)), weights=[p.weight for p in left])[0]
        picked.append(left.pop(choice))
    return picked
