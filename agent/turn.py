"""The turn loop: journal the user's message, build the context, stream and journal the reply."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from agent.context import (
    ECHO,
    build_context,
    check_fits,
    instructions,
    memory_block,
    system_prompt,
    with_memories,
)
from agent.learn.consolidation import SleepReport, sleep
from agent.learn.corrections import flag_correction
from agent.learn.episodes import fold_episode
from agent.learn.extract import extract as rules
from agent.learn.extract.pipeline import UNNAMED
from agent.learn.person import given_name, named
from agent.learn.said import learn_message
from agent.learn.write_path import Extractor
from agent.recall import recall
from agent.reply_end import NO_WORDS, EchoGuard, LoopGuard, end_at_sentence, redraw
from agent.runtime.backend import ChatBackend, Generation
from agent.turn_result import Recalled, TurnResult, recall_note
from memory import faults
from memory.clock import now
from memory.errors import (
    ConfigError,
    DreamError,
    MessageTooLongError,
    NotFoundError,
    StorageError,
)
from memory.journal.journal import Journal
from memory.journal.schemas import (
    ChatMessage,
    Message,
    MessageMeta,
    ModelInfo,
    Session,
    Status,
    Usage,
)
from memory.settings import ChatSettings, SamplingSettings, Settings

if TYPE_CHECKING:
    from memory.graph.nodes import Hit
    from memory.graph.store import MemoryStore

log = logging.getLogger(__name__)

Remembered = Callable[[int, list[str], str | None], None]
"""Told, for a reply's id, what its turn's background write remembered (memory ids) or why it
failed."""

# A streaming reply is saved at least this often, so a crash loses at most this much.
FLUSH_SECONDS = 1.0
FLUSH_TOKENS = 32


T = TypeVar("T")


def check_length(text: str, chat: ChatSettings) -> None:
    """Refuse a message past `chat.max_message_chars` (a command checks before loading a model)."""
    limit = chat.max_message_chars
    if len(text) > limit:
        raise MessageTooLongError(
            f"that message has {len(text):,} characters, more than chat.max_message_chars "
            f"({limit:,}); send a shorter one, or raise the setting"
        )


class Agent:
    """Runs turns for one data dir and one model; the TUI and `hearth say` share it."""

    def __init__(
        self,
        settings: Settings,
        journal: Journal,
        backend: ChatBackend,
        model: ModelInfo,
        store: MemoryStore | None = None,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.backend = backend
        self.model = model
        self.store = store
        self._busy = threading.Lock()
        # One worker, so writes land in the order their turns ran.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-remember")
        self._remembering: Future[list[str]] | None = None
        self._sleeping: Future[None] | None = None
        # -- the memory extractor (agent/startup.py: use_extractor) ---------------------------
        self.extract: Extractor = rules
        """What finds memories in the person's messages: the rules, or the model extractor."""
        self.after_write: Callable[[], None] | None = None
        """Run on the memory worker after each background write while set (the extractor
        probe's next message): between turns, never in one."""

    @property
    def remembering(self) -> bool:
        """A turn's memory write is running in the background."""
        return self._remembering is not None and not self._remembering.done()

    def settle(self) -> None:
        """Wait for a turn's background memory write (its failure was already reported), and
        for an idle consolidation on the same worker: the stores may close next."""
        pending, self._remembering = self._remembering, None
        if pending is not None:
            pending.exception()  # waits; a failure was reported where it happened
        sleeping, self._sleeping = self._sleeping, None
        if sleeping is not None:
            sleeping.exception()  # reported by sleep_when_idle's `done`

    def sleep_when_idle(self, done: Callable[[SleepReport | None, str | None], None]) -> bool:
        """`hearth sleep` on the memory worker, for a chat left idle: after the last turn's
        write, and only if no turn or memory change holds the agent when it starts (then it
        does nothing and `done` gets (None, None): the chat was not idle after all). `done`
        runs on the worker with the report or the error. False: memory is off, nothing to do."""
        if self.store is None:
            return False
        self._sleeping = self._writer.submit(self._sleep_now, done)
        return True

    def _sleep_now(self, done: Callable[[SleepReport | None, str | None], None]) -> None:
        # Not blocking: a turn that waits on this worker (settle) while holding _busy would
        # otherwise wait on a sleep that waits on it.
        if not self._busy.acquire(blocking=False):
            done(None, None)
            return
        try:
            store = self.store
            report = None if store is None else sleep(store, at=now(), journal=self.journal)
        except Exception as exc:  # reported to the person; the chat goes on
            log.exception("idle consolidation failed")
            done(None, f"tidying the memory failed: {exc}")
            return
        finally:
            self._busy.release()
        done(report, None)

    @property
    def budget(self) -> int:
        """Prompt tokens allowed: the window minus the reply's room (at most half of it, so a
        huge max_tokens cannot squeeze the conversation to nothing)."""
        n_ctx = self.settings.model.n_ctx
        return n_ctx - min(self.settings.sampling.max_tokens, n_ctx // 2)

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
        use_memory: bool = True,
        on_remembered: Remembered | None = None,
        sampling: SamplingSettings | None = None,
    ) -> TurnResult:
        """One full turn. The user's message is committed before the model starts.

        With `on_remembered` the memory write runs after this returns, on one background
        worker, and reports there (`TurnResult.stored` is then empty); the next turn waits for
        it before recalling, so it still sees what this message said.

        `use_memory=False` is a turn off the record: no memory is read or written, the message
        and its reply are marked off the record in the journal (never exported, never shown to
        a later on-record turn) and `leave` deletes them."""
        check_length(text, self.settings.chat)
        with self._busy:
            self.settle()
            # Before it is journaled: a message that cannot fit the window is refused, not cut.
            check_fits(self.settings.chat.persona, text, self.budget, self.backend.count_tokens)
            user = self.journal.append(
                session_id,
                "user",
                text,
                speaker=self.settings.chat.user_name,
                meta=None if use_memory and self.store is not None else MessageMeta(memory=False),
                off_record=not use_memory,
            )
            flag_correction(self.journal, user)
            return self._reply(
                user,
                on_piece,
                stop,
                sampling,
                use_memory=use_memory,
                on_remembered=on_remembered,
            )

    def reply_to(
        self,
        user_message_id: int,
        *,
        on_piece: Callable[[str], None] | None = None,
        stop: threading.Event | None = None,
        sampling: SamplingSettings | None = None,
        on_remembered: Remembered | None = None,
    ) -> TurnResult:
        """A new reply to a journaled user message (a regeneration), built exactly as a turn is.

        `sampling` overrides the settings' (a regeneration draws a fresh seed); the reply
        records the sampling it was made with.
        """
        with self._busy:
            self.settle()
            user = self.journal.message(user_message_id)
            if user.role != "user":
                raise NotFoundError(
                    f"message {user_message_id} is not a user message; "
                    "`hearth logs list` shows which ids are yours"
                )
            if user.meta.synthetic:
                # Answered again here, it would be remembered as if the person had said it.
                raise DreamError(
                    f"message {user_message_id} is a dream's; dreams are answered once "
                    "(`hearth dream review --edit` corrects the reply)"
                )
            # A message already remembered (when first answered) is not written twice; an
            # edited one, or one whose first reply never finished, is remembered now.
            memory, fresh = user.meta.memory, not user.meta.remembered
            return self._reply(
                user,
                on_piece,
                stop,
                sampling,
                memory,
                write_memory=fresh,
                on_remembered=on_remembered,
            )

    def dream_reply(
        self, user_message_id: int, meta: MessageMeta, hide: frozenset[str] = frozenset()
    ) -> TurnResult:
        """A reply to a dream's scenario (`agent.dream`), its context built exactly as a turn's
        (persona, pinned core memories, notes recalled for the message), but nothing
        remembered and no recall counted: a made-up message teaches Hearth nothing about the
        person. `meta` (the dream's marks) is on the reply from its first write; the memories
        in `hide` are never recalled for it (secrets: a dream's prompt may be exported)."""
        with self._busy:
            self.settle()
            user = self.journal.message(user_message_id)
            if not user.meta.synthetic or user.role != "user":
                raise NotFoundError(f"message {user_message_id} is not a dream's scenario")
            return self._reply(user, None, None, write_memory=False, reply_meta=meta, hide=hide)

    def _reply(
        self,
        user: Message,
        on_piece: Callable[[str], None] | None,
        stop: threading.Event | None,
        sampling: SamplingSettings | None = None,
        use_memory: bool = True,
        write_memory: bool = True,
        on_remembered: Remembered | None = None,
        reply_meta: MessageMeta | None = None,
        hide: frozenset[str] = frozenset(),
    ) -> TurnResult:
        sampling = sampling or self.settings.sampling
        store = self.store if use_memory and not user.off_record else None
        thread = self.journal.thread(user.session_id, user.id)
        if not user.off_record:
            # What was said off the record never reaches an on-record prompt (which is stored,
            # exported and read by later turns); an off-record turn still sees the whole thread.
            thread = [m for m in thread if not m.off_record]
        # The reply before this message (the thread is read once a turn, not twice).
        previous = next((m for m in reversed(thread[:-1]) if m.role == "assistant"), None)
        keep_from = previous.meta.context_from if previous else None
        recalled: list[Hit] = []
        # Read once a turn: the notes, the core block and the memory write name the person alike.
        given = given_name(store)
        called = named(self.settings.chat.user_name, given) or UNNAMED
        if store is not None and user.meta.shown_as is None:
            # A regeneration reuses the notes its message was first shown with (same prompt).
            recalled, user = self._recall(store, user, thread, keep_from, called, hide)
            thread = [*thread[:-1], user]
        pinned = store.pinned() if store is not None else []
        context = build_context(
            persona=system_prompt(self.settings.chat.persona, pinned, called),
            thread=thread,
            budget=self.budget,
            count=self.backend.count_tokens,
            keep_from=keep_from,
            count_text=self.backend.count_text,
        )
        reply = self.journal.append(
            user.session_id,
            "assistant",
            "",
            parent_id=user.id,
            status="incomplete",
            prompt=context.messages,
            model=self.model,
            sampling=sampling.model_dump(),
            meta=MessageMeta(
                trimmed=context.trimmed,
                context_from=context.first_kept or user.id,
                memory=store is not None,
            ).merged(reply_meta or MessageMeta()),
        )
        stats = Generation()
        own = instructions(self.settings.chat.persona, called)
        text_out, status = self._stream(
            reply.id, context.messages, stats, on_piece, stop, sampling, own
        )
        usage = Usage(
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            tokens_evaluated=stats.tokens_evaluated,
            tokens_reused=stats.tokens_reused,
            ttft_ms=stats.ttft_ms,
            total_ms=stats.total_ms,
            finish_reason=stats.finish_reason,
        )
        self.journal.update(reply.id, text=text_out, status=status, usage=usage)
        stored: list[str] = []
        if store is not None and write_memory:
            # After the reply is saved: remembering never delays this reply's first token.
            before = set(previous.meta.trimmed) if previous else set()
            trimmed = [i for i in context.trimmed if i not in before]
            recalled_ids = [h.memory.id for h in recalled]
            remember = partial(self._remember, store, user, reply.id, trimmed, recalled_ids, given)
            if on_remembered is None:
                stored = remember()
            else:
                self._remembering = self._writer.submit(
                    self._remember_later,
                    remember,
                    reply.id,
                    on_remembered,
                )
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
            finish_reason=usage.finish_reason,
            memory=store is not None,
            recalled=[
                Recalled(id=h.memory.id, **h.model_dump(exclude={"memory"})) for h in recalled
            ],
            stored=stored,
        )

    def change_memory(self, change: Callable[[MemoryStore], T]) -> T:
        """A change to the memory made beside the chat (the TUI's memory panel), run between
        turns: a turn writes memories too, and the index takes one writer at a time."""
        with self._busy:
            self.settle()  # the last turn's write lands first
            if self.store is None:
                raise ConfigError("memory is off in this chat, so there is nothing to change")
            return change(self.store)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """No turn and no memory change runs inside this (the data dir is lent meanwhile); it
        begins once the running turn and its memory write have ended."""
        with self._busy:
            self.settle()
            yield

    def leave(self, session_id: int | None = None) -> int:
        """The person leaves a session (default: every session): what they said there off the
        record is deleted, after any turn still running ends. Returns how many messages went."""
        with self._busy:
            self.settle()
            return self.journal.purge_off_record(session_id)

    def _remember(
        self,
        store: MemoryStore,
        user: Message,
        reply_id: int,
        trimmed: list[int],
        recalled_ids: list[str],
        given: str | None,
    ) -> list[str]:
        """The write path for one turn; the user's message is marked remembered once done.
        `given`: the name the person gave, as this turn read it."""
        faults.reached("before-memory-write")
        # One unit of work: one transaction for the whole write, one index sync after it.
        with store.unit():
            stored = self._write(store, user, trimmed, given)
            store.mark_recalled(recalled_ids)
        self.journal.update(reply_id, meta=MessageMeta(stored=stored))
        self.journal.update(user.id, meta=MessageMeta(remembered=True))
        return stored

    def _remember_later(
        self, remember: Callable[[], list[str]], reply_id: int, report: Remembered
    ) -> list[str]:
        try:
            stored = remember()
        except Exception as exc:
            log.error("remembering for reply %s failed", reply_id, exc_info=True)
            why = str(exc) if isinstance(exc, StorageError) else f"remembering failed: {exc}"
            report(reply_id, [], why)
            raise
        report(reply_id, stored, None)
        if self.after_write is not None:
            try:
                self.after_write()
            except Exception:
                log.error("the step after remembering failed", exc_info=True)
                self.after_write = None
        return stored

    def _recall(
        self,
        store: MemoryStore,
        user: Message,
        thread: list[Message],
        keep_from: int | None,
        called: str,
        hide: frozenset[str] = frozenset(),
    ) -> tuple[list[Hit], Message]:
        """Memories for this message, placed in it (late in the prompt, so the prefix stays
        cached) and saved with it, so later turns show it exactly as this one did."""
        visible = [m for m in thread if keep_from is None or m.id >= keep_from]
        already = {i for m in visible for i in m.meta.recalled_ids}
        hits = recall(
            store,
            user.text,
            exclude=already | hide,
            visible={m.id for m in visible},
            settings=self.settings.memory,
            count=self.backend.count_text,
            window=self.budget,
        )
        # The most relevant note last, nearest the message: a small model heeds what is near.
        nearest_last = [h.memory for h in reversed(hits)]
        block = memory_block(
            nearest_last, called, now=self.settings.chat.local_time(user.created_at)
        )
        meta = MessageMeta(
            shown_as=with_memories(user.text, block),
            recalled_ids=[h.memory.id for h in hits],
            recalled=[recall_note(h) for h in hits],
        )
        self.journal.update(user.id, meta=meta)
        return hits, user.model_copy(update={"meta": user.meta.merged(meta)})

    def _write(
        self, store: MemoryStore, user: Message, newly_trimmed: list[int], given: str | None
    ) -> list[str]:
        said_by = user.speaker or self.settings.chat.user_name
        speaker = named(said_by, given) or said_by
        # What the message teaches, and the person's words themselves (`said`, not counted in
        # `stored`: the reply's "remembered N" stays about facts).
        actions = learn_message(
            store,
            self.journal,
            user,
            speaker=speaker,
            when=self.settings.chat.local_time(user.created_at),
            extract=self.extract,
        )
        changed = [a.memory_id for a in actions if a.action != "noop"]
        if newly_trimmed:
            episode = fold_episode(store, self.journal, newly_trimmed)
            if episode is not None:
                changed.append(episode.id)
        return changed

    def _stream(
        self,
        reply_id: int,
        messages: list[ChatMessage],
        stats: Generation,
        on_piece: Callable[[str], None] | None,
        stop: threading.Event | None,
        sampling: SamplingSettings | None = None,
        own: str = "",
    ) -> tuple[str, Status]:
        """Stream the reply, journaling it as it comes; `own` is the instructions' text, which
        the reply must not print back. A reply that began with its prompt (nothing left once
        the echo is cut, nothing shown) is drawn once more, then given up for a short line."""
        sampling = sampling or self.settings.sampling
        text, status = self._attempt(reply_id, messages, stats, on_piece, stop, sampling, own)
        if text or stats.finish_reason != "echo" or status != "complete":
            return text, status
        again = Generation()
        text, status = self._attempt(
            reply_id, messages, again, on_piece, stop, redraw(sampling), own
        )
        stats.completion_tokens += again.completion_tokens
        stats.tokens_evaluated += again.tokens_evaluated
        stats.total_ms = (stats.total_ms or 0.0) + (again.total_ms or 0.0)
        stats.finish_reason = again.finish_reason
        if not text and again.finish_reason == "echo" and status == "complete":
            text = NO_WORDS
            if on_piece is not None:
                on_piece(text)
        return text, status

    def _attempt(
        self,
        reply_id: int,
        messages: list[ChatMessage],
        stats: Generation,
        on_piece: Callable[[str], None] | None,
        stop: threading.Event | None,
        sampling: SamplingSettings,
        own: str,
    ) -> tuple[str, Status]:
        """One draw of the reply, streamed and journaled as it comes, cut where it loops or
        starts to print its prompt back."""
        pieces: list[str] = []
        last_flush, unflushed = time.monotonic(), 0
        status: Status = "complete"
        guard = LoopGuard() if sampling.stop_loops else None
        shown = 0

        def show(upto: int) -> int:
            """Pass on the reply up to here (what may yet be an echo is held back)."""
            if on_piece is not None and upto > shown:
                on_piece("".join(pieces)[shown:upto])
            return max(upto, shown)

        # Always on: a reply printing the notes or the instructions back is never what the
        # person asked for, however it was sampled.
        echo = EchoGuard(ECHO, own)
        try:
            # Closed on leaving the loop early (a loop), so llama.cpp stops at once.
            with contextlib.closing(self.backend.stream(messages, sampling, stats, stop=stop)) as s:
                for piece in s:
                    pieces.append(piece)
                    unflushed += 1
                    if echo.feed(piece):
                        stats.finish_reason = "echo"
                        break
                    shown = show(echo.shown_upto())
                    if guard is not None and guard.feed(piece):
                        stats.finish_reason = "loop"
                        break
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
        text = "".join(pieces)
        if echo.echo_from is not None:
            text = text[: echo.echo_from].rstrip()  # the reply as it was before the echo
        elif guard is not None and guard.repeat_from is not None:
            text = text[: guard.repeat_from].rstrip()  # the reply as it was before it repeated
        elif stats.finish_reason == "length" and status == "complete" and not sampling.ignore_eos:
            text = end_at_sentence(text)  # (ignore_eos asks for the reply to run to its end)
        show(len(text))  # the rest of what is kept (an echo's start was never shown)
        return text, status
