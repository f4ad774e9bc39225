"""`hearth --connect URL`: the one chat (`HearthApp`) over `ServedConversation`, against a real
`hearth serve` (a process of its own, in a data dir of its own). Under Pilot it shows the
session's history, streams replies that the server journals, starts new sessions, says a server
error or an away server in one line; the command refuses a server that does not answer in one
line, before the screen opens. (Stopping a served reply: tests/test_conversation_chat.py.)"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Static

from agent.serving.client import Client, Remote
from agent.serving.conversation import ServedConversation
from tests.conftest import RunHearth
from tests.served import Served
from tui.app import HearthApp
from tui.widgets.messages import MessageView


@pytest.fixture
def served(shared_server: Served) -> Served:
    """The worker's `hearth serve` (tests/conftest.py), short replies; each test here starts
    sessions of its own on it."""
    return shared_server


@pytest.fixture
def client(served: Served) -> Iterator[Client]:
    with Client(Remote(url=served.url, token=served.token)) as found:
        yield found


async def _until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for the app: {check.__code__}"
        await pilot.pause(0.05)


def served_url(client: Client) -> str:
    return client.remote.url


def _views(app: HearthApp, role: str | None = None) -> list[MessageView]:
    return [v for v in app.query(MessageView) if role is None or v.role == role]


def _status(app: HearthApp) -> str:
    return str(app.query_one("#status", Static).render())


async def _answered(pilot: Pilot[None], app: HearthApp, text: str) -> MessageView:
    replies = len(_views(app, "assistant"))
    await pilot.press(*text)
    await pilot.press("enter")
    await _until(pilot, lambda: len(_views(app, "assistant")) > replies and not app.generating)
    return _views(app, "assistant")[-1]


async def test_a_remote_chat_streams_journals_and_reopens(served: Served, client: Client) -> None:
    app = HearthApp(ServedConversation(client), new=True)
    async with app.run_test(size=(100, 30)) as pilot:
        # Ready, then drawn: the status line learns of it a moment after.
        await _until(pilot, lambda: app.conversation.ready and served.url in _status(app))
        status = _status(app)
        assert served.url in status and "new session" in status
        assert client.status()["model"] in status

        reply = await _answered(pilot, app, "Hello from the laptop")
        assert reply.text.strip()
        assert reply.message_id is not None
        session = app.session_id
        assert session is not None and f"session {session}" in _status(app)
        # On screen: the reply's markdown rendered in its view.
        assert reply.region.height > 2
        thread = client.thread(session)
        assert [(m["role"], m["text"]) for m in thread["messages"]] == [
            ("user", "Hello from the laptop"),
            ("assistant", reply.text),
        ]
        assert thread["messages"][-1]["id"] == reply.message_id

        # The next turn goes on in the same session.
        await _answered(pilot, app, "And again")
        assert app.session_id == session
        assert len(client.thread(session)["messages"]) == 4

    # Reopened (as another machine would): the session's history, then more of it.
    again = HearthApp(ServedConversation(client))
    async with again.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: again.conversation.ready)
        assert again.session_id == session
        assert [v.text for v in _views(again, "user")] == ["Hello from the laptop", "And again"]
        assert len(_views(again, "assistant")) == 2

        # ctrl+n: the screen empties and the next turn makes a new session.
        await pilot.press("ctrl+n")
        assert _views(again) == [] and "new session" in _status(again)
        await _answered(pilot, again, "A fresh start")
        assert again.session_id is not None and again.session_id != session
        fresh = client.thread(again.session_id)["messages"]
        assert fresh[0]["text"] == "A fresh start"
        assert len(client.thread(session)["messages"]) == 4


def test_the_served_chat_has_the_keys_to_stop_and_quit() -> None:
    keys = {(b.key, b.action) for b in HearthApp.BINDINGS if isinstance(b, Binding)}
    assert {("escape", "stop"), ("ctrl+c", "stop"), ("ctrl+q", "quit")} <= keys


async def test_a_server_error_is_one_line_in_the_chat(client: Client) -> None:
    app = HearthApp(ServedConversation(client), session_id=987654)  # no such session there
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: bool(app._notifications) and app.conversation.ready)
        shown = [str(n.message) for n in app._notifications]
        assert any("no session 987654" in m and "\n" not in m for m in shown), shown
        assert served_url(client) in _status(app)  # still connected: only the session is not there


async def test_a_message_typed_while_the_server_is_away_says_so(served: Served) -> None:
    from agent.runtime.serve_llama import free_port

    away = Client(Remote(url=f"http://127.0.0.1:{free_port()}", token=served.token))
    app = HearthApp(ServedConversation(away), new=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hello?", "enter")
        await _until(pilot, lambda: "not connected" in _status(app) and not app.generating)
        await _until(pilot, lambda: len(app._notifications) >= 2)  # the load, then the turn
        shown = [str(n.message) for n in app._notifications]
        assert all("cannot be reached" in m for m in shown), shown
        assert not app.pending  # sent, and refused: nothing waits for ever
    away.close()


def test_the_thread_api_leaves_out_what_is_off_the_record(client: Client) -> None:
    from agent.serving.schemas import TurnRequest

    said = client.turn(TurnRequest(text="Remember the tea", new=True), None)
    client.turn(
        TurnRequest(text="not for the record", session=said["session_id"], memory=False), None
    )
    thread = client.thread(said["session_id"])
    assert [m["text"] for m in thread["messages"] if m["role"] == "user"] == ["Remember the tea"]
    assert thread["title"] == "Remember the tea"
    assert client.thread(None)["session_id"] is not None
    assert client.status()["memory"] is True


def test_the_command_refuses_a_server_that_does_not_answer(run_hearth: RunHearth) -> None:
    done = run_hearth("--connect", "http://127.0.0.1:9", env={"HEARTH_REMOTE__TOKEN": "x"})
    assert done.returncode == 23
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot be reached" in lines[0], done.stderr
    assert "Traceback" not in done.stderr

    model = run_hearth("--connect", "http://127.0.0.1:9", "--model", "x.gguf", env={})
    assert model.returncode == 2
    assert "--model" in model.stderr.strip()
