"""Snapshots of the main screens at 80x24 and 120x40: the welcome, a chat with finished replies,
the keys screen. Replies come from a named fake backend (tests/scripted_backend.py); the
journal, the memory and the app are real."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from agent.startup import Home
from memory.graph.embedder import SentenceEmbedder
from tests.scripted_backend import scripted_loader
from tui.app import HearthApp
from tui.widgets.chat_input import ChatInput

SnapCompare = Callable[..., bool]
SIZES = [(80, 24), (120, 40)]


async def _settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, HearthApp)
    app.query_one(ChatInput).cursor_blink = False  # drawn or not depending on the moment
    while app.agent is None or app.generating or app.pending:
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()
    await asyncio.to_thread(app.agent.settle)  # the memory write after the last reply
    await pilot.pause()


def _app(make_home: Callable[..., Home], embedder: SentenceEmbedder) -> HearthApp:
    return HearthApp(make_home(), loader=scripted_loader(embedder))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_welcome(
    size: tuple[int, int],
    make_home: Callable[..., Home],
    embedder: SentenceEmbedder,
    snap_compare: SnapCompare,
) -> None:
    run_before: Callable[[Pilot[None]], Awaitable[None]] = _settle
    assert snap_compare(_app(make_home, embedder), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_chat_with_finished_replies(
    size: tuple[int, int],
    make_home: Callable[..., Home],
    embedder: SentenceEmbedder,
    snap_compare: SnapCompare,
) -> None:
    async def chat(pilot: Pilot[None]) -> None:
        await _settle(pilot)
        for text in ["Hi, I'm Sam. I drink green tea every morning.", "Show me some code?"]:
            pilot.app.query_one(ChatInput).insert(text)
            await pilot.press("enter")
            await _settle(pilot)
        await pilot.press("ctrl+r")  # a second version of the last reply: 2/2
        await _settle(pilot)
        await pilot.press("alt+up", "plus")  # the reply selected and liked
        await _settle(pilot)

    assert snap_compare(_app(make_home, embedder), terminal_size=size, run_before=chat)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_keys_screen(
    size: tuple[int, int],
    make_home: Callable[..., Home],
    embedder: SentenceEmbedder,
    snap_compare: SnapCompare,
) -> None:
    async def keys(pilot: Pilot[None]) -> None:
        await _settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(_app(make_home, embedder), terminal_size=size, run_before=keys)
