"""History plus memories at and past the window: the turn completes and its prompt fits; a
message past the window alone is refused before the turn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.startup import Home, load_agent, open_home
from memory.errors import TooManyTokensError
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from tests.conftest import RunHearth

N_CTX = 512
PINNED = ["I am allergic to hazelnuts.", "My sister Ana is a doctor in Porto."]
RECALLABLE = [
    f"My friend {n} plays the {i} on Sundays."
    for n, i in [("Rui", "cello"), ("Mei", "violin"), ("Omar", "drums"), ("Lea", "flute")]
]
NEWEST = "Who plays music with me on Sundays, and what should I never eat?"


@pytest.fixture
def home(hearth_home: Path, embedder: SentenceEmbedder) -> Iterator[Home]:
    opened = open_home(
        {"model": {"n_ctx": N_CTX}, "sampling": {"max_tokens": 2, "seed": 1}}, write_lock=True
    )
    opened.store = MemoryStore.open(
        opened.paths, opened.settings, write=True, lock=opened.lock, embedder=embedder
    )
    yield opened
    opened.close()


@pytest.mark.parametrize("times", [1, 2])
def test_history_and_memories_at_and_past_the_window_are_trimmed_to_fit(
    home: Home, times: int
) -> None:
    store = home.store
    assert store is not None
    for text in PINNED:
        store.add(text, pinned=True)
    for text in RECALLABLE:
        store.add(text)
    agent = load_agent(home)
    session = agent.session(new=True)

    # History (with the memories the turn will show) up to `times` the whole window.
    memory_tokens = sum(agent.backend.count_text(t) for t in PINNED + RECALLABLE)
    history_tokens, turn = memory_tokens, 0
    while history_tokens < times * N_CTX:
        turn += 1
        said = f"Turn {turn}: the walk by the river was long and the light was golden."
        answer = f"Reply {turn}: that sounds like a lovely, quiet evening by the water."
        user = agent.journal.append(session.id, "user", said)
        agent.journal.append(session.id, "assistant", answer, parent_id=user.id)
        history_tokens += agent.backend.count_text(said) + agent.backend.count_text(answer)

    result = agent.run_turn(session.id, NEWEST)

    assert result.status == "complete"
    assert result.trimmed, "history past the window must be trimmed"
    prompt = agent.journal.message(result.turn_id).prompt
    assert prompt is not None
    used = agent.backend.count_tokens(prompt)
    assert used <= agent.budget < N_CTX
    assert result.prompt_tokens + result.completion_tokens <= N_CTX
    # Pinned memories stay in the system prompt, the newest message (with its notes) last.
    assert prompt[0].role == "system"
    assert all(text.rstrip(".") in prompt[0].content for text in PINNED)
    assert prompt[-1].role == "user" and NEWEST in prompt[-1].content
    assert result.recalled, "recalled memories are shown with the newest message"


def test_a_message_past_the_window_is_refused_before_the_turn_exit_26(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    """150,000 characters: under chat.max_message_chars (the paste guard), far past the
    model's window. Refused in one line naming the limit in tokens, nothing journaled, never
    an empty reply marked complete."""
    said = run_hearth("say", "--json", "Hello there.")
    assert said.returncode == 0, said.stderr
    before = Journal(hearth_home / "journal.sqlite3").counts()
    long = "The garden in spring is full of green light and small birds. " * 2400
    assert 140_000 < len(long) < 200_000
    refused = run_hearth("say", "--json", long)
    assert refused.returncode == TooManyTokensError.exit_code == 26
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "tokens" in lines[0] and "model.n_ctx" in lines[0], lines
    assert refused.stdout == ""
    assert Journal(hearth_home / "journal.sqlite3").counts() == before
