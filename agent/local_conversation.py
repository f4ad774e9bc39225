"""The conversation here: the chat's actions run by the `Agent` over this machine's data dir."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from agent import feedback
from agent.conversation import (
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
    SleepOutcome,
    Source,
    Understanding,
    WelcomeData,
)
from agent.conversation_items import dream_item, memory_item, panel_row
from agent.dream.review import dreams, review
from agent.memory_use import use_line
from agent.recall import shown_line_pattern
from agent.reply_memories import reply_memories
from agent.startup import Home, load_agent
from agent.tiny_tip import tiny_model_tip
from agent.turn import Agent
from agent.turn_result import TurnResult
from agent.understanding import per_session
from memory.errors import ConfigError, HearthError, NotFoundError
from memory.journal.schemas import Message
from memory.settings import ChatSettings

if TYPE_CHECKING:
    from agent.learn.consolidation import SleepReport
    from memory.graph.store import MemoryStore

log = logging.getLogger(__name__)
T = TypeVar("T")
AgentLoader = Callable[[Home], Agent]


def chat_message(m: Message, rating: int | None = None) -> ChatMessage:
    return ChatMessage(
        id=m.id,
        role=m.role,
        text=m.text,
        speaker=m.speaker or ("hearth" if m.role == "assistant" else m.role),
        status=m.status,
        parent_id=m.parent_id,
        recalled=len(m.meta.recalled_ids) if m.role == "user" else 0,
        stored=len(m.meta.stored) if m.role == "assistant" else 0,
        rating=rating,
    )


class LocalConversation:
    """The chat over the data dir this process holds (`home`), its model loaded by `loader`."""

    def __init__(self, home: Home, loader: AgentLoader = load_agent) -> None:
        self.home = home
        self.loader = loader
        self.agent: Agent | None = None
        """The loaded agent (None until `open`): the lending handshake pauses it."""
        self.chat: ChatSettings = home.settings.chat
        self._tip_asked = False

    # -- what this backend can do ------------------------------------------------------

    def unsupported(self, action: Action) -> str | None:
        return None  # every action runs here

    @property
    def idle_sleep_s(self) -> float:
        return float(self.home.settings.memory.idle_sleep_minutes * 60)

    @property
    def scratch_dir(self) -> Path | None:
        return self.home.paths.data_dir

    # -- opening and leaving -------------------------------------------------------------

    def latest_session(self) -> int | None:
        latest = self.home.journal.latest_session()
        return latest.id if latest else None

    def open(self) -> Opened:
        agent = self.loader(self.home)
        self.agent = agent
        notices = []
        if getattr(agent.backend, "template_fallback", False):
            notices.append("This model has no chat template; using ChatML.")
        # The file's name: what the person put in models/ (general.name is often unreadable).
        return Opened(model=Path(agent.model.path).stem, notices=notices)

    def store_notices(self) -> list[str]:
        """What opening the store found (an index rebuilt), said once the model is ready."""
        store = self._store_or_none()
        return list(store.notices) if store is not None else []

    @property
    def ready(self) -> bool:
        return self.agent is not None

    def warm_up(self) -> None:
        store = self._store_or_none()
        if store is not None:
            store.embed(["warm up"])  # the embedder takes seconds: now, not after a reply

    def settle(self) -> None:
        if self.agent is not None:
            self.agent.settle()

    def leave(self, session_id: int) -> int:
        try:
            if self.agent is not None:
                return self.agent.leave(session_id)
            # No model yet, so no turn ran in this run: only a crash's leftovers.
            return self.home.journal.purge_off_record(session_id)
        except HearthError as exc:
            # Still never exported or shown; the next start of a writing command purges them.
            log.error("off-record messages not purged: %s", exc)
            return 0

    def close(self) -> None:
        self.settle()

    # -- turns ---------------------------------------------------------------------------

    def new_session(self) -> int | None:
        return self._agent().session(new=True).id

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
        agent = self._agent()
        if session_id is None:
            session_id = agent.session(new=True).id
            if on_session is not None:
                on_session(session_id)
        return agent.run_turn(
            session_id,
            text,
            on_piece=on_piece,
            stop=stop,
            use_memory=memory,
            on_remembered=on_remembered,
        )

    def regenerate(
        self,
        user_id: int,
        *,
        on_piece: Piece,
        stop: threading.Event,
        on_remembered: OnRemembered,
    ) -> TurnResult:
        return feedback.regenerate(
            self._agent(),
            user_id,
            on_piece=on_piece,
            stop=stop,
            keep=False,
            on_remembered=on_remembered,
        )

    def interrupt(self) -> None:
        return None  # the turn reads the stop event between pieces

    # -- the conversation tree -----------------------------------------------------------

    def head(self, session_id: int) -> int | None:
        return self.home.journal.session(session_id).head_id

    def thread(self, session_id: int, head: int | None = None) -> list[ChatMessage]:
        journal = self.home.journal
        ratings = journal.feedbacks()
        return [
            chat_message(m, ratings[m.id].rating if m.id in ratings else None)
            for m in journal.thread(session_id, head)
        ]

    def versions(self, session_id: int) -> dict[int, list[int]]:
        return self.home.journal.versions(session_id)

    def parent_of(self, message_id: int) -> int | None:
        return self.home.journal.message(message_id).parent_id

    def latest_leaf(self, message_id: int) -> int:
        return self.home.journal.latest_leaf(message_id)

    def go_on(self, session_id: int, head: int, browsed: set[int]) -> None:
        journal = self.home.journal
        for m in journal.thread(session_id, head):
            if m.role == "assistant" and m.parent_id in browsed:
                feedback.choose(journal, m.id)
        journal.set_head(session_id, head)

    # -- message actions -----------------------------------------------------------------

    def edit(self, message_id: int, text: str) -> ChatMessage:
        return chat_message(feedback.edit(self.home.journal, message_id, text))

    def rate(self, message_id: int, rating: int) -> None:
        feedback.feedback(self.home.journal, message_id, rating=rating)

    def note_of(self, message_id: int) -> str | None:
        found = self.home.journal.feedback_for(message_id)
        return found.note if found else None

    def note(self, message_id: int, text: str) -> None:
        feedback.feedback(self.home.journal, message_id, note=text)

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
            for s in self.home.journal.search_sessions(words, archived)
        ]

    def rename_session(self, session_id: int, title: str) -> None:
        self.home.journal.rename_session(session_id, title)

    def archive_session(self, session_id: int, archived: bool) -> None:
        self.home.journal.archive_session(session_id, archived)

    def delete_session(self, session_id: int) -> None:
        # Gone already when leaving it purged it: everything in it was said off the record.
        with contextlib.suppress(NotFoundError):
            self.home.journal.delete_session(session_id)

    # -- dreams --------------------------------------------------------------------------

    def dreams(self) -> list[DreamItem]:
        return [dream_item(d) for d in dreams(self.home.journal)]

    def review_dream(self, dream_id: int, action: DreamAction, text: str | None) -> DreamItem:
        return dream_item(review(self.home.journal, dream_id, action, text))

    # -- memory --------------------------------------------------------------------------

    @property
    def memory_state(self) -> MemoryState:
        if self.agent is None:
            return "loading"
        return "open" if self.agent.store is not None else "off"

    def welcome(self) -> WelcomeData:
        store = self._store_or_none()
        if self.agent is None:
            return WelcomeData()
        tip = None
        if not self._tip_asked:  # the first welcome the model sees
            self._tip_asked = True
            tip = tiny_model_tip(self.agent.model.path, self.home.paths.data_dir)
        if store is None:  # memory off from the start: nothing is recalled, nor listed
            return WelcomeData(pinned=[], count=0, tip=tip)
        pinned = [memory_item(m) for m in store.pinned()]
        return WelcomeData(pinned=pinned, count=store.count(), tip=tip)

    def reply_memories(self, reply_id: int) -> ReplyPanel:
        journal = self.home.journal
        found = reply_memories(journal, self._store(), reply_id)
        rows = [panel_row(r) for r in found.rows]
        return ReplyPanel(reply_id=found.reply_id, memory=found.memory, rows=rows)

    def flagged(self, memory_ids: list[str]) -> list[MemoryItem]:
        store = self._store_or_none()
        if store is None:
            return []
        found = []
        for memory_id in memory_ids:
            try:
                memory = store.get(memory_id)
            except HearthError:
                continue  # forgotten since
            if "instruction_like" in memory.flags:
                found.append(memory_item(memory))
        return found

    def memories(self, kind: str | None) -> list[MemoryItem]:
        found = self._store().list(kinds=[kind] if kind else None)  # type: ignore[list-item]
        found.sort(key=lambda m: m.learned_at, reverse=True)
        return [memory_item(m) for m in found]

    def search(self, words: str, k: int, kind: str | None) -> list[MemoryItem]:
        kinds = [kind] if kind else None
        hits = self._store().search(words, k, kinds=kinds)  # type: ignore[arg-type]
        return [memory_item(h.memory) for h in hits]

    def memory(self, memory_id: str) -> MemoryDetail:
        store = self._store()
        m = store.get(memory_id)
        sources = []
        for message_id in m.provenance:
            try:
                said = self.home.journal.message(message_id)
                sources.append(Source(message_id=message_id, role=said.role, text=said.text))
            except NotFoundError:
                sources.append(Source(message_id=message_id))
        links = []
        for edge in store.edges(m.id):
            outgoing = edge.src == m.id
            try:
                other: MemoryItem | None = memory_item(
                    store.get(edge.dst if outgoing else edge.src)
                )
            except NotFoundError:
                other = None
            links.append(Link(type=edge.type, outgoing=outgoing, other=other))
        history = [
            HistoryEntry(at=e.at, action=e.action, actor=e.actor) for e in store.history(m.id)
        ]
        return MemoryDetail(
            memory=memory_item(m),
            used=use_line(m, self.home.journal.memory_use(m.id)),
            sources=sources,
            links=links,
            history=history,
        )

    def understanding(self) -> list[Understanding]:
        return [
            Understanding(
                session_id=s.session_id,
                bits_alone=s.bits_alone,
                bits_with=s.bits_with,
                saved=s.saved,
            )
            for s in per_session(self.home.journal.surprises())
        ]

    def add_memory(self, text: str, kind: str, subject: str) -> str:
        return self._change(lambda store: store.add(text, kind=kind, subject=subject).id)  # type: ignore[arg-type]

    def edit_memory(self, memory_id: str, text: str) -> str:
        return self._change(lambda store: store.update_text(memory_id, text).id)

    def pin(self, memory_id: str, pinned: bool) -> None:
        # One row's flag: written at once, as the memory screen always has (no turn waited on).
        store = self._store()
        if pinned:
            store.pin(memory_id)
        else:
            store.unpin(memory_id)

    def accept(self, memory_id: str) -> None:
        self._change(lambda store: store.accept(memory_id))

    def forget(self, memory_id: str) -> None:
        """What `hearth memory forget ID` runs: every store, and the prompts that showed it."""
        journal = self.home.journal
        self._change(lambda store: store.forget(memory_id, journal, shown_as=shown_line_pattern))

    def reject(self, memory_id: str) -> None:
        journal = self.home.journal
        self._change(lambda store: store.reject(memory_id, journal, shown_as=shown_line_pattern))

    # -- lending the data dir (tui/chat_lender.py) ------------------------------------------

    def store_lent(self) -> None:
        """The memory store closes for a command run beside the chat (the agent is paused)."""
        if self.agent is not None:
            self.agent.store = None

    def store_back(self) -> None:
        """The data dir is back: the store as the home reopened it (None: memory stays off)."""
        if self.agent is not None:
            self.agent.store = self.home.store

    # -- idle ----------------------------------------------------------------------------

    def idle_ready(self) -> bool:
        agent = self.agent
        return agent is not None and agent.store is not None and not agent.remembering

    def sleep_when_idle(self, done: OnSlept) -> bool:
        def report(found: SleepReport | None, error: str | None) -> None:
            outcome = (
                SleepOutcome(changed=found.changed, summary=found.summary())
                if found is not None
                else None
            )
            done(outcome, error)

        return self._agent().sleep_when_idle(report)

    # -- helpers -------------------------------------------------------------------------

    def _agent(self) -> Agent:
        if self.agent is None:
            raise RuntimeError("the model is not loaded yet")
        return self.agent

    def _store_or_none(self) -> MemoryStore | None:
        return self.agent.store if self.agent is not None else None

    def _store(self) -> MemoryStore:
        store = self._store_or_none()
        if store is None:
            raise ConfigError("memory is off in this chat, so there is nothing to show")
        return store

    def _change(self, change: Callable[[MemoryStore], T]) -> T:
        """A change between turns: a turn writes memories too, and the index takes one
        writer at a time (`Agent.change_memory`)."""
        return self._agent().change_memory(change)


def _is_a_conversation(found: LocalConversation) -> Conversation:
    return found  # mypy checks here that LocalConversation keeps to the protocol
