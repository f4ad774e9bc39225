"""What goes over the wire: the OpenAI chat shapes Hearth reads and writes, and its own API's."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memory.graph.nodes import Kind
from memory.settings import SamplingSettings

SERVED_MODEL = "hearth"
"""The one model `/v1/models` lists: Hearth itself (whatever GGUF or server it replies with)."""


class Said(BaseModel):
    """One message of a client's conversation, as Hearth reads it (system messages dropped:
    Hearth speaks with its own persona)."""

    role: Literal["user", "assistant"]
    text: str


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessageIn(BaseModel):
    """One message of a request; unknown fields (name, tool calls) are ignored."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """`POST /v1/chat/completions`: the fields Hearth reads; the rest are accepted, unused."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(None, max_length=200)
    """The client's name for the conversation: the session Hearth keeps it in."""
    temperature: float | None = Field(None, ge=0.0, le=100.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    seed: int | None = Field(None, ge=0, le=2**32 - 1)

    def said(self) -> list[Said]:
        """The conversation as Hearth reads it: the person's and the replies, in order."""
        return [
            Said(role="user" if m.role == "user" else "assistant", text=m.text())
            for m in self.messages
            if m.role in ("user", "assistant")
        ]

    def sampling(self) -> dict[str, Any]:
        """The sampling settings the request overrides."""
        found = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_completion_tokens or self.max_tokens,
            "seed": self.seed,
        }
        return {k: v for k, v in found.items() if v is not None}


class TurnRequest(BaseModel):
    """`POST /api/turn`: one turn as `hearth say` runs it."""

    text: str
    session: int | None = None
    new: bool = False
    memory: bool = True
    """False: off the record (nothing recalled or remembered, deleted after the reply)."""
    sampling: SamplingSettings | None = None
    """The command's own sampling settings (None: the server's apply)."""


class MemoryIn(BaseModel):
    """`POST /api/memories`: what `hearth memory add` takes."""

    text: str = Field(min_length=1)
    kind: Kind = "fact"
    subject: str = "user"
    importance: float = Field(0.5, ge=0.0, le=1.0)
    pin: bool = False
    secret: bool = False


class ErrorBody(BaseModel):
    """An error as OpenAI clients read it, with the exit code the same command gives locally."""

    message: str
    type: str
    code: str | None = None
    exit_code: int = 1
