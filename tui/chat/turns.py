"""The turn runner: messages queued as typed, each reply streamed, stopped, and what memory did."""

from __future__ import annotations

import time

from textual import work
from textual.message import Message
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

from agent.conversation import SleepOutcome
from agent.display import inert
from agent.turn_result import TurnResult
from memory.errors import HearthError
from tui.chat.host import ChatHost, Job
from tui.chat.log import ChatLog, memory_note
from tui.widgets.chat_input import ChatInput
from tui.widgets.messages import MessageView

OFF_RECORD_NOTICE = (
    "Off the record: not remembered, never exported, and deleted when you leave this session."
)


class ReplyPiece(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Remembered(Message):
    """A turn's background memory write ended."""

    def __init__(self, reply_id: int, stored: list[str], error: str | None) -> None:
        super().__init__()
        self.reply_id = reply_id
        self.stored = stored
        self.error = error


class IdleSlept(Message):
    """The idle consolidation on the memory worker ended (report None: it did not run)."""

    def __init__(self, report: SleepOutcome | None, error: str | None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class ReplyDone(Message):
    def __init__(self, result: TurnResult | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class SessionBegun(Message):
    """The session a turn went in, made by the turn (a served chat's first turn)."""

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id


class TurnRunner(ChatHost):
    """Sends what the person typed, in order, once the model is ready; streams each reply."""

    _stream: MarkdownStream | None
    _reply_view: MessageView | None
    _reply_text: list[str]
    _pending_job: Job | None
    _early_stored: dict[int, list[str]]

    def on_chat_input_submitted(self, event: ChatInput.Submitted) -> None:
        if self.input_mode is not None:
            mode, message_id = self.input_mode
            self.end_input_mode()
            if mode == "edit":
                self.save_edit(message_id, event.text)
            else:
                self.save_note(message_id, event.text)
            return
        # Shown at once; sent when the model is ready and earlier messages are answered.
        chat = self.log_view
        self.drop_welcome()
        view = MessageView("user", event.text, self.conversation.chat.user_name)
        chat.mount(view)
        chat.scroll_end(animate=False)
        self.query_one(ChatInput).remember(event.text)
        # The memory switch as it was when the message was typed, not when it is sent.
        self.pending.append(Job(text=event.text, use_memory=self.memory_on, view=view))
        self.next_turn()

    def next_turn(self) -> None:
        if not self.opened and self.open_error is not None:
            while self.pending:  # never to be sent: said, each as failed
                refused = self.pending.popleft()
                if refused.view is not None:
                    refused.view.set_status("error")
                self.notify(self.open_error, severity="error", timeout=30, markup=False)
            return
        if self.generating or not self.opened or not self.pending:
            return
        job = self.pending.popleft()
        if self.session_id is None:
            try:
                self.session_id = self.conversation.new_session()
            except HearthError as exc:
                self.notify(str(exc), severity="error", timeout=30, markup=False)
                return
        if job.user_id is None:
            self.go_on()
        self.generating = True
        self.idle_slept = False
        self.refresh_bindings()
        self.stop_event.clear()
        self.turn_done.clear()
        chat = self.log_view
        self._reply_view = MessageView("assistant", "", "hearth", "incomplete")
        self._reply_text = []
        chat.mount(self._reply_view)
        chat.scroll_end(animate=False)
        self._stream = Markdown.get_stream(self._reply_view)
        self.status_line.speed = "thinking…"
        self.refresh_status()
        self._pending_job = job
        self.run_turn(self.session_id, job)

    @work(thread=True, group="turn", exit_on_error=False)
    def run_turn(self, session_id: int | None, job: Job) -> None:
        try:
            self._turn(session_id, job)
        finally:
            self.turn_done.set()

    def _turn(self, session_id: int | None, job: Job) -> None:
        conversation = self.conversation
        try:
            if job.user_id is not None:
                # Another reply to a journaled message; the person chooses by going on.
                result = conversation.regenerate(
                    job.user_id,
                    on_piece=self._post_piece,
                    stop=self.stop_event,
                    on_remembered=self._post_remembered,
                )
            else:
                result = conversation.send(
                    session_id,
                    job.text,
                    memory=job.use_memory,
                    on_piece=self._post_piece,
                    stop=self.stop_event,
                    on_remembered=self._post_remembered,
                    on_session=self._post_session,
                )
        except HearthError as exc:
            self.post_message(ReplyDone(None, str(exc)))
        except Exception as exc:
            self.log.error(f"turn failed: {exc!r}")
            self.post_message(ReplyDone(None, f"the reply failed: {exc}"))
        else:
            self.post_message(ReplyDone(result))

    def _post_session(self, session_id: int) -> None:
        self.post_message(SessionBegun(session_id))

    def _post_remembered(self, reply_id: int, stored: list[str], error: str | None) -> None:
        # On the memory worker's thread: the reply is already on screen, done.
        self.post_message(Remembered(reply_id, stored, error))

    def _post_piece(self, piece: str) -> None:
        # Called on the worker thread; post_message is thread-safe and never blocks generation.
        self.post_message(ReplyPiece(piece))

    async def on_reply_piece(self, event: ReplyPiece) -> None:
        self._reply_text.append(event.text)
        if self._stream is not None:
            await self._stream.write(event.text)
        self.log_view.scroll_end(animate=False)

    def on_session_begun(self, event: SessionBegun) -> None:
        job = self._pending_job
        # Off the record a server makes (and deletes) a session of its own: not this chat's.
        if job is not None and job.use_memory and self.session_id is None:
            self.session_id = event.session_id
            self.refresh_status()

    async def on_reply_done(self, event: ReplyDone) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        view = self._reply_view
        job = self._pending_job
        if event.result is not None and view is not None:
            r = event.result
            # One full update after streaming: streamed code blocks can otherwise render blank.
            await view.update(r.reply)
            view.set_status(r.status)
            view.message_id = r.turn_id
            if r.turn_id in self._early_stored:
                r = r.model_copy(update={"stored": self._early_stored.pop(r.turn_id)})
            if job is not None and job.view is not None:
                job.view.message_id = r.user_turn_id
            if r.memory and self.session_id is None:
                self.session_id = r.session_id  # a served chat's new session, made by the turn
            status = self.status_line
            status.ctx = f"ctx {r.prompt_tokens + r.completion_tokens}/{r.context_budget}"
            status.speed = f"{r.tokens_per_s:.1f} tok/s" if r.tokens_per_s else ""
            self._show_memory_use(view, r)
            if job is not None and job.user_id is not None and self.session_id is not None:
                # A new version (regeneration, edit); a new message's reply has none.
                self.log_view.mark_versions(self.conversation.versions(self.session_id))
            self.show_memory_for(r.turn_id)
        elif view is not None:
            view.set_status("error")
            self.status_line.speed = ""
            self.notify(
                event.error or "the reply failed", severity="error", timeout=15, markup=False
            )
        self.generating = False
        self.idle_since = time.monotonic()
        self.refresh_bindings()
        self._pending_job = None
        self.refresh_status()
        self.log_view.scroll_end(animate=False)
        self.next_turn()

    def _show_memory_use(self, view: MessageView, result: TurnResult) -> None:
        """Which memories the reply saw; what it left behind follows (`Remembered`)."""
        view.recalled = len(result.recalled)
        if not result.memory:
            view.set_memory_note("memory off")
        elif result.stored:  # written before the turn returned
            self._show_stored(view, result.stored)
        else:
            view.set_memory_note(memory_note(view.recalled, 0))

    def on_remembered(self, event: Remembered) -> None:
        if event.error is not None:
            self.notify(event.error, severity="error", timeout=15, markup=False)
            return
        if not self.query(ChatLog):
            return  # the write ended as the chat closed: nothing left to show it on
        self.show_memory_for(event.reply_id)  # an open panel lists what was just remembered
        view = self.log_view.view_with(event.reply_id)
        if view is not None:
            self._show_stored(view, event.stored)
            return
        if self._reply_view is not None and self._reply_view.message_id is None:
            # The write finished before the reply's view learnt its id.
            self._early_stored[event.reply_id] = event.stored

    def _show_stored(self, view: MessageView, stored: list[str]) -> None:
        """Orders among what was remembered are pointed out."""
        view.set_memory_note(memory_note(view.recalled, len(stored)))
        for memory in self.conversation.flagged(stored):
            self.notify(
                f"Remembered a note that reads like an instruction: “{inert(memory.text)}”. "
                "It is only ever shown to the model as a quote. "
                f"`hearth memory forget {memory.id}` removes it.",
                severity="warning",
                timeout=20,
                markup=False,  # the note is stored text: its brackets are not markup
            )

    def action_stop(self) -> None:
        """Stop the reply now; the partial text is kept and journaled as interrupted. Messages
        typed meanwhile are already on screen: they are still answered, in order. With no reply
        being written, it cancels an edit or a note."""
        if self.generating:
            self.stop_event.set()
            self.conversation.interrupt()
        elif self.input_mode is not None:
            self.end_input_mode()

    def action_toggle_memory(self) -> None:
        """Off the record: while memory is off, nothing is recalled or remembered, and what is
        said is deleted when the person leaves the session."""
        self.memory_on = not self.memory_on
        self.notify("Memory on." if self.memory_on else OFF_RECORD_NOTICE, markup=False)
        self.refresh_status()

    # -- idle sleep ---------------------------------------------------------------------

    def idle_tick(self) -> None:
        """Consolidate once the chat has been idle memory.idle_sleep_minutes: on the agent's
        memory worker, never here (it reads every memory), and never while a turn runs."""
        if self.idle_slept or self.generating or self.pending or self.lent_to_name is not None:
            return
        if not self.conversation.idle_ready():
            return
        if time.monotonic() - self.idle_since < self.conversation.idle_sleep_s:
            return
        self.idle_slept = self.conversation.sleep_when_idle(self._post_idle_slept)

    def _post_idle_slept(self, report: SleepOutcome | None, error: str | None) -> None:
        # On the memory worker's thread; post_message is thread-safe.
        self.post_message(IdleSlept(report, error))

    def on_idle_slept(self, event: IdleSlept) -> None:
        if event.error is not None:
            self.notify(event.error, severity="error", timeout=15, markup=False)
        elif event.report is None:
            # A turn or a memory change held the agent when it began: try again this spell.
            self.idle_slept = False
        elif event.report.changed:
            self.notify(f"While idle: {event.report.summary}.", timeout=6, markup=False)
