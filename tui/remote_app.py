"""ADAPTER (issue 23), to go: `hearth --connect URL` (and a plain `hearth` beside a running
`hearth serve`) now opens the one chat, `tui.app.HearthApp`, over a served conversation
(`run_remote_app` below). `RemoteChatApp`, the second chat app this module held, is kept only
until tests/test_remote_tui.py moves to HearthApp over agent/serving's `ServedConversation`
(the `routes` work); then this module is deleted and tui/cli/main.py calls `run_app` itself.

The chat against a Hearth served elsewhere: the history, the input and streamed replies of the
local chat, every turn and read through the server's API. No data dir is opened and no model
loaded here; the server holds both."""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from agent.display import inert
from agent.serving.client import Client, Hangup
from agent.serving.schemas import TurnRequest
from memory.errors import HearthError
from memory.settings import ChatSettings
from tui.keys import ACTIONS, with_custom
from tui.widgets.chat_input import ChatInput
from tui.widgets.messages import MessageView
from tui.widgets.welcome import Welcome, welcome_text

OFF_RECORD_NOTICE = (
    "Off the record: nothing recalled or remembered, and the server deletes each turn once "
    "it is answered."
)
SETTLE_S = 10.0
"""How long a stopped reply is looked for in the server's journal (it ends at its next piece)."""
REMOTE_ACTIONS = ("chat.stop", "chat.new", "chat.memory", "chat.memory_screen")
"""The local chat's actions this chat has (the rest need the data dir itself)."""


class Loaded(Message):
    """The server's status and the session's history, read on a worker thread."""

    def __init__(self, status: dict[str, Any] | None, thread: dict[str, Any] | None) -> None:
        super().__init__()
        self.status = status
        self.thread = thread


class LoadFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ReplyPiece(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ReplyDone(Message):
    """A turn ended: its result (TurnResult as JSON), else stopped here, else an error."""

    def __init__(
        self, result: dict[str, Any] | None, error: str | None = None, stopped: bool = False
    ) -> None:
        super().__init__()
        self.result = result
        self.error = error
        self.stopped = stopped


class Began(Message):
    """The session the server put a turn in, known before its reply: a stopped first reply of
    a new session is then looked for there, and the next turn goes on there."""

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id


class Settled(Message):
    """A stopped reply as the server's journal keeps it."""

    def __init__(self, view: MessageView, session_id: int, reply: dict[str, Any]) -> None:
        super().__init__()
        self.view = view
        self.session_id = session_id
        self.reply = reply


class _Stopped(Exception):
    """Raised from a piece to close the reply's stream (the server then stops the reply)."""


class MemoriesScreen(ModalScreen[None]):
    """What the server's Hearth remembers, read-only (`hearth memory list --connect URL`)."""

    BINDINGS = [Binding("escape,ctrl+g", "dismiss", "Back", id="memories.back")]
    DEFAULT_CSS = """
    MemoriesScreen { align: center middle; }
    #memories { width: 90%; height: 80%; border: round $primary; padding: 0 1;
                background: $surface; }
    """

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="memories") as scroll:
            scroll.border_title = "Memories (read-only; escape goes back)"
            yield Static("Reading the memories…", id="memories-list", markup=False)

    def on_mount(self) -> None:
        self.read()

    @work(thread=True, exit_on_error=False)
    def read(self) -> None:
        try:
            found = self.client.memories(None, all=False, limit=None)
        except HearthError as exc:
            text = f"hearth: {exc}"
        else:
            lines = [
                f"{m.get('id')} · {m.get('kind')}: {inert(str(m.get('text')), line_breaks=False)}"
                for m in found
            ]
            text = "\n".join(lines) if lines else "Nothing remembered yet."
        self.app.call_from_thread(self.query_one("#memories-list", Static).update, text)


