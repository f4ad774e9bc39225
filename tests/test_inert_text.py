"""Stored text with escape sequences, C1 controls and bidi overrides is shown inert everywhere
Hearth prints or draws it, while the journal keeps the exact text."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from textual.widgets import Static

from agent.startup import Home
from memory.controls import inert, json_line
from memory.journal.journal import Journal
from tests.conftest import RunHearth
from tui.app import HearthApp
from tui.widgets.chat_input import ChatInput
from tui.widgets.messages import MessageView

# Clears the screen, retitles the window, reverses what follows, and an 8-bit CSI.
HOSTILE = "x\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c \x9b31mred [bold]markup[/bold]"
OBEYED = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")
TINY = {"HEARTH_SAMPLING__MAX_TOKENS": "4"}


def _inert(output: str) -> None:
    for char in OBEYED:
        assert char not in output, f"{char!r} reached the terminal"


def _strings(value: Any) -> Iterator[str]:
    """Every string inside decoded JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_inert_shows_every_control_as_a_symbol() -> None:
    shown = inert(HOSTILE + "\r\nline\ttab\x7f\x00")
    _inert(shown)
    assert shown.startswith("x\u241b[2J\u241b]0;pwned\u2407 <U+202E>evil<U+202C> <U+009B>31m")
    assert "\nline\ttab\u2421\u2400" in shown and "\r" not in shown
    assert inert("a\nb", line_breaks=False) == "a\u2424b"
    assert inert(shown) == shown  # showing twice changes nothing
    assert inert("plain café 👩‍👩‍👧 text") == "plain café 👩‍👩‍👧 text"  # joiners stay


def test_json_escapes_what_json_leaves_raw() -> None:
    line = json_line({"text": HOSTILE + "\x7f\u2028"})
    _inert(line)
    assert "\x7f" not in line and "\u2028" not in line
    assert json.loads(line) == {"text": HOSTILE + "\x7f\u2028"}


def test_say_then_logs_print_the_message_inert(run_hearth: RunHearth, hearth_home: Path) -> None:
    said = run_hearth("say", HOSTILE, env=TINY)
    assert said.returncode == 0, said.stderr
    _inert(said.stdout)
    journal = Journal(hearth_home / "journal.sqlite3")
    user, reply = journal.messages(newest_first=False)
    assert user.text == HOSTILE  # the journal keeps the exact text
    for args in (
        ("logs", "show", str(user.id)),
        ("logs", "show", str(reply.id), "--prompt"),
        ("logs", "list"),
        ("logs", "list", "--json"),
        ("logs", "show", str(user.id), "--json"),
        ("logs", "show", str(reply.id), "--prompt", "--json"),
    ):
        shown = run_hearth(*args)
        assert shown.returncode == 0, (args, shown.stderr)
        _inert(shown.stdout)
        if "--json" in args:
            assert any(HOSTILE in text for text in _strings(json.loads(shown.stdout))), args
        else:
            # Shown as symbols, and its brackets are text, not Rich markup.
            assert "\u241b[2J" in shown.stdout and "[bold]markup" in shown.stdout, args


def test_memory_commands_print_stored_text_inert(run_hearth: RunHearth) -> None:
    added = run_hearth("memory", "add", f"I like {HOSTILE}", "--json")
    assert added.returncode == 0, added.stderr
    _inert(added.stdout)
    memory_id = json.loads(added.stdout)["id"]
    for args in (
        ("memory", "list"),
        ("memory", "show", memory_id),
        ("memory", "history"),
        ("memory", "graph"),
    ):
        shown = run_hearth(*args)
        assert shown.returncode == 0, (args, shown.stderr)
        _inert(shown.stdout)
        assert "\u241b" in shown.stdout, args


async def test_tui_draws_a_hostile_history_inert(make_home: Callable[..., Home]) -> None:
    # No model is needed to draw history: a missing one fails at once, beside it.
    home = make_home(model={"path": "/nonexistent/model.gguf"})
    session = home.journal.create_session()
    home.journal.append(session.id, "user", HOSTILE, speaker="you\x1b]0;x\x07")
    home.journal.append(session.id, "assistant", HOSTILE, speaker="hearth")
    app = HearthApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        views = list(app.query(MessageView))
        assert len(views) == 2
        for view in views:
            _inert(view.source)
            _inert(str(view.border_title))
            assert "\u241b[2J" in view.source
        # The layout holds: the input box and the status bar are still on screen.
        for widget in (app.query_one(ChatInput), app.query_one("#status", Static)):
            assert widget.region.height > 0 and widget.region.y < 30
        await app.workers.wait_for_complete()
