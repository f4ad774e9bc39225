"""Key-to-echo latency of the chat (`hearth bench keys`): how long a typed key takes to reach
the input when idle, while a reply streams, and while the memory write after it runs."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel
from textual import events
from textual.pilot import Pilot

from agent.access import scratch_home
from memory.settings import Settings, resolve_paths
from tui.app import HearthApp
from tui.widgets.chat_input import ChatInput
from tui.widgets.messages import MessageView

MESSAGES = [
    "I like green tea in the morning and my cat is called Biscuit.",
    "My sister Ana lives in Leeds and works as a teacher.",
    "I'm learning the guitar and I play every evening after work.",
    "I'm allergic to hazelnuts, so desserts are tricky for me.",
    "Next spring I want to run a half marathon with my friend Joe.",
]


class Phase(BaseModel):
    keys: int
    p50_ms: float
    p95_ms: float
    max_ms: float


class KeysBench(BaseModel):
    """`hearth bench keys --json`."""

    model: str
    reply_tokens: int
    idle: Phase
    streaming: Phase
    remembering: Phase


def _phase(samples: list[float]) -> Phase:
    if not samples:
        return Phase(keys=0, p50_ms=0.0, p95_ms=0.0, max_ms=0.0)
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Phase(
        keys=len(samples), p50_ms=statistics.median(ordered), p95_ms=p95, max_ms=ordered[-1]
    )


async def _echo(pilot: Pilot[None], box: ChatInput) -> float:
    """Post one key as the terminal driver does; milliseconds until the input holds it (the
    app's own queue and handlers, not the terminal's drawing)."""
    before = len(box.text)
    started = time.perf_counter()
    pilot.app.post_message(events.Key("x", "x"))
    while len(box.text) == before:
        await asyncio.sleep(0.0005)
    return (time.perf_counter() - started) * 1000


async def _drive(
    app: HearthApp, keys: int, messages: list[str], progress: Callable[[str], None]
) -> KeysBench:
    idle: list[float] = []
    streaming: list[float] = []
    remembering: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        while not app.warm.is_set():  # the embedder's import stalls everything while it runs
            await pilot.pause(0.05)
        await pilot.pause()  # ModelLoaded handled: the app has its agent
        agent = app.agent
        if agent is None:
            raise RuntimeError("the model did not load; `hearth doctor` says why")
        box = app.query_one(ChatInput)
        for _ in range(keys):
            idle.append(await _echo(pilot, box))
        for i, message in enumerate(messages, start=1):
            progress(f"message {i}/{len(messages)}")
            box.clear()
            box.insert(message)
            replies = len(app.query(MessageView))
            # Posted, not pressed: Pilot's press would wait for the app to idle, reply and all.
            app.post_message(events.Key("enter", None))
            while not app.generating and len(app.query(MessageView)) < replies + 2:
                await asyncio.sleep(0.001)
            while app.generating:
                streaming.append(await _echo(pilot, box))
                await asyncio.sleep(0.05)  # about a fast typist's pace
            # The write runs on the agent's worker after the reply: type through it.
            while agent.remembering:
                remembering.append(await _echo(pilot, box))
                await asyncio.sleep(0.01)
            await asyncio.to_thread(agent.settle)
            box.clear()
    assert app.agent is not None
    return KeysBench(
        model=Path(app.agent.model.path).stem,
        reply_tokens=app.home.settings.sampling.max_tokens,
        idle=_phase(idle),
        streaming=_phase(streaming),
        remembering=_phase(remembering),
    )


def run_keys_bench(
    settings: Settings,
    *,
    reply_tokens: int,
    keys: int,
    progress: Callable[[str], None],
    messages: int = len(MESSAGES),
) -> KeysBench:
    """The real chat app, headless (no terminal drawing), in a temporary data dir."""
    settings = settings.model_copy(
        update={
            # A fixed length (end of sequence suppressed): every reply streams as long.
            "sampling": settings.sampling.model_copy(
                update={
                    "max_tokens": reply_tokens,
                    "temperature": 0.0,
                    "ignore_eos": True,
                    "stop_loops": False,
                }
            )
        }
    )
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        paths = resolve_paths().model_copy(
            update={"data_dir": Path(tmp), "config_file": Path(tmp) / "config.toml"}
        )
        home = scratch_home(paths, settings)
        try:
            app = HearthApp(home, new=True)
            return asyncio.run(_drive(app, keys, MESSAGES[:messages], progress))
        finally:
            home.close()
