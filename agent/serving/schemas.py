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
    stay: bool = False
    """A chat that stays in the session: what it says off the record is deleted when it
    leaves (`POST /api/sessions/{id}/leave`), not after each reply as for `hearth say`."""


class RegenerateRequest(BaseModel):
    """`POST /api/messages/{id}/regenerate`: another reply to a reply's message (or to a
    person's message given itself)."""

    keep: bool = True
    """Record the new reply as the one kept (the chat passes false: it chooses by going on)."""


class EditRequest(BaseModel):
    """`POST /api/messages/{id}/edit`: a corrected version beside the original."""

    text: str = Field(min_length=1)
    answer: bool = True
    """An edited person's message is answered (a new branch); a reply's edit never is."""


class ChooseRequest(BaseModel):
    """`POST /api/messages/{id}/choose`: keep this version (a reply among its siblings)."""

    go_on: bool = True
    """Also go on from it: the session's head becomes where its conversation ended."""


class HeadRequest(BaseModel):
    """`POST /api/sessions/{id}/head`: the chat goes on from what it shows."""

    message_id: int
    chosen: list[int] = Field(default_factory=list, max_length=10_000)
    """Replies the person browsed to on the way: each recorded as kept over its siblings."""
    browsed: list[int] = Field(default_factory=list, max_length=10_000)
    """Messages whose replies the person swiped through: the reply to each on the path is
    recorded as kept."""


class FeedbackRequest(BaseModel):
    """`POST /api/messages/{id}/feedback`: a verdict on a reply; None keeps a field."""

    rating: Literal[-1, 0, 1] | None = None
    note: str | None = Field(None, max_length=20_000)


class SessionIn(BaseModel):
    """`POST /api/sessions`: a new session."""

    title: str = Field("", max_length=500)


class SessionChange(BaseModel):
    """`PATCH /api/sessions/{id}`: rename (an empty title: named by how it began) or archive."""

    title: str | None = Field(None, max_length=500)
    archived: bool | None = None


class OpenRequest(BaseModel):
    """`POST /api/sessions/{id}/open`: the chat switches to this session."""

    leaving: int | None = None
    """The session the chat leaves: what was said there off the record is deleted."""


class DreamReview(BaseModel):
    """`POST /api/dreams/{id}/review`: what the dreams screen does to one dream."""

    action: Literal["accept", "reject", "edit"]
    text: str | None = None
    """The reply as it should be (edit)."""


class MemoryChange(BaseModel):
    """`PATCH /api/memories/{id}`: what the memory panel changes; None keeps a field."""

    text: str | None = Field(None, min_length=1)
    pinned: bool | None = None
    accept: bool = False
    """The person says the memory is right."""
    secret: bool = False
    """Keep new text even though it holds a secret."""


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
