"""Pydantic records that cross module boundaries: sessions, messages and what a reply cost."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

Role = Literal["system", "user", "assistant"]
Status = Literal["incomplete", "complete", "interrupted", "error"]


class ChatMessage(BaseModel):
    """One message as a model sees it."""

    role: Role
    content: str


class Session(BaseModel):
    """One conversation in the journal; `head_id` is the message it goes on from."""

    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    head_id: int | None = None
    temporary: bool = False
    archived: bool = False
    """Put away on the sessions screen: kept whole, listed only when asked for."""


class SessionSummary(BaseModel):
    """One row of the sessions screen: a session, what to call it and how long it is."""

    id: int
    title: str
    """As stored: empty until the person names the session."""
    display_title: str
    """The stored title, else the start of the first on-record user message, else the id."""
    created_at: datetime
    updated_at: datetime
    messages: int
    archived: bool = False


class Usage(BaseModel):
    """Tokens and time one reply took."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_evaluated: int | None = None
    tokens_reused: int | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    finish_reason: str | None = None
    """Why the reply ended: `stop` (the model ended it), `length` (sampling.max_tokens),
    `loop` (it began repeating itself: agent/reply_end.py), `echo` (it began printing its prompt
    back: cut there), `interrupted`; None before."""

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


class Score(BaseModel):
    """One reply's mean log-probability under one model, given one variant of its prompt."""

    message_id: int
    variant: str
    """'full' (the prompt it saw), 'no_notes' (without the recalled notes; pinned core
    memories stay) or 'without:<memory id>' (without that one note)."""
    mean_logprob: float
    tokens: int
    """How many reply tokens the mean is over."""
    model_sha256: str
    other_model: bool = False
    """The reply was written by another model than the one that scored it."""
    scored_at: datetime


class Surprise(BaseModel):
    """How surprising one of the person's messages was to one model: its bits per token given
    the recent conversation alone, and given that plus what Hearth recalled before it."""

    message_id: int
    model_sha256: str
    tokens: int
    bits_alone: float
    bits_with: float
    notes: int
    """How many notes (recalled memories, and pinned core ones) the second prompt added."""
    scored_at: datetime
    session_id: int = 0
    """The message's session (filled when read back)."""
    at: datetime | None = None
    """When the message was written (filled when read back)."""


class MemoryUse(BaseModel):
    """How much the model leans on one memory: the largest drop in a reply's mean
    log-probability when that memory's note was taken out of its prompt."""

    memory_id: str
    drop: float
    """full minus without:<memory id>, the largest over the replies scored (positive: the
    reply was likelier with the note)."""
    message_id: int
    """The reply with that largest drop."""
    replies: int
    """How many replies were scored without it."""


