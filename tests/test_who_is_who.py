"""Who is who: the system prompt names the person once their name is known, says the notes are
theirs and that Hearth is Hearth, and changes only when the name does (a stable prefix)."""

from __future__ import annotations

from collections.abc import Callable

from agent.startup import Home
from agent.turn import Agent
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.schemas import ModelInfo
from tests.scripted_backend import ScriptedBackend


def _system(agent: Agent, turn_id: int) -> str:
    prompt = agent.journal.message(turn_id).prompt
    assert prompt is not None and prompt[0].role == "system"
    return prompt[0].content


def test_with_a_name_memory_the_system_prompt_names_the_person(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    home = make_home()
    store = MemoryStore.open(
        home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
    )
    home.store = store
    backend = ScriptedBackend(["Nice to meet you."])
    info = ModelInfo(name=backend.name, path=str(backend.path), sha256="0" * 64)
    agent = Agent(home.settings, home.journal, backend, info, store)
    session = agent.session().id

    unnamed = _system(agent, agent.run_turn(session, "Hello there.").turn_id)
    assert "Hearth" in unnamed  # the persona
    assert "The notes are about the person you are talking with, not about you." in unnamed

    agent.run_turn(session, "Hi, I'm Ingrid.")  # the write path keeps the name
    assert any("Ingrid" in m.text for m in store.in_slot("user", "name"))
    named = [_system(agent, agent.run_turn(session, t).turn_id) for t in ("Hm.", "Ok.")]
    assert "You are talking with Ingrid." in named[0]
    assert "The notes are about Ingrid, not about you." in named[0]
    assert named[0] == named[1]  # byte-stable while the name stays
    assert named[0].startswith(home.settings.chat.persona)
