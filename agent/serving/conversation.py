"""The conversation over `hearth serve`: the chat's actions (agent/conversation.py) as calls
of a running Hearth's API (agent/serving/client.py), here or at `--connect URL`."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from agent.conversation import (
    ACTIONS,
    Action,
    ChatMessage,
    Conversation,
    DreamAction,
    DreamItem,
    HistoryEntry,
    Link,
    MemoryDetail,
    MemoryItem,
    MemoryState,
    OnRemembered,
    OnSlept,
    Opened,
    Piece,
    ReplyPanel,
    SessionItem,
    Source,
    Understanding,
    WelcomeData,
)
from agent.conversation_items import dream_item, memory_item, panel_row
from agent.memory_use import use_line
from agent.serving.client import Client
from agent.serving.hangup import Hangup
from agent.serving.schemas import MemoryIn, TurnRequest
from agent.serving.views import ShownMessage
from agent.turn_result import TurnResult
from memory.errors import HearthError, HearthServerError, NotFoundError
from memory.graph.nodes import Memory
from memory.settings import ChatSettings

log = logging.getLogger(__name__)

UNSUPPORTED: dict[Action, str] = {
    "idle_sleep": "the server consolidates the memory itself when it has been idle",
}
"""What a served chat cannot do, and why (the chat greys the action out with the line)."""
STOPPED_WAIT_S = 10.0
"""How long a stopped turn's reply is looked for in the journal (the server keeps it as
interrupted once it sees the connection shut)."""
FLAGGED = "instruction_like"


def chat_message(m: ShownMessage) -> ChatMessage:
    return ChatMessage(
        id=m.id,
        role=m.role,
        text=m.text,
        speaker=m.speaker or ("hearth" if m.role == "assistant" else m.role),
        status=m.status,
        parent_id=m.parent_id,
        recalled=m.recalled if m.role == "user" else 0,
        stored=m.stored if m.role == "assistant" else 0,
        rating=m.rating or None,
    )


class ServedConversation:
    """The chat over a running Hearth: every action one call of its API (`client`), the
    turns streamed; `chat` is this machine's chat settings (keys, names, the editor)."""

    def __init__(self, client: Client, chat: ChatSettings | None = None) -> None:
        self.client = client
        self.chat = chat or ChatSettings()
        self._opened: Opened | None = None
        self._turn: _Turn | None = None
        self._hangup_lock = threading.Lock()

    # -- what this backend can do ------------------------------------------------------

    def unsupported(self, action: Action) -> str | None:
        return UNSUPPORTED.get(action) if action in ACTIONS else f"unknown action {action!r}"

    @property
    def idle_sleep_s(self) -> float:
        return 0.0  # the server's own (serve tends it)

    @property
    def scratch_dir(self) -> Path | None:
        return None

    # -- opening and leaving -------------------------------------------------------------

    def latest_session(self) -> int | None:
        # Known once open() has asked the server (`Opened.session`): nothing is asked of it
        # on the UI thread before then.
        return self._opened.session if self._opened is not None else None

    def open(self) -> Opened:
        status = self.client.status()
        latest = self.client.path(None).session_id
        self._opened = Opened(
            model=str(status["model"]), where=self.client.remote.url, session=latest
        )
        return self._opened

    @property
    def ready(self) -> bool:
        return self._opened is not None

    def warm_up(self) -> None:
        return None  # the server's embedder is warm already

    def settle(self) -> None:
        return None  # the server waits for its own memory writes

    def leave(self, session_id: int) -> int:
        try:
            return self.client.leave_session(session_id)
        except NotFoundError:
            return 0  # gone already: everything in it was said off the record
        except HearthError as exc:
            # Still never exported or shown; the server purges them when it next starts.
            log.error("off-record messages not purged: %s", exc)
            return 0

    def close(self) -> None:
        self.client.close()

    # -- turns (worker) ------------------------------------------------------------------

    def new_session(self) -> int | None:
        return None  # the server makes the session with the first turn

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
        # The server writes a turn's memories before it answers (`TurnResult.stored`):
        # nothing reports later, so `on_remembered` is never told.
        request = TurnRequest(
            text=text, session=session_id, new=session_id is None, memory=memory, stay=True
        )
        began: list[int] = [] if session_id is None else [session_id]

        def run(hangup: Hangup, started: Callable[[int], None]) -> TurnResult:
            def session(found: int) -> None:
                started(found)
                if on_session is not None and session_id is None:
                    on_session(found)

            return TurnResult.model_validate(
                self.client.turn(request, on_piece, hangup=hangup, on_session=session)
            )

        return self._streamed(run, stop, began)

    def regenerate(
        self,
        user_id: int,
        *,
        on_piece: Piece,
        stop: threading.Event,
        on_remembered: OnRemembered,
    ) -> TurnResult:
        return self._streamed(
            lambda hangup, started: self.client.regenerate(
                user_id, on_piece, keep=False, hangup=hangup, on_session=started
            ),
            stop,
            [],
        )

    def _streamed(
        self,
        run: Callable[[Hangup, Callable[[int], None]], TurnResult],
        stop: threading.Event,
        began: list[int],
    ) -> TurnResult:
        """A streamed turn that `interrupt` (or `stop`, set before it began) can end: the
        connection is shut, the server keeps the reply as interrupted, and it is read back."""
        turn = _Turn(Hangup())
        with self._hangup_lock:
            self._turn = turn
        if stop.is_set():
            turn.stop()

        def started(found: int) -> None:
            if not began:
                began.append(found)
            turn.start()

        try:
            return run(turn.hangup, started)
        except HearthServerError:
            if not turn.hangup.called or not began:
                raise
            return self._stopped(began[0])
        finally:
            with self._hangup_lock:
                self._turn = None

    def _stopped(self, session_id: int) -> TurnResult:
        """The reply a stopped turn left, once the server has kept it (as interrupted)."""
        deadline = time.monotonic() + STOPPED_WAIT_S
        while True:
            path = self.client.path(session_id, off_record=True).messages
            reply = path[-1] if path else None
            if reply is not None and reply.role == "assistant" and reply.status != "incomplete":
                return _result_of(reply)
            if time.monotonic() > deadline:
                raise HearthServerError(
                    f"{self.client.remote.url} did not keep the stopped reply in time; "
                    "it shows once the session is opened again"
                )
            time.sleep(0.2)

    def interrupt(self) -> None:
        with self._hangup_lock:
            if self._turn is not None:
                self._turn.stop()

    # -- the conversation tree -----------------------------------------------------------

    def head(self, session_id: int) -> int | None:
        return self.client.path(session_id).head_id

    def thread(self, session_id: int, head: int | None = None) -> list[ChatMessage]:
        found = self.client.path(session_id, head, off_record=True)
        return [chat_message(m) for m in found.messages]

    def versions(self, session_id: int) -> dict[int, list[int]]:
        return self.client.session_versions(session_id)

    def parent_of(self, message_id: int) -> int | None:
        return self.client.message(message_id).parent_id

    def latest_leaf(self, message_id: int) -> int:
        found = self.client.versions(message_id).versions
        return next(v.leaf_id for v in found if v.message.id == message_id)

    def go_on(self, session_id: int, head: int, browsed: set[int]) -> None:
        self.client.go_on(session_id, head, browsed=sorted(browsed))

    # -- message actions -----------------------------------------------------------------

    def edit(self, message_id: int, text: str) -> ChatMessage:
        edited, _ = self.client.edit(message_id, text, answer=False)
        return chat_message(edited)

    def rate(self, message_id: int, rating: int) -> None:
        self.client.rate(message_id, rating)

    def note_of(self, message_id: int) -> str | None:
        return self.client.message(message_id).note or None

    def note(self, message_id: int, text: str) -> None:
        self.client.rate(message_id, note=text)

    # -- sessions ------------------------------------------------------------------------

    def sessions(self, words: str, archived: bool) -> list[SessionItem]:
        return [
            SessionItem(
                id=s.id,
                display_title=s.display_title,
                updated_at=s.updated_at,
                messages=s.messages,
                archived=s.archived,
            )
            for s in self.client.sessions(words, archived)
        ]

    def rename_session(self, session_id: int, title: str) -> None:
        self.client.rename_session(session_id, title)

    def archive_session(self, session_id: int, archived: bool) -> None:
        self.client.archive_session(session_id, archived)

    def delete_session(self, session_id: int) -> None:
        # Gone already when leaving it purged it: everything in it was said off the record.
        with contextlib.suppress(NotFoundError):
            self.client.delete_session(session_id)

    # -- dreams --------------------------------------------------------------------------

    def dreams(self) -> list[DreamItem]:
        return [dream_item(d) for d in self.client.dreams()]

    def review_dream(self, dream_id: int, action: DreamAction, text: str | None) -> DreamItem:
        return dream_item(self.client.review_dream(dream_id, action, text))

    # -- memory --------------------------------------------------------------------------

    @property
    def memory_state(self) -> MemoryState:
        if self._opened is None:
            return "loading"
        try:
            return "open" if self.client.status()["memory"] else "off"
        except HearthError:
            return "off"

    def welcome(self) -> WelcomeData:
        if self._opened is None:
            return WelcomeData()
        status = self.client.status()
        if not status["memory"]:
            return WelcomeData(pinned=[], count=0)
        pinned = [memory_item(m) for m in self.client.pinned()]
        return WelcomeData(pinned=pinned, count=int(status["memories"]))

    def reply_memories(self, reply_id: int) -> ReplyPanel:
        found = self.client.recalled(reply_id)
        rows = [panel_row(r) for r in found.rows]
        return ReplyPanel(reply_id=found.reply_id, memory=found.memory, rows=rows)

    def flagged(self, memory_ids: list[str]) -> list[MemoryItem]:
        found = []
        for memory_id in memory_ids:
            try:
                memory = Memory.model_validate(self.client.show(memory_id))
            except HearthError:
                continue  # forgotten since (or the memory is lent for a moment)
            if FLAGGED in memory.flags:
                found.append(memory_item(memory))
        return found

    def memories(self, kind: str | None) -> list[MemoryItem]:
        listed = [Memory.model_validate(m) for m in self.client.memories(_kinds(kind), False, None)]
        listed.sort(key=lambda m: m.learned_at, reverse=True)
        return [memory_item(m) for m in listed]

    def search(self, words: str, k: int, kind: str | None) -> list[MemoryItem]:
        hits = self.client.search(words, k, _kinds(kind), False)
        return [memory_item(Memory.model_validate(h["memory"])) for h in hits]

    def memory(self, memory_id: str) -> MemoryDetail:
        shown = self.client.show(memory_id)
        m = Memory.model_validate(shown)
        sources = [
            Source(message_id=s["id"])
            if s.get("missing")
            else Source(message_id=s["id"], role=s["role"], text=s["text"])
            for s in shown.get("sources", [])
        ]
        links = [
            Link(type=kind, outgoing=outgoing, other=memory_item(o) if o is not None else None)
            for kind, outgoing, o in self.client.links(memory_id)
        ]
        history = [
            HistoryEntry(at=e.at, action=e.action, actor=e.actor)
            for e in self.client.history(memory_id)
        ]
        used = self._use_line(m, shown.get("used"))
        return MemoryDetail(
            memory=memory_item(m), used=used, sources=sources, links=links, history=history
        )

    @staticmethod
    def _use_line(memory: Memory, used: object) -> str | None:
        from memory.journal.schemas import MemoryUse

        if not isinstance(used, dict):
            return None
        return use_line(memory, MemoryUse.model_validate(used))

    def understanding(self) -> list[Understanding]:
        return [
            Understanding(
                session_id=s.session_id,
                bits_alone=s.bits_alone,
                bits_with=s.bits_with,
                saved=s.saved,
            )
            for s in self.client.understanding()
        ]

    def add_memory(self, text: str, kind: str, subject: str) -> str:
        asked = MemoryIn.model_validate({"text": text, "kind": kind, "subject": subject})
        return str(self.client.add(asked)["id"])

    def edit_memory(self, memory_id: str, text: str) -> str:
        return self.client.change_memory(memory_id, text=text).id

    def pin(self, memory_id: str, pinned: bool) -> None:
        self.client.change_memory(memory_id, pinned=pinned)

    def accept(self, memory_id: str) -> None:
        self.client.change_memory(memory_id, accept=True)

    def forget(self, memory_id: str) -> None:
        self.client.forget(memory_id)

    def reject(self, memory_id: str) -> None:
        self.client.reject(memory_id)

    # -- idle ----------------------------------------------------------------------------

    def idle_ready(self) -> bool:
        return False  # unsupported: the server consolidates when idle

    def sleep_when_idle(self, done: OnSlept) -> bool:
        return False


