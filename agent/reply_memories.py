"""The memories one reply was shown and the ones it left behind, for the TUI's memory panel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from memory.errors import NotFoundError
from memory.graph.nodes import Memory
from memory.journal.journal import Journal
from memory.journal.schemas import MemoryUse, RecallNote

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

Section = Literal["recalled", "remembered"]


class MemoryRow(BaseModel):
    """One memory as the panel lists it."""

    section: Section
    memory_id: str
    memory: Memory | None
    """None: forgotten (or rejected) since."""
    why: RecallNote | None = None
    """Why it was recalled (recalled rows only)."""
    accepted: bool = False
    use: MemoryUse | None = None
    """How much replies leaned on it, where `hearth score` has scored some without it."""


class ReplyMemories(BaseModel):
    """What one reply recalled and remembered, as read from the journal and the store now."""

    reply_id: int | None
    memory: bool = True
    """False: the reply was made with memory off (nothing recalled or remembered)."""
    rows: list[MemoryRow]


def reply_memories(journal: Journal, store: MemoryStore, reply_id: int | None) -> ReplyMemories:
    """The memories recalled for a reply (kept with the message it answers) and those stored
    after it (kept with the reply), each read from the store as it is now. Plain SQLite reads:
    fast enough for the UI thread."""
    if reply_id is None:
        return ReplyMemories(reply_id=None, rows=[])
    try:
        reply = journal.message(reply_id)
        asked = journal.message(reply.parent_id) if reply.parent_id is not None else None
    except NotFoundError:
        return ReplyMemories(reply_id=reply_id, rows=[])
    notes = asked.meta.recall_notes() if asked is not None else []
    rows = [_row(journal, store, "recalled", n.id, n) for n in notes]
    rows += [_row(journal, store, "remembered", i) for i in dict.fromkeys(reply.meta.stored)]
    return ReplyMemories(reply_id=reply_id, memory=reply.meta.memory, rows=rows)


def _row(
    journal: Journal,
    store: MemoryStore,
    section: Section,
    memory_id: str,
    why: RecallNote | None = None,
) -> MemoryRow:
    try:
        memory = store.get(memory_id)
    except NotFoundError:
        return MemoryRow(section=section, memory_id=memory_id, memory=None, why=why)
    accepted = store.accepted(memory_id)
    use = journal.memory_use(memory_id)
    return MemoryRow(
        section=section, memory_id=memory_id, memory=memory, why=why, accepted=accepted, use=use
    )
