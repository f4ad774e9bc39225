"""The one chat over a real `hearth serve` (the worker's, short replies): regenerate, versions,
edit, rate, sessions, dreams and the memory panel, driven with Pilot as the local chat's tests
drive them (tests/test_tui_actions.py, test_sessions_screen.py, test_dream.py,
test_memory_panel.py), each checked in what the server keeps (its API, its journal)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList

from agent.serving.client import Client, Remote
from agent.serving.conversation import ServedConversation
from agent.serving.schemas import TurnRequest
from memory.journal.journal import Journal
from memory.journal.schemas import DreamMeta, MessageMeta
from tests.served import Served
from tui.app import HearthApp
from tui.screens.dreams import DreamsScreen
from tui.screens.sessions import RenameSession, SessionsScreen
from tui.widgets.chat_input import ChatInput
from tui.widgets.dialogs import TextDialog
from tui.widgets.memory_dialogs import EditMemory
from tui.widgets.memory_panel import MemoryPanel
from tui.widgets.messages import LEFT, RIGHT, MessageView

SIZE = (120, 36)


@pytest.fixture
def client(shared_server: Served) -> Iterator[Client]:
    with Client(Remote(url=shared_server.url, token=shared_server.token)) as found:
        yield found


def _words() -> str:
    """Words no other test on the shared server says, to find this test's sessions by."""
    return f"zq{uuid.uuid4().hex[:8]}"


async def _until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for the app: {check.__code__}"
        await pilot.pause(0.05)


def _views(app: HearthApp, role: str | None = None) -> list[MessageView]:
    return [v for v in app.query(MessageView) if role is None or v.role == role]


def _marker(view: MessageView) -> str:
    return str(view.border_subtitle)


async def _idle(pilot: Pilot[None], app: HearthApp) -> None:
    await _until(pilot, lambda: app.opened and not app.generating and not app.pending)
    await pilot.pause()


async def _say(pilot: Pilot[None], app: HearthApp, text: str) -> MessageView:
    replies = len(_views(app, "assistant"))
    app.query_one(ChatInput).focus()
    app.query_one(ChatInput).insert(text)
    await pilot.press("enter")
    await _until(pilot, lambda: len(_views(app, "assistant")) > replies and not app.generating)
    await _idle(pilot, app)
    return _views(app, "assistant")[-1]


async def test_regenerate_and_versions_as_locally(client: Client, shared_server: Served) -> None:
    app = HearthApp(ServedConversation(client), new=True)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        first = (await _say(pilot, app, "Tell me a word.")).message_id
        await pilot.press("ctrl+r")
        await _until(pilot, lambda: _views(app, "assistant")[0].message_id != first)
        await _idle(pilot, app)
        replies = _views(app, "assistant")
        assert len(replies) == 1  # the new version replaces the old one on screen
        second = replies[0].message_id
        assert second is not None and first is not None
        assert f"{LEFT} 2/2 {RIGHT}" in _marker(replies[0])
        user_id = client.message(first).parent_id
        assert user_id is not None
        assert client.message(second).parent_id == user_id  # a version on the server
        assert client.message(first).versions == [first, second]

        await pilot.press("alt+left")
        await pilot.pause()
        assert _views(app, "assistant")[0].message_id == first
        assert f"{LEFT} 1/2 {RIGHT}" in _marker(_views(app, "assistant")[0])
        choices = "SELECT message_id FROM choices WHERE parent_id=?"
        assert shared_server.rows(choices, user_id) == []  # browsing records nothing
        await _say(pilot, app, "Thanks.")
        session = app.session_id
    assert session is not None
    assert [r["message_id"] for r in shared_server.rows(choices, user_id)] == [first]
    path = [m["id"] for m in client.thread(session)["messages"]]
    assert path[:2] == [user_id, first]  # went on from version 1


