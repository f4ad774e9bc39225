"""The chat keeps what the person said as `said` memories: their words only, never the reply,
reached by forget, reject and supersede, none off the record, one per message in a recall."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from agent.recall import only_asks
from agent.startup import Home
from agent.turn import Agent
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import Hit, Memory
from memory.graph.said import one_per_source
from memory.graph.store import MemoryStore
from memory.journal.schemas import ModelInfo
from tests.scripted_backend import ScriptedBackend

# A small model's reply that borrows the person's life: it must never come back as a memory.
BORROWED = "I'm Harlon, the beekeeper, and I live in Madrid with my dog Lupo."
LONG = (
    "Hi, my name is Marta. I keep bees up in the hills of Asturias. "
    "I have two dogs called Lupo and Nieve."
)


@pytest.fixture
def chat(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> tuple[Home, Agent, MemoryStore]:
    """A real data dir, journal and memory store; the reply words come from a script."""
    home = make_home()
    store = MemoryStore.open(
        home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
    )
    home.store = store
    backend = ScriptedBackend([BORROWED])
    info = ModelInfo(name=backend.name, path=str(backend.path), sha256="0" * 64)
    return home, Agent(home.settings, home.journal, backend, info, store), store


def _said(store: MemoryStore, *, valid_only: bool = True) -> list[Memory]:
    return store.list(kinds=["said"], valid_only=valid_only)


Chat = tuple[Home, Agent, MemoryStore]


def test_said_keeps_the_persons_words_never_the_reply(chat: Chat) -> None:
    home, agent, store = chat
    session = agent.session(new=True).id
    first = agent.run_turn(session, "I drive an old green Volvo estate.")
    second = agent.run_turn(session, LONG)

    said = _said(store)
    texts = sorted(m.text for m in said)
    # The short message whole; the long one whole and each of its sentences.
    assert texts == sorted(
        [
            "I drive an old green Volvo estate.",
            LONG,
            "Hi, my name is Marta.",
            "I keep bees up in the hills of Asturias.",
            "I have two dogs called Lupo and Nieve.",
        ]
    )
    for memory in said:
        assert memory.subject == "user" and memory.valid_from is not None
        assert memory.provenance in ([first.user_turn_id], [second.user_turn_id])
        assert "Marta:" not in memory.text  # not signed: the speaker is a field
    # No memory of any kind holds the reply's words.
    everything = store.list(valid_only=False)
    assert not [m for m in everything if "Harlon" in m.text or "Madrid" in m.text]
    assert home.journal.message(second.turn_id).text == BORROWED  # the reply was there

    # What was learned from the message points at the words it came from.
    name = store.in_slot("user", "name")[-1]
    linked = {e.dst for e in store.edges(name.id) if e.type == "derived_from" and e.src == name.id}
    by_id = {m.id: m.text for m in said}
    assert {by_id[i] for i in linked} == {LONG, "Hi, my name is Marta."}
    # The previous message is its context.
    whole = next(m for m in said if m.text == LONG)
    volvo = next(m for m in said if m.text.startswith("I drive"))
    assert any(e.dst == volvo.id and e.type == "related" for e in store.edges(whole.id))

    # Facts are counted and reported; the kept words are not.
    assert not set(second.stored) & set(by_id)
    assert store.count() == len(store.list(kinds=None)) - len(said)
    assert store.count(said=True) == store.count() + len(said)


def test_memory_list_shows_said_only_when_asked(
    chat: tuple[Home, Agent, MemoryStore], run_hearth: Callable[..., object]
) -> None:
    home, agent, _store = chat
    agent.run_turn(agent.session(new=True).id, LONG)
    home.close()

    def ids(*args: str) -> set[str]:
        result = run_hearth("memory", "list", "--json", *args)
        return {m["id"] for m in json.loads(result.stdout)}  # type: ignore[attr-defined]

    default, said, every = ids(), ids("--kind", "said"), ids("--all")
    assert said and not default & said
    assert default and default | said <= every


def test_forget_and_reject_reach_the_words(chat: tuple[Home, Agent, MemoryStore]) -> None:
    home, agent, store = chat
    agent.run_turn(agent.session(new=True).id, LONG)
    name = store.in_slot("user", "name")[-1]
    report = store.forget(name.id, home.journal)
    gone = {m.text for m in _said(store, valid_only=False)}
    # The words it was learned from went with it, and the report lists them ...
    assert LONG not in gone and "Hi, my name is Marta." not in gone
    assert len(report.memory_ids) == 3 and report.memory_ids[0] == name.id
    # ... the message's other sentences stay.
    assert "I keep bees up in the hills of Asturias." in gone

    dogs = next(m for m in store.list() if "Lupo" in m.text and m.kind != "said")
    store.reject(dogs.id, home.journal)
    assert not [m for m in store.list(valid_only=False) if "Lupo" in m.text]
    # Said again, the rejected sentence is kept neither as a fact nor as words.
    agent.run_turn(agent.session(new=True).id, "I have two dogs called Lupo and Nieve.")
    assert not [m for m in store.list(valid_only=False) if "Lupo" in m.text]


def test_rejecting_the_words_rejects_what_was_learned_from_them(chat: Chat) -> None:
    home, agent, store = chat
    agent.run_turn(agent.session(new=True).id, LONG)
    dogs = [m for m in store.list() if "Lupo" in m.text and m.kind != "said"]
    words = next(m for m in _said(store) if m.text == "I have two dogs called Lupo and Nieve.")
    assert dogs  # learned from that sentence
    report = store.reject(words.id, home.journal)
    # The fact learned from those words went with them, and the report lists it ...
    assert {m.id for m in dogs} <= set(report.memory_ids)
    assert not [m for m in store.list(valid_only=False) if "Lupo" in m.text]
    # ... what the message's other sentences taught stays.
    assert store.in_slot("user", "name") and any("bees" in m.text for m in _said(store))
    # Said again, neither the words nor the fact is learned again.
    agent.run_turn(agent.session(new=True).id, "I have two dogs called Lupo and Nieve.")
    assert not [m for m in store.list(valid_only=False) if "Lupo" in m.text]


def test_a_new_value_expires_the_old_words(chat: tuple[Home, Agent, MemoryStore]) -> None:
    _home, agent, store = chat
    session = agent.session(new=True).id
    agent.run_turn(session, "I live in Oviedo.")
    agent.run_turn(session, "I live in Gijón now.")
    current = {m.text for m in _said(store)}
    kept = {m.text for m in _said(store, valid_only=False)}
    assert "I live in Gijón now." in current
    assert "I live in Oviedo." not in current and "I live in Oviedo." in kept


def test_off_the_record_keeps_nothing(chat: tuple[Home, Agent, MemoryStore]) -> None:
    _home, agent, store = chat
    agent.run_turn(agent.session(new=True).id, LONG, use_memory=False)
    assert store.count(said=True) == 0


def test_recall_shows_one_memory_per_message(chat: tuple[Home, Agent, MemoryStore]) -> None:
    _home, agent, store = chat
    agent.run_turn(agent.session(new=True).id, LONG)
    asked = agent.run_turn(agent.session(new=True).id, "What are my dogs called, Lupo and who?")
    recalled = [store.get(r.id) for r in asked.recalled]
    assert recalled
    said = [m for m in recalled if m.kind == "said"]
    learned_from = {i for m in recalled if m.kind != "said" for i in m.provenance}
    # Each message once: its words or what was learned from it, never both.
    assert len(said) <= 1 and not (said and set(said[0].provenance) & learned_from)


def _hit(memory_id: str, kind: str, source: int, score: float) -> Hit:
    memory = Memory.model_validate(
        {
            "id": memory_id,
            "kind": kind,
            "text": memory_id,
            "provenance": [source],
            "learned_at": datetime(2026, 12, 7, tzinfo=UTC),
        }
    )
    return Hit(memory=memory, score=score, recency=1.0, importance=0.5)


def test_one_per_source_keeps_the_better_ranked() -> None:
    hits = [
        _hit("fact-1", "fact", 1, 0.9),
        _hit("said-1", "said", 1, 0.8),
        _hit("said-2", "said", 2, 0.7),
        _hit("said-2b", "said", 2, 0.65),
        _hit("fact-2", "fact", 2, 0.6),
        _hit("fact-1b", "fact", 1, 0.5),
        _hit("episode", "episode", 3, 0.4),
    ]
    kept = [h.memory.id for h in one_per_source(hits)]
    # Two facts of one message both stay (the rule is between words and what they taught).
    assert kept == ["fact-1", "said-2", "fact-1b", "episode"]


def test_a_later_extraction_links_to_the_kept_words(chat: Chat) -> None:
    """`hearth memory extract` (another extractor over the journal) links what it learns to
    the words the chat kept of each message, so forgetting it reaches them too."""
    from agent.learn.extract import Candidate
    from agent.learn.history import extract_history, since

    home, agent, store = chat
    agent.run_turn(agent.session(new=True).id, "I drive an old green Volvo estate.")

    def volvo(text: str, *, speaker: str, when: datetime) -> list[Candidate]:
        return [
            Candidate(
                kind="fact",
                text=f"{speaker} drives an old green Volvo estate",
                quote="I drive an old green Volvo estate",
                subject=speaker,
            )
        ]

    messages = since(home.journal, datetime(2000, 1, 1, tzinfo=UTC))
    (made,) = extract_history(
        home.journal, store, messages, extract=volvo, tag="test", user_name="Sam"
    )
    (said,) = _said(store)
    assert any(e.dst == said.id and e.type == "derived_from" for e in store.edges(made))
    store.forget(made, home.journal)
    assert _said(store) == []


def _kept(text: str, kind: str = "said") -> Memory:
    return Memory.model_validate(
        {"id": "m_1", "kind": kind, "text": text, "subject": "user", "importance": 0.5,
         "learned_at": "2026-12-07T10:00:00Z"}
    )  # fmt: skip


def test_a_question_alone_is_kept_but_not_recalled() -> None:
    assert only_asks(_kept("What's my name?"))
    assert only_asks(_kept("  Where does my sister live? "))
    assert not only_asks(_kept("I moved to Oslo. Do you like it?"))  # it tells something too
    assert not only_asks(_kept("My sister lives in Pune."))
    assert not only_asks(_kept("What's my name?", kind="fact"))  # only the person's words


def test_a_question_asked_before_is_not_shown_as_a_note(chat: Chat) -> None:
    _home, agent, store = chat
    agent.run_turn(agent.session(new=True).id, "What are my dogs called?")
    agent.run_turn(agent.session(new=True).id, "I have two dogs called Lupo and Nieve.")
    asked = next(m for m in _said(store) if m.text == "What are my dogs called?")  # kept
    result = agent.run_turn(agent.session(new=True).id, "What are my dogs called again?")
    recalled = {r.id for r in result.recalled}
    assert recalled and asked.id not in recalled
