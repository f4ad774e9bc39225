"""A small journal written through the real Journal API with scripted replies, for export tests.

Replies are written the way the turn loop writes them (the prompt the model saw, the model, the
sampling), with fixed timestamps, so the exported files are the same on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.learn.corrections import flag_correction
from memory.journal.journal import Journal
from memory.journal.schemas import ChatMessage, Message, ModelInfo

PERSONA = "You are Hearth, a warm companion."
MODEL = ModelInfo(name="scripted-135M", path="/models/scripted.gguf", sha256="0" * 64)
EMAIL = "sam.doe@example.com"
PHONE = "+1 415-555-0132"
CARD = "4111 1111 1111 1111"


def at(day: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, 10, minute, tzinfo=UTC)


class Script(BaseModel):
    """The ids of the messages the tests talk about."""

    greeting: int
    greeting_edit: int
    kept_regen: int
    dropped_regen: int
    correction: int
    thumbs_up: int
    thumbs_down: int
    card_edit: int
    synthetic_reply: int
    temporary_reply: int
    superseded_reply: int
    branch_reply: int


class Chat:
    """Writes turns as the turn loop does: the user message, then a reply with its prompt."""

    def __init__(self, journal: Journal, session_id: int) -> None:
        self.journal = journal
        self.session_id = session_id

    def user(self, text: str, when: datetime, **meta: Any) -> Message:
        msg = self.journal.append(self.session_id, "user", text, speaker="you", created_at=when)
        if meta:
            self.journal.update(msg.id, meta=meta)
        return msg

    def reply(self, user: Message, text: str, when: datetime, **meta: Any) -> Message:
        thread = self.journal.thread(self.session_id, user.id)
        prompt = [ChatMessage(role="system", content=PERSONA)]
        prompt += [ChatMessage(role=m.role, content=m.text) for m in thread]
        return self.journal.append(
            self.session_id,
            "assistant",
            text,
            parent_id=user.id,
            prompt=prompt,
            model=MODEL,
            sampling={"temperature": 0.7},
            meta={"trimmed": [], **meta},
            created_at=when,
        )


def write_journal(path: Path) -> Script:
    """Four sessions: a main chat with every signal, a synthetic one, a temporary one, a branch."""
    journal = Journal(path)
    try:
        main = Chat(journal, journal.create_session("main").id)
        u1 = main.user(f"Hi, I'm Sam. Mail me at {EMAIL}.", at(5))
        a1 = main.reply(u1, "Hello Sam! Nice to meet you.", at(5, 1))
        u2 = main.user("What's a good name for a cat?", at(6))
        kept = main.reply(u2, "How about Whiskers?", at(6, 1))
        dropped = main.reply(u2, "Maybe Miso, after the soup.", at(6, 2))  # a regeneration
        journal.choose(kept.id)
        u3 = main.user("No, listen: I said a name for a black cat.", at(7))
        assert flag_correction(journal, u3)
        a3 = main.reply(u3, "Sorry! Then Shadow, or Pepper.", at(7, 1))
        journal.set_feedback(a3.id, 1, "good recovery")
        u4 = main.user(f"Call me on {PHONE}; my card is {CARD}.", at(8))
        a4 = main.reply(u4, "I will remember your card number forever.", at(8, 1))
        journal.set_feedback(a4.id, -1)
        card_edit = journal.edit(a4.id, "I won't keep card numbers; please keep them private.")
        # An edit further up: the conversation after it stays, with the edit in its place.
        greeting_edit = journal.edit(a1.id, "Hello Sam! I'll remember your name.")

        dream = Chat(journal, journal.create_session("dream").id)
        u5 = dream.user("Tell me about the sea.", at(9), synthetic=True)
        a5 = dream.reply(u5, "The sea is wide and grey.", at(9, 1), synthetic=True)

        private = Chat(journal, journal.create_session("temporary", temporary=True).id)
        u6 = private.user("This chat is not remembered.", at(10))
        a6 = private.reply(u6, "Then I will forget it.", at(10, 1))

        branch = Chat(journal, journal.create_session("branch").id)
        u7 = branch.user("What is 2 + 2?", at(11))
        a7 = branch.reply(u7, "4.", at(11, 1))
        u7b = journal.edit(u7.id, "What is 3 + 3?")
        a7b = branch.reply(u7b, "6.", at(11, 3))
    finally:
        journal.close()
    return Script(
        greeting=a1.id,
        greeting_edit=greeting_edit.id,
        kept_regen=kept.id,
        dropped_regen=dropped.id,
        correction=u3.id,
        thumbs_up=a3.id,
        thumbs_down=a4.id,
        card_edit=card_edit.id,
        synthetic_reply=a5.id,
        temporary_reply=a6.id,
        superseded_reply=a7.id,
        branch_reply=a7b.id,
    )
