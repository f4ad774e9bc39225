"""Candidate: one memory the rules found in a human message, with the text it came from."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from memory.graph.nodes import Kind


class Candidate(BaseModel):
    """One memory the rules found in a human message, with the verbatim text it came from."""

    kind: Kind
    text: str
    """The clause, verbatim from the message, without openers or trailing punctuation."""
    quote: str
    """The verbatim span of the message the candidate came from (always a substring of it)."""
    subject: str
    """The speaker, a named person, or "<speaker>'s <relation>" for an unnamed relative."""
    slot: str | None = None
    """A single-valued attribute of the subject; a later (subject, slot) supersedes an earlier."""
    importance: float = Field(0.5, ge=0.0, le=1.0)
    valid_from: datetime | None = None
    due: datetime | None = None
    correction: bool = False
    flags: list[str] = Field(default_factory=list)
