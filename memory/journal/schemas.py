"""Pydantic records that cross module boundaries: sessions, messages and what a reply cost."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant"]
Status = Literal["incomplete", "complete", "interrupted", "error"]


class ChatMessage(BaseModel):
    """One message as a model sees it."""

    role: Role
    content: str


class Session(BaseModel):
    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    head_id: int | None = None
    temporary: bool = False


class Usage(BaseModel):
    """Tokens and time one reply took."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_evaluated: int | None = None
    tokens_reused: int | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None

    @property
    def tokens_per_s(self) -> float | None:
        if not self.total_ms or not self.completion_tokens:
            return None
        gen_ms = self.total_ms - (self.ttft_ms or 0.0)
        return self.completion_tokens / (gen_ms / 1000) if gen_ms > 0 else None


class ModelInfo(BaseModel):
    """Which model file produced a reply."""

    name: str
    path: str
    sha256: str


class Message(BaseModel):
    """One journaled turn: a user message or an assistant reply."""

    id: int
    session_id: int
    parent_id: int | None
    role: Role
    speaker: str | None = None
    text: str
    status: Status
    created_at: datetime
    updated_at: datetime
    prompt: list[ChatMessage] | None = None
    model: ModelInfo | None = None
    sampling: dict[str, Any] | None = None
    usage: Usage = Field(default_factory=Usage)
    meta: dict[str, Any] = Field(default_factory=dict)
