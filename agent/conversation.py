"""What the chat asks of Hearth: one protocol the TUI talks to, here (`LocalConversation`, the
`Agent` over the data dir) or over `hearth serve` (`ServedConversation`).

Every value that crosses it is defined here, as plain pydantic models, so the face needs no
memory type and a served implementation can send each one as JSON. An action a backend lacks is
not missing in silence: `unsupported(action)` says why, and the chat greys it out with that line.

Threads: the methods marked "worker" are called off the UI thread (they may take seconds: a
model load, a turn, an embedding, a forget that rebuilds the index); the rest are reads the UI
makes as it draws, and must be quick (plain SQLite reads locally, one request when served).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, get_args, runtime_checkable

from pydantic import BaseModel, Field

from agent.turn_result import TurnResult
from memory.graph.nodes import KINDS
from memory.settings import ChatSettings

Role = Literal["system", "user", "assistant"]
Status = Literal["complete", "incomplete", "interrupted", "error"]
Section = Literal["recalled", "remembered"]
MemoryState = Literal["loading", "open", "off", "lent"]
"""The memory behind the chat: not open yet, open, off in this chat, lent to a command."""
DreamAction = Literal["accept", "reject", "edit"]
MEMORY_KINDS: tuple[str, ...] = tuple(KINDS)
"""The kinds a memory may be, in the order the memory screen steps through them."""

Action = Literal[
    "turn",
    "stop",
    "regenerate",
    "edit",
    "versions",
    "rate",
    "note",
    "sessions",
    "session_change",
    "dreams",
    "memory_panel",
    "memory_screen",
    "memory_change",
    "off_record",
    "idle_sleep",
]
"""What the chat may ask for; `Conversation.unsupported` says which a backend lacks.

turn, stop: a reply streamed and stopped · regenerate, edit, versions, rate, note: the message
actions · sessions: listing and switching · session_change: rename, archive, delete ·
dreams: the dreams screen and its review · memory_panel: one reply's memories ·
memory_screen: listing, searching, showing · memory_change: add, edit, pin, accept, forget,
reject · off_record: turns with memory off · idle_sleep: consolidation while idle."""

ACTIONS: tuple[Action, ...] = get_args(Action)

Piece = Callable[[str], None]
"""Told each piece of a reply as it is made (on the worker thread)."""
OnRemembered = Callable[[int, list[str], "str | None"], None]
"""Told when a turn's background memory write ended: (reply id, memory ids stored, error)."""
OnSlept = Callable[["SleepOutcome | None", "str | None"], None]
"""Told when an idle consolidation ended: its outcome (None: it did not run), or the error."""


# -- what crosses ---------------------------------------------------------------------------


class Opened(BaseModel):
    """What the chat learns once the model (or the server) is ready."""

    model: str
    """The model's name as the status line shows it (the local file's stem)."""
    where: str | None = None
    """Where the chat runs when not here (the server's URL), first on the status line."""
    notices: list[str] = Field(default_factory=list)
    """Warnings to show once (no chat template, an index rebuilt)."""
    session: int | None = None
    """The session a plain chat goes on in, where only known once open (a server's latest);
    None: as `latest_session` said."""


class ChatMessage(BaseModel):
    """One journaled message as the chat draws it."""

    id: int
    role: Role
    text: str
    speaker: str
    """Who said it, as shown above it ("hearth" for a reply unless named otherwise)."""
    status: Status
    parent_id: int | None = None
    recalled: int = 0
    """How many memories were recalled for it (user messages)."""
    stored: int = 0
    """How many memories were stored after it (replies)."""
    rating: int | None = None
    """The person's thumbs on it (+1, -1; 0 or None: none)."""


class SessionItem(BaseModel):
    """One session as the sessions screen lists it."""

    id: int
    display_title: str
    updated_at: datetime
    messages: int
    archived: bool = False


class MemoryItem(BaseModel):
    """One memory as the chat shows it (its words are stored text: shown inert)."""

    id: str
    kind: str
    subject: str
    text: str
    quote: str | None = None
    importance: float = 0.0
    pinned: bool = False
    sensitive: bool = False
    flags: list[str] = Field(default_factory=list)
    learned_at: datetime
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    expired_at: datetime | None = None
    provenance: list[int] = Field(default_factory=list)


class Why(BaseModel):
    """Why a memory was recalled: the fused score and its parts (None: not found by that one)."""

    score: float | None = None
    dense: float | None = None
    lexical: float | None = None
    recency: float | None = None
    importance: float | None = None
    graph: float | None = None


