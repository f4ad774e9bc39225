"""Reviewing dreams: list them, accept, reject or edit one (an edit is a journal edit)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field

from memory.errors import DreamError, NotFoundError
from memory.journal.journal import Journal
from memory.journal.schemas import DreamKind, DreamMeta, Message, MessageMeta, Review

REVIEW_STATES: tuple[Review, ...] = get_args(Review)
"""Every state a dream's review can be in (`hearth dream list --review`)."""

Action = Literal["accept", "reject", "edit"]


class Dream(BaseModel):
    """One dream as review shows it: the scenario, the reply it has now, what it drew on."""

    id: int
    """The scenario's journal message id: what `hearth dream review --accept ID` takes."""
    session_id: int
    kind: DreamKind
    memory_ids: list[str]
    """The memories the scenario was built from (its provenance)."""
    recalled_ids: list[str] = Field(default_factory=list)
    """The memories the context builder recalled for it (shown to the model, not counted)."""
    review: Review
    scenario: str
    reply: str
    """The reply as it stands: the person's edit if they made one."""
    reply_id: int | None
    original_reply: str | None = None
    """With an edit: what the model said (the DPO export's `rejected`)."""
    created_at: datetime
    synthetic: bool


def dreams(journal: Journal, review: Review | None = None) -> list[Dream]:
    """Every dream, oldest first (only those in one review state when asked)."""
    messages = journal.dream_messages()
    replies: dict[int, list[Message]] = defaultdict(list)
    for m in messages:
        if m.role == "assistant" and m.parent_id is not None:
            replies[m.parent_id].append(m)
    choices = journal.choices()
    found = [
        _dream(m, replies[m.id], choices.get(m.id))
        for m in messages
        if m.role == "user" and m.meta.dream is not None
    ]
    return [d for d in found if review is None or d.review == review]


def _dream(scenario: Message, replies: list[Message], chosen: int | None) -> Dream:
    meta = scenario.meta.dream
    assert meta is not None
    kept = next((r for r in replies if r.id == chosen), replies[-1] if replies else None)
    original = next((r for r in replies if r.meta.edit_of is None), None)
    edited = kept is not None and original is not None and kept.id != original.id
    return Dream(
        id=scenario.id,
        session_id=scenario.session_id,
        kind=meta.kind,
        memory_ids=meta.memory_ids,
        recalled_ids=scenario.meta.recalled_ids,
        review=meta.review,
        scenario=scenario.text,
        reply=kept.text if kept is not None else "",
        reply_id=kept.id if kept is not None else None,
        original_reply=original.text if edited and original is not None else None,
        created_at=scenario.created_at,
        synthetic=scenario.meta.synthetic,
    )


def dream(journal: Journal, dream_id: int) -> Dream:
    """One dream by its scenario's id."""
    scenario = journal.message(dream_id)  # NotFoundError for an id that is no message at all
    if scenario.role != "user" or scenario.meta.dream is None:
        raise DreamError(f"message {dream_id} is not a dream; `hearth dream list` shows dream ids")
    return _dream(scenario, _replies(journal, scenario), journal.choices().get(dream_id))


def _replies(journal: Journal, scenario: Message) -> list[Message]:
    """The replies to a dream's scenario (the model's, and edits of it), oldest first."""
    return [
        m
        for m in journal.messages(scenario.session_id, newest_first=False)
        if m.parent_id == scenario.id and m.role == "assistant"
    ]


def review(journal: Journal, dream_id: int, action: Action, text: str | None = None) -> Dream:
    """Accept, reject or edit one dream, and say so on every one of its messages.

    An edit is `Journal.edit` of the model's reply: the person's words become the kept reply,
    and the DPO export pairs them (chosen) with the model's (rejected), as it pairs any edit.
    Accepting a dream that was edited keeps the edit (it stays `edited`)."""
    found = dream(journal, dream_id)
    if found.reply_id is None:
        raise DreamError(f"dream {dream_id} has no reply to review (its run was interrupted)")
    state: Review
    if action == "edit":
        words = (text or "").strip()
        if not words:
            raise DreamError("an edited reply needs some text (--text)")
        original = _original(journal, found)
        if words == found.reply.strip():
            raise DreamError("the edit is the reply as it stands; nothing changed")
        journal.edit(original.id, words)
        state = "edited"
    elif action == "reject":
        state = "rejected"
    else:
        state = "edited" if found.original_reply is not None else "accepted"
    _mark(journal, dream_id, state)
    return dream(journal, dream_id)


def _original(journal: Journal, found: Dream) -> Message:
    scenario = journal.message(found.id)
    for m in _replies(journal, scenario):
        if m.meta.edit_of is None:
            return m
    raise NotFoundError(f"dream {found.id} lost its original reply")


def _mark(journal: Journal, dream_id: int, state: Review) -> None:
    """The review state on the scenario and every reply to it (edits included): each message
    says on its own whether an export may take it."""
    scenario = journal.message(dream_id)
    for m in [scenario, *_replies(journal, scenario)]:
        meta = m.meta.dream
        if meta is None:
            continue
        changed: DreamMeta = meta.model_copy(update={"review": state})
        journal.update(m.id, meta=MessageMeta(dream=changed))
