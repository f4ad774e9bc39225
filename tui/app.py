"""The Textual chat app: paints at once, loads the model in the background, streams replies."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from agent.runtime.native_log import stderr_to
from agent.startup import Home, load_agent
from agent.turn import Agent, TurnResult
from memory.controls import inert
from memory.errors import HearthError
from tui.stop_signals import STOP_SIGNALS, exit_code, note_received
from tui.widgets.chat_input import ChatInput
from tui.widgets.memory_panel import MemoryPanel
from tui.widgets.messages import MessageView
from tui.widgets.welcome import Welcome, welcome_text

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


class ReplyDone(Message):
    def __init__(self, result: TurnResult | None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class HearthApp(App[None]):
    """One chat session on one model."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Hearth"
    BINDINGS = [
        Binding("escape", "stop", "Stop reply", id="chat.stop"),
        Binding("ctrl+c", "stop", "Stop reply", priority=True, show=False, id="chat.stop_alt"),
        Binding("ctrl+n", "new_session", "New session", id="chat.new"),
        Binding("ctrl+t", "toggle_memory", "Memory on/off", id="chat.memory"),
        Binding("ctrl+b", "toggle_panel", "Memory panel", id="chat.memory_panel"),
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
        self.pending: deque[tuple[str, bool]] = deque()
        self.generating = False
        self.stop_event = threading.Event()
        self.turn_done = threading.Event()
        """Set while no turn runs: the journal must outlive the turn writing to it."""
        self.turn_done.set()
        self._stream: MarkdownStream | None = None
        self._reply_view: MessageView | None = None
        self._reply_text: list[str] = []
        self._model_label = "loading model…"
        self._ctx_label = ""
        self._speed_label = ""

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="chat")
        yield ChatInput(id="input")
        yield Static(id="status", markup=False)  # the model's name comes from its file
        yield Footer()

    def on_mount(self) -> None:
        newline = self.home.settings.chat.newline_key
        self.set_keymap({"chat.newline": newline})
        self.query_one(
            ChatInput
        ).placeholder = f"Say something… (enter sends, {newline} adds a line)"
        self._show_history()
        self._refresh_status()
        self.query_one(ChatInput).focus()
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=30, markup=False)
        if not self.memory_on:
            self.notify(OFF_RECORD_NOTICE, timeout=10, markup=False)
        self.load_model()
        if threading.current_thread() is threading.main_thread():  # where signals arrive
            loop = asyncio.get_running_loop()
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, self._end_by_signal, sig)

    def on_unmount(self) -> None:
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
        self._next_turn()

    @on(ModelFailed)
    def _model_failed(self, event: ModelFailed) -> None:
        self._model_label = "model failed to load"
        self._refresh_status()
        self.notify(event.error, severity="error", timeout=30, markup=False)

    # -- turns --------------------------------------------------------------------------

    @on(ChatInput.Submitted)
    def _submitted(self, event: ChatInput.Submitted) -> None:
        # Shown at once; sent when the model is ready and earlier messages are answered.
        chat = self.query_one("#chat", VerticalScroll)
        self._drop_welcome()
        chat.mount(MessageView("user", event.text, self.home.settings.chat.user_name))
        chat.scroll_end(animate=False)
        # The memory switch as it was when the message was typed, not when it is sent.
        self.pending.append((event.text, self.memory_on))
        self._next_turn()

    def _next_turn(self) -> None:
        if self.generating or self.agent is None or not self.pending:
            return
        text, use_memory = self.pending.popleft()
        if self.session_id is None:
            try:
                self.session_id = self.agent.session(new=True).id
            except HearthError as exc:
                self.notify(str(exc), severity="error", timeout=30, markup=False)
                return
        self.generating = True
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
        self.run_turn(self.session_id, text, use_memory)

    @work(thread=True, group="turn", exit_on_error=False)
    def run_turn(self, session_id: int, text: str, use_memory: bool) -> None:
        assert self.agent is not None
        try:
            self._turn(session_id, text, use_memory)
        finally:
            self.turn_done.set()

    def _turn(self, session_id: int, text: str, use_memory: bool) -> None:
        assert self.agent is not None
        try:
            result = self.agent.run_turn(
                session_id,
                text,
                on_piece=self._post_piece,
                stop=self.stop_event,
                use_memory=use_memory,
            )
        except HearthError as exc:
            self.post_message(ReplyDone(None, str(exc)))
        except Exception as exc:
            self.log.error(f"turn failed: {exc!r}")
            self.post_message(ReplyDone(None, f"the reply failed: {exc}"))
        else:
            self.post_message(ReplyDone(result))

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
        if event.result is not None and view is not None:
            # One full update after streaming: streamed code blocks can otherwise render blank.
            await view.update(event.result.reply)
            view.set_status(event.result.status)
            r = event.result
            self._ctx_label = f"ctx {r.prompt_tokens + r.completion_tokens}/{r.context_budget}"
            self._speed_label = f"{r.tokens_per_s:.1f} tok/s" if r.tokens_per_s else ""
            self._show_memory_use(view, r)
            view.message_id = r.turn_id
            self.show_memory_for(r.turn_id)
        elif view is not None:
            view.set_status("error")
            self._speed_label = ""
            self.notify(
                event.error or "the reply failed", severity="error", timeout=15, markup=False
            )
        self.generating = False
        self._refresh_status()
        self.query_one("#chat", VerticalScroll).scroll_end(animate=False)
        self._next_turn()

    def _show_memory_use(self, view: MessageView, result: TurnResult) -> None:
        """Which memories the reply saw and which it left behind; orders are pointed out."""
        if not result.memory:
            view.border_subtitle = "memory off"
            return
        if result.recalled or result.stored:
            view.border_subtitle = (
                f"recalled {len(result.recalled)} · remembered {len(result.stored)}"
            )
        store = self.agent.store if self.agent is not None else None
        if store is None:
            return
        for memory in map(store.get, result.stored):
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
        typed meanwhile are already on screen: they are still answered, in order."""
        if self.generating:
            self.stop_event.set()

    def action_toggle_memory(self) -> None:
        """Off the record: while memory is off, nothing is recalled or remembered, and what is
        said is deleted when the person leaves the session."""
        self.memory_on = not self.memory_on
        self.notify("Memory on." if self.memory_on else OFF_RECORD_NOTICE, markup=False)
        self._refresh_status()

    def action_new_session(self) -> None:
        if self.generating:
            self.notify("Wait for the reply, or press Escape to stop it.")
            return
        self.leave_session()
        self.session_id = None
        chat = self.query_one("#chat", VerticalScroll)
        chat.remove_children()
        chat.mount(Welcome(self._welcome()))
        self._ctx_label = self._speed_label = ""  # they described the session left
        self._refresh_status()

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
        replies = [v.message_id for v in self.query(MessageView) if v.role == "assistant"]
        self.show_memory_for(next((i for i in reversed(replies) if i is not None), None))
        panel.focus_list()

    def show_memory_for(self, reply_id: int | None) -> None:
        """Show this reply's memories in the memory panel, when it is open."""
        for panel in self.query(MemoryPanel):
            if panel.display:
                panel.show_reply(reply_id)

    async def action_quit(self) -> None:
        self.stop_event.set()
        # Off the UI thread: leaving waits for a reply that is still winding down.
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

    # -- display ------------------------------------------------------------------------

    def _show_history(self) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        thread = self.home.journal.thread(self.session_id) if self.session_id is not None else []
        if not thread:
            chat.mount(Welcome(self._welcome()))
        for m in thread:
            speaker = m.speaker or ("hearth" if m.role == "assistant" else m.role)
            chat.mount(MessageView(m.role, m.text, speaker, m.status, message_id=m.id))
        chat.scroll_end(animate=False)

    def _welcome(self) -> str:
        store = self.agent.store if self.agent is not None else None
        return welcome_text(
            self.session_id,
            # Memory off from the start: nothing is recalled, so nothing is listed either.
            store.pinned() if store is not None else ([] if self.agent else None),
            store.count() if store is not None else (0 if self.agent else None),
            self.home.settings.chat.newline_key,
        )

    def _refresh_welcome(self) -> None:
        for welcome in self.query(Welcome):
            welcome.update(self._welcome())

    def _drop_welcome(self) -> None:
        for welcome in self.query(Welcome):
            welcome.remove()

    def _refresh_status(self) -> None:
        parts = [self._model_label, self._ctx_label, self._speed_label]
        if not self.memory_on:
            parts.append(OFF_RECORD_MARK)
        parts.append(f"session {self.session_id}" if self.session_id is not None else "new session")
        self.query_one("#status", Static).update(" · ".join(p for p in parts if p))


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