class PanelRow(BaseModel):
    """One memory in the memory panel."""

    section: Section
    memory_id: str
    memory: MemoryItem | None
    """None: forgotten (or rejected) since."""
    why: Why | None = None
    accepted: bool = False
    used: str | None = None
    """How much replies leaned on it (`hearth score`), as one line; None: not scored."""


class ReplyPanel(BaseModel):
    """What one reply recalled and remembered, as the store holds it now."""

    reply_id: int | None
    memory: bool = True
    """False: the reply was made off the record."""
    rows: list[PanelRow] = Field(default_factory=list)


class Source(BaseModel):
    """A message a memory was learned from (role and text None: no longer in the journal)."""

    message_id: int
    role: Role | None = None
    text: str | None = None


class Link(BaseModel):
    """An edge of a memory: the other end (None: forgotten) and which way it points."""

    type: str
    outgoing: bool
    other: MemoryItem | None = None


class HistoryEntry(BaseModel):
    at: datetime
    action: str
    actor: str


class MemoryDetail(BaseModel):
    """Everything the memory screen shows of one memory."""

    memory: MemoryItem
    used: str | None = None
    sources: list[Source] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    history: list[HistoryEntry] = Field(default_factory=list)


class Understanding(BaseModel):
    """`hearth understanding`'s figures for one session (bits per token alone and with memory)."""

    session_id: int
    bits_alone: float
    bits_with: float
    saved: float


class WelcomeData(BaseModel):
    """What the empty chat lists: None while the memory is not open yet."""

    pinned: list[MemoryItem] | None = None
    count: int | None = None
    tip: str | None = None
    """A line for a newcomer (the tiny built-in model's tip), said once."""


class DreamItem(BaseModel):
    """One dream as the dreams screen shows it."""

    id: int
    kind: str
    review: str
    scenario: str
    reply: str
    memory_ids: list[str] = Field(default_factory=list)
    recalled_ids: list[str] = Field(default_factory=list)
    original_reply: str | None = None


class SleepOutcome(BaseModel):
    """What an idle consolidation did."""

    changed: bool
    summary: str


# -- the protocol ---------------------------------------------------------------------------