class RecallNote(BaseModel):
    """Why one memory was recalled with a message: its search score and the signals fused into
    it (`memory.graph.nodes.Hit`), None where unknown (that ranker did not find it, or the
    message is from before the parts were kept). Only ids and numbers: never the memory's
    words, so forgetting a memory has nothing to take out of here."""

    model_config = ConfigDict(frozen=True)

    id: str
    score: float | None = None
    dense: float | None = None
    lexical: float | None = None
    recency: float | None = None
    importance: float | None = None
    graph: float | None = None

    @model_serializer(mode="wrap")
    def _known(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # An unknown part is left out, not written as null: a turn keeps several of these.
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


DreamKind = Literal["past_event", "past_plan", "correction", "recall"]
"""What a dream's scenario rehearses: a question about a past event, a follow-up on a plan
whose date has passed, the corrected old value said again, or a question about a memory."""
Review = Literal["pending", "accepted", "edited", "rejected"]
"""Where a dream stands in review: only accepted and edited ones can be exported."""
EXPORTABLE_REVIEWS: tuple[Review, ...] = ("accepted", "edited")


class DreamMeta(BaseModel):
    """What a dream (`hearth dream`) keeps with its scenario and its reply: never the template
    that made the scenario, only what it drew on and how the person judged it."""

    model_config = ConfigDict(frozen=True)

    kind: DreamKind
    memory_ids: list[str]
    """The memories the scenario was built from (its provenance), first the one it is about."""
    review: Review = "pending"
    """Written on every message of the dream at once (`agent.dream.review`)."""
    seed: int | None = None
    """The `--seed` of the run that made it: the same seed on the same memories picks the same."""


class ImportedFrom(BaseModel):
    """Where an imported message came from (`hearth import` of another app's export): its
    identity there, so a second run adds nothing and a newer export adds only what is new."""

    model_config = ConfigDict(frozen=True)

    format: str
    """The import format (`agent.importing.formats`): chatgpt, claude, sillytavern, ..."""
    conversation: str
    """The conversation's id in that export."""
    message: str
    """The message's id in that conversation."""
    model: str | None = None
    """On a reply: the model that wrote it, where the export names one."""
    parallel: bool = False
    """On a reply: one of several models' answers to the same message, asked at once (Open
    WebUI), not a regeneration: the DPO export never pairs it with another model's."""


RECOVERED_SOURCE = "recovered"
"""`meta.source` of a message made again from the memories that quote it (the journal was lost)."""


class MessageMeta(BaseModel):
    """Turn state kept with a message (the journal's `meta_json` column), one field per key.

    It reads and writes back exactly what is stored: only the keys a message was given (a
    field never written keeps its default here and stays absent from the row), in the order
    they were written, and keys no field names (older or newer data) kept as they are. So
    `model_dump()` is the stored JSON object, and `hearth logs show --json` prints it as stored.
    Frozen: a change is a new one written through `Journal.update(id, meta=...)`, which merges
    its keys into the stored ones.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    # -- on a user message ----------------------------------------------------------------
    shown_as: str | None = None
    """The message as the model saw it: the recalled-notes block, then the user's words.
    Written by the turn loop (`Agent._recall`) when memory is on; read by `agent.context.shown`
    (every later prompt shows it so), by the turn loop (a regeneration reuses it) and by
    `Journal.redact_shown` (forgetting a memory removes its line here)."""
    recalled_ids: list[str] = Field(default_factory=list)
    """Ids of the memories shown in `shown_as`, best first. Written by `Agent._recall`; read by
    it on later turns (a memory still visible in the history is not recalled again)."""
    recalled: list[RecallNote] = Field(default_factory=list)
    """Why each of `recalled_ids` was recalled, in the same order (messages from before it was
    kept have only the ids: read both through `recall_notes`). Written by `Agent._recall`;
    read by the TUI's memory panel."""
    remembered: bool = False
    """The write path has run on this message. Written by the turn loop after a reply and by
    `hearth import` after each turn; read by `Agent.reply_to` (a regeneration does not remember
    the same words twice) and by `hearth import` (a resumed import does not either)."""
    correction: bool = False
    """The message pushes back on the reply before it. Written by
    `agent.learn.corrections.flag_correction`; read by the training export (a row counts them)."""
    edit_of: int | None = None
    """The message this one is a corrected version of (user or reply). Written by
    `Journal.edit`; read by `ConversationTree` (which version is kept), the DPO export (edit
    pairs) and the journal's `edits` view and index (json_extract on `$.edit_of`)."""
    source: str | None = None
    """The data set an imported message came from. Written by `hearth import`
    (`agent.importing.conversations`); read by it (a conversation is imported once). Or
    `RECOVERED_SOURCE`: made again from a memory's quote after the journal was lost
    (`memory.journal_from_memories`); such a message is never exported, scored or extracted."""
    source_turn_id: str | None = None
    """The imported turn's own id in its data set. Written by `hearth import`; read by people
    (README: `meta.source_turn_id`) and the import tests."""
    conversation: str | None = None
    """The imported conversation's id in its data set. Written by `hearth import`."""
    imported: ImportedFrom | None = None
    """A message brought in from another app's export. Written by `hearth import`
    (`agent.importing.history`); read by it (identity), by `Journal.latest_session` (an
    imported session is never the one `hearth` opens) and, on a reply written by another
    model, by every reader of Hearth's own replies: scoring, the measures, memory (never
    quoted) and the training export (left out unless `--include-imported`)."""
    import_complete: bool = False
    """On an imported conversation's last turn: every step of its import finished. Written and
    read by `hearth import`: a conversation without it is resumed, not skipped (each turn's own
    step is `remembered`)."""
    extracted_with: list[str] = Field(default_factory=list)
    """The extractors `hearth memory extract` has run over this message ("rules", or "model:"
    and the GGUF's file name). Written and read by it (agent.learn.history): a second run with
    the same extractor skips the message, so an interrupted run resumes."""

    # -- on a reply -------------------------------------------------------------------------
    trimmed: list[int] = Field(default_factory=list)
    """Journal messages before the first one this reply's prompt showed. Written by the turn
    loop (`Agent._reply`); read by it on the next turn (which of them are newly trimmed, to
    fold into an episode) and by the training export (they are not the reply's context)."""
    context_from: int | None = None
    """The oldest message the prompt showed: the next turn keeps its trim point here. Written
    and read by the turn loop."""
    stored: list[str] = Field(default_factory=list)
    """Memory ids written or changed after this reply's turn. Written by the turn loop; shown
    by `hearth logs show --json`."""

    # -- on either --------------------------------------------------------------------------
    memory: bool = True
    """Whether memory was on: False on a user message sent with memory off (a temporary turn,
    written by `Agent.run_turn`); True or False on every reply (written by `Agent._reply`). Read
    by `Agent.reply_to` (a regeneration keeps it) and `agent.learn.episodes` (words said with
    memory off are never folded into an episode)."""
    synthetic: bool = False
    """Made up rather than said (the dream loop); never written by Hearth's own turn loop.
    Read by the training export, which leaves such messages out unless asked, and by every
    reader that assumes a real conversation (scoring, memory extraction, episodes, the chat's
    session list), which leaves them out always."""
    dream: DreamMeta | None = None
    """On both messages of a dream (and on an edit of its reply): its kind, the memories it drew
    on and its review state. Written by `agent.dream`; read by its review, by `hearth logs`
    and by the training export (only accepted and edited dreams, and only when asked)."""

    _order: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler: ModelWrapValidatorHandler[MessageMeta]) -> Any:
        meta = handler(data)
        if isinstance(data, Mapping):
            meta._order = [str(key) for key in data]
        return meta

    @model_serializer(mode="wrap")
    def _as_written(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        written = self.model_fields_set  # extra keys included
        keys = [k for k in self._order if k in written and k in data]
        keys += [k for k in data if k in written and k not in keys]
        return {k: data[k] for k in keys}

    @classmethod
    def from_json(cls, raw: str) -> MessageMeta:
        """A stored `meta_json` value, read."""
        return cls.model_validate(json.loads(raw))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object to store: the keys written, in the order written."""
        return self.model_dump(mode="json")

    @staticmethod
    def merged_json(stored: str, changes: MessageMeta | Mapping[str, Any] | None) -> str:
        """A stored `meta_json` with the keys `changes` was given written over it (a dict is
        read as a MessageMeta); every other key, unknown ones included, stays as stored."""
        written = MessageMeta.model_validate(changes or {}).to_dict()
        return json.dumps({**json.loads(stored), **written})

    def merged(self, changes: MessageMeta) -> MessageMeta:
        """These keys with `changes`' written over them (as `Journal.update` stores them)."""
        return MessageMeta.model_validate({**self.to_dict(), **changes.to_dict()})

    def recall_notes(self) -> list[RecallNote]:
        """Why each memory shown with this message was recalled: `recalled` where it was kept,
        else the ids alone (a message from before the score parts were kept)."""
        if self.recalled:
            return list(self.recalled)
        return [RecallNote(id=i) for i in self.recalled_ids]

    # Read like the stored JSON object (tests, and keys no field names): `meta["key"]`,
    # `meta.get("key")`, `"key" in meta` and `meta == {...}` see only the keys written.

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MessageMeta):
            return self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented


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
    meta: MessageMeta = Field(default_factory=MessageMeta)
    off_record: bool = False
    """Said with memory off (or in a temporary session), or a reply to such a message: never
    exported, recalled, remembered or shown to a later on-record turn, and purged when the
    person leaves the session (`memory.journal.offrecord`)."""
