"""Hearth's records (memories, the panel's rows, dreams) as the plain types the chat is sent
(agent/conversation.py): one conversion, whichever conversation, here or served, sends them."""

from __future__ import annotations

from agent.conversation import DreamItem, MemoryItem, PanelRow, Why
from agent.dream.review import Dream
from agent.memory_use import use_line
from agent.reply_memories import MemoryRow
from memory.graph.nodes import Memory


def memory_item(m: Memory) -> MemoryItem:
    return MemoryItem(
        id=m.id,
        kind=m.kind,
        subject=m.subject,
        text=m.text,
        quote=m.quote,
        importance=m.importance,
        pinned=m.pinned,
        sensitive=m.sensitive,
        flags=list(m.flags),
        learned_at=m.learned_at,
        valid_from=m.valid_from,
        valid_to=m.valid_to,
        expired_at=m.expired_at,
        provenance=list(m.provenance),
    )


def panel_row(r: MemoryRow) -> PanelRow:
    """A memory panel's row as the chat draws it (the `used` line worked out here)."""
    return PanelRow(
        section=r.section,
        memory_id=r.memory_id,
        memory=memory_item(r.memory) if r.memory is not None else None,
        why=Why(**r.why.model_dump(exclude={"id"})) if r.why is not None else None,
        accepted=r.accepted,
        used=use_line(r.memory, r.use) if r.memory is not None else None,
    )


def dream_item(d: Dream) -> DreamItem:
    return DreamItem(
        id=d.id,
        kind=d.kind,
        review=d.review,
        scenario=d.scenario,
        reply=d.reply,
        memory_ids=list(d.memory_ids),
        recalled_ids=list(d.recalled_ids),
        original_reply=d.original_reply,
    )
