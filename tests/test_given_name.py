"""The person's name as data: kept in the names table at every change to the name memory, read
in one query a turn, filled once from the name memories of an older data dir."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

import agent.learn.person as person
from agent.learn.person import person_name
from agent.learn.write_path import remember
from memory.clock import now
from memory.graph.db.migrations import MIGRATIONS
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.settings import Paths, Settings


@pytest.fixture
def store(paths: Paths, embedder: SentenceEmbedder) -> Iterator[MemoryStore]:
    opened = MemoryStore.open(paths, Settings(), write=True, embedder=embedder)
    yield opened
    opened.close()


def say(store: MemoryStore, text: str, message_id: int = 1) -> None:
    remember(store, text, message_id=message_id, speaker="you", when=now(), user_speaker="you")


def given_rows(store: MemoryStore) -> list[tuple[str, str]]:
    """(name, memory id) of every name kept as given by a name memory."""
    rows = store._db._db.execute(
        "SELECT name, given_in FROM names WHERE given_in IS NOT NULL ORDER BY name"
    ).fetchall()
    return [(r["name"], r["given_in"]) for r in rows]


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that parsed memory text instead of reading the kept name fails."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the name was parsed, not read")

    monkeypatch.setattr(person, "read_name", refuse)


def test_a_name_said_is_kept_and_read_without_parsing(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    say(store, "Hi, I'm Priya Sharma.")
    [memory] = store.in_slot("user", "name")
    assert given_rows(store) == [("Priya Sharma", memory.id)]
    no_parsing(monkeypatch)
    assert person_name(store, "you") == "Priya Sharma"
    # A configured name wins, without a look at the store.
    assert person_name(store, "Sam") == "Sam"


def test_a_superseding_name_is_the_name(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    say(store, "Hi, I'm Raju.")
    say(store, "Sorry, my name is Priya, not Raju.", message_id=2)
    [current] = store.in_slot("user", "name")
    assert ("Priya", current.id) in given_rows(store)
    no_parsing(monkeypatch)
    assert person_name(store, "you") == "Priya"


def test_superseding_by_hand_keeps_the_slot_and_the_name(store: MemoryStore) -> None:
    say(store, "I'm Raju.")
    [old] = store.in_slot("user", "name")
    new = store.supersede(old.id, "The person's name is Ravi")
    assert new.slot == "name"
    assert person_name(store, "you") == "Ravi"


def test_an_edit_of_the_name_memory_changes_the_name(store: MemoryStore) -> None:
    say(store, "I'm Priya.")
    [memory] = store.in_slot("user", "name")
    store.update_text(memory.id, "The person's name is Pria")
    assert given_rows(store) == [("Pria", memory.id)]
    assert person_name(store, "you") == "Pria"
    # Edited to words that give no name in the write path's wording: none is kept by the edit;
    # the first read finds it in the words said (the quote, as before names were kept).
    store.update_text(memory.id, "Call me whatever")
    assert given_rows(store) == []
    assert person_name(store, "you") == "Priya"
    assert given_rows(store) == [("Priya", memory.id)]


@pytest.mark.parametrize("how", ["forget", "reject"])
def test_forget_and_reject_take_the_name(store: MemoryStore, how: str) -> None:
    say(store, "Hi, I'm Priya.")
    [memory] = store.in_slot("user", "name")
    getattr(store, how)(memory.id)
    assert given_rows(store) == []
    assert person_name(store, "you") is None


def test_forgetting_another_memory_saying_the_name_keeps_it(store: MemoryStore) -> None:
    say(store, "Hi, I'm Priya.")
    other = store.add("Priya's bike is red")
    store.forget(other.id)
    assert person_name(store, "you") == "Priya"


def test_an_older_data_dir_fills_the_name_once(
    paths: Paths, embedder: SentenceEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A memory database of schema 5, its name memory stored as said (before memory text was
    # written about the person).
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(paths.memory_db)
    for _name, steps in MIGRATIONS[:5]:
        for step in steps:
            old.execute(step)
    old.execute(
        "INSERT INTO memories(id, kind, text, subject, slot, learned_at)"
        " VALUES ('m_1', 'fact', 'I''m Priya', 'user', 'name', '2026-01-01T00:00:00+00:00')"
    )
    old.execute("INSERT INTO names(name, subject) VALUES ('Priya', 'user')")
    old.execute("PRAGMA user_version = 5")
    old.commit()
    old.close()
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as reader:
        # Read-only: read from the memory, nothing written.
        assert person_name(reader, "you") == "Priya"
        assert given_rows(reader) == []
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        assert person_name(store, "you") == "Priya"
        assert given_rows(store) == [("Priya", "m_1")]
        no_parsing(monkeypatch)
        assert person_name(store, "you") == "Priya"
