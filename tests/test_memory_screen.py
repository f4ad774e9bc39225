"""The memory screen (ctrl+g), driven as a person would with Pilot: a named fake model
(tests/scripted_backend.py), the real memory store and journal."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Sparkline, Static

from agent.startup import Home
from agent.turn import Agent
from memory.errors import NotFoundError
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import KINDS
from memory.graph.store import MemoryStore
from memory.journal.schemas import ModelInfo, Surprise
from tests.scripted_backend import ScriptedBackend, scripted_loader
from tests.test_tui import _ready, _until
from tui.app import HearthApp
from tui.keys import with_custom
from tui.screens.memory import HIDDEN, ConfirmForget, MemoryScreen, MemoryText

SIZE = (110, 36)
SnapCompare = Callable[..., bool]


def _store(app: HearthApp) -> MemoryStore:
    assert app.agent is not None and app.agent.store is not None
    return app.agent.store


def _seed(app: HearthApp) -> dict[str, str]:
    """Three memories, learned in this order (the list shows them newest first)."""
    store = _store(app)
    journal = app.home.journal
    sid = journal.create_session().id
    said = journal.append(sid, "user", "I moved to Porto in spring, near the river.")
    porto = store.add("Sam lives in Porto", kind="fact", provenance=[said.id])
    tea = store.add("Sam drinks [bold]green tea[/bold] \x1b[31mevery morning", kind="preference")
    ill = store.add("Sam was diagnosed with asthma", kind="event", flags=["sensitive"])
    store.link(porto.id, tea.id, "related")
    return {"porto": porto.id, "tea": tea.id, "ill": ill.id}


async def _open(pilot: Pilot[None]) -> MemoryScreen:
    await pilot.press("ctrl+g")
    await _until(pilot, lambda: isinstance(pilot.app.screen, MemoryScreen))
    screen = pilot.app.screen
    assert isinstance(screen, MemoryScreen)
    return screen


def _rows(screen: MemoryScreen) -> list[list[str]]:
    """The table as drawn: kind, learned, pin mark, text."""
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _texts(screen: MemoryScreen) -> list[str]:
    return [row[3] for row in _rows(screen)]


def _pane(screen: MemoryScreen) -> str:
    return str(screen.query_one("#memory-detail", Static).render())


async def _highlight(pilot: Pilot[None], screen: MemoryScreen, memory_id: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(memory_id))
    await pilot.pause()


async def _idle(pilot: Pilot[None], screen: MemoryScreen) -> None:
    await _until(pilot, lambda: not screen.busy)
    await pilot.pause()


@pytest.fixture
def app(make_home: Callable[..., Home], embedder: SentenceEmbedder) -> HearthApp:
    return HearthApp(make_home(), loader=scripted_loader(embedder))


async def test_ctrl_g_lists_newest_first_searches_and_hides_sensitive_text(app: HearthApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        ids = _seed(app)
        screen = await _open(pilot)
        rows = _rows(screen)
        assert [r[0] for r in rows] == ["event", "preference", "fact"]
        assert _texts(screen) == [
            HIDDEN,  # sensitive: its kind shows, its words wait for v
            # Stored text drawn inert: the escape as a symbol, the brackets as brackets.
            "Sam drinks [bold]green tea[/bold] \u241b[31mevery morning",
            "Sam lives in Porto",
        ]
        assert "3 memories" in str(screen.query_one("#memory-info", Static).render())
        assert "asthma" not in _pane(screen) and HIDDEN in _pane(screen)

        # The pane: full text, sources with their message, links, history.
        await _highlight(pilot, screen, ids["porto"])
        pane = _pane(screen)
        assert "fact · about user · importance 0.50" in pane
        assert "I moved to Porto in spring" in pane  # its source message
        assert "→ related: Sam drinks [bold]green tea[/bold]" in pane
        assert "add by user" in pane and "link by user" in pane

        await pilot.press("v")
        assert "Sam was diagnosed with asthma" in _texts(screen)
        await pilot.press("v")
        assert "Sam was diagnosed with asthma" not in _texts(screen)

        await pilot.press("k")  # fact only
        assert _texts(screen) == ["Sam lives in Porto"]
        for _ in KINDS:  # round the kinds, back to all
            await pilot.press("k")
        assert len(_texts(screen)) == 3

        await pilot.press("slash")
        assert screen.query_one("#memory-search", Input).has_focus
        await pilot.press(*"where does Sam live")
        await _until(pilot, lambda: _texts(screen)[:1] == ["Sam lives in Porto"])
        assert len(_texts(screen)) <= 3
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, MemoryScreen))


async def test_the_screen_shows_how_much_memory_made_the_person_less_surprising(
    app: HearthApp,
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        _seed(app)
        screen = await _open(pilot)
        assert not screen.query_one("#understanding").display  # nothing measured yet
        await pilot.press("escape")
        journal = app.home.journal
        for alone, with_ in ((6.0, 6.0), (8.5, 7.25)):  # a later session, better understood
            sid = journal.create_session().id
            said = journal.append(sid, "user", "Anjali's paper got accepted!")
            journal.add_surprise(
                Surprise(
                    message_id=said.id, model_sha256="m", tokens=10, bits_alone=alone,
                    bits_with=with_, notes=2, scored_at=datetime.now(UTC),
                )
            )  # fmt: skip
        screen = await _open(pilot)
        line = str(screen.query_one("#understanding-line", Static).render())
        assert "8.50 → 7.25 bits/token last session (+1.25)" in line
        assert screen.query_one(Sparkline).data == [0.0, 1.25]
        assert screen.query_one("#understanding").display


async def test_pin_edit_add_and_forget_change_the_store(app: HearthApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        ids = _seed(app)
        store = _store(app)
        screen = await _open(pilot)

        await _highlight(pilot, screen, ids["porto"])
        await pilot.press("p")
        assert store.get(ids["porto"]).pinned
        assert _rows(screen)[screen.query_one(DataTable).cursor_row][2] == "pin"
        await pilot.press("p")
        assert not store.get(ids["porto"]).pinned

        await pilot.press("e")
        await _until(pilot, lambda: isinstance(app.screen, MemoryText))
        box = app.screen.query_one(Input)
        assert box.value == "Sam lives in Porto"
        box.value = ""
        await pilot.press(*"Sam lives in Lisbon", "enter")
        await _until(pilot, lambda: store.get(ids["porto"]).text == "Sam lives in Lisbon")
        await _idle(pilot, screen)
        assert "Sam lives in Lisbon" in _texts(screen)

        await _highlight(pilot, screen, ids["ill"])
        await pilot.press("e")  # hidden: not opened for editing until shown
        await pilot.pause()
        assert app.screen is screen

        count = store.count()
        await pilot.press("a")
        await _until(pilot, lambda: isinstance(app.screen, MemoryText))
        await pilot.press(*"my password is Tr0ub4dor&3x", "enter")  # a secret: refused
        await _until(pilot, lambda: app.screen is screen)
        await pilot.pause()
        assert store.count() == count and not screen.busy
        await pilot.press("a")
        await _until(pilot, lambda: isinstance(app.screen, MemoryText))
        await pilot.press(*"Sam's cat is called Miso", "enter")
        await _until(pilot, lambda: store.count() == count + 1)
        await _idle(pilot, screen)
        added = [m for m in store.list() if m.text == "Sam's cat is called Miso"]
        assert len(added) == 1 and added[0].kind == "fact"
        assert "Sam's cat is called Miso" in _texts(screen)

        await _highlight(pilot, screen, ids["tea"])
        await pilot.press("f")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmForget))
        await pilot.press("n")  # thought better of it
        await _until(pilot, lambda: app.screen is screen)
        assert store.get(ids["tea"])
        await pilot.press("f")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmForget))
        question = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "every store" in question and "green tea" in question
        await pilot.press("y")
        await _idle(pilot, screen)

        with pytest.raises(NotFoundError):
            store.get(ids["tea"])
        assert ids["tea"] not in {h.memory.id for h in store.search("green tea every morning")}
        assert not any("green tea" in t for t in _texts(screen))
        assert [e.action for e in store.history(ids["tea"])][-1] == "forget"


async def test_ctrl_g_says_why_when_there_is_no_memory(
    make_home: Callable[..., Home],
) -> None:
    def no_store(home: Home) -> Agent:
        backend = ScriptedBackend()
        info = ModelInfo(name=backend.name, path=str(backend.path), sha256="0" * 64)
        return Agent(home.settings, home.journal, backend, info, None)

    app = HearthApp(make_home(), loader=no_store)
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert not isinstance(app.screen, MemoryScreen)
        assert any("Memory is off" in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_memory_screen(
    size: tuple[int, int],
    make_home: Callable[..., Home],
    embedder: SentenceEmbedder,
    snap_compare: SnapCompare,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Learned and changed at a fixed moment: the screen shows absolute dates.
    fixed = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    for part in ("store_writing", "store_reading"):  # MemoryStore's parts that read the clock
        monkeypatch.setattr(f"memory.graph.{part}.now", lambda: fixed)
    monkeypatch.setattr("memory.graph.db.now", lambda: fixed)
    app = HearthApp(make_home(), loader=scripted_loader(embedder))

    async def seeded(pilot: Pilot[None]) -> None:
        await _ready(pilot)
        store = _store(app)
        a = store.add("Sam lives in Porto, near the river", importance=0.8, pinned=True)
        b = store.add("Sam drinks green tea every morning", kind="preference")
        store.add("Sam was diagnosed with asthma", kind="event", flags=["sensitive"])
        store.link(a.id, b.id, "related")
        screen = await _open(pilot)
        await _highlight(pilot, screen, a.id)
        await app.workers.wait_for_complete()
        await pilot.pause()

    zone = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"  # local time, as drawn, is the same on every machine
    time.tzset()
    try:
        assert snap_compare(app, terminal_size=size, run_before=seeded)
    finally:
        if zone is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = zone
        time.tzset()


def test_a_key_the_person_chose_is_taken_from_the_default_that_had_it() -> None:
    defaults = {"chat.memory_screen": "ctrl+g", "chat.regenerate": "ctrl+r", "x.y": "n,escape"}
    keys = with_custom(defaults, {"chat.regenerate": "ctrl+g", "chat.note": "escape"})
    assert keys == {
        "chat.memory_screen": "",  # reached from the palette, or given another key
        "chat.regenerate": "ctrl+g",
        "x.y": "n",
        "chat.note": "escape",
    }