class RemoteChatApp(App[None]):
    """One chat with a Hearth served at `client.remote.url`."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "Hearth"
    BINDINGS = [
        *(
            Binding(a.key, a.action, a.short or a.title, show=a.show, id=a.id)
            for a in ACTIONS
            if a.id in REMOTE_ACTIONS
        ),
        Binding("ctrl+c", "stop", "Stop reply", priority=True, show=False, id="chat.stop_alt"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
    ]

    def __init__(
        self,
        client: Client,
        session_id: int | None = None,
        new: bool = False,
        memory: bool = True,
        chat: ChatSettings | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.chat = chat or ChatSettings()
        self.session_id = session_id
        self.new = new
        """The next turn starts a new session (--new, ctrl+n)."""
        self.memory_on = memory
        self.loaded = False
        self.pending: deque[tuple[str, bool]] = deque()
        """Messages on screen, not yet sent: (text, memory on when typed)."""
        self.generating = False
        self.stop_event = threading.Event()
        self.turn_done = threading.Event()
        self.turn_done.set()
        self._stream: MarkdownStream | None = None
        self._reply_view: MessageView | None = None
        self._request: TurnRequest | None = None
        self._hangup = Hangup()
        self._model_label = "connecting…"
        self._memories: int | None = None
        self._speed_label = ""
        self.keys = {a.id: a.key for a in ACTIONS if a.id in REMOTE_ACTIONS}
        self.keys["chat.newline"] = self.chat.newline_key
        self.keys = with_custom(self.keys, self.chat.keys)

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="chat")
        yield ChatInput(id="input")
        yield Static(id="status", markup=False)  # names from the server are never markup
        yield Footer()

    def on_mount(self) -> None:
        self.set_keymap({i: k for i, k in self.keys.items() if k})
        self.query_one(ChatInput).placeholder = (
            f"Say something to {self.client.remote.url}… "
            f"(enter sends, {self.keys['chat.newline']} adds a line)"
        )
        self._refresh_status()
        self.query_one(ChatInput).focus()
        if not self.memory_on:
            self.notify(OFF_RECORD_NOTICE, timeout=10, markup=False)
        self.load()

    # -- the server's state -------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        try:
            status = self.client.status()
            thread = None if self.new else self.client.thread(self.session_id)
        except HearthError as exc:
            self.post_message(LoadFailed(str(exc)))
        except Exception as exc:
            self.post_message(LoadFailed(f"reading the server failed: {exc!r}"))
        else:
            self.post_message(Loaded(status, thread))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if event.status is not None:
            self._model_label = str(event.status.get("model", ""))
            self._memories = int(event.status.get("memories", 0))
        chat = self.query_one("#chat", VerticalScroll)
        shown: list[MessageView] = []
        if event.thread is not None:
            self.session_id = event.thread.get("session_id")
            for m in event.thread.get("messages", []):
                speaker = "hearth" if m["role"] == "assistant" else self.chat.user_name
                shown.append(
                    MessageView(m["role"], m["text"], speaker, m["status"], message_id=m["id"])
                )
        typed = list(chat.children)  # messages typed while the history was read come after
        if shown:
            chat.mount_all(shown, before=typed[0] if typed else None)
        elif not typed:
            chat.mount(Welcome(self._welcome()))
        chat.scroll_end(animate=False)
        self.query_one(ChatInput).sent = [v.text for v in shown if v.role == "user"]
        self.loaded = True
        self._refresh_status()
        self._next_turn()

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        self._model_label = "not connected"
        self._refresh_status()
        self.notify(event.error, severity="error", timeout=30, markup=False)
        # Messages typed meanwhile are still sent (to the session asked for, else the latest,
        # as `hearth say` goes on): each says for itself if the server is still away.
        self.loaded = True
        self._next_turn()

    # -- turns ----------------------------------------------------------------------------

    @on(ChatInput.Submitted)
    def _submitted(self, event: ChatInput.Submitted) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        for welcome in self.query(Welcome):
            welcome.remove()
        chat.mount(MessageView("user", event.text, self.chat.user_name))
        chat.scroll_end(animate=False)
        self.query_one(ChatInput).remember(event.text)
        self.pending.append((event.text, self.memory_on))
        self._next_turn()

    def _next_turn(self) -> None:
        if self.generating or not self.loaded or not self.pending:
            return
        text, memory = self.pending.popleft()
        request = TurnRequest(
            text=text,
            session=None if self.new else self.session_id,
            new=self.new,
            memory=memory,
        )
        self.generating = True
        self.refresh_bindings()
        self.stop_event.clear()
        self.turn_done.clear()
        chat = self.query_one("#chat", VerticalScroll)
        self._reply_view = MessageView("assistant", "", "hearth", "incomplete")
        chat.mount(self._reply_view)
        chat.scroll_end(animate=False)
        self._stream = Markdown.get_stream(self._reply_view)
        self._speed_label = "thinking…"
        self._refresh_status()
        self._request = request
        self._hangup = Hangup()
        self.run_turn(request, self._hangup)

    @work(thread=True, group="turn", exit_on_error=False)
    def run_turn(self, request: TurnRequest, hangup: Hangup) -> None:
        try:
            result = self.client.turn(request, self._post_piece, hangup, self._post_session)
        except _Stopped:
            self.post_message(ReplyDone(None, stopped=True))
        except HearthError as exc:
            if hangup.called:  # the connection shut by escape, ctrl+c or quitting
                self.post_message(ReplyDone(None, stopped=True))
                return
            self.post_message(ReplyDone(None, str(exc)))
        except Exception as exc:
            self.log.error(f"turn failed: {exc!r}")
            self.post_message(ReplyDone(None, f"the reply failed: {exc!r}"))
        else:
            self.post_message(ReplyDone(result))
        finally:
            self.turn_done.set()

    def _post_session(self, session_id: int) -> None:
        self.post_message(Began(session_id))

    def _post_piece(self, piece: str) -> None:
        # On the worker thread: leaving the stream closes it, and the server stops the reply
        # (keeping what was written as interrupted, this piece included).
        self.post_message(ReplyPiece(piece))
        if self.stop_event.is_set():
            raise _Stopped

    @on(ReplyPiece)
    async def _piece(self, event: ReplyPiece) -> None:
        if self._stream is not None:
            await self._stream.write(event.text)
        self.query_one("#chat", VerticalScroll).scroll_end(animate=False)

    @on(Began)
    def _began(self, event: Began) -> None:
        request = self._request
        if request is not None and request.memory:
            # Off the record the server makes (and deletes) a session of its own: not this one.
            self.session_id, self.new = event.session_id, False
            self._refresh_status()

    @on(ReplyDone)
    async def _done(self, event: ReplyDone) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        view = self._reply_view
        result = event.result
        if result is not None:
            if view is not None:
                # One full update after streaming: streamed code blocks can render blank.
                await view.update(str(result.get("reply", "")))
                view.set_status(result.get("status", "complete"))
                view.message_id = result.get("turn_id")
            if result.get("memory", True):
                # Off the record the server made (and deleted) a session of its own.
                self.session_id = result.get("session_id", self.session_id)
                self.new = False
            speed = result.get("tokens_per_s")
            self._speed_label = f"{speed:.1f} tok/s" if speed else ""
        else:
            if view is not None:
                view.set_status("interrupted" if event.stopped else "error")
            self._speed_label = ""
            request = self._request
            if event.stopped and view is not None and request is not None and request.memory:
                # What the server kept (it may have written a piece more than came here), and
                # the session a stopped new one went in, for the next turn.
                self.settle_stopped(view, request, self.session_id)
                self.new = False  # a new session was made; the next turn goes on in it
            if event.error:
                self.notify(event.error, severity="error", timeout=15, markup=False)
        self._reply_view = None
        self.generating = False
        self.refresh_bindings()
        self._refresh_status()
        self.query_one("#chat", VerticalScroll).scroll_end(animate=False)
        self._next_turn()

    @work(thread=True, group="settle", exit_on_error=False)
    def settle_stopped(
        self, view: MessageView, request: TurnRequest, session_id: int | None
    ) -> None:
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            try:
                thread = self.client.thread(session_id)
            except HearthError:
                return
            said = thread.get("messages", [])
            for i in range(len(said) - 2, -1, -1):
                asked, reply = said[i], said[i + 1]
                if asked["role"] == "user" and asked["text"] == request.text:
                    if reply["role"] == "assistant" and reply["status"] != "incomplete":
                        self.post_message(Settled(view, thread["session_id"], reply))
                        return
                    break
            time.sleep(0.1)

    @on(Settled)
    async def _settled(self, event: Settled) -> None:
        view, session_id, reply = event.view, event.session_id, event.reply
        if view.is_attached and view.message_id is None:
            view.message_id = reply["id"]
            view.set_status(reply["status"])
            if reply["text"] != view.text:
                await view.update(reply["text"])
        if self.session_id is None and not self.new and not self.generating:
            self.session_id = session_id
            self._refresh_status()

    # -- actions --------------------------------------------------------------------------

    def action_stop(self) -> None:
        """Stop the reply; the words so far stay (the server keeps them as interrupted)."""
        if self.generating:
            self.stop_event.set()
            self._hangup()  # the server stops the reply now, not at its next piece

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":  # in the footer only while there is something to stop
            return self.generating
        return True

    def action_new_session(self) -> None:
        if self.generating:
            self.notify("Wait for the reply, or press Escape to stop it.")
            return
        self.session_id = None
        self.new = True
        chat = self.query_one("#chat", VerticalScroll)
        chat.remove_children()
        chat.mount(Welcome(self._welcome()))
        self._speed_label = ""
        self._refresh_status()

    def action_toggle_memory(self) -> None:
        self.memory_on = not self.memory_on
        self.notify("Memory on." if self.memory_on else OFF_RECORD_NOTICE, markup=False)
        self._refresh_status()

    def action_memory_screen(self) -> None:
        if not isinstance(self.screen, MemoriesScreen):
            self.push_screen(MemoriesScreen(self.client))

    async def action_quit(self) -> None:
        self.stop_event.set()
        self._hangup()  # a reply being written is kept there as interrupted
        self.exit()

    # -- what the screen says --------------------------------------------------------------

    def _welcome(self) -> str:
        session = None if self.new else self.session_id
        return welcome_text(session, [], self._memories, self.keys)

    def _refresh_status(self) -> None:
        parts = [self.client.remote.url, self._model_label, self._speed_label]
        if self._memories is not None and self.memory_on:
            parts.append(f"{self._memories} memories")
        if not self.memory_on:
            parts.append("off the record")
        parts.append(
            f"session {self.session_id}"
            if self.session_id is not None and not self.new
            else "new session"
        )
        self.query_one("#status", Static).update(" · ".join(p for p in parts if p))


def run_remote_app(
    client: Client,
    session_id: int | None = None,
    new: bool = False,
    memory: bool = True,
    chat: ChatSettings | None = None,
) -> int:
    """Run the one chat full-screen against the server; the exit code. (ADAPTER: tui/cli/main.py
    calls this; with `ServedConversation` it calls `run_app` over that instead.)"""
    from agent.interim_served import InterimServedConversation
    from tui.app import run_app

    served = InterimServedConversation(client, chat)
    return run_app(served, session_id=session_id, new=new, memory=memory)
