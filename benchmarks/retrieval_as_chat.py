"""A conversation replayed as a chat: only the `user`'s turns, through the chat's write path."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agent.importing.conversations import CachedEmbedder, prime, turn_time
from agent.importing.records import Conversation
from agent.learn.said import learn_message, said_parts
from memory.journal.schemas import MessageMeta

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal


def replay_as_chat(
    journal: Journal,
    store: MemoryStore,
    conversation: Conversation,
    *,
    advance: Callable[[int], None] = lambda n: None,
) -> dict[str, int]:
    """Journal each session as a chat session: the `user`'s turns as the person's messages,
    the other speaker's as the replies (never remembered, as a reply never is), and run the
    chat's write path (`learn_message`) on each of the person's, as a turn does. Returns turn
    id -> journal message id for every turn. No model runs: what the chat would remember does
    not depend on the reply's words. (The window's trimmed-message episodes are left out: a
    turn folds them only when a long chat no longer fits the model's context.)"""
    user = conversation.user or (conversation.speakers[0] if conversation.speakers else None)
    ids: dict[str, int] = {}
    for session in conversation.sessions:
        session_id = journal.create_session(title=f"{conversation.id} {session.id}").id
        parent: int | None = None
        mine = [t.text for t in session.turns if t.speaker == user]
        if isinstance(store.embedder, CachedEmbedder):
            prime(store, [p for text in mine for p in said_parts(text)])
        for index, turn in enumerate(session.turns):
            person = turn.speaker == user
            when = turn_time(session, index)
            message = journal.append(
                session_id,
                "user" if person else "assistant",
                turn.text,
                parent_id=parent,
                root=parent is None,
                speaker=turn.speaker,
                created_at=when,
                meta=MessageMeta(source_turn_id=turn.id),
            )
            ids[turn.id] = parent = message.id
            if person:
                learn_message(store, journal, message, speaker=turn.speaker, when=when)
                journal.update(message.id, meta={"remembered": True})
            advance(1)
    return ids
