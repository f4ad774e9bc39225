"""The chat over the `Conversation` protocol (agent/conversation.py): what a backend lacks is
greyed out with its reason, never missing in silence; the actions run through the local one;
and the chat over `hearth serve` (agent/serving/conversation.py) streams and journals there.
The scripted backend gives the replies (the words do not matter here); the journal, the memory,
the server and the app are real."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from agent.conversation import ACTIONS, Action, Conversation
from agent.local_conversation import LocalConversation
from agent.serving.client import Client, Remote
from agent.serving.conversation import ServedConversation
from agent.startup import Home
from memory.graph.embedder import SentenceEmbedder
from tests.scripted_backend import scripted_loader
from tests.served import Served
from tui.app import HearthApp
from tui.screens.memory import MemoryScreen
from tui.screens.sessions import SessionsScreen
from tui.widgets.messages import MessageView

WHY = "not in this test's backend: it has no such route"


class Lacking(LocalConversation):
    """The local conversation with some actions taken away, as a server without routes is."""

    lacking: tuple[Action, ...] = ("regenerate", "sessions", "memory_change")

    def unsupported(self, action: Action) -> str | None:
        return WHY if action in self.lacking else None


async def _until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for the app: {check.__code__}"
        await pilot.pause(0.05)


def _views(app: HearthApp, role: str) -> list[MessageView]:
    return [v for v in app.query(MessageView) if v.role == role]


def _status(app: HearthApp) -> str:
    return str(app.query_one("#status", Static).render())


def _notes(app: HearthApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _answered(pilot: Pilot[None], app: HearthApp, text: str) -> MessageView:
    replies = len(_views(app, "assistant"))
    await pilot.press(*text, "enter")
    await _until(pilot, lambda: len(_views(app, "assistant")) > replies and not app.generating)
    return _views(app, "assistant")[-1]


async def test_an_unsupported_action_is_greyed_with_its_reason(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    app = HearthApp(Lacking(make_home(), scripted_loader(embedder)))
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.conversation.ready)
        reply = await _answered(pilot, app, "Hello there")
        assert reply.message_id is not None

        # Greyed (None, not hidden) while the supported ones stay on.
        assert app.check_action("regenerate", ()) is None
        assert app.check_action("sessions", ()) is None
        assert app.check_action("rate", (1,)) is True
        assert app.unavailable_action("regenerate") == WHY

        # Its key says why, and does nothing else.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SessionsScreen)
        assert WHY in _notes(app)
        before = len(_views(app, "assistant"))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not app.generating and len(_views(app, "assistant")) == before

        # A supported one still runs: the thumbs up is journaled.
        app.action_rate(1)
        assert reply.rating == 1
        assert app.home.journal.feedbacks()[reply.message_id].rating == 1

        # A screen greys its own: the memory screen lists, but does not change, the memory.
        await pilot.press("ctrl+g")
        await _until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        screen = app.screen
        assert isinstance(screen, MemoryScreen)
        assert screen.check_action("add", ()) is None
        assert screen.check_action("search", ()) is True
        notes = len(app._notifications)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, MemoryScreen)  # no dialog opened
        assert len(app._notifications) > notes and _notes(app)[-1] == WHY


async def test_the_palette_offers_an_unsupported_action_with_its_reason(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    from tui.commands import HearthCommands

    app = HearthApp(Lacking(make_home(), scripted_loader(embedder)))
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.conversation.ready)
        provider = HearthCommands(app.screen)
        offered = {action.id: hint for _, action, hint in provider._available()}
        assert offered["chat.sessions"] == f"unavailable: {WHY}"
        assert "unavailable" not in offered["chat.new"]


def test_the_local_conversation_supports_every_action(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    local = LocalConversation(make_home(), scripted_loader(embedder))
    assert isinstance(local, Conversation)
    assert [a for a in ACTIONS if local.unsupported(a) is not None] == []


@pytest.fixture
def client(shared_server: Served) -> Iterator[Client]:
    with Client(Remote(url=shared_server.url, token=shared_server.token)) as found:
        yield found


async def test_the_chat_over_a_served_hearth_streams_journals_and_offers_every_action(
    shared_server: Served, client: Client
) -> None:
    app = HearthApp(ServedConversation(client), new=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: shared_server.url in _status(app))
        assert "new session" in _status(app)

        reply = await _answered(pilot, app, "Hello from the laptop")
        assert reply.text.strip() and reply.message_id is not None
        session = app.session_id
        assert session is not None
        said = client.thread(session)["messages"]
        assert [(m["role"], m["text"]) for m in said] == [
            ("user", "Hello from the laptop"),
            ("assistant", reply.text),
        ]
        await _answered(pilot, app, "And again")
        assert app.session_id == session and len(client.thread(session)["messages"]) == 4

        # Every action but idle sleep (the server's own) runs here; that one is greyed with why.
        assert app.check_action("regenerate", ()) is True
        assert app.check_action("sessions", ()) is True
        assert app.unavailable_action("regenerate") is None
        why = app.conversation.unsupported("idle_sleep")
        assert why is not None and "server" in why
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: isinstance(app.screen, SessionsScreen))


class _StopsAtOnce(HearthApp):
    """Escape pressed as the reply starts (a tiny model's reply can end within one poll)."""

    def next_turn(self) -> None:
        super().next_turn()
        if self.generating:
            self.action_stop()


async def test_escape_stops_a_served_reply_and_the_server_keeps_it(client: Client) -> None:
    app = _StopsAtOnce(ServedConversation(client), new=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.conversation.ready)
        await pilot.press(*"Tell me a long story", "enter")
        await _until(pilot, lambda: bool(_views(app, "assistant")) and not app.generating)
        reply = _views(app, "assistant")[-1]
        assert "(stopped)" in str(reply.border_title)
        assert app.session_id is not None and reply.message_id is not None
        last = client.thread(app.session_id)["messages"][-1]
        kept = {k: last[k] for k in ("id", "role", "text", "status")}
        assert kept == {
            "id": reply.message_id,
            "role": "assistant",
            "text": reply.text,
            "status": "interrupted",
        }
