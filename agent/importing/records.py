"""The neutral long-term conversation format `hearth import` reads: data sets, their records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Record(BaseModel):
    # Data sets carry numbers where strings are meant (ids, categories); accept them as text.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # JSON can spell a lone surrogate ("\ud800"), which no UTF-8 file or database can
        # hold: refused here, before anything is written, not halfway through an import.
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise ValueError(
                        f"holds a lone surrogate ({text[exc.start]!r} at character "
                        f"{exc.start}), not text"
                    ) from None
        return value


class Turn(_Record):
    """One message of a conversation, by one of its speakers."""

    id: str
    speaker: str
    text: str


class DatasetSession(_Record):
    """Turns that happened together, on one date."""

    id: str
    date: datetime
    turns: list[Turn] = Field(default_factory=list)


class Question(_Record):
    """A question about the conversation, with the turns that hold its answer (benchmarks)."""

    id: str
    question: str
    answer: str = ""
    evidence: list[str] = Field(default_factory=list)
    category: str = ""

    @field_validator("evidence", mode="before")
    @classmethod
    def _one_string_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Conversation(_Record):
    """Two (or more) people talking over several sessions; `user` is the one Hearth knows."""

    id: str
    speakers: list[str] = Field(default_factory=list)
    user: str | None = None
    sessions: list[DatasetSession] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)

    @model_validator(mode="after")
    def _turn_ids_unique(self) -> Conversation:
        seen: set[str] = set()
        for _s, _i, turn in self.turns():
            if turn.id in seen:
                raise ValueError(f"turn id {turn.id!r} appears twice")
            seen.add(turn.id)
        return self

    def turns(self) -> list[tuple[DatasetSession, int, Turn]]:
        """Every turn with its session and its index in that session, in order."""
        return [(s, i, t) for s in self.sessions for i, t in enumerate(s.turns)]


class Dataset(_Record):
    """The neutral long-term conversation format."""

    name: str = "conversations"
    conversations: list[Conversation]

    @model_validator(mode="after")
    def _conversation_ids_unique(self) -> Dataset:
        ids = [c.id for c in self.conversations]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"conversation id {twice[0]!r} appears twice")
        return self
