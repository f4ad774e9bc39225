"""The memory panel (ctrl+b), driven as a person would with Pilot, on the real model and store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from agent.reply_memories import MemoryRow
from agent.startup import Home
from memory.errors import NotFoundError
from memory.graph.nodes import Memory
from memory.graph.store import MemoryStore
from memory.journal.schemas import RecallNote
from tests.test_tui import _ready, _send, _until, _views
from tui.app import HearthApp
from tui.widgets.chat_input import ChatInput
from tui.widgets.memory_dialogs import ConfirmReject, EditMemory
from tui.widgets.memory_panel import MemoryPanel
from tui.widgets.memory_rows import row_content, why_text

HIKING = "I love hiking in the Alps."


async def _answered(pilot: Pilot[None], app: HearthApp, text: str) -> None:
    replies = len(_views(app, "assistant"))
    await _send(pilot, text)
    await _until(pilot, lambda: len(_views(app, "assistant")) > replies and not app.generating)
    assert app.agent is not None
    await asyncio.to_thread(app.agent.settle)  # the memory write runs after the reply
    await pilot.pause()


def _store(app: HearthApp) -> MemoryStore:
    assert app.agent is not None and app.agent.store is not None
    return app.agent.store


def _shown(app: HearthApp) -> list[str]:
    """The panel's lines as drawn: headings, and each memory's option."""
    listed = app.query_one(MemoryPanel).query_one(OptionList)
    return [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]


def _section(app: HearthApp, heading: str) -> list[str]:
    """The options under one heading ("recalled", "remembered")."""
    lines, inside = [], False
    for line in _shown(app):
        if line.startswith(("recalled for", "remembered after")):
            inside = line.startswith(heading)
        elif inside:
            lines.append(line)
    return lines


def _exists(store: MemoryStore, memory_id: str) -> bool:
    try:
        store.get(memory_id)
    except NotFoundError:
        return False
    return True


async def test_the_panel_shows_what_a_reply_remembered_and_changes_it(
    make_home: Callable[..., Home],
) -> None:
    app = HearthApp(make_home(sampling={"max_tokens": 2}))
    async with app.run_test(size=(140, 40)) as pilot:
        await _ready(pilot)
        await _answered(pilot, app, HIKING)
        store = _store(app)
        (memory_id,) = [m.id for m in store.list() if "hiking" in m.text and m.kind != "said"]

        await pilot.press("ctrl+b")
        panel = app.query_one(MemoryPanel)
        assert panel.display and panel.reply_id == _views(app, "assistant")[-1].message_id
        assert panel.query_one(OptionList).has_focus
        (row,) = _section(app, "remembered")
        assert "The person loves hiking in the Alps" in row and "preference" in row
        assert _section(app, "recalled") == []

        await pilot.press("p")
        await _until(pilot, lambda: store.get(memory_id).pinned)
        await _until(pilot, lambda: "pinned" in _section(app, "remembered")[0])
        await pilot.press("p")
        await _until(pilot, lambda: not store.get(memory_id).pinned)

        await pilot.press("a")
        await _until(pilot, lambda: store.accepted(memory_id))
        await _until(pilot, lambda: "accepted" in _section(app, "remembered")[0])

        await pilot.press("e")
        await _until(pilot, lambda: isinstance(app.screen, EditMemory))
        box = app.screen.query_one(Input)
        assert box.value == "The person loves hiking in the Alps"
        box.value = "Sam loves hiking in the Dolomites"
        await pilot.press("enter")
        await _until(pilot, lambda: "Dolomites" in store.get(memory_id).text)
        await _until(pilot, lambda: "Dolomites" in _section(app, "remembered")[0])

        await pilot.press("ctrl+b")
        assert not panel.display and app.query_one(ChatInput).has_focus


async def test_the_panel_follows_the_selected_reply(make_home: Callable[..., Home]) -> None:
    app = HearthApp(make_home(sampling={"max_tokens": 2}))
    async with app.run_test(size=(140, 40)) as pilot:
        await _ready(pilot)
        await _answered(pilot, app, HIKING)
        await _answered(pilot, app, "How are you?")
        first, last = [v.message_id for v in _views(app, "assistant")]
        await pilot.press("ctrl+b")
        panel = app.query_one(MemoryPanel)
        assert panel.reply_id == last
        app.query_one(ChatInput).focus()
        await pilot.press("alt+up", "alt+up", "alt+up")  # last reply, my message, first reply
        assert panel.reply_id == first
        assert any("hiking" in line for line in _section(app, "remembered"))


async def test_a_recalled_memory_shows_why_and_a_rejected_one_stays_gone(
    make_home: Callable[..., Home],
) -> None:
    app = HearthApp(make_home(sampling={"max_tokens": 2}))
    async with app.run_test(size=(140, 40)) as pilot:
        await _ready(pilot)
        await _answered(pilot, app, HIKING)
        store = _store(app)
        (fact,) = [m.id for m in store.list() if "hiking" in m.text and m.kind != "said"]
        (words,) = [m.id for m in store.list(kinds=["said"]) if m.text == HIKING]
        # A new session: the message it was learned from is out of view, so it is recalled:
        # the fact or the person's own words, whichever ranks higher (one memory a message).
        await pilot.press("ctrl+n")
        await _answered(pilot, app, "Where should we go hiking this summer?")
        await pilot.press("ctrl+b")
        (row,) = _section(app, "recalled")
        assert "hiking in the Alps" in row
        recalled = store.get(words if row.startswith("said") else fact)
        assert row.startswith(recalled.kind) and recalled.text in row
        why = " ".join(row.splitlines()[2:])  # under the kind and date, and the words
        assert why.startswith(".") and "dense ." in why and "recent " in why, why
        assert f"importance {recalled.importance:.1f}".replace(" 0.", " .") in why, why

        # The panel follows each new reply while it is open.
        await _answered(pilot, app, "Thanks!")
        assert app.query_one(MemoryPanel).reply_id == _views(app, "assistant")[-1].message_id
        app.query_one(MemoryPanel).focus_list()
        app.show_memory_for(_views(app, "assistant")[-2].message_id)
        assert recalled.text in _section(app, "recalled")[0]

        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmReject))
        await pilot.press("n")
        assert _exists(store, recalled.id)
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmReject))
        await pilot.press("y")
        # Rejected, the words and the fact go together, whichever was shown.
        await _until(pilot, lambda: not _exists(store, fact) and not _exists(store, words))
        await _until(pilot, lambda: _section(app, "recalled")[0].startswith("forgotten"))

        await pilot.press("ctrl+b")
        await _answered(pilot, app, HIKING)  # said again: learned neither as fact nor words
        assert not [m for m in store.list(valid_only=False) if "alps" in m.text.lower()]
        await pilot.press("ctrl+b")
        assert _section(app, "remembered") == []


async def test_a_sensitive_memory_is_shown_only_when_asked(make_home: Callable[..., Home]) -> None:
    home = make_home(sampling={"max_tokens": 2})
    app = HearthApp(home)
    async with app.run_test(size=(140, 40)) as pilot:
        await _ready(pilot)
        await _answered(pilot, app, "I was diagnosed with asthma last year.")
        await pilot.press("ctrl+b")
        (row,) = _section(app, "remembered")
        assert "fact" in row and "private" in row and "asthma" not in row
        await pilot.press("e")  # editing would show the words: not before they are asked for
        await pilot.pause()
        assert not isinstance(app.screen, EditMemory)
        await pilot.press("s")
        assert "asthma" in _section(app, "remembered")[0]
        await pilot.press("e")
        await _until(pilot, lambda: isinstance(app.screen, EditMemory))
        await pilot.press("escape")
        await pilot.press("s")
        assert "asthma" not in _section(app, "remembered")[0]

    # Opened again, the chat's last reply comes from the journal: the panel finds it there.
    again = HearthApp(home)
    async with again.run_test(size=(140, 40)) as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+b")
        (row,) = _section(again, "remembered")
        assert "private" in row and "asthma" not in row
        assert again.query_one(MemoryPanel).reply_id == _views(again, "assistant")[-1].message_id


def test_a_row_draws_stored_text_inert_and_never_as_markup() -> None:
    memory = Memory(
        id="m_1",
        kind="fact",
        text="[bold red]I like[/] tea\x1b[2J",
        learned_at=datetime(2026, 3, 1, 12, tzinfo=UTC),
    )
    note = RecallNote(
        id="m_1", score=0.0823, dense=0.61, lexical=2.314, recency=0.9, importance=0.5
    )
    row = MemoryRow(section="recalled", memory_id="m_1", memory=memory, why=note)
    drawn = row_content(row, revealed=False)
    assert "[bold red]I like[/] tea\u241b[2J" in drawn.plain and "\x1b" not in drawn.plain
    assert all(not span.style or span.style == "dim" for span in drawn.spans)
    assert drawn.plain.splitlines()[0] == "fact · learned 2026-03-01"
    why = why_text(note)
    assert why == ".082: dense .61 · words 2.31 · recent .9 · importance .5"
    assert why_text(note, 26).splitlines() == [
        ".082: dense .61",
        "words 2.31 · recent .9",
        "importance .5",
    ]
    assert why_text(RecallNote(id="m_1")) == "why: not kept for this older reply"
