"""The Textual chat app: paints at once, loads the model in the background, streams replies."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Markdown, Static
from textual.widgets.markdown import MarkdownStream
from textual.worker import Worker

from agent import feedback
from agent.holding import Borrower, Lender
from agent.learn.consolidation import SleepReport
from agent.runtime.native_log import stderr_to
from agent.startup import Home, load_agent
from agent.turn import Agent
from agent.turn_result import TurnResult
from memory.controls import inert
from memory.errors import HearthError
from memory.journal.schemas import Message as JournalMessage
from tui.chat_lender import LendingEnded, OnUI, start_lending
from tui.commands import HearthCommands
from tui.keys import ACTIONS, bindings, known_ids, with_custom
from tui.screens.dreams import DreamsScreen
from tui.screens.help import HelpScreen, rows
from tui.screens.memory import MemoryScreen
from tui.screens.sessions import SessionsScreen
from tui.stop_signals import STOP_SIGNALS, exit_code, note_received
from tui.widgets.chat_input import ChatInput
from tui.widgets.memory_panel import MemoryPanel
from tui.widgets.messages import MessageView, code_blocks
from tui.widgets.welcome import Welcome, tiny_model_tip, welcome_text

AgentLoader = Callable[[Home], Agent]

OFF_RECORD_NOTICE = (
    "Off the record: not remembered, never exported, and deleted when you leave this session."
)
OFF_RECORD_MARK = "off the record"


class ModelLoaded(Message):
    def __init__(self, agent: Agent) -> None:
        super().__init__()
        self.agent = agent


class ModelFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


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

    def __init__(self, report: SleepReport | None, error: str | None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class ReplyDone(Message):
    def __init__(self, result: TurnResult | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


@dataclass
class Job:
    """One reply to write: to a new message (`text`), or again to a journaled one (`user_id`:
    a regeneration, or the answer to an edited message)."""

    text: str = ""
    use_memory: bool = True
    user_id: int | None = None
    view: MessageView | None = None
    """The user's message on screen, given its journal id once the turn has written it."""
    seen: list[int] = field(default_factory=list)