async def test_an_edit_branches_on_the_server_and_the_old_branch_stays(client: Client) -> None:
    app = HearthApp(ServedConversation(client), new=True)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        await _say(pilot, app, "I live in Lisbon.")
        await _say(pilot, app, "What is the weather like?")
        old_second = _views(app, "user")[-1].message_id
        assert old_second is not None
        await pilot.press("f2")  # edits my last message
        chat_input = app.query_one(ChatInput)
        assert chat_input.text == "What is the weather like?" and app.input_mode is not None
        chat_input.clear()
        chat_input.insert("What should I cook tonight?")
        await pilot.press("enter")
        await _until(pilot, lambda: _views(app, "user")[-1].message_id != old_second)
        await _idle(pilot, app)
        users = _views(app, "user")
        assert [u.text for u in users] == ["I live in Lisbon.", "What should I cook tonight?"]
        assert f"{LEFT} 2/2 {RIGHT}" in _marker(users[-1])
        edited = users[-1].message_id
        assert edited is not None and _views(app, "assistant")[-1].message_id is not None
        # On the server: the edit is a version of the message, answered; the original stays.
        shown = client.message(edited)
        assert shown.text == "What should I cook tonight?" and shown.edit_of == old_second
        assert client.message(old_second).text == "What is the weather like?"
        assert client.message(old_second).versions == [old_second, edited]
        session = app.session_id
        assert session is not None
        assert [m["text"] for m in client.thread(session)["messages"] if m["role"] == "user"] == [
            "I live in Lisbon.",
            "What should I cook tonight?",
        ]

        # The branch before the edit is one key away, with its reply.
        users[-1].focus()
        await pilot.press("left")
        await pilot.pause()
        assert [u.message_id for u in _views(app, "user")][-1] == old_second
        assert len(_views(app, "assistant")) == 2


async def test_rating_and_noting_a_reply_are_kept_by_the_server(client: Client) -> None:
    app = HearthApp(ServedConversation(client), new=True)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        reply = await _say(pilot, app, "Say hello.")
        await pilot.press("alt+up")  # selects the last message: the reply
        assert app.focused is reply
        await pilot.press("plus")
        assert "liked" in _marker(reply)
        await pilot.press("n")
        app.query_one(ChatInput).insert("warm and short")
        await pilot.press("enter")
        await pilot.pause()
        assert reply.message_id is not None
        saved = client.message(reply.message_id)
        assert saved.rating == 1 and saved.note == "warm and short"


def _session(client: Client, text: str) -> int:
    said = client.turn(TurnRequest(text=text, new=True), None)
    return int(said["session_id"])


async def _sessions_screen(pilot: Pilot[None]) -> SessionsScreen:
    await pilot.press("ctrl+s")
    await _until(pilot, lambda: isinstance(pilot.app.screen, SessionsScreen))
    screen = pilot.app.screen
    assert isinstance(screen, SessionsScreen)
    return screen


def _titles(screen: SessionsScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def test_the_sessions_screen_lists_renames_and_switches_on_the_server(
    client: Client,
) -> None:
    words = _words()
    older = _session(client, f"Planning the garden {words}")
    newer = _session(client, f"Newer chat {words}")
    app = HearthApp(ServedConversation(client), session_id=newer)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        screen = await _sessions_screen(pilot)
        await pilot.press("slash", *words)  # this test's sessions among the server's
        await _until(pilot, lambda: len(_titles(screen)) == 2)
        assert _titles(screen) == [f"Newer chat {words}", f"Planning the garden {words}"]

        table = screen.query_one(DataTable)
        table.focus()
        table.move_cursor(row=1)
        await pilot.pause()
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RenameSession))
        app.screen.query_one(Input).value = ""
        await pilot.press(*f"Garden notes {words}", "enter")
        await _until(pilot, lambda: app.screen is screen)
        found = {s.id: s.display_title for s in client.sessions(words)}
        assert found == {older: f"Garden notes {words}", newer: f"Newer chat {words}"}
        await _until(pilot, lambda: f"Garden notes {words}" in _titles(screen))

        # Enter: the chat goes on in the other session, there.
        table.move_cursor(row=_titles(screen).index(f"Garden notes {words}"))
        await pilot.pause()
        await pilot.press("enter")
        await _until(pilot, lambda: not isinstance(app.screen, SessionsScreen))
        assert app.session_id == older
        assert [v.text for v in _views(app, "user")] == [f"Planning the garden {words}"]
        await _say(pilot, app, "Back to the garden.")
        assert app.session_id == older
    user_texts = [m["text"] for m in client.thread(older)["messages"] if m["role"] == "user"]
    assert user_texts == [f"Planning the garden {words}", "Back to the garden."]
    assert len(client.thread(newer)["messages"]) == 2


def _seed_dreams(served: Served, *scenarios: str) -> None:
    """Dreams as `hearth dream` journals them, written beside the running server (SQLite lets
    a second writer in; a model run is not what this test is of)."""
    journal = Journal(served.home / "journal.sqlite3")
    try:
        session = journal.create_session("Dreams")
        meta = MessageMeta(synthetic=True, dream=DreamMeta(kind="past_event", memory_ids=["m-1"]))
        for text in scenarios:
            scenario = journal.append(session.id, "user", text, meta=meta, root=True)
            journal.append(
                session.id, "assistant", "It was windy.", parent_id=scenario.id, meta=meta
            )
    finally:
        journal.close()


