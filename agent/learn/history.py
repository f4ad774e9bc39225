"""Memories from history: the write path run over the journal's messages since a date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from agent.learn.said import link_to_said
from agent.learn.write_path import Extractor, remember
from memory.journal.journal import Journal
from memory.journal.schemas import RECOVERED_SOURCE, Message

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore


class HistoryReport(BaseModel):
    """What `hearth memory extract` did."""

    extractor: str
    read: int
    """Messages the extractor read in this run."""
    done_before: int
    """Messages since the date that an earlier run (or the chat, for the rules) had read."""
    changed: list[str] = Field(default_factory=list)
    """Memory ids added or changed."""


def _done(message: Message, tag: str) -> bool:
    # The chat's own write path ran the rules on every message it remembered.
    return tag in message.meta.extracted_with or (tag == "rules" and message.meta.remembered)


def since(journal: Journal, start: datetime) -> list[Message]:
    """The person's messages from `start` on that memory may learn from, oldest first."""
    return [
        m
        for m in journal.messages(newest_first=False)
        if m.role == "user"
        and not m.off_record
        and not m.meta.synthetic  # a dream's scenario is made up: nothing about the person
        and m.meta.source != RECOVERED_SOURCE  # made from memories: learned from already
        and m.meta.memory
        and m.created_at >= start
    ]


def todo(messages: list[Message], tag: str) -> list[Message]:
    """Those the extractor `tag` has not read yet."""
    return [m for m in messages if not _done(m, tag)]


def extract_history(
    journal: Journal,
    store: MemoryStore,
    messages: list[Message],
    *,
    extract: Extractor,
    tag: str,
    user_name: str,
    advance: Callable[[], None] = lambda: None,
) -> list[str]:
    """Run the write path with `extract` over `messages`, marking each as read by `tag` once
    its memories are committed: an interrupted run resumes at the first message not marked
    (one whose write committed but whose mark did not is read again, and the write path's
    reconciliation makes the repeat a no-op). Returns the memory ids added or changed."""
    changed: list[str] = []
    for message in messages:
        # A chat message's speaker is the person; an imported one's may be someone else.
        user = message.speaker if message.meta.source is None else user_name
        actions = remember(
            store,
            message.text,
            message_id=message.id,
            speaker=message.speaker or user_name,
            when=message.created_at,
            user_speaker=user or user_name,
            extract=extract,
        )
        changed += [a.memory_id for a in actions if a.action != "noop"]
        link_to_said(store, message.id, actions)
        marks = [*message.meta.extracted_with, tag]
        journal.update(message.id, meta={"extracted_with": marks, "remembered": True})
        advance()
    return changed
