"""Candidate: one memory found in a human message, with the text it came from."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from memory.graph.nodes import Kind


class Candidate(BaseModel):
    """One memory found in a human message (by the rules or a model), with its verbatim quote."""

    kind: Kind
    text: str
    """The memory as stored: about its subject, in the third person, naming them ("Priya works
    as a nurse"), never in the speaker's own voice."""
    quote: str
    """The verbatim span of the message the candidate came from (always a substring of it)."""
    subject: str
    """The speaker, a named person, or "<speaker>'s <relation>" for an unnamed relative."""
    slot: str | None = None
    """A single-valued attribute of the subject; a later (subject, slot) supersedes an earlier."""
    value: str | None = None
    """The slot's value where it is a name ("Priya" for the speaker's slot "name")."""
    relation: str | None = None
    """What a named person is to the speaker ("sister" for "my sister Anjali"): the write path
    links that person's memory to the speaker's."""
    importance: float = Field(0.5, ge=0.0, le=1.0)
    valid_from: datetime | None = None
    due: datetime | None = None
    correction: bool = False
    flags: list[str] = Field(default_factory=list)
