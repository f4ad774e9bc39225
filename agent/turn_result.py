"""What one turn gives back: the reply, its counts and timings, and the memories it was shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from memory.journal.schemas import RecallNote, Status

if TYPE_CHECKING:
    from memory.graph.nodes import Hit

# Digits kept of each score part in the journal: enough to say why, few enough to stay short.
NOTE_DIGITS = 4


class Recalled(BaseModel):
    """One memory shown with the message, and why: its score and the signals fused into it
    (see `memory.graph.nodes.Hit`; None where that ranker did not find it)."""

    id: str
    score: float
    dense: float | None = None
    lexical: float | None = None
    recency: float
    importance: float
    graph: float | None = None


def recall_note(hit: Hit) -> RecallNote:
    """What the journal keeps of why a memory was recalled: its id and the score parts."""
    parts = hit.model_dump(include={"score", "dense", "lexical", "recency", "importance", "graph"})
    rounded = {k: round(v, NOTE_DIGITS) if v is not None else None for k, v in parts.items()}
    return RecallNote(id=hit.memory.id, **rounded)


class TurnResult(BaseModel):
    """What `hearth say --json` prints and the TUI shows for one turn."""

    reply: str
    status: Status
    session_id: int
    turn_id: int
    user_turn_id: int
    model: str
    prompt_tokens: int
    completion_tokens: int
    tokens_evaluated: int
    tokens_reused: int
    trimmed: list[int]
    context_budget: int
    ttft_ms: float | None
    total_ms: float | None
    tokens_per_s: float | None
    finish_reason: str | None = None
    """Why the reply ended (`Usage.finish_reason`): stop, length, loop, echo or interrupted."""
    memory: bool = True
    """False for a temporary turn: no memory read or written."""
    recalled: list[Recalled] = Field(default_factory=list)
    stored: list[str] = Field(default_factory=list)
    """Memory ids written or changed after this turn (episodes of trimmed messages included)."""
