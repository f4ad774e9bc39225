"""While the chat is open, other `hearth` commands still work: it lends them the data dir.

The chat is the real app (Pilot) on the real model and store; the commands are real processes,
run as a person would from another terminal."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static

from agent.startup import Home
from memory.coordination.lending import socket_path
from memory.errors import DataDirLockedError, NotFoundError
from tests.conftest import RunHearth
from tests.test_memory_panel import _answered
from tests.test_tui import _ready, _until, _views
from tui.app import HearthApp


async def test_memory_commands_and_say_run_beside_the_open_chat(
    make_home: Callable[..., Home],
    run_hearth: RunHearth,
    hearth_home: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="memory.coordination.lending")
    app = HearthApp(make_home(sampling={"max_tokens": 4}))
    async with app.run_test(size=(120, 36)) as pilot:
        await _ready(pilot)
        await _answered(pilot, app, "Hello there.")
        assert (socket_path(hearth_home).stat().st_mode & 0o777) == 0o600

        added = await asyncio.to_thread(
            run_hearth, "memory", "add", "I keep bees on the roof.", "--json", process=True
        )
        assert added.returncode == 0, added.stderr
        memory_id = json.loads(added.stdout)["id"]
        # The chat has the data dir back, its store reopened: the new memory is there.
        await _until(pilot, lambda: app.lent_to is None and app.agent is not None)
        assert "hearth memory add" in caplog.text  # the chat knew who borrowed it
        assert app.agent is not None and app.agent.store is not None
        assert memory_id in {m.id for m in app.agent.store.list()}

        # A failure is the same failure as alone: its line and its exit code.
        missing = await asyncio.to_thread(
            run_hearth, "memory", "forget", "m-nothing", "--yes", process=True
        )
        assert missing.returncode == NotFoundError.exit_code, missing.stderr
        assert "Traceback" not in missing.stderr

        said = await asyncio.to_thread(run_hearth, "say", "Do you know my bees?", process=True)
        assert said.returncode == 0, said.stderr
        assert said.stdout.strip()
        # The turn said from outside went on this chat's session, and shows here.
        await _until(
            pilot, lambda: any("Do you know my bees?" in v.text for v in _views(app, "user"))
        )
        status = str(app.query_one("#status", Static).render())
        assert "lent" not in status

        # And the chat goes on, recalling and remembering as before.
        await _answered(pilot, app, "I love hiking in the Alps.")
        assert app.agent.store is not None
        assert any("hiking" in m.text for m in app.agent.store.list())


async def test_a_second_chat_is_still_refused(
    make_home: Callable[..., Home], run_hearth: RunHearth
) -> None:
    app = HearthApp(make_home(sampling={"max_tokens": 4}))
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        second = await asyncio.to_thread(run_hearth, process=True, env={"TERM": "dumb"})
        assert second.returncode == DataDirLockedError.exit_code
        assert "another Hearth (pid" in second.stderr and "Traceback" not in second.stderr
        assert str(os.getpid()) in second.stderr
