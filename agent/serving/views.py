"""What the served chat reads of the journal: a session's path as the chat shows it, one
message with its versions, rating and memory counts, and the versions of a message."""

from __future__ import annotations

from pydantic import BaseModel

from memory.errors import NotFoundError
from memory.journal.journal import Journal, derived_title
from memory.journal.schemas import Message, Role, Status


class ShownMessage(BaseModel):
    """One message as the chat shows it."""

    id: int
    session_id: int
    parent_id: int | None
    role: Role
    speaker: str | None
    text: str
    status: Status
    off_record: bool = False
    memory: bool = True
    """False: said (or answered) with memory off."""
    recalled: int = 0
    """How many memories were recalled for it (a person's message)."""
    stored: int = 0
    """How many memories its turn left behind (a reply)."""
    edit_of: int | None = None
    rating: int = 0
    note: str = ""
    versions: list[int] | None = None
    """Every version of it (itself among them), oldest first; None: it has no other."""


class Thread(BaseModel):
    """A session's conversation along one path, oldest first."""

    session_id: int | None
    title: str = ""
    head_id: int | None = None
    """The session's head: where its next message goes (the path shown may end elsewhere)."""
    messages: list[ShownMessage]


class Version(BaseModel):
    """One version of a message, and where the conversation that went on from it ended."""

    message: ShownMessage
    leaf_id: int
    chosen: bool = False
    """The reply kept among its siblings (replies only)."""


class Versions(BaseModel):
    """Every version of a message (regenerations of a reply, edits of a person's message, a
    branch), oldest first."""

    message_id: int
    versions: list[Version]


def shown(
    journal: Journal, m: Message, versions: dict[int, list[int]] | None = None
) -> ShownMessage:
    """`m` as the chat shows it (`versions`: the session's, when read already)."""
    if versions is None:
        versions = journal.versions(m.session_id)
    found = journal.feedback_for(m.id) if m.role == "assistant" else None
    return ShownMessage(
        id=m.id,
        session_id=m.session_id,
        parent_id=m.parent_id,
        role=m.role,
        speaker=m.speaker,
        text=m.text,
        status=m.status,
        off_record=m.off_record,
        memory=m.meta.memory,
        recalled=len(m.meta.recalled_ids),
        stored=len(m.meta.stored),
        edit_of=m.meta.edit_of,
        rating=found.rating if found is not None else 0,
        note=found.note if found is not None else "",
        versions=versions.get(m.id),
    )


def thread(
    journal: Journal, session_id: int | None, head_id: int | None = None, off_record: bool = False
) -> Thread:
    """The session's path ending at `head_id` (None: its head; no session: the latest one),
    system and dream messages left out, and off-record ones unless asked for (the chat that
    said them shows them until it leaves the session)."""
    found = journal.session(session_id) if session_id is not None else journal.latest_session()
    if found is None:
        return Thread(session_id=None, messages=[])
    if head_id is not None and journal.message(head_id).session_id != found.id:
        raise NotFoundError(f"message {head_id} is not in session {found.id}")
    versions = journal.versions(found.id)
    path = [
        m
        for m in journal.thread(found.id, head_id)
        if m.role != "system" and (off_record or not m.off_record) and not m.meta.synthetic
    ]
    first = next((m.text for m in path if m.role == "user"), "")
    return Thread(
        session_id=found.id,
        title=found.title or derived_title(first),
        head_id=found.head_id,
        messages=[shown(journal, m, versions) for m in path],
    )


def versions_of(journal: Journal, message_id: int) -> Versions:
    """Every version of the message, each with the leaf its conversation reached."""
    siblings = journal.siblings(message_id)
    versions = journal.versions(journal.message(message_id).session_id)
    kept = journal.choices()
    return Versions(
        message_id=message_id,
        versions=[
            Version(
                message=shown(journal, m, versions),
                leaf_id=journal.latest_leaf(m.id),
                chosen=m.role == "assistant" and kept.get(m.parent_id or -1) == m.id,
            )
            for m in siblings
        ],
    )
