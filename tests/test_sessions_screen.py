"""The sessions screen (ctrl+s), driven as a person would with Pilot, on the real model."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from agent.startup import Home, load_agent
from agent.turn import Agent
from memory.errors import NotFoundError
from memory.journal.journal import Journal
from tests.test_tui import _ready, _send, _until, _views
from tui.app import HearthApp
from tui.screens.sessions import ConfirmDelete, RenameSession, SessionsScreen
from tui.widgets.welcome import Welcome


def _no_store(home: Home) -> Agent:
    # No memory store: its embedder takes seconds to load, and nothing here is about memory.
    return load_agent(home, memory=False)


@pytest.fixture
def home(make_home: Callable[..., Home]) -> Iterator[Home]:
    yield make_home(sampling={"max_tokens": 4})


def _chat(journal: Journal, *texts: str, title: str = "") -> int:
    sid = journal.create_session(title=title).id
    for text in texts:
        journal.append(sid, "user", text)
        journal.append(sid, "assistant", f"reply to {text}")
    return sid


async def _open(pilot: Pilot[None]) -> SessionsScreen:
    await pilot.press("ctrl+s")
    await _until(pilot, lambda: isinstance(pilot.app.screen, SessionsScreen))
    screen = pilot.app.screen
    assert isinstance(screen, SessionsScreen)
    return screen


def _rows(screen: SessionsScreen) -> list[list[str]]:
    """The table as drawn: mark, title, date, messages."""
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _titles(screen: SessionsScreen) -> list[str]:
    return [row[1] for row in _rows(screen)]


async def _highlight(pilot: Pilot[None], screen: SessionsScreen, title: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=_titles(screen).index(title))
    await pilot.pause()


async def test_ctrl_s_lists_sessions_newest_first_and_the_search_filters(home: Home) -> None:
    journal = home.journal
    _chat(journal, "Planning the garden\nand the shed")
    _chat(journal, "y" * 80)
    _chat(journal, "anything", title="Taxes [bold]2025[/bold] \x1b[31mred")
    secret = journal.create_session().id
    journal.append(secret, "user", "my diagnosis came back", off_record=True)
    journal.append(secret, "user", "Holiday plans")
    app = HearthApp(home, loader=_no_store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        rows = _rows(screen)
        assert [r[1] for r in rows] == [
            "Holiday plans",  # never the words said off the record
            # Stored text drawn inert: the escape as a symbol, the brackets as brackets.
            "Taxes [bold]2025[/bold] \u241b[31mred",
            "y" * 49 + "…",
            "Planning the garden",
        ]
        assert [r[0] for r in rows] == ["current", "", "", ""]  # the chat open now
        assert [r[3].strip() for r in rows] == ["2", "2", "2", "2"]
        assert "4 sessions" in str(screen.query_one("#sessions-info", Static).render())

        await pilot.press("slash")
        assert screen.query_one("#sessions-search", Input).has_focus
        await pilot.press(*"GARD")
        assert _titles(screen) == ["Planning the garden"]
        await pilot.press(*"xx")
        assert _titles(screen) == []
        assert "No session has those words" in str(
            screen.query_one("#sessions-info", Static).render()
        )
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"diag")
        assert _titles(screen) == []
        await pilot.press("escape")
        assert not isinstance(app.screen, SessionsScreen)
        await _ready(pilot)


async def test_rename_asks_with_the_title_and_persists(home: Home) -> None:
    sid = _chat(home.journal, "Planning the garden")
    app = HearthApp(home, loader=_no_store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RenameSession))
        box = app.screen.query_one(Input)
        assert box.value == "Planning the garden"
        await pilot.press("escape")  # thought better of it: nothing changes
        await _until(pilot, lambda: app.screen is screen)
        assert home.journal.session(sid).title == ""
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RenameSession))
        app.screen.query_one(Input).value = ""
        await pilot.press(*"Garden notes", "enter")
        await _until(pilot, lambda: app.screen is screen)
        assert home.journal.session(sid).title == "Garden notes"
        assert _titles(screen) == ["Garden notes"]
        await _ready(pilot)


async def test_archive_hides_and_t_shows_archived(home: Home) -> None:
    away = _chat(home.journal, "put away")
    _chat(home.journal, "kept")
    app = HearthApp(home, loader=_no_store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await _highlight(pilot, screen, "put away")
        await pilot.press("a")
        assert home.journal.session(away).archived
        assert _titles(screen) == ["kept"]
        await pilot.press("t")
        assert _titles(screen) == ["kept", "put away"]
        assert _rows(screen)[1][0] == "archived"
        await _highlight(pilot, screen, "put away")
        await pilot.press("a")  # and back
        assert not home.journal.session(away).archived
        await pilot.press("t")
        assert _titles(screen) == ["kept", "put away"]
        await _ready(pilot)


async def test_delete_asks_first_then_removes_the_session(home: Home) -> None:
    gone = _chat(home.journal, "forget this chat")
    kept = _chat(home.journal, "kept")
    app = HearthApp(home, loader=_no_store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(pilot)
        await _highlight(pilot, screen, "forget this chat")
        await pilot.press("d")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        question = str(app.screen.query(Static).first().render())
        assert "forget this chat" in question and "2 messages" in question
        await pilot.press("n")
        await _until(pilot, lambda: app.screen is screen)
        assert home.journal.session(gone).id == gone
        await pilot.press("d")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        await pilot.press("y")
        await _until(pilot, lambda: app.screen is screen)
        with pytest.raises(NotFoundError):
            home.journal.session(gone)
        assert _titles(screen) == ["kept"]
        assert app.session_id == kept  # another session's delete leaves the chat be
        await _ready(pilot)


async def test_deleting_the_open_session_moves_to_a_new_one(home: Home) -> None:
    current = _chat(home.journal, "the chat open now")
    app = HearthApp(home, loader=_no_store)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.session_id == current and _views(app, "user")
        screen = await _open(pilot)
        await pilot.press("d")  # the cursor starts on the open session
        await _until(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        await pilot.press("y")
        await _until(pilot, lambda: app.screen is screen)
        assert home.journal.session_summaries() == []
        assert app.session_id is None
        assert "No sessions yet" in str(screen.query_one("#sessions-info", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert not _views(app, "user")
        assert "A new session." in str(app.query_one(Welcome).render())
        assert "new session" in str(app.query_one("#status", Static).render())
        await _ready(pilot)


async def test_enter_resumes_another_session_and_the_chat_goes_on_there(home: Home) -> None:
    journal = home.journal
    older = _chat(journal, "Planning the garden")
    newer = _chat(journal, "Newer chat")
    journal.append(newer, "user", "between us: 4417", off_record=True)
    app = HearthApp(home, loader=_no_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        assert app.session_id == newer
        screen = await _open(pilot)
        await pilot.press("down", "enter")
        await _until(pilot, lambda: app.screen is not screen)
        assert app.session_id == older
        await pilot.pause()
        assert [v.source for v in _views(app, "user")] == ["Planning the garden"]
        assert [v.source for v in _views(app, "assistant")] == ["reply to Planning the garden"]
        assert f"session {older}" in str(app.query_one("#status", Static).render())
        # Leaving the session purged what was said in it off the record.
        assert [m.text for m in journal.messages(newer, newest_first=False)] == [
            "Newer chat",
            "reply to Newer chat",
        ]
        await _send(pilot, "And the roses?")
        await _until(pilot, lambda: len(_views(app, "assistant")) == 2 and not app.generating)
    assert [m.text for m in journal.thread(older)][:3] == [
        "Planning the garden",
        "reply to Planning the garden",
        "And the roses?",
    ]


async def test_a_session_cannot_be_left_while_a_reply_is_written(
    make_home: Callable[..., Home],
) -> None:
    home = make_home(sampling={"max_tokens": 2000, "ignore_eos": True})
    older = _chat(home.journal, "Planning the garden")
    app = HearthApp(home, new=True, loader=_no_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        await _send(pilot, "Tell me a long story")
        await _until(pilot, lambda: len(app._reply_text) > 2)
        current = app.session_id
        screen = await _open(pilot)
        await _highlight(pilot, screen, "Planning the garden")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and app.session_id == current != older
        assert any("Wait for the reply" in n.message for n in app._notifications)
        await pilot.press("escape", "escape")  # back to the chat, then stop the reply
        await _until(pilot, lambda: not app.generating, timeout=10)
