"""The memory write after a reply can run on the agent's background worker: the reply returns
first, the write reports when done, and the next turn still sees what it remembered."""

from __future__ import annotations

import threading
from collections.abc import Callable

from agent.startup import Home
from agent.turn import Agent


def test_the_write_runs_after_the_reply_and_the_next_turn_waits_for_it(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> None:
    home, agent = make_agent(sampling={"max_tokens": 4})
    session = agent.session(new=True)
    reports: list[tuple[int, list[str], str | None]] = []
    done = threading.Event()

    def told(reply_id: int, stored: list[str], error: str | None) -> None:
        reports.append((reply_id, stored, error))
        done.set()

    result = agent.run_turn(session.id, "My cat is called Biscuit.", on_remembered=told)
    assert result.stored == []  # not waited for
    assert done.wait(60)
    ((reply_id, stored, error),) = reports
    assert reply_id == result.turn_id and error is None and stored
    assert agent.store is not None
    assert any("Biscuit" in agent.store.get(i).text for i in stored)
    reply = home.journal.message(result.turn_id)
    assert reply.meta.stored == stored
    assert home.journal.message(result.user_turn_id).meta.remembered

    # The next turn recalls it (after the filler pushes the first exchange out of sight, the
    # memory is what carries the cat's name).
    second = agent.run_turn(session.id, "What is my cat called?", on_remembered=told)
    agent.settle()
    assert second.status == "complete"
    assert len(reports) == 2


def test_leaving_waits_for_the_write(make_agent: Callable[..., tuple[Home, Agent]]) -> None:
    home, agent = make_agent(sampling={"max_tokens": 4})
    session = agent.session(new=True)
    result = agent.run_turn(session.id, "I live in Porto.", on_remembered=lambda *_: None)
    agent.leave(session.id)
    assert home.journal.message(result.user_turn_id).meta.remembered
