"""The first chat on the embedded model says, once, in its welcome, that the model is tiny and
how to get a better one; never again, and never for another model."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from agent.startup import Home
from tui.app import HearthApp
from tui.widgets.welcome import TIP_SHOWN, Welcome, tiny_model_tip


def test_the_tip_is_for_the_embedded_model_once(tmp_path: Path, embedded_gguf: Path) -> None:
    assert tiny_model_tip(str(tmp_path / "qwen.gguf"), tmp_path) is None  # another model
    assert not (tmp_path / TIP_SHOWN).exists()
    tip = tiny_model_tip(str(embedded_gguf), tmp_path)
    assert tip is not None and "hearth models pull" in tip
    assert (tmp_path / TIP_SHOWN).exists()
    assert tiny_model_tip(str(embedded_gguf), tmp_path) is None  # said once


async def _welcome_once_loaded(pilot: Pilot[None]) -> str:
    app = pilot.app
    assert isinstance(app, HearthApp)
    deadline = time.monotonic() + 60
    # Loaded, and the welcome redrawn with what the memory holds (after the model loaded).
    while app.agent is None or "remembered" not in str(app.query_one(Welcome).render()):
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)
    return str(app.query_one(Welcome).render())


async def test_the_first_welcome_on_the_embedded_model_says_it_is_tiny(
    make_home: Callable[..., Home],
) -> None:
    home = make_home(sampling={"max_tokens": 4})
    async with HearthApp(home).run_test(size=(100, 30)) as pilot:
        said = await _welcome_once_loaded(pilot)
    assert "tiny built-in model" in said and "hearth models pull" in said
    home.close()  # the next chat opens the data dir again

    again = HearthApp(make_home(sampling={"max_tokens": 4}))
    async with again.run_test(size=(100, 30)) as pilot:
        said = await _welcome_once_loaded(pilot)
    assert "tiny" not in said and "Nothing remembered yet" in said