@runtime_checkable
class Conversation(Protocol):
    """Everything the chat app and its screens need of Hearth. Errors are `HearthError`s
    (memory.errors) whose message is one line for the person."""

    chat: ChatSettings
    """The chat's settings (keys, names, the editor): the face's own, wherever the agent runs."""

    # -- what this backend can do ------------------------------------------------------

    def unsupported(self, action: Action) -> str | None:
        """Why `action` cannot be done here (greyed out with this line), else None."""

    @property
    def idle_sleep_s(self) -> float:
        """How long the chat waits idle before consolidating (0: never)."""

    @property
    def scratch_dir(self) -> Path | None:
        """Where the editor's draft file goes (None: the system's temp dir)."""

    # -- opening and leaving -------------------------------------------------------------

    def latest_session(self) -> int | None:
        """The session a plain `hearth` goes on in (None: none yet)."""

    def open(self) -> Opened:
        """Worker: load the model (or reach the server). Raises HearthError."""

    @property
    def ready(self) -> bool:
        """open() has succeeded."""

    def warm_up(self) -> None:
        """Worker, after open(): load what the first reply would otherwise wait on."""

    def settle(self) -> None:
        """Wait for background memory writes (the stores may close next)."""

    def leave(self, session_id: int) -> int:
        """The person leaves a session: what was said there off the record goes (after a
        reply still streaming ends). How many messages went; failures are logged, not raised."""

    def close(self) -> None:
        """The chat ends: settle and let go of what open() took."""

    # -- turns (worker) ------------------------------------------------------------------

    def new_session(self) -> int | None:
        """A new session to talk in (UI thread, quick); None: the next turn makes it (a server
        makes its session with the turn)."""

    def send(
        self,
        session_id: int | None,
        text: str,
        *,
        memory: bool,
        on_piece: Piece,
        stop: threading.Event,
        on_remembered: OnRemembered,
        on_session: Callable[[int], None] | None = None,
    ) -> TurnResult:
        """Worker: one turn in the session (None: a new one, made by the turn, `on_session`
        told which before the reply begins); each piece as made; stops soon after `stop` is
        set (the words so far are kept as interrupted). The memory write may report later
        (`on_remembered`). Off the record (`memory=False`) a server may put the turn in a
        session of its own, deleted once answered: then `TurnResult.memory` is False and its
        session is not the chat's."""

    def regenerate(
        self,
        user_id: int,
        *,
        on_piece: Piece,
        stop: threading.Event,
        on_remembered: OnRemembered,
    ) -> TurnResult:
        """Worker: another reply to user message `user_id` (a regeneration, or the answer to
        an edit); not recorded as chosen: the person chooses by going on (`go_on`)."""

    def interrupt(self) -> None:
        """The stop event was just set: end the running turn now where waiting for its next
        piece would be slow (a served turn's connection is shut). Any thread."""

    # -- the conversation tree -----------------------------------------------------------

    def head(self, session_id: int) -> int | None:
        """The message the session goes on from."""

    def thread(self, session_id: int, head: int | None = None) -> list[ChatMessage]:
        """The conversation ending at `head` (None: the session's head), oldest first."""

    def versions(self, session_id: int) -> dict[int, list[int]]:
        """For each message with siblings, the ids of all its versions, in order."""

    def parent_of(self, message_id: int) -> int | None:
        """The message it answers (a user message's: the reply before it)."""

    def latest_leaf(self, message_id: int) -> int:
        """The newest message on the branch that goes on from it."""

    def go_on(self, session_id: int, head: int, browsed: set[int]) -> None:
        """The person goes on from `head`: it becomes the session's head, and each reply on
        its path that answers one of `browsed` (parents swiped through) is kept over its
        siblings."""

    # -- message actions -----------------------------------------------------------------

    def edit(self, message_id: int, text: str) -> ChatMessage:
        """A corrected version beside the message (the original stays); the new message."""

    def rate(self, message_id: int, rating: int) -> None:
        """+1, -1, or 0 (cleared) on a reply."""

    def note_of(self, message_id: int) -> str | None:
        """The person's note on a reply."""

    def note(self, message_id: int, text: str) -> None:
        """Keep a note with a reply."""

    # -- sessions ------------------------------------------------------------------------

    def sessions(self, words: str, archived: bool) -> list[SessionItem]:
        """Sessions whose words match, newest first (archived ones too when asked)."""

    def rename_session(self, session_id: int, title: str) -> None: ...

    def archive_session(self, session_id: int, archived: bool) -> None: ...

    def delete_session(self, session_id: int) -> None:
        """Gone for good (already gone is fine: leaving it may have purged it)."""

    # -- dreams --------------------------------------------------------------------------

    def dreams(self) -> list[DreamItem]:
        """Every dream, oldest first."""

    def review_dream(self, dream_id: int, action: DreamAction, text: str | None) -> DreamItem:
        """Accept, reject, or edit a dream's reply (`text`)."""

    # -- memory --------------------------------------------------------------------------

    @property
    def memory_state(self) -> MemoryState: ...

    def welcome(self) -> WelcomeData:
        """What the empty chat lists about the person."""

    def reply_memories(self, reply_id: int) -> ReplyPanel:
        """What one reply recalled and remembered (memory open)."""

    def flagged(self, memory_ids: list[str]) -> list[MemoryItem]:
        """Those of the memories that read like an instruction (pointed out when stored)."""

    def memories(self, kind: str | None) -> list[MemoryItem]:
        """Every current memory (of one kind), newest first."""

    def search(self, words: str, k: int, kind: str | None) -> list[MemoryItem]:
        """Worker: the best hits for the words (it embeds them)."""

    def memory(self, memory_id: str) -> MemoryDetail:
        """One memory in full: its sources, links and history."""

    def understanding(self) -> list[Understanding]:
        """What `hearth understanding` measured, by session (empty: it never ran)."""

    def add_memory(self, text: str, kind: str, subject: str) -> str:
        """Worker: remember this (the new memory's id). Refuses a secret."""

    def edit_memory(self, memory_id: str, text: str) -> str:
        """Worker: correct a memory's words (history keeps the old); its id. Refuses a secret."""

    def pin(self, memory_id: str, pinned: bool) -> None:
        """Worker: pinned memories are always in view."""

    def accept(self, memory_id: str) -> None:
        """Worker: the person confirms a memory."""

    def forget(self, memory_id: str) -> None:
        """Worker: gone from every store, and the prompts that showed it."""

    def reject(self, memory_id: str) -> None:
        """Worker: forgotten, and the same words are not learned again."""

    # -- idle ----------------------------------------------------------------------------

    def idle_ready(self) -> bool:
        """Nothing holds the memory now (no write in the background): idle sleep may start."""

    def sleep_when_idle(self, done: OnSlept) -> bool:
        """Consolidate in the background; `done` is told on that thread. False: nothing to
        do (memory off)."""


def unsupported_everything_but(
    supported: tuple[Action, ...], why: str
) -> Callable[[Action], str | None]:
    """An `unsupported` for a backend that has only `supported`: every other action gets `why`."""

    def unsupported(action: Action) -> str | None:
        return None if action in supported else why

    return unsupported
