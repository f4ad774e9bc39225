"""INTERIM (issue 23): the chat over today's `hearth serve` API, until agent/serving's own
`ServedConversation` (the `routes` work) replaces this module. It does what the API already
does (turns streamed and stopped, off the record, the memories read); every other action
says why it is greyed out. Delete this module once `ServedConversation` lands."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.conversation import (
    Action,
    ChatMessage,
    Conversation,
    DreamAction,
    DreamItem,
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
    unsupported_everything_but,
)
from agent.serving.client import Client, Hangup
from agent.serving.schemas import TurnRequest
from agent.turn_result import TurnResult
from memory.errors import HearthServerError
from memory.settings import ChatSettings

SUPPORTED: tuple[Action, ...] = ("turn", "stop", "off_record", "memory_screen")
SETTLE_S = 10.0
"""How long a stopped reply is looked for in the server's journal (it ends at its next piece)."""


class _Stopped(Exception):
    """Raised from a piece to close the reply's stream (the server then stops the reply)."""


def _memory(found: dict[str, Any]) -> MemoryItem:
    fields = {k: v for k, v in found.items() if k in MemoryItem.model_fields}
    return MemoryItem(**fields, sensitive="sensitive" in found.get("flags", []))


class InterimServedConversation:
    """The chat with a Hearth served at `client.remote.url`, through today's API."""

    def __init__(self, client: Client, chat: ChatSettings | None = None) -> None:
        self.client = client
        self.chat = chat or ChatSettings()
        self.unsupported: Callable[[Action], str | None] = unsupported_everything_but(
            SUPPORTED, f"not over {client.remote.url} yet: its API has no route for it"
        )
        self._status: dict[str, Any] | None = None
        self._hangup = Hangup()

    @property
    def idle_sleep_s(self) -> float:
        return 0.0  # the server tidies its own memory

    @property
    def scratch_dir(self) -> Path | None:
        return None

    def latest_session(self) -> int | None:
        return None  # known once open() has asked the server (`Opened.session`)

    def open(self) -> Opened:
        self._status = self.client.status()
        latest = self.client.thread(None).get("session_id")
        return Opened(
            model=str(self._status.get("model", "")),
            where=self.client.remote.url,
            session=int(latest) if latest is not None else None,
        )

    @property
    def ready(self) -> bool:
        return self._status is not None

    def warm_up(self) -> None:
        return None

    def settle(self) -> None:
        return None

    def leave(self, session_id: int) -> int:
        return 0  # the server deletes an off-record turn once it is answered

    def close(self) -> None:
        return None

    def new_session(self) -> int | None:
        return None  # the server makes it with the next turn

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
        request = TurnRequest(text=text, session=session_id, new=session_id is None, memory=memory)
        began: list[int] = []

        def piece(part: str) -> None:
            on_piece(part)
            if stop.is_set():
                raise _Stopped

        def session(found: int) -> None:
            began.append(found)
            if on_session is not None and memory:
                on_session(found)

        self._hangup = hangup = Hangup()
        try:
            return TurnResult.model_validate(self.client.turn(request, piece, hangup, session))
        except (_Stopped, HearthServerError):
            if not (stop.is_set() or hangup.called) or not began or not memory:
                raise
            return self._stopped(began[0], text)

    def _stopped(self, session_id: int, text: str) -> TurnResult:
        """A stopped reply as the server's journal keeps it (it ends at its next piece)."""
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            said = self.client.thread(session_id).get("messages", [])
            for i in range(len(said) - 2, -1, -1):
                asked, reply = said[i], said[i + 1]
                if asked["role"] == "user" and asked["text"] == text:
                    if reply["role"] == "assistant" and reply["status"] != "incomplete":
                        return TurnResult(
                            reply=reply["text"],
                            status=reply["status"],
                            session_id=session_id,
                            turn_id=reply["id"],
                            user_turn_id=asked["id"],
                            model=str((self._status or {}).get("model", "")),
                            prompt_tokens=0,
                            completion_tokens=0,
                            tokens_evaluated=0,
                            tokens_reused=0,
                            trimmed=[],
                            context_budget=0,
                            ttft_ms=None,
                            total_ms=None,
                            tokens_per_s=None,
                        )
                    break
            time.sleep(0.1)
        raise HearthServerError("the stopped reply was not found on the server; reopen the chat")

    def regenerate(
        self, user_id: int, *, on_piece: Piece, stop: threading.Event, on_remembered: OnRemembered
    ) -> TurnResult:
        raise HearthServerError(self.unsupported("regenerate") or "")

    def interrupt(self) -> None:
        self._hangup()  # the server stops the reply now, not at its next piece

    def head(self, session_id: int) -> int | None:
        said = self.client.thread(session_id).get("messages", [])
        return int(said[-1]["id"]) if said else None

    def thread(self, session_id: int, head: int | None = None) -> list[ChatMessage]:
        return [
            ChatMessage(
                id=m["id"],
                role=m["role"],
                text=m["text"],
                status=m["status"],
                speaker="hearth" if m["role"] == "assistant" else self.chat.user_name,
            )
            for m in self.client.thread(session_id).get("messages", [])
        ]

    def versions(self, session_id: int) -> dict[int, list[int]]:
        return {}

    def parent_of(self, message_id: int) -> int | None:
        return None

    def latest_leaf(self, message_id: int) -> int:
        return message_id

    def go_on(self, session_id: int, head: int, browsed: set[int]) -> None:
        return None  # one branch only over this API

    def edit(self, message_id: int, text: str) -> ChatMessage:
        raise HearthServerError(self.unsupported("edit") or "")

    def rate(self, message_id: int, rating: int) -> None:
        raise HearthServerError(self.unsupported("rate") or "")

    def note_of(self, message_id: int) -> str | None:
        return None

    def note(self, message_id: int, text: str) -> None:
        raise HearthServerError(self.unsupported("note") or "")

    def sessions(self, words: str, archived: bool) -> list[SessionItem]:
        return []

    def rename_session(self, session_id: int, title: str) -> None:
        raise HearthServerError(self.unsupported("session_change") or "")

    def archive_session(self, session_id: int, archived: bool) -> None:
        raise HearthServerError(self.unsupported("session_change") or "")

    def delete_session(self, session_id: int) -> None:
        raise HearthServerError(self.unsupported("session_change") or "")

    def dreams(self) -> list[DreamItem]:
        return []

    def review_dream(self, dream_id: int, action: DreamAction, text: str | None) -> DreamItem:
        raise HearthServerError(self.unsupported("dreams") or "")

    @property
    def memory_state(self) -> MemoryState:
        if self._status is None:
            return "loading"
        return "open" if self._status.get("memory", True) else "off"

    def welcome(self) -> WelcomeData:
        if self._status is None:
            return WelcomeData()
        return WelcomeData(pinned=[], count=int(self._status.get("memories", 0)))

    def reply_memories(self, reply_id: int) -> ReplyPanel:
        return ReplyPanel(reply_id=reply_id, rows=[])

    def flagged(self, memory_ids: list[str]) -> list[MemoryItem]:
        return []

    def memories(self, kind: str | None) -> list[MemoryItem]:
        found = self.client.memories([kind] if kind else None, all=False, limit=None)
        return sorted((_memory(m) for m in found), key=lambda m: m.learned_at, reverse=True)

    def search(self, words: str, k: int, kind: str | None) -> list[MemoryItem]:
        hits = self.client.search(words, k, [kind] if kind else None, all=False)
        return [_memory(h["memory"]) for h in hits]

    def memory(self, memory_id: str) -> MemoryDetail:
        found = self.client.show(memory_id)
        sources = [
            Source(message_id=s["id"], role=s.get("role"), text=s.get("text"))
            for s in found.get("sources", [])
        ]
        links = [
            Link(type=e["type"], outgoing=e["src"] == memory_id, other=None)
            for e in found.get("edges", [])
        ]
        return MemoryDetail(memory=_memory(found), sources=sources, links=links)

    def understanding(self) -> list[Understanding]:
        return []

    def add_memory(self, text: str, kind: str, subject: str) -> str:
        raise HearthServerError(self.unsupported("memory_change") or "")

    def edit_memory(self, memory_id: str, text: str) -> str:
        raise HearthServerError(self.unsupported("memory_change") or "")

    def pin(self, memory_id: str, pinned: bool) -> None:
        raise HearthServerError(self.unsupported("memory_change") or "")

    def accept(self, memory_id: str) -> None:
        raise HearthServerError(self.unsupported("memory_change") or "")

    def forget(self, memory_id: str) -> None:
        raise HearthServerError(self.unsupported("memory_change") or "")

    def reject(self, memory_id: str) -> None:
        raise HearthServerError(self.unsupported("memory_change") or "")

    def idle_ready(self) -> bool:
        return False

    def sleep_when_idle(self, done: OnSlept) -> bool:
        return False


def _is_a_conversation(found: InterimServedConversation) -> Conversation:
    return found  # mypy checks here that it keeps to the protocol
