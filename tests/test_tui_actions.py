"""Per-reply actions in the chat, driven as a person would: swipes, edits, branches, ratings,
notes, copy, recall of what was sent, the palette, the keys screen and a remapped key."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable

from agent.startup import Home
from memory.journal.journal import Journal
from tui.app import HearthApp
from tui.screens.help import HelpScreen
from tui.widgets.chat_input import ChatInput
from tui.widgets.messages import LEFT, RIGHT, MessageView, code_blocks

SIZE = (100, 30)


async def _until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)


def _views(app: HearthApp, role: str | None = None) -> list[MessageView]:
    return [v for v in app.query(MessageView) if role is None or v.role == role]


async def _idle(pilot: Pilot[None], app: HearthApp) -> None:
    await _until(pilot, lambda: app.agent is not None and not app.generating and not app.pending)
    await pilot.pause()


async def _say(pilot: Pilot[None], app: HearthApp, text: str) -> None:
    app.query_one(ChatInput).focus()
    app.query_one(ChatInput).insert(text)
    await pilot.press("enter")
    await _until(pilot, lambda: bool(_views(app, "assistant")) and app.generating is False)
    await _idle(pilot, app)


def _marker(view: MessageView) -> str:
    return str(view.border_subtitle)


async def test_swipes_keep_every_version_and_going_on_records_the_one_shown(
    make_home: Callable[..., Home],
) -> None:
    home = make_home(sampling={"max_tokens": 6})
    app = HearthApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        await _say(pilot, app, "Tell me a word.")
        first = _views(app, "assistant")[-1].message_id
        await pilot.press("ctrl+r")
        await _idle(pilot, app)
        replies = _views(app, "assistant")
        assert len(replies) == 1  # the new version replaces the old one on screen
        second = replies[0].message_id
        assert second != first
        assert f"{LEFT} 2/2 {RIGHT}" in _marker(replies[0])
        await pilot.press("alt+left")
        await pilot.pause()
        assert _views(app, "assistant")[0].message_id == first
        assert f"{LEFT} 1/2 {RIGHT}" in _marker(_views(app, "assistant")[0])
        assert home.journal.choices() == {}  # browsing records nothing
        await _say(pilot, app, "Thanks.")
    journal = Journal(home.paths.journal)
    assert first is not None
    user_id = journal.message(first).parent_id
    assert user_id is not None
    assert journal.choices() == {user_id: first}  # went on from version 1
    thread = journal.thread(journal.latest_session().id)  # type: ignore[union-attr]
    assert [m.id for m in thread][:2] == [user_id, first]


async def test_editing_a_message_branches_and_the_old_branch_stays_reachable(
    make_home: Callable[..., Home],
) -> None:
    home = make_home(sampling={"max_tokens": 6})
    app = HearthApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        await _say(pilot, app, "I live in Lisbon.")
        await _say(pilot, app, "What is the weather like?")
        old_second = _views(app, "user")[-1].message_id
        await pilot.press("f2")  # edits my last message
        chat_input = app.query_one(ChatInput)
        assert chat_input.text == "What is the weather like?" and app.input_mode is not None
        chat_input.clear()
        chat_input.insert("What should I cook tonight?")
        await pilot.press("enter")
        await _until(pilot, lambda: app.generating is False and not app.pending, 60)
        await _idle(pilot, app)
        users = _views(app, "user")
        assert [u.text for u in users] == ["I live in Lisbon.", "What should I cook tonight?"]
        assert f"{LEFT} 2/2 {RIGHT}" in _marker(users[-1])
        assert _views(app, "assistant")[-1].message_id is not None
        # The branch before the edit is one key away, with its reply.
        users[-1].focus()
        await pilot.press("left")
        await pilot.pause()
        assert [u.message_id for u in _views(app, "user")][-1] == old_second
        assert len(_views(app, "assistant")) == 2
    journal = Journal(home.paths.journal)
    assert old_second is not None
    assert journal.message(old_second).text == "What is the weather like?"  # the original stays


async def test_rating_noting_and_copying_a_selected_reply(make_home: Callable[..., Home]) -> None:
    home = make_home(sampling={"max_tokens": 6})
    app = HearthApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        await _say(pilot, app, "Say hello.")
        reply = _views(app, "assistant")[-1]
        await pilot.press("alt+up")  # selects the last message: the reply
        assert app.focused is reply
        await pilot.press("plus")
        assert "liked" in _marker(reply)
        await pilot.press("c")
        assert app.clipboard == reply.text
        await pilot.press("n")
        app.query_one(ChatInput).insert("warm and short")
        await pilot.press("enter")
        await pilot.pause()
    saved = Journal(home.paths.journal).feedback_for(reply.message_id or 0)
    assert saved is not None and saved.rating == 1 and saved.note == "warm and short"


def test_code_blocks_are_what_copy_code_takes() -> None:
    text = "Try this:\n\n```python\nprint('hi')\n```\n\nand\n\n~~~\nls -l\n~~~\n"
    assert code_blocks(text) == ["print('hi')\n", "ls -l\n"]


async def test_up_recalls_what_was_sent_and_down_comes_back(
    make_home: Callable[..., Home],
) -> None:
    home = make_home(sampling={"max_tokens": 4})
    app = HearthApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        await _say(pilot, app, "first message")
        await _say(pilot, app, "second message")
        chat_input = app.query_one(ChatInput)
        await pilot.press("up")
        assert chat_input.text == "second message"
        await pilot.press("up")
        assert chat_input.text == "first message"
        await pilot.press("down", "down")
        assert chat_input.text == ""
    home.close()
    reopened = HearthApp(make_home())
    async with reopened.run_test(size=SIZE) as pilot:
        await pilot.press("up")  # the session's own messages, after a restart
        assert reopened.query_one(ChatInput).text == "second message"


async def test_the_palette_offers_hearth_actions_and_the_keys_screen_lists_ids(
    make_home: Callable[..., Home],
) -> None:
    home = make_home(sampling={"max_tokens": 4}, chat={"keys": {"chat.regenerate": "ctrl+g"}})
    app = HearthApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await _idle(pilot, app)
        await _say(pilot, app, "Hi.")
        await pilot.press("ctrl+p")
        await _until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"regen")
        await pilot.pause(0.5)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        shown = [str(o.prompt) for o in palette.query("CommandList").first().options]  # type: ignore[attr-defined]
        assert any("Regenerate reply" in s and "ctrl+g" in s for s in shown), shown
        await pilot.press("enter")  # runs it: a second version
        await _until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await _idle(pilot, app)
        assert f"{LEFT} 2/2 {RIGHT}" in _marker(_views(app, "assistant")[-1])
        await pilot.press("ctrl+g")  # the remapped key
        await _idle(pilot, app)
        assert f"{LEFT} 3/3 {RIGHT}" in _marker(_views(app, "assistant")[-1])
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        keys = {
            str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)
        }
        assert keys["chat.regenerate"] == "ctrl+g" and keys["message.copy"] == "c"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_input_opens_in_the_editor_and_comes_back(make_home: Callable[..., Home]) -> None:
    # The "editor" is a one-line program that rewrites the file, as a person would in vi.
    program = (
        "import sys; p = sys.argv[1]; t = open(p).read(); "
        "open(p, 'w').write(t.replace('draft', 'final words'))"
    )
    editor = f'{sys.executable} -c "{program}"'
    app = HearthApp(make_home(chat={"editor": editor}))
    async with app.run_test(size=SIZE) as pilot:
        chat_input = app.query_one(ChatInput)
        chat_input.insert("my draft")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert chat_input.text == "my final words"
        assert not list(app.home.paths.data_dir.glob("message-*"))  # the draft file is gone
