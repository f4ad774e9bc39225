"""Rejecting a memory: forgotten, kept only as keyed hashes, and never learned again from the
same words; the turn journals why each memory was recalled."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.recall import shown_line_pattern
from agent.startup import Home
from agent.turn import Agent
from memory.errors import NotFoundError
from memory.graph.rejections import normalised, source_sentence
from memory.graph.store import ACCEPTED_IMPORTANCE
from memory.journal.schemas import MessageMeta, RecallNote
from tests.conftest import RunHearth

MakeAgent = Callable[..., tuple[Home, Agent]]


def _memory_files(data_dir: Path) -> list[Path]:
    """Every file the memory graph writes: the database (with its -wal), the index, the key."""
    found = [p for p in data_dir.glob("memory.sqlite3*") if p.is_file()]
    found += [p for p in (data_dir / "chroma").rglob("*") if p.is_file()]
    return [*found, data_dir / "rejections.key"]


def _hiking(agent: Agent) -> list[str]:
    assert agent.store is not None
    return [m.text for m in agent.store.list(valid_only=False) if "hiking" in m.text.lower()]


def test_a_rejected_memory_is_not_learned_again_from_the_same_sentence(
    make_agent: MakeAgent,
) -> None:
    home, agent = make_agent(sampling={"max_tokens": 2})
    store = agent.store
    assert store is not None
    first = agent.run_turn(agent.session(new=True).id, "I love hiking in the Alps.")
    (memory_id,) = first.stored
    assert "hiking" in store.get(memory_id).text

    said = store.list(kinds=["said"])
    assert [m.text for m in said] == ["I love hiking in the Alps."]
    report = store.reject(memory_id, home.journal, shown_as=shown_line_pattern)

    # The memory, then the person's words it was learned from (the `said` memory).
    assert report.memory_ids == [memory_id, said[0].id]
    with pytest.raises(NotFoundError):
        store.get(memory_id)
    # Linked to the words it was learned from when it was made.
    assert [e.action for e in store.history(memory_id)] == ["add", "link", "reject", "forget"]
    # Only hashes: no file of the memory graph holds the words, in any case.
    for path in _memory_files(home.paths.data_dir):
        assert b"hiking" not in path.read_bytes().lower(), path
    assert stat.S_IMODE(home.paths.rejections_key.stat().st_mode) == 0o600
    # Other words from that very sentence are refused too; the same words elsewhere are not.
    assert store.rejected("the Alps", said_in="I love hiking in the Alps.")
    assert not store.rejected("the Alps", said_in="We went to the Alps.")

    again = agent.run_turn(agent.session(new=True).id, "I love hiking in the Alps.")
    assert again.stored == [] and _hiking(agent) == []
    # The same words in another sentence are the same rejected memory.
    other = agent.run_turn(agent.session(new=True).id, "Guess what! I love hiking in the Alps")
    assert other.stored == [] and _hiking(agent) == []
    # Anything else is learned as before.
    fresh = agent.run_turn(agent.session(new=True).id, "I love swimming in the sea.")
    assert [store.get(i).text for i in fresh.stored] == ["The person loves swimming in the sea"]
    for path in _memory_files(home.paths.data_dir):
        assert b"hiking" not in path.read_bytes().lower(), path


def test_an_edited_memory_rejected_keeps_its_first_words_out_too(make_agent: MakeAgent) -> None:
    home, agent = make_agent(sampling={"max_tokens": 2})
    store = agent.store
    assert store is not None
    first = agent.run_turn(agent.session(new=True).id, "My favourite color is teal.")
    (memory_id,) = first.stored
    store.update_text(memory_id, "Sam likes the colour teal")
    store.reject(memory_id, home.journal)
    again = agent.run_turn(agent.session(new=True).id, "My favourite color is teal.")
    assert again.stored == []
    assert not [m for m in store.list(valid_only=False) if "teal" in m.text]


def test_nothing_rejected_reads_no_key_and_makes_none(make_agent: MakeAgent) -> None:
    home, agent = make_agent(sampling={"max_tokens": 2})
    assert agent.store is not None
    assert not agent.store.rejected("I love hiking")
    agent.run_turn(agent.session(new=True).id, "I love hiking.")
    assert not home.paths.rejections_key.exists()


def test_the_source_sentence_and_normal_form() -> None:
    message = "Hi there. I love hiking in the  Alps, really! And you?"
    assert source_sentence(message, "I love hiking in the Alps") == (
        "I love hiking in the  Alps, really!"
    )
    assert source_sentence(message, "I hate hiking") is None
    assert normalised("  I LOVE hiking\u2019s  joys!! ") == "i love hiking's joys"


def test_accept_raises_importance_and_is_recorded(make_agent: MakeAgent) -> None:
    _, agent = make_agent()
    store = agent.store
    assert store is not None
    memory = store.add("I like green tea", importance=0.5)
    assert not store.accepted(memory.id)
    accepted = store.accept(memory.id)
    assert accepted.importance == ACCEPTED_IMPORTANCE and store.accepted(memory.id)
    assert store.history(memory.id)[-1].action == "accept"
    assert store.history(memory.id)[-1].actor == "user"


def test_the_turn_journals_why_each_memory_was_recalled(make_agent: MakeAgent) -> None:
    home, agent = make_agent(sampling={"max_tokens": 1})
    assert agent.store is not None
    memory = agent.store.add("I keep the spare key under the blue flowerpot.")
    asked = agent.run_turn(agent.session(new=True).id, "Where is my spare key?")
    (recalled,) = [r for r in asked.recalled if r.id == memory.id]
    assert recalled.dense is not None and recalled.dense > 0.3
    assert recalled.recency > 0.9 and recalled.importance == memory.importance
    user = home.journal.message(asked.user_turn_id)
    notes = {n.id: n for n in user.meta.recall_notes()}
    assert user.meta.recalled_ids == [r.id for r in asked.recalled]
    assert notes[memory.id].score == pytest.approx(recalled.score, abs=1e-4)
    assert notes[memory.id].dense == pytest.approx(recalled.dense, abs=1e-4)
    # Ids and numbers only: nothing a forget would have to take out.
    assert "flowerpot" not in json.dumps(user.meta.to_dict()["recalled"])


def test_an_old_message_with_only_ids_still_reads() -> None:
    old = MessageMeta.model_validate({"shown_as": "x", "recalled_ids": ["m_1", "m_2"]})
    assert old.recall_notes() == [RecallNote(id="m_1"), RecallNote(id="m_2")]
    assert old.to_dict() == {"shown_as": "x", "recalled_ids": ["m_1", "m_2"]}
    new = MessageMeta(recalled=[RecallNote(id="m_1", score=0.08, dense=0.6, recency=1.0)])
    # A part no ranker gave is left out of the row, not written as null.
    assert new.to_dict() == {
        "recalled": [{"id": "m_1", "score": 0.08, "dense": 0.6, "recency": 1.0}]
    }
    assert MessageMeta.model_validate(new.to_dict()).recall_notes()[0].lexical is None


def test_memory_reject_on_the_command_line(run_hearth: RunHearth, make_agent: MakeAgent) -> None:
    home, agent = make_agent(sampling={"max_tokens": 2})
    assert agent.store is not None
    (memory_id,) = agent.run_turn(agent.session(new=True).id, "I love hiking.").stored
    home.close()  # the command takes the data dir lock itself
    helped = run_hearth("memory", "reject", "--help")
    assert helped.returncode == 0 and "never learn it again" in helped.stdout
    done = run_hearth("memory", "reject", memory_id, "--json")
    assert done.returncode == 0, done.stderr
    # The memory, and the words it was learned from.
    memory_ids = json.loads(done.stdout)["memory_ids"]
    assert memory_ids[0] == memory_id and len(memory_ids) == 2
    assert run_hearth("memory", "show", memory_id).returncode == 9