async def test_the_dreams_screen_reviews_on_the_server(
    client: Client, shared_server: Served
) -> None:
    words = _words()
    scenarios = [f"Do you remember the coast {words}?", f"And the spring {words}?"]
    _seed_dreams(shared_server, *scenarios)
    ids = [next(d.id for d in client.dreams() if d.scenario == s) for s in scenarios]
    edited = "Yes, and the sea was grey."
    app = HearthApp(ServedConversation(client), new=True)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        await pilot.press("f3")
        await _until(pilot, lambda: isinstance(app.screen, DreamsScreen))
        screen = app.screen
        assert isinstance(screen, DreamsScreen)
        table = screen.query_one(DataTable)
        assert all(str(i) in screen.rows for i in ids)

        async def act(dream_id: int, *keys: str) -> None:
            table.move_cursor(row=table.get_row_index(str(dream_id)))
            await pilot.pause()
            await pilot.press(*keys)
            await pilot.pause()

        await act(ids[0], "a")
        await act(ids[1], "e")
        await _until(pilot, lambda: isinstance(app.screen, TextDialog))
        app.screen.query_one(Input).value = edited
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, DreamsScreen))
        await pilot.pause()
        first, second = (client.dream(i) for i in ids)
        assert (first.review, second.review) == ("accepted", "edited")
        assert second.reply == edited and second.original_reply == "It was windy."
        rows = [str(table.get_row_at(table.get_row_index(str(i)))[0]) for i in ids]
        assert rows == ["accepted", "edited"]
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, DreamsScreen))


def _remembered(app: HearthApp) -> list[str]:
    """The panel's options under "remembered after", as drawn."""
    listed = app.query_one(MemoryPanel).query_one(OptionList)
    lines, inside = [], False
    for i in range(listed.option_count):
        line = str(listed.get_option_at_index(i).prompt)
        if line.startswith(("recalled for", "remembered after")):
            inside = line.startswith("remembered")
        elif inside:
            lines.append(line)
    return lines


async def test_the_memory_panel_changes_the_servers_memory(client: Client) -> None:
    app = HearthApp(ServedConversation(client), new=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await _idle(pilot, app)
        reply = await _say(pilot, app, "I love hiking in the Alps.")
        assert reply.message_id is not None
        # The server wrote the turn's memories before it answered.
        (memory_id,) = [
            r.memory_id
            for r in client.recalled(reply.message_id).rows
            if r.section == "remembered" and r.memory is not None and r.memory.kind != "said"
        ]

        await pilot.press("ctrl+b")
        panel = app.query_one(MemoryPanel)
        assert panel.display and panel.reply_id == reply.message_id
        assert panel.query_one(OptionList).has_focus
        (row,) = _remembered(app)
        assert "The person loves hiking in the Alps" in row and "preference" in row

        # Memories of the server's other chats may be recalled above it: down to it.
        for _ in range(20):
            current = panel._current()
            if current is not None and current.memory_id == memory_id:
                break
            await pilot.press("down")
        await pilot.press("p")
        await _until(pilot, lambda: bool(client.show(memory_id)["pinned"]))
        await _until(pilot, lambda: "pinned" in _remembered(app)[0])
        await pilot.press("p")
        await _until(pilot, lambda: not client.show(memory_id)["pinned"])

        await pilot.press("a")
        await _until(pilot, lambda: "accepted" in _remembered(app)[0])
        assert any(e.action == "accept" for e in client.history(memory_id)), client.history(
            memory_id
        )

        await pilot.press("e")
        await _until(pilot, lambda: isinstance(app.screen, EditMemory))
        box = app.screen.query_one(Input)
        assert box.value == "The person loves hiking in the Alps"
        box.value = "Sam loves hiking in the Dolomites"
        await pilot.press("enter")
        await _until(pilot, lambda: "Dolomites" in _remembered(app)[0])
        now = next(
            r.memory
            for r in client.recalled(reply.message_id).rows
            if r.section == "remembered" and r.memory is not None and r.memory.kind != "said"
        )
        assert now.text == "Sam loves hiking in the Dolomites"

        await pilot.press("ctrl+b")
        assert not panel.display and app.query_one(ChatInput).has_focus
