"""The Textual chat app: paints at once, opens the conversation in the background, streams
replies. It talks only to a `Conversation` (agent/conversation.py): here, or over `hearth serve`."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer

from agent.conversation import Action, Conversation, Opened
from agent.local_conversation import AgentLoader, LocalConversation
from agent.runtime.native_log import stderr_to
from agent.startup import Home, load_agent
from agent.turn import Agent
from memory.errors import HearthError
from tui.chat.actions import MessageActions
from tui.chat.host import Job
from tui.chat.lending import LendingHost
from tui.chat.log import ChatLog
from tui.chat.status import OFF_RECORD_MARK, StatusLine
from tui.chat.turns import OFF_RECORD_NOTICE, TurnRunner
from tui.chat_lender import start_lending
from tui.commands import HearthCommands
from tui.keys import ACTIONS, bindings, known_ids, with_custom
from tui.screens.dreams import DreamsScreen
from tui.screens.help import HelpScreen, rows
from tui.screens.memory import MemoryScreen
from tui.screens.sessions import SessionsScreen
from tui.stop_signals import STOP_SIGNALS, exit_code, note_received
from tui.widgets.chat_input import ChatInput
from tui.widgets.memory_panel import MemoryPanel
from tui.widgets.messages import MessageView
from tui.widgets.welcome import Welcome, welcome_text

__all__ = ["OFF_RECORD_MARK", "OFF_RECORD_NOTICE", "HearthApp", "Job", "run_app"]

NEEDS: dict[str, Action] = {
    "regenerate": "regenerate",
    "edit": "edit",
    "version": "versions",
    "rate": "rate",
    "note": "note",
    "sessions": "sessions",
    "dreams": "dreams",
    "toggle_panel": "memory_panel",
    "memory_screen": "memory_screen",
    "toggle_memory": "off_record",
}
"""The conversation's action each chat action needs (greyed out with its reason without it)."""


class Opening(Message):
    """The conversation opened (error None), or could not."""

    def __init__(self, opened: Opened | None, error: str | None = None) -> None:
        super().__init__()
        self.opened = opened
        self.error = error