class HearthApp(App[None]):
    """One chat session on one model."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Hearth"
    COMMANDS = App.COMMANDS | {HearthCommands}
    BINDINGS = [
        *bindings("chat"),
        Binding("ctrl+c", "stop", "Stop reply", priority=True, show=False, id="chat.stop_alt"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]

    def __init__(
        self,
        home: Home,
        session_id: int | None = None,
        new: bool = False,
        loader: AgentLoader = load_agent,
        memory: bool = True,
        notices: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.home = home
        self.notices = list(notices)
        self.loader = loader
        self.agent: Agent | None = None
        self.session_id = session_id
        if session_id is None and not new:
            latest = home.journal.latest_session()
            self.session_id = latest.id if latest else None
        self.memory_on = memory
        self.pending: deque[Job] = deque()
        self.generating = False
        self.stop_event = threading.Event()
        self.turn_done = threading.Event()
        """Set while no turn runs: the journal must outlive the turn writing to it."""
        self.turn_done.set()
        self.warm = threading.Event()
        """Set once the model and the embedder are loaded (typing may stall while they load:
        importing torch holds the interpreter)."""
        self._stream: MarkdownStream | None = None
        self._reply_view: MessageView | None = None
        self._reply_text: list[str] = []
        self._pending_job: Job | None = None
        self._early_stored: dict[int, list[str]] = {}
        self._model_label = "loading model…"
        self._tip: str | None = None  # the welcome's line for a newcomer on the tiny model
        self._tip_asked = False
        self._ctx_label = ""
        self._speed_label = ""
        self.view_head: int | None = None
        """The message whose branch is on screen when the person switched versions (None: the
        session's head). Browsing writes nothing; going on from it does."""
        self.browsed: set[int] = set()
        """Parents whose replies the person swiped through or regenerated: the version shown
        when they go on is recorded as chosen over the others."""
        self.input_mode: tuple[str, int] | None = None
        """("edit" | "note", message id) while the input holds an edit or a note."""
        self.lender: Lender | None = None
        self.lent_to: Borrower | None = None
        """The command the data dir is lent to (tui/lending.py), while it is."""
        self.idle_since = time.monotonic()
        """When the last turn ended (or the app started): the idle spell idle sleep waits on."""
        self.idle_slept = False
        """This idle spell's consolidation was started (at most one a spell)."""
        self.keys = {a.id: a.key for a in ACTIONS}
        self.keys["chat.newline"] = home.settings.chat.newline_key
        self.keys = with_custom(self.keys, home.settings.chat.keys)

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="chat")
        yield ChatInput(id="input")
        yield Static(id="status", markup=False)  # the model's name comes from its file
        yield Footer()

    def on_mount(self) -> None:
        self._apply_keys()
        newline = self.keys["chat.newline"]
        self.query_one(
            ChatInput
        ).placeholder = f"Say something… (enter sends, {newline} adds a line, f1 lists keys)"
        self._show_history()
        self._refresh_status()
        self.query_one(ChatInput).focus()
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=30, markup=False)
        if not self.memory_on:
            self.notify(OFF_RECORD_NOTICE, timeout=10, markup=False)
        self.load_model()
        self.lender = start_lending(self)
        idle_s = self.home.settings.memory.idle_sleep_minutes * 60
        if idle_s > 0:
            # A few looks per idle spell: a spell is noticed within a quarter of its length.
            self.set_interval(min(60.0, max(0.05, idle_s / 4)), self._idle_tick)
        if threading.current_thread() is threading.main_thread():  # where signals arrive
            loop = asyncio.get_running_loop()
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, self._end_by_signal, sig)

    def on_unmount(self) -> None:
        if self.lender is not None:
            self.lender.close()  # before the stores close; a borrower keeps the data dir
        if self.agent is not None:
            self.agent.settle()  # what the last reply taught is written before the stores close
        # What the load froze may be collected again (in one process, as in the tests, the
        # next app must not keep this one, and its model, alive for good).
        gc.unfreeze()
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def _end_by_signal(self, signum: int) -> None:
        """SIGTERM or SIGHUP: like ctrl+q, the reply so far is kept as interrupted."""
        note_received(signum)
        self.stop_event.set()
        self.exit(return_code=exit_code(signum))

    # -- model --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def load_model(self) -> None:
        try:
            self._load_model()
        finally:
            self.warm.set()

    def _load_model(self) -> None:
        try:
            agent = self.loader(self.home)
        except HearthError as exc:
            self.post_message(ModelFailed(str(exc)))
            return
        except Exception as exc:  # anything else must not leave "loading model…" forever
            self.log.error(f"model load failed: {exc!r}")
            self.post_message(ModelFailed(f"the model failed to load: {exc}"))
            return
        self.post_message(ModelLoaded(agent))
        if agent.store is not None:
            # Loading the embedder takes seconds: do it now, not after the first reply.
            agent.store.embed(["warm up"])
        # Everything loaded so far (torch, the tokenizers, Textual) lives as long as the app:
        # frozen, the collector stops re-scanning it, whose full passes froze typing for up to
        # 0.7 s (`hearth bench keys`, docs/benchmarks.md).
        gc.freeze()

    @on(ModelLoaded)
    def _model_loaded(self, event: ModelLoaded) -> None:
        self.agent = event.agent
        # The file's name: what the person put in models/ (general.name is often unreadable).
        self._model_label = Path(event.agent.model.path).stem
        if getattr(event.agent.backend, "template_fallback", False):
            self.notify("This model has no chat template; using ChatML.", severity="warning")
        for notice in event.agent.store.notices if event.agent.store is not None else []:
            self.notify(notice, severity="warning", timeout=30, markup=False)  # an index rebuilt
        self._refresh_status()
        self._refresh_welcome()
        self.show_memory_for(self._last_reply_id())  # a panel opened while the model loaded
        self._next_turn()

    @on(ModelFailed)
    def _model_failed(self, event: ModelFailed) -> None:
        self._model_label = "model failed to load"
        self._refresh_status()
        self.notify(event.error, severity="error", timeout=30, markup=False)

    # -- turns --------------------------------------------------------------------------

    @on(ChatInput.Submitted)
    def _submitted(self, event: ChatInput.Submitted) -> None:
        if self.input_mode is not None:
            mode, message_id = self.input_mode
            self._end_input_mode()
            if mode == "edit":
                self._save_edit(message_id, event.text)
            else:
                self._save_note(message_id, event.text)
            return
        # Shown at once; sent when the model is ready and earlier messages are answered.
        chat = self.query_one("#chat", VerticalScroll)
        self._drop_welcome()
        view = MessageView("user", event.text, self.home.settings.chat.user_name)
        chat.mount(view)
        chat.scroll_end(animate=False)
        self.query_one(ChatInput).remember(event.text)
        # The memory switch as it was when the message was typed, not when it is sent.
        self.pending.append(Job(text=event.text, use_memory=self.memory_on, view=view))
        self._next_turn()

    def _next_turn(self) -> None:
        if self.generating or self.agent is None or not self.pending:
            return
        job = self.pending.popleft()
        if self.session_id is None:
            try:
                self.session_id = self.agent.session(new=True).id
            except HearthError as exc:
                self.notify(str(exc), severity="error", timeout=30, markup=False)
                return
        if job.user_id is None:
            self._go_on()
        self.generating = True
        self.idle_slept = False
        self.refresh_bindings()
        self.stop_event.clear()
        self.turn_done.clear()
        chat = self.query_one("#chat", VerticalScroll)
        self._reply_view = MessageView("assistant", "", "hearth", "incomplete")
        self._reply_text = []
        chat.mount(self._reply_view)
        chat.scroll_end(animate=False)
        self._stream = Markdown.get_stream(self._reply_view)
        self._speed_label = "thinking…"
        self._refresh_status()
        self._pending_job = job
        self.run_turn(self.session_id, job)

    @work(thread=True, group="turn", exit_on_error=False)
    def run_turn(self, session_id: int, job: Job) -> None:
        assert self.agent is not None
        try:
            self._turn(session_id, job)
        finally:
            self.turn_done.set()

    def _turn(self, session_id: int, job: Job) -> None:
        assert self.agent is not None
        try:
            if job.user_id is not None:
                # Another reply to a journaled message; the person chooses by going on.
                result = feedback.regenerate(
                    self.agent,
                    job.user_id,
                    on_piece=self._post_piece,
                    stop=self.stop_event,
                    keep=False,
                    on_remembered=self._post_remembered,
                )
            else:
                result = self.agent.run_turn(
                    session_id,
                    job.text,
                    on_piece=self._post_piece,
                    stop=self.stop_event,
                    use_memory=job.use_memory,
                    on_remembered=self._post_remembered,
                )
        except HearthError as exc:
            self.post_message(ReplyDone(None, str(exc)))
        except Exception as exc:
            self.log.error(f"turn failed: {exc!r}")
            self.post_message(ReplyDone(None, f"the reply failed: {exc}"))
        else:
            self.post_message(ReplyDone(result))

    def _post_remembered(self, reply_id: int, stored: list[str], error: str | None) -> None:
        # On the memory worker's thread: the reply is already on screen, done.
        self.post_message(Remembered(reply_id, stored, error))

    def _post_piece(self, piece: str) -> None:
        # Called on the worker thread; post_message is thread-safe and never blocks generation.
        self.post_message(ReplyPiece(piece))

    @on(ReplyPiece)
    async def _piece(self, event: ReplyPiece) -> None:
        self._reply_text.append(event.text)
        if self._stream is not None:
            await self._stream.write(event.text)
        self.query_one("#chat", VerticalScroll).scroll_end(animate=False)

    @on(ReplyDone)
    async def _done(self, event: ReplyDone) -> None:
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
            self._ctx_label = f"ctx {r.prompt_tokens + r.completion_tokens}/{r.context_budget}"
            self._speed_label = f"{r.tokens_per_s:.1f} tok/s" if r.tokens_per_s else ""
            self._show_memory_use(view, r)
            if job is not None and job.user_id is not None:
                # A new version (regeneration, edit); a new message's reply has none.
                self._mark_versions()
            self.show_memory_for(r.turn_id)
        elif view is not None:
            view.set_status("error")
            self._speed_label = ""
            self.notify(
                event.error or "the reply failed", severity="error", timeout=15, markup=False
            )
        self.generating = False
        self.idle_since = time.monotonic()
        self.refresh_bindings()
        self._pending_job = None
        self._refresh_status()
        self.query_one("#chat", VerticalScroll).scroll_end(animate=False)
        self._next_turn()

    def _show_memory_use(self, view: MessageView, result: TurnResult) -> None:
        """Which memories the reply saw; what it left behind follows (`Remembered`)."""
        view.recalled = len(result.recalled)
        if not result.memory:
            view.set_memory_note("memory off")
        elif result.stored:  # written before the turn returned
            self._show_stored(view, result.stored)
        else:
            view.set_memory_note(_memory_note(view.recalled, 0))

    # -- idle sleep ---------------------------------------------------------------------

    def _idle_tick(self) -> None:
        """Consolidate once the chat has been idle memory.idle_sleep_minutes: on the agent's
        memory worker, never here (it reads every memory), and never while a turn runs."""
        agent = self.agent
        if self.idle_slept or self.generating or self.pending or self.lent_to is not None:
            return
        if agent is None or agent.store is None or agent.remembering:
            return
        if time.monotonic() - self.idle_since < self.home.settings.memory.idle_sleep_minutes * 60:
            return
        self.idle_slept = agent.sleep_when_idle(self._post_idle_slept)

    def _post_idle_slept(self, report: SleepReport | None, error: str | None) -> None:
        # On the memory worker's thread; post_message is thread-safe.
        self.post_message(IdleSlept(report, error))

    @on(IdleSlept)
    def _idle_slept(self, event: IdleSlept) -> None:
        if event.error is not None:
            self.notify(event.error, severity="error", timeout=15, markup=False)
        elif event.report is None:
            # A turn or a memory change held the agent when it began: try again this spell.
            self.idle_slept = False
        elif event.report.changed:
            self.notify(f"While idle: {event.report.summary()}.", timeout=6, markup=False)

    @on(Remembered)
    def _remembered(self, event: Remembered) -> None:
        if event.error is not None:
            self.notify(event.error, severity="error", timeout=15, markup=False)
            return
        self.show_memory_for(event.reply_id)  # an open panel lists what was just remembered
        for view in self._messages():
            if view.message_id == event.reply_id:
                self._show_stored(view, event.stored)
                return
        if self._reply_view is not None and self._reply_view.message_id is None:
            # The write finished before the reply's view learnt its id.
            self._early_stored[event.reply_id] = event.stored

    def _show_stored(self, view: MessageView, stored: list[str]) -> None:
        """Orders among what was remembered are pointed out."""
        view.set_memory_note(_memory_note(view.recalled, len(stored)))
        store = self.agent.store if self.agent is not None else None
        if store is None:
            return
        for memory_id in stored:
            try:
                memory = store.get(memory_id)
            except HearthError:
                continue  # forgotten since
            if "instruction_like" in memory.flags:
                self.notify(
                    f"Remembered a note that reads like an instruction: “{inert(memory.text)}”. "
                    "It is only ever shown to the model as a quote. "
                    f"`hearth memory forget {memory.id}` removes it.",
                    severity="warning",
                    timeout=20,
                    markup=False,  # the note is stored text: its brackets are not markup
                )

    # -- actions ------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Stop the reply now; the partial text is kept and journaled as interrupted. Messages
        typed meanwhile are already on screen: they are still answered, in order. With no reply
        being written, it cancels an edit or a note."""
        if self.generating:
            self.stop_event.set()
        elif self.input_mode is not None:
            self._end_input_mode()

    def action_toggle_memory(self) -> None:
        """Off the record: while memory is off, nothing is recalled or remembered, and what is
        said is deleted when the person leaves the session."""
        self.memory_on = not self.memory_on
        self.notify("Memory on." if self.memory_on else OFF_RECORD_NOTICE, markup=False)
        self._refresh_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Actions on messages need a model, no reply being written, and a message to act on;
        a greyed-out one is also left out of the palette."""
        if action == "stop":  # in the footer only while there is something to stop
            return self.generating or self.input_mode is not None
        busy = self.generating or self.agent is None
        if action in ("regenerate", "edit"):
            return (
                not busy
                and self._target("assistant" if action == "regenerate" else "user") is not None
            )
        if action == "version":
            return not busy and self._version_target() is not None
        if action in ("rate", "note", "copy_message", "copy_code"):
            return self._target("assistant") is not None
        return True

    def _messages(self) -> list[MessageView]:
        return list(self.query(MessageView))

    def _target(self, role: str | None = None) -> MessageView | None:
        """The selected message (if of that role), else the last one of that role; journaled
        messages only."""
        focused = self.focused
        if isinstance(focused, MessageView) and focused.message_id is not None:
            return focused if role is None or focused.role == role else None
        for view in reversed(self._messages()):
            if view.message_id is not None and (role is None or view.role == role):
                return view
        return None

    def _version_target(self) -> MessageView | None:
        focused = self.focused
        if isinstance(focused, MessageView):
            return focused if focused.version is not None else None
        return next((v for v in reversed(self._messages()) if v.version is not None), None)

    def action_regenerate(self) -> None:
        """Another version of the selected (else the last) reply; all of them are kept."""
        view = self._target("assistant")
        if view is None or view.message_id is None or self.generating or self.session_id is None:
            return
        user_id = self.home.journal.message(view.message_id).parent_id
        if user_id is None:
            return
        self.browsed.add(user_id)
        self._show_path(user_id)  # the chat up to the message the new version answers
        self.pending.appendleft(Job(user_id=user_id))
        self._next_turn()

    def action_version(self, step: int) -> None:
        """Show the previous or next version of a message, and the conversation that went on
        from it; nothing is recorded until the person goes on."""
        view = self._version_target()
        if view is None or view.version is None or view.message_id is None or self.generating:
            return
        which, total = view.version
        ids = self.home.journal.versions(self.session_id or 0).get(view.message_id, [])
        if not ids:
            return
        target = ids[(which - 1 + step) % total]
        parent = self.home.journal.message(target).parent_id
        if parent is not None:
            self.browsed.add(parent)
        was_focused = self.focused is view
        self._show_path(self.home.journal.latest_leaf(target))
        if was_focused:
            for v in self._messages():
                if v.message_id == target:
                    v.focus()

    def action_edit(self) -> None:
        """Edit the selected message (else your last) in the input; enter saves it beside the
        original, escape cancels."""
        view = self._target() if isinstance(self.focused, MessageView) else self._target("user")
        if view is None or view.message_id is None or self.generating:
            return
        self._start_input_mode(
            "edit", view.message_id, view.text, "editing · enter saves, escape cancels"
        )

    def action_note(self) -> None:
        view = self._target("assistant")
        if view is None or view.message_id is None:
            return
        found = self.home.journal.feedback_for(view.message_id)
        self._start_input_mode(
            "note",
            view.message_id,
            found.note if found else "",
            "a note on this reply · enter saves",
        )

    def action_rate(self, rating: int) -> None:
        """Thumbs up or down on the selected (else the last) reply; the same again clears it."""
        view = self._target("assistant")
        if view is None or view.message_id is None:
            return
        new = 0 if view.rating == rating else rating
        try:
            feedback.feedback(self.home.journal, view.message_id, rating=new)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        view.set_rating(new)

    def action_copy_message(self) -> None:
        view = (
            self._target("assistant")
            if not isinstance(self.focused, MessageView)
            else self._target()
        )
        if view is not None:
            self.copy_to_clipboard(view.text)
            self.notify("Copied the message.")

    def action_copy_code(self) -> None:
        view = (
            self._target("assistant")
            if not isinstance(self.focused, MessageView)
            else self._target()
        )
        blocks = code_blocks(view.text) if view is not None else []
        if not blocks:
            self.notify("No code block in that message.")
            return
        self.copy_to_clipboard("\n".join(blocks))
        self.notify(f"Copied {len(blocks)} code block{'s' if len(blocks) > 1 else ''}.")

    def action_select(self, step: int) -> None:
        """Move the selection through the chat's messages; past the last, back to the input."""
        views = [v for v in self._messages() if v.message_id is not None]
        if not views:
            return
        focused = self.focused
        if isinstance(focused, MessageView) and focused in views:
            index = views.index(focused) + step
        else:
            index = len(views) - 1 if step < 0 else len(views)
        if index >= len(views):
            self.action_focus_input()
            self.show_memory_for(self._last_reply_id())
            return
        chosen = views[max(index, 0)]
        chosen.focus()
        chosen.scroll_visible(animate=False)
        if chosen.role == "assistant":
            self.show_memory_for(chosen.message_id)  # an open panel follows the selection

    def action_focus_input(self) -> None:
        self.query_one(ChatInput).focus()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        else:
            self.push_screen(HelpScreen(self.key_rows()))

    def action_open_editor(self) -> None:
        """Write the message in an editor; what it saves comes back into the input."""
        chat_input = self.query_one(ChatInput)
        fd, name = tempfile.mkstemp(prefix="message-", suffix=".md", dir=self.home.paths.data_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(chat_input.text)
            command = [*self.home.settings.chat.editor_command(), str(path)]
            try:
                with self.suspend():
                    code = subprocess.call(command)
            except SuspendNotSupported:  # no terminal to hand over (a headless run)
                code = subprocess.call(command, stdin=subprocess.DEVNULL)
            if code == 0:
                chat_input.load_text(path.read_text(encoding="utf-8").rstrip("\n"))
                chat_input.move_cursor(chat_input.document.end)
            else:
                self.notify(f"The editor exited with {code}; the input is as it was.")
        except OSError as exc:
            self.notify(f"could not open the editor: {exc}", severity="error", markup=False)
        finally:
            path.unlink(missing_ok=True)
        chat_input.focus()

    def action_new_session(self) -> None:
        if self.generating:
            self.notify("Wait for the reply, or press Escape to stop it.")
            return
        if self._lent():
            return
        self.leave_session()
        self.session_id = None
        self._reset_view()
        chat = self.query_one("#chat", VerticalScroll)
        chat.remove_children()
        chat.mount(Welcome(self._welcome()))
        self._ctx_label = self._speed_label = ""  # they described the session left
        self._refresh_status()
        self.show_memory_for(None)

    def action_sessions(self) -> None:
        if len(self.screen_stack) == 1:  # not over itself, nor over one of its dialogs
            self.push_screen(SessionsScreen(self, self.home.journal))

    def action_dreams(self) -> None:
        if len(self.screen_stack) == 1 and not self._lent():  # not over another screen
            self.push_screen(DreamsScreen(self.home.journal))

    def action_memory_screen(self) -> None:
        if len(self.screen_stack) > 1:  # not over itself, nor over another screen
            return
        if self._lent():
            return
        if self.agent is None:
            self.notify("The memories open once the model has loaded.")
            return
        if self.agent.store is None:
            self.notify("Memory is off in this run: there are no memories to show.")
            return
        self.push_screen(
            MemoryScreen(self.agent.store, self.home.journal, self.agent.change_memory),
            lambda _: self._refresh_welcome(),  # the pinned memories it lists may have changed
        )

    def switch_session(self, session_id: int | None) -> bool:
        """Leave this session for another (None: a new one); refused while a reply is written."""
        if self.generating:
            self.notify("Wait for the reply, or press Escape to stop it.")
            return False
        if self._lent():
            return False
        self.leave_session()
        self.session_id = session_id
        self._reset_view()
        self.query_one("#chat", VerticalScroll).remove_children()
        self._show_history()
        self._ctx_label = self._speed_label = ""  # they described the session left
        self._refresh_status()
        self.show_memory_for(self._last_reply_id())
        return True

    async def action_toggle_panel(self) -> None:
        """The memory panel beside the chat: the last reply's memories, and keys to change them."""
        panel = next(iter(self.query(MemoryPanel)), None)
        if panel is not None and panel.display:
            panel.display = False
            self.query_one(ChatInput).focus()
            return
        if panel is None:
            panel = MemoryPanel(self.home.journal, lambda: self.agent)
            await self.mount(panel)
        panel.display = True
        target = self._target("assistant")
        self.show_memory_for(target.message_id if target is not None else None)
        panel.focus_list()

    def _last_reply_id(self) -> int | None:
        replies = [v.message_id for v in self._messages() if v.role == "assistant"]
        return next((i for i in reversed(replies) if i is not None), None)

    def show_memory_for(self, reply_id: int | None) -> None:
        """Show this reply's memories in the memory panel, when it is open."""
        for panel in self.query(MemoryPanel):
            if panel.display:
                panel.show_reply(reply_id)

    async def action_quit(self) -> None:
        self.stop_event.set()
        # Off the UI thread: leaving waits for a reply that is still winding down. Not for a
        # command the data dir is lent to: it keeps it, and run_app leaves after the exit.
        if self.lent_to is None:
            await asyncio.to_thread(self.leave_session)
        self.exit()

    def leave_session(self) -> int:
        """What was said off the record in the session being left is deleted (after a reply
        still streaming ends); how many messages went."""
        if self.session_id is None:
            return 0
        try:
            if self.agent is not None:
                return self.agent.leave(self.session_id)
            # No model yet, so no turn ran in this run: only a crash's leftovers.
            return self.home.journal.purge_off_record(self.session_id)
        except HearthError as exc:
            # Still never exported or shown; the next start of a writing command purges them.
            self.log.error(f"off-record messages not purged: {exc}")
            return 0

    # -- lending the data dir (tui/lending.py) ------------------------------------------

    def _lent(self) -> bool:
        """While the data dir is lent, what waits for the agent or reads memory waits: say so."""
        if self.lent_to is None:
            return False
        self.notify(f"Wait a moment: {_borrower(self.lent_to)} is using the memory.")
        return True

    def lending_begins(self, borrower: Borrower) -> list[Worker[Any]]:
        self.lent_to = borrower
        while any(isinstance(s, MemoryScreen) for s in self.screen_stack):
            self.pop_screen()  # it reads the store, which closes
        self._refresh_status()
        # A search started on the memory screen runs on in its thread: the store waits for it.
        return [w for w in self.workers if w.group == "memory-search" and not w.is_finished]

    def store_closing(self) -> None:
        if self.agent is not None:
            self.agent.store = None
        self.show_memory_for(self._last_reply_id())

    def lending_ends(self, borrower: Borrower, error: str | None) -> None:
        self.lent_to = None
        if self.agent is not None:
            self.agent.store = self.home.store
        if error is not None:
            self.notify(f"Memory is off until Hearth restarts: {error}", severity="error")
        # What the command said or changed, unless a turn is on its way (its views would go).
        if self.session_id is not None and not (self.generating or self.pending):
            self._show_path(self.view_head)
        self._refresh_status()
        self._refresh_welcome()
        self.show_memory_for(self._last_reply_id())

    @on(OnUI)
    def _on_ui(self, message: OnUI) -> None:
        message.run()

    @on(LendingEnded)
    def _lending_ended(self, message: LendingEnded) -> None:
        self.lending_ends(message.borrower, message.error)

    # -- display ------------------------------------------------------------------------

    def _show_history(self) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        if self.session_id is None or not self._show_path(None):
            chat.mount(Welcome(self._welcome()))
        chat.scroll_end(animate=False)
        chat_input = self.query_one(ChatInput)
        chat_input.sent = [v.text for v in self._messages() if v.role == "user"]

    def _show_path(self, head: int | None) -> int:
        """Show the conversation ending at `head` (None: the session's head), keeping the views
        it shares with what is on screen; how many messages it has."""
        if self.session_id is None:
            return 0
        journal = self.home.journal
        self.view_head = (
            None if head is None or head == journal.session(self.session_id).head_id else head
        )
        thread = journal.thread(self.session_id, head)
        views = self._messages()
        same = 0
        while same < min(len(views), len(thread)) and views[same].message_id == thread[same].id:
            same += 1
        for view in views[same:]:
            view.remove()
        chat = self.query_one("#chat", VerticalScroll)
        ratings = journal.feedbacks()
        for m in thread[same:]:
            view = self._view_of(m)
            if m.id in ratings:
                view.set_rating(ratings[m.id].rating)
            chat.mount(view)
        self._mark_versions()
        chat.scroll_end(animate=False)
        return len(thread)

    def _view_of(self, m: JournalMessage) -> MessageView:
        speaker = m.speaker or ("hearth" if m.role == "assistant" else m.role)
        view = MessageView(m.role, m.text, speaker, m.status, message_id=m.id)
        if m.role == "user" and m.meta.recalled_ids:
            view.set_memory_note(f"recalled {len(m.meta.recalled_ids)}")
        if m.role == "assistant" and m.meta.stored:
            view.set_memory_note(_memory_note(0, len(m.meta.stored)))
        return view

    def _mark_versions(self) -> None:
        versions = self.home.journal.versions(self.session_id) if self.session_id else {}
        for view in self._messages():
            if view.message_id is not None:
                view.set_versions(versions.get(view.message_id))

    def _go_on(self) -> None:
        """The person goes on from what is on screen: it becomes the session's head, and a
        reply they swiped to or regenerated is recorded as chosen over its other versions."""
        if self.session_id is None:
            return
        journal = self.home.journal
        head = self.view_head or journal.session(self.session_id).head_id
        if head is None:
            return
        for m in journal.thread(self.session_id, head):
            if m.role == "assistant" and m.parent_id in self.browsed:
                journal.choose(m.id)
        journal.set_head(self.session_id, head)
        self.view_head = None
        self.browsed.clear()

    def _reset_view(self) -> None:
        self.view_head = None
        self.browsed.clear()
        if self.input_mode is not None:
            self._end_input_mode()

    def _start_input_mode(self, mode: str, message_id: int, text: str, title: str) -> None:
        chat_input = self.query_one(ChatInput)
        self.input_mode = (mode, message_id)
        self.refresh_bindings()
        chat_input.border_title = title
        chat_input.load_text(text)
        chat_input.move_cursor(chat_input.document.end)
        chat_input.focus()

    def _end_input_mode(self) -> None:
        chat_input = self.query_one(ChatInput)
        self.input_mode = None
        self.refresh_bindings()
        chat_input.border_title = None
        chat_input.clear()

    def _save_edit(self, message_id: int, text: str) -> None:
        """A user message's edit branches the chat and is answered; a reply's is kept as the
        better version of it."""
        try:
            edited = feedback.edit(self.home.journal, message_id, text)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.browsed.clear()
        self._show_path(None)
        if edited.role == "user":
            for view in self._messages():
                if view.message_id == edited.id:
                    view.remove()  # shown again with its answer, from the journal
            self._show_path(edited.id)
            self.pending.appendleft(Job(user_id=edited.id))
            self._next_turn()

    def _save_note(self, message_id: int, text: str) -> None:
        try:
            feedback.feedback(self.home.journal, message_id, note=text)
        except HearthError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify("Note kept with the reply.")

    def key_for(self, action_id: str) -> str:
        """The key an action has now (after `chat.keys`), spelled as `chat.keys` takes it."""
        return self.keys.get(action_id, "")

    def key_rows(self) -> list[tuple[str, str, str]]:
        return rows({i: self.key_for(i) for i in self.keys})

    def _apply_keys(self) -> None:
        """The person's keymap over the defaults; an id Hearth does not know is pointed out."""
        custom = self.home.settings.chat.keys
        declared = [
            *SessionsScreen.BINDINGS,
            *MemoryScreen.BINDINGS,
            *DreamsScreen.BINDINGS,
            *HelpScreen.BINDINGS,
            *MessageView.BINDINGS,
        ]
        ids = {b.id for b in declared if isinstance(b, Binding) and b.id}
        unknown = sorted(set(custom) - known_ids() - ids)
        if unknown:
            self.notify(
                f"chat.keys names no action: {', '.join(unknown)} (f1 lists the ids)",
                severity="warning",
                timeout=20,
                markup=False,
            )
        for action in ACTIONS:
            # Palette-only actions get a binding once the person gives them a key.
            if not action.key and custom.get(action.id) and action.scope == "chat":
                self.bind(custom[action.id], action.action, description=action.title, show=False)
        self.set_keymap({i: k for i, k in self.keys.items() if k})

    def _welcome(self) -> str:
        store = self.agent.store if self.agent is not None else None
        if self.agent is not None and not self._tip_asked:  # the first welcome the model sees
            self._tip_asked = True
            self._tip = tiny_model_tip(self.agent.model.path, self.home.paths.data_dir)
        return welcome_text(
            self.session_id,
            # Memory off from the start: nothing is recalled, so nothing is listed either.
            store.pinned() if store is not None else ([] if self.agent else None),
            store.count() if store is not None else (0 if self.agent else None),
            self.keys,
            self._tip,
        )

    def _refresh_welcome(self) -> None:
        for welcome in self.query(Welcome):
            welcome.update(self._welcome())

    def _drop_welcome(self) -> None:
        self._tip = None  # said once
        for welcome in self.query(Welcome):
            welcome.remove()

    def _refresh_status(self) -> None:
        parts = [self._model_label, self._ctx_label, self._speed_label]
        if not self.memory_on:
            parts.append(OFF_RECORD_MARK)
        parts.append(f"session {self.session_id}" if self.session_id is not None else "new session")
        if self.lent_to is not None:
            parts.append(f"memory lent to {_borrower(self.lent_to)}")
        self.query_one("#status", Static).update(" · ".join(p for p in parts if p))


def _borrower(borrower: Borrower) -> str:
    return borrower.command + (f" (pid {borrower.pid})" if borrower.pid else "")


def _memory_note(recalled: int, stored: int) -> str:
    parts = [f"recalled {recalled}" if recalled else "", f"remembered {stored}" if stored else ""]
    return " · ".join(p for p in parts if p)


def run_app(
    home: Home,
    session_id: int | None = None,
    new: bool = False,
    memory: bool = True,
    notices: Sequence[str] = (),
) -> int:
    """Run full-screen (llama.cpp's C-level stderr goes to the log file meanwhile); the exit
    code."""
    app = HearthApp(home, session_id=session_id, new=new, memory=memory, notices=notices)
    try:
        with stderr_to(home.paths.log_file, keep_terminal=True):
            app.run()
        # A reply stopped by the exit (ctrl+q, SIGTERM) is saved before the journal closes.
        app.turn_done.wait(timeout=120)
    finally:
        # Quitting leaves the session; a turn the quit stopped ends first (Agent.leave waits).
        app.leave_session()
    return app.return_code or 0
