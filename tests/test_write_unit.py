"""One unit of work per turn for the memory write: one SQLite transaction, one index sync after
it, dense lookups inside seeing the unit's own memories, and nothing half written after an
error or a kill in the middle."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import agent.learn.said as said_module
from agent.learn.said import learn_message
from agent.learn.write_path import remember
from agent.startup import load_agent, open_home
from memory.clock import now
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.graph.vector_index import VectorIndex
from memory.journal.journal import Journal
from memory.settings import Paths, Settings
from tests.conftest import RunHearth

FAULT = "HEARTH_TESTING__FAULT_POINT"


@pytest.fixture
def store(paths: Paths, embedder: SentenceEmbedder) -> Iterator[MemoryStore]:
    opened = MemoryStore.open(paths, Settings(), write=True, embedder=embedder)
    yield opened
    opened.close()


def consistent(store: MemoryStore) -> int:
    """The memories, after checking SQLite is intact, nothing is queued for the index and the
    index holds exactly SQLite's ids."""
    db = store._db._db
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM index_pending").fetchone()[0] == 0
    in_db = store._db.all_ids()
    assert store._keeper.for_write().ids() == in_db
    return len(in_db)


def test_a_turns_write_is_one_transaction_and_one_index_sync(
    store: MemoryStore, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(paths.journal)
    session = journal.create_session().id
    journal.append(session, "user", "Hi there.")
    message = journal.append(
        session, "user", "I'm Priya. My sister Anjali lives in Pune. I work as a nurse."
    )
    statements: list[str] = []
    store._db._db.set_trace_callback(statements.append)
    upserts: list[list[str]] = []
    upsert = VectorIndex.upsert

    def counted(index: VectorIndex, ids: Sequence[str], vectors: Any) -> None:
        upserts.append(list(ids))
        upsert(index, ids, vectors)

    monkeypatch.setattr(VectorIndex, "upsert", counted)
    with store.unit():
        actions = learn_message(store, journal, message, speaker="you", when=now())
        store.mark_recalled([a.memory_id for a in actions])
    store._db._db.set_trace_callback(None)
    # Begun once, committed once: one sync to disk for every change of the turn ...
    commit = statements.index("COMMIT")
    unit, after = statements[:commit], statements[commit + 1 :]
    writes = [s for s in unit if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(actions) >= 3 and len(writes) > 10
    assert sum(s.startswith("BEGIN") for s in unit) == 1
    # ... then, once the index has them, one small transaction clears their queue entries.
    changes = [s for s in after if not s.startswith("SELECT")]
    assert changes[0] == "BEGIN IMMEDIATE" and changes[-1] == "COMMIT"
    assert all(s.startswith("DELETE FROM index_pending") for s in changes[1:-1])
    # The index follows in one call, with every memory the turn made.
    assert len(upserts) == 1 and set(upserts[0]) == store._db.all_ids()
    assert consistent(store) == len(upserts[0])
    journal.close()


def test_a_memory_made_inside_the_unit_is_found_by_meaning_before_the_index_has_it(
    store: MemoryStore,
) -> None:
    with store.unit():
        made = store.add("Ana is allergic to peanuts")
        assert store._keeper.for_write().ids() == set()  # not synced yet
        query = "Which foods make Ana ill?"
        hits = store.search_by_vector(query, store.embed([query])[0], 5)
        found = {h.memory.id: h for h in hits}
        dense = found[made.id].dense if made.id in found else None
        assert dense is not None and dense > 0.3
    assert consistent(store) == 1


def test_reconciliation_inside_one_unit_finds_the_candidate_made_a_moment_before(
    store: MemoryStore,
) -> None:
    # Two messages written in one unit: the second says what the first made, in more words,
    # and updates it instead of adding a second memory (as when each committed on its own).
    with store.unit():
        first = remember(store, "I love green tea.", message_id=1, speaker="you", when=now())
        second = remember(
            store, "I love green tea in the morning.", message_id=2, speaker="you", when=now()
        )
    assert [a.action for a in first] == ["add"]
    assert [a.action for a in second] in (["update"], ["noop"])
    assert second[0].memory_id == first[0].memory_id
    assert consistent(store) == 1
    assert store.get(first[0].memory_id).provenance == [1, 2]


def test_an_error_in_the_middle_leaves_nothing_of_the_unit(
    store: MemoryStore, paths: Paths, embedder: SentenceEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add("I live in Lisbon")
    journal = Journal(paths.journal)
    session = journal.create_session().id
    message = journal.append(session, "user", "My cat is called Miso and I work as a nurse.")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk went away")

    # The facts are written, then keeping the words fails.
    monkeypatch.setattr(said_module, "keep_said", broken)
    with pytest.raises(RuntimeError), store.unit():
        learn_message(store, journal, message, speaker="you", when=now())
    assert consistent(store) == 1
    assert [m.text for m in store.list()] == ["I live in Lisbon"]
    store.close()
    journal.close()
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as reopened:
        assert consistent(reopened) == 1
        assert [m.text for m in reopened.list()] == ["I live in Lisbon"]


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in db.execute(sql)]
    finally:
        db.close()


def test_a_kill_in_the_middle_of_the_write_leaves_nothing_and_is_remembered_later(
    run_hearth: RunHearth, hearth_home: Path, embedder: SentenceEmbedder
) -> None:
    killed = run_hearth(
        "say",
        "My cat is called Miso. I work as a nurse.",
        env={FAULT: "mid-memory-write", "HEARTH_SAMPLING__MAX_TOKENS": "2"},
        process=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    memory_db = hearth_home / "memory.sqlite3"
    assert _query(memory_db, "PRAGMA integrity_check") == [("ok",)]
    # The facts were written inside the unit, never committed: no memory, nothing queued.
    assert _query(memory_db, "SELECT count(*) FROM memories") == [(0,)]
    assert _query(memory_db, "SELECT count(*) FROM index_pending") == [(0,)]

    home = open_home({"sampling": {"max_tokens": 1}}, write_lock=True)
    try:
        home.store = MemoryStore.open(
            home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
        )
        assert home.journal.message(1).meta.remembered is False
        load_agent(home)  # catches up the missed write, whole
        assert home.journal.message(1).meta.remembered is True
        assert consistent(home.store) >= 2
    finally:
        home.close()