class HearthApp(TurnRunner, MessageActions, LendingHost, App[None]):
    """One chat session over one conversation: a data dir here (`home`) or a served Hearth."""

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
        home: Home | Conversation,
        session_id: int | None = None,
        new: bool = False,
        loader: AgentLoader = load_agent,
        memory: bool = True,
        notices: Sequence[str] = (),
    ) -> None:
        super().__init__()
        conversation = LocalConversation(home, loader) if isinstance(home, Home) else home
        self.conversation = conversation
        self.opened = False
        self.open_error: str | None = None
        self.notices = list(notices)
        self.session_id = session_id
        self.new = new
        """The chat began in a new session (--new): a server's latest is not gone on in."""
        if session_id is None and not new:
            self.session_id = conversation.latest_session()
        self.memory_on = memory
        self.pending: deque[Job] = deque()
        self.generating = False
        self.stop_event = threading.Event()
        self.turn_done = threading.Event()
        self.turn_done.set()
        self.warm = threading.Event()
        """Set once the model and the embedder are loaded (typing may stall while they load:
        importing torch holds the interpreter)."""
        self._stream = None
        self._reply_view = None
        self._reply_text = []
        self._pending_job = None
        self._early_stored = {}
        self._tip: str | None = None  # the welcome's line for a newcomer on the tiny model
        self.view_head = None
        self.browsed = set()
        self.input_mode = None
        self.lender = None
        self.lent_to = None
        self.lent_to_name = None
        self._store_readers = (MemoryScreen,)
        self.idle_since = time.monotonic()
        """When the last turn ended (or the app started): the idle spell idle sleep waits on."""
        self.idle_slept = False
        """This idle spell's consolidation was started (at most one a spell)."""
        chat = conversation.chat
        self.keys = {a.id: a.key for a in ACTIONS}
        self.keys["chat.newline"] = chat.newline_key
        self.keys = with_custom(self.keys, chat.keys)

    # -- a local chat's data dir (the lending handshake and the tests reach it) ---------

    @property
    def local(self) -> LocalConversation | None:
        found = self.conversation
        return found if isinstance(found, LocalConversation) else None

    @property
    def home(self) -> Home:
        if self.local is None:
            raise RuntimeError("a served chat has no data dir here")
        return self.local.home

    @property
    def agent(self) -> Agent | None:
        """The local agent once its opening reached the UI thread (as the chat sees it)."""
        return self.local.agent if self.local is not None and self.opened else None

    # -- the screen ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ChatLog()
        yield ChatInput(id="input")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self._apply_keys()
        newline = self.keys["chat.newline"]
        self.query_one(
            ChatInput
        ).placeholder = f"Say something… (enter sends, {newline} adds a line, f1 lists keys)"
        self._show_history()
        self.refresh_status()
        self.query_one(ChatInput).focus()
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=30, markup=False)
        if not self.memory_on:
            self.notify(OFF_RECORD_NOTICE, timeout=10, markup=False)
        self.load_model()
        if self.local is not None:
            self.lender = start_lending(self)
        idle_s = self.conversation.idle_sleep_s
        if idle_s > 0:
            # A few looks per idle spell: a spell is noticed within a quarter of its length.
            self.set_interval(min(60.0, max(0.05, idle_s / 4)), self.idle_tick)
        if threading.current_thread() is threading.main_thread():  # where signals arrive
            loop = asyncio.get_running_loop()
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, self._end_by_signal, sig)

    def on_unmount(self) -> None:
        if self.lender is not None:
            self.lender.close()  # before the stores close; a borrower keeps the data dir
        if self.conversation.ready:
            self.conversation.settle()  # what the last reply taught is written first
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
        self.conversation.interrupt()
        self.exit(return_code=exit_code(signum))

    # -- the model ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def load_model(self) -> None:
        try:
            self._load_model()
        finally:
            self.warm.set()

    def _load_model(self) -> None:
        try:
            opened = self.conversation.open()
        except HearthError as exc:
            self.post_message(Opening(None, str(exc)))
            return
        except Exception as exc:  # anything else must not leave "loading model…" forever
            self.log.error(f"model load failed: {exc!r}")
            self.post_message(Opening(None, f"the model failed to load: {exc}"))
            return
        self.post_message(Opening(opened))
        # Loading the embedder takes seconds: do it now, not after the first reply.
        self.conversation.warm_up()
        # Everything loaded so far (torch, the tokenizers, Textual) lives as long as the app:
        # frozen, the collector stops re-scanning it, whose full passes froze typing for up to
        # 0.7 s (`hearth bench keys`, docs/benchmarks.md).
        gc.freeze()

    def on_opening(self, event: Opening) -> None:
        status = self.status_line
        if event.opened is None:
            # A served chat has no model here: what failed is the server's answer.
            status.model = "model failed to load" if self.local is not None else "not connected"
            self.open_error = event.error or "the conversation could not open"
            self.refresh_status()
            self.notify(self.open_error, severity="error", timeout=30, markup=False)
            self.next_turn()  # what was typed meanwhile is refused, not kept waiting
            return
        self.opened = True
        status.model, status.where = event.opened.model, event.opened.where or ""
        for notice in event.opened.notices:
            self.notify(notice, severity="warning")
        local = self.local
        for notice in local.store_notices() if local is not None else []:
            self.notify(notice, severity="warning", timeout=30, markup=False)  # an index rebuilt
        latest = event.opened.session
        typed = self.pending or self.generating or self.log_view.views()
        if latest is not None and self.session_id is None and not self.new and not typed:
            # Known only now (a server's latest): shown unless messages were typed meanwhile.
            self.switch_session(latest)
        self.refresh_status()
        self.refresh_welcome()
        self.show_memory_for(self.log_view.last_reply_id())  # a panel opened while it loaded
        self.next_turn()

    # -- what may be done now -----------------------------------------------------------

    def unavailable_action(self, action: str) -> str | None:
        """Why the chat action (an `action_*` name) cannot be done with this conversation."""
        needed = NEEDS.get(action)
        return self.unavailable(needed) if needed is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Actions on messages need a model, no reply being written, and a message to act on;
        a greyed-out one is also left out of the palette. One the conversation lacks is shown
        greyed (None), and its key says why."""
        if action == "stop":  # in the footer only while there is something to stop
            return self.generating or self.input_mode is not None
        if self.unavailable_action(action) is not None:
            return None
        if action in ("regenerate", "edit", "version", "rate", "note"):
            return self.message_action_allowed(action)
        if action in ("copy_message", "copy_code"):
            return self.message_action_allowed(action)
        return True

    async def run_action(
        self,
        action: Any,
        default_namespace: Any = None,
        namespaces: Any = None,
    ) -> bool:
        target, name, _ = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        # The app, or a screen that greys out what its conversation lacks (the memory screen).
        unavailable = getattr(target, "unavailable_action", None)
        why = unavailable(name) if callable(unavailable) else None
        if isinstance(why, str):
            self.notify(why, severity="warning", markup=False)
            return True
        return await super().run_action(action, default_namespace, namespaces)

    # -- sessions and screens -----------------------------------------------------------

    def action_new_session(self) -> None:
        if self.generating:
            self.notify("Wait for the reply, or press Escape to stop it.")
            return
        if self.lent():
            return
        self.leave_session()
        self.session_id = None
        self.reset_view()
        chat = self.log_view
        chat.remove_children()
        chat.mount(Welcome(self._welcome()))
        self.status_line.ctx = self.status_line.speed = ""  # they described the session left
        self.refresh_status()
        self.show_memory_for(None)

    def action_sessions(self) -> None:
        if len(self.screen_stack) == 1:  # not over itself, nor over one of its dialogs
            self.push_screen(SessionsScreen(self, self.conversation))

    def action_dreams(self) -> None:
        if len(self.screen_stack) == 1 and not self.lent():  # not over another screen
            self.push_screen(DreamsScreen(self.conversation))

    def action_memory_screen(self) -> None:
        if len(self.screen_stack) > 1:  # not over itself, nor over another screen
            return
        if self.lent():
            return
        state = self.conversation.memory_state
        if state == "loading":
            self.notify("The memories open once the model has loaded.")
            return
        if state != "open":
            self.notify("Memory is off in this run: there are no memories to show.")
            return
        self.push_screen(
            MemoryScreen(self.conversation),
            lambda _: self.refresh_welcome(),  # the pinned memories it lists may have changed
        )

    def switch_session(self, session_id: int | None) -> bool:
        """Leave this session for another (None: a new one); refused while a reply is written."""
        if self.generating:
            self.notify("Wait for the reply, or press Escape to stop it.")
            return False
        if self.lent():
            return False
        self.leave_session()
        self.session_id = session_id
        self.reset_view()
        self.log_view.remove_children()
        self._show_history()
        self.status_line.ctx = self.status_line.speed = ""  # they described the session left
        self.refresh_status()
        self.show_memory_for(self.log_view.last_reply_id())
        return True

    async def action_toggle_panel(self) -> None:
        """The memory panel beside the chat: the last reply's memories, and keys to change them."""
        panel = next(iter(self.query(MemoryPanel)), None)
        if panel is not None and panel.display:
            panel.display = False
            self.query_one(ChatInput).focus()
            return
        if panel is None:
            panel = MemoryPanel(self.conversation)
            await self.mount(panel)
        panel.display = True
        target = self.log_view.target(self.focused, "assistant")
        self.show_memory_for(target.message_id if target is not None else None)
        panel.focus_list()

    def show_memory_for(self, reply_id: int | None) -> None:
        """Show this reply's memories in the memory panel, when it is open."""
        for panel in self.query(MemoryPanel):
            if panel.display:
                panel.show_reply(reply_id)

    async def action_quit(self) -> None:
        self.stop_event.set()
        self.conversation.interrupt()
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
        return self.conversation.leave(self.session_id)

    # -- keys, help, the editor ---------------------------------------------------------

    def key_for(self, action_id: str) -> str:
        """The key an action has now (after `chat.keys`), spelled as `chat.keys` takes it."""
        return self.keys.get(action_id, "")

    def key_rows(self) -> list[tuple[str, str, str]]:
        return rows({i: self.key_for(i) for i in self.keys})

    def _apply_keys(self) -> None:
        """The person's keymap over the defaults; an id Hearth does not know is pointed out."""
        custom = self.conversation.chat.keys
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

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        else:
            self.push_screen(HelpScreen(self.key_rows()))

    def action_open_editor(self) -> None:
        """Write the message in an editor; what it saves comes back into the input."""
        chat_input = self.query_one(ChatInput)
        fd, name = tempfile.mkstemp(
            prefix="message-", suffix=".md", dir=self.conversation.scratch_dir
        )
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(chat_input.text)
            command = [*self.conversation.chat.editor_command(), str(path)]
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

    # -- the history and the welcome ----------------------------------------------------

    def _show_history(self) -> None:
        chat = self.log_view
        try:
            shown = self.session_id is not None and self.show_path(None) > 0
        except HearthError as exc:  # a server gone away meanwhile: said, and the chat opens
            self.notify(str(exc), severity="error", timeout=30, markup=False)
            shown = False
        if not shown:
            chat.mount(Welcome(self._welcome()))
        chat.scroll_end(animate=False)
        chat_input = self.query_one(ChatInput)
        chat_input.sent = [v.text for v in chat.views() if v.role == "user"]

    def _welcome(self) -> str:
        found = self.conversation.welcome()
        if found.tip is not None:
            self._tip = found.tip  # the first welcome the model sees: said once
        return welcome_text(self.session_id, found.pinned, found.count, self.keys, self._tip)

    def refresh_welcome(self) -> None:
        for welcome in self.query(Welcome):
            welcome.update(self._welcome())

    def drop_welcome(self) -> None:
        self._tip = None  # said once
        for welcome in self.query(Welcome):
            welcome.remove()


def run_app(
    home: Home | Conversation,
    session_id: int | None = None,
    new: bool = False,
    memory: bool = True,
    notices: Sequence[str] = (),
) -> int:
    """Run full-screen (llama.cpp's C-level stderr goes to the log file meanwhile); the exit
    code."""
    app = HearthApp(home, session_id=session_id, new=new, memory=memory, notices=notices)
    local = app.local
    try:
        if local is not None:
            with stderr_to(local.home.paths.log_file, keep_terminal=True):
                app.run()
        else:
            app.run()
        # A reply stopped by the exit (ctrl+q, SIGTERM) is saved before the journal closes.
        app.turn_done.wait(timeout=120)
    finally:
        # Quitting leaves the session; a turn the quit stopped ends first (Agent.leave waits).
        app.leave_session()
    return app.return_code or 0
