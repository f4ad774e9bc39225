"""`hearth serve` left idle consolidates the memory as the chat does: once per idle spell."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from agent.learn.consolidation import SleepReport
from agent.serving.api import Serving
from agent.serving.schemas import TurnRequest
from agent.startup import Home
from agent.turn import Agent


def _until(done: Callable[[], bool], limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_idle_server_sleeps_once_per_idle_spell(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> None:
    home, agent = make_agent(memory={"idle_sleep_minutes": 0.002}, sampling={"max_tokens": 8})
    serving = Serving.of(home, agent, "token")
    slept: list[tuple[SleepReport | None, str | None]] = []
    stopping = threading.Event()
    tending = threading.Thread(
        target=serving.tend, args=(stopping, lambda r, e: slept.append((r, e)), 0.02)
    )
    tending.start()
    try:
        _until(lambda: len(slept) == 1)
        time.sleep(0.5)  # still idle, the same spell: no second sleep
        assert len(slept) == 1
        serving.say(TurnRequest(text="I grow basil on my balcony."), None, threading.Event())
        _until(lambda: len(slept) == 2)  # a turn ended a spell; the next one sleeps again
    finally:
        stopping.set()
        tending.join(5)
    agent.settle()
    assert all(report is not None and error is None for report, error in slept)