class _Turn:
    """One streamed turn's stop: a stop that comes before the server began the turn (told by
    its session line) hangs up only then, so the server has journaled the message and keeps
    the reply as interrupted, as a local stop does; shut earlier, nothing would be kept."""

    def __init__(self, hangup: Hangup) -> None:
        self.hangup = hangup
        self._lock = threading.Lock()
        self._started = False
        self._stopped = False

    def start(self) -> None:
        with self._lock:
            self._started = True
            now = self._stopped
        if now:
            self.hangup()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            now = self._started
        if now:
            self.hangup()


def _kinds(kind: str | None) -> list[str] | None:
    return [kind] if kind else None


def _result_of(reply: ShownMessage) -> TurnResult:
    """What the chat needs of a stopped turn's result, read back from the journal (its
    counts and timings are the server's log's)."""
    return TurnResult(
        reply=reply.text,
        status=reply.status,
        session_id=reply.session_id,
        turn_id=reply.id,
        user_turn_id=reply.parent_id if reply.parent_id is not None else reply.id,
        model="",
        prompt_tokens=0,
        completion_tokens=0,
        tokens_evaluated=0,
        tokens_reused=0,
        trimmed=[],
        context_budget=0,
        ttft_ms=None,
        total_ms=None,
        tokens_per_s=None,
        finish_reason="interrupted",
        memory=reply.memory,
    )


def _is_a_conversation(found: ServedConversation) -> Conversation:
    return found  # mypy checks here that ServedConversation keeps to the protocol
