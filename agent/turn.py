"""The turn loop: journal the user's message, build the context, stream and journal the reply."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pydantic import BaseModel

from agent.context import build_context
from agent.corrections import flag_correction
from agent.runtime import ChatBackend, Generation
from memory.config import SamplingSettings, Settings
from memory.errors import NotFoundError, StorageError
from memory.journal import Journal
from memory.schemas import ChatMessage, Message, ModelInfo, Session, Status, Usage

# A streaming reply is saved at least this often, so a crash loses at most this much.
FLUSH_SECONDS = 1.0
FLUSH_TOKENS = 32


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


class Agent:
    """Runs turns for one data dir and one model; the TUI and `hearth say` share it."""

    def __init__(
        self, settings: Settings, journal: Journal, backend: ChatBackend, model: ModelInfo
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.backend = backend
        self.model = model
        self._busy = threading.Lock()

    @property
    def budget(self) -> int:
        return self.settings.model.n_ctx - self.settings.sampling.max_tokens

    def session(self, session_id: int | None = None, new: bool = False) -> Session:
        """The session to talk in: the one named, a new one, or the most recent."""
        if session_id is not None:
            return self.journal.session(session_id)
        latest = None if new else self.journal.latest_session()
        return latest or self.journal.create_session()

    def run_turn(
        self,
        session_id: int,
        text: str,
        *,
        on_piece: Callable[[str], None] | None = None,
        stop: threading.Event | None = None,
    ) -> TurnResult:
        """One full turn. The user's message is committed before the model starts."""
        with self._busy:
            user = self.journal.append(
                session_id, "user", text, speaker=self.settings.chat.user_name
            )
            flag_correction(self.journal, user)
            return self._reply(user, on_piece, stop)

    def reply_to(
        self,
        user_message_id: int,
        *,
        on_piece: Callable[[str], None] | None = None,
        stop: threading.Event | None = None,
        sampling: SamplingSettings | None = None,
    ) -> TurnResult:
        """A new reply to a journaled user message (a regeneration), built exactly as a turn is.

        `sampling` overrides the settings' (a regeneration draws a fresh seed); the reply
        records the sampling it was made with.
        """
        with self._busy:
            user = self.journal.message(user_message_id)
            if user.role != "user":
                raise NotFoundError(
                    f"message {user_message_id} is not a user message; "
                    "`hearth logs list` shows which ids are yours"
                )
            return self._reply(user, on_piece, stop, sampling)

    def _reply(
        self,
        user: Message,
        on_piece: Callable[[str], None] | None,
        stop: threading.Event | None,
        sampling: SamplingSettings | None = None,
    ) -> TurnResult:
        sampling = sampling or self.settings.sampling
        previous = self._previous_reply(user.session_id, user.parent_id)
        keep_from = previous.meta.get("context_from") if previous else None
        context = build_context(
            persona=self.settings.chat.persona,
            thread=self.journal.thread(user.session_id, user.id),
            budget=self.budget,
            count=self.backend.count_tokens,
            keep_from=keep_from,
        )
        thread = self.journal.thread(user.session_id, user.id)
        shown = [m for m in thread if m.id not in context.trimmed]
        reply = self.journal.append(
            user.session_id,
            "assistant",
            "",
            parent_id=user.id,
            status="incomplete",
            prompt=context.messages,
            model=self.model,
            sampling=sampling.model_dump(),
            meta={
                "trimmed": context.trimmed,
                "context_from": shown[0].id if shown else user.id,
            },
        )
        stats = Generation()
        text_out, status = self._stream(reply.id, context.messages, stats, on_piece, stop, sampling)
        usage = Usage(
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            tokens_evaluated=stats.tokens_evaluated,
            tokens_reused=stats.tokens_reused,
            ttft_ms=stats.ttft_ms,
            total_ms=stats.total_ms,
        )
        self.journal.update(reply.id, text=text_out, status=status, usage=usage)
        return TurnResult(
            reply=text_out,
            status=status,
            session_id=user.session_id,
            turn_id=reply.id,
            user_turn_id=user.id,
            model=self.model.name,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            tokens_evaluated=stats.tokens_evaluated,
            tokens_reused=stats.tokens_reused,
            trimmed=context.trimmed,
            context_budget=context.budget,
            ttft_ms=usage.ttft_ms,
            total_ms=usage.total_ms,
            tokens_per_s=usage.tokens_per_s,
        )

    def _previous_reply(self, session_id: int, before: int | None) -> Message | None:
        if before is None:
            return None
        for m in reversed(self.journal.thread(session_id, before)):
            if m.role == "assistant":
                return m
        return None

    def _stream(
        self,
        reply_id: int,
        messages: list[ChatMessage],
        stats: Generation,
        on_piece: Callable[[str], None] | None,
        stop: threading.Event | None,
        sampling: SamplingSettings | None = None,
    ) -> tuple[str, Status]:
        pieces: list[str] = []
        last_flush, unflushed = time.monotonic(), 0
        status: Status = "complete"
        try:
            sampling = sampling or self.settings.sampling
            for piece in self.backend.stream(messages, sampling, stats, stop=stop):
                pieces.append(piece)
                unflushed += 1
                if on_piece is not None:
                    on_piece(piece)
                if unflushed >= FLUSH_TOKENS or time.monotonic() - last_flush >= FLUSH_SECONDS:
                    self.journal.update(reply_id, text="".join(pieces))
                    last_flush, unflushed = time.monotonic(), 0
            if stats.finish_reason == "interrupted":
                status = "interrupted"
        except KeyboardInterrupt:
            status = "interrupted"
        except StorageError:
            raise
        except Exception:
            self.journal.update(reply_id, text="".join(pieces), status="error")
            raise
        return "".join(pieces), status
