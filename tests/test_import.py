"""`hearth import`: turns journaled as dated human messages, through the write path, with memories
that cite them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.importing.conversations import (
    CachedEmbedder,
    ImportedConversation,
    import_conversation,
    import_dataset,
    load_dataset,
)
from agent.importing.memories import aliases
from agent.importing.records import Conversation, Dataset
from memory.errors import DatasetError
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import Memory
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.settings import MemorySettings, Paths, Settings
from tests.conftest import HEARTH, RunHearth


def _turn(turn_id: str, speaker: str, text: str) -> dict[str, str]:
    return {"id": turn_id, "speaker": speaker, "text": text}


def _question(qid: str, question: str, evidence: Any, category: Any) -> dict[str, Any]:
    return {"id": qid, "question": question, "answer": "", "evidence": evidence,
            "category": category}  # fmt: skip


def dataset_dict() -> dict[str, Any]:
    """Two short invented conversations in the neutral format (ids skip, as real ones do)."""
    first = [
        _turn("D1:1", "Mara", "Hi Theo! How was your week?"),
        _turn("D1:2", "Theo", "Busy. I adopted a grey cat called Pepper."),
        _turn("D1:3", "Mara", "I love cats! I went to my first pottery class."),
        _turn("D1:5", "Theo", "What did you make there?"),
        _turn("D1:6", "Mara", "A small blue bowl, a bit lopsided."),
    ]
    second = [
        _turn("D2:1", "Theo", "Pepper knocked my coffee off the table today."),
        _turn("D2:2", "Mara", "Ha! I signed up for a second pottery class."),
        _turn("D2:3", "Theo", "I started training for a half marathon in May."),
    ]
    other = [
        _turn("D1:1", "Ines", "Morning Jonah! I'm moving to Porto next month."),
        _turn("D1:2", "Jonah", "Wow. I have never been to Portugal."),
    ]
    return {
        "name": "synthetic",
        "conversations": [
            {
                "id": "c1",
                "speakers": ["Mara", "Theo"],
                "user": "Mara",
                "sessions": [
                    {"id": "s1", "date": "2024-03-02T10:00:00", "turns": first},
                    {"id": "s2", "date": "2024-03-09T18:30:00", "turns": second},
                ],
                "questions": [
                    _question("q1", "What pet does Theo have?", ["D1:2; D2:1"], "1"),
                    _question(
                        "q2", "What did Mara make in her pottery class?", ["D1:5-D1:6."], "2"
                    ),
                    # A bare string and a number where a list and text are meant: accepted.
                    _question("q3", "What is Theo training for?", "D2:3", 3),
                ],
            },
            {
                "id": "c2",
                "speakers": ["Ines", "Jonah"],
                "user": "Jonah",
                "sessions": [{"id": "s1", "date": "2024-05-20T08:15:00", "turns": other}],
                "questions": [_question("q1", "Where is Ines moving?", ["D1:1"], "1")],
            },
        ],
    }


@pytest.fixture(scope="module")
def embedder() -> CachedEmbedder:
    model = CachedEmbedder(SentenceEmbedder())
    model.embed(["warm up"])
    return model


@pytest.fixture
def opened(tmp_path: Path, embedder: CachedEmbedder) -> Iterator[tuple[Journal, MemoryStore]]:
    paths = Paths(config_file=tmp_path / "c.toml", data_dir=tmp_path, models_dir=tmp_path / "m")
    settings = Settings.model_construct(memory=MemorySettings())
    store = MemoryStore.open(paths, settings, write=True, embedder=embedder)
    journal = Journal(paths.journal)
    yield journal, store
    journal.close()
    store.close()


@pytest.fixture
def dataset() -> Dataset:
    return Dataset.model_validate(dataset_dict())


def _import(opened: tuple[Journal, MemoryStore], dataset: Dataset) -> ImportedConversation:
    journal, store = opened
    return import_conversation(journal, store, dataset.conversations[0], source=dataset.name)


def test_every_turn_is_journaled_as_a_dated_human_message_by_its_speaker(
    opened: tuple[Journal, MemoryStore], dataset: Dataset
) -> None:
    journal, _store = opened
    result = _import(opened, dataset)
    session = journal.session(result.session_id)
    assert session.title == "c1"
    messages = journal.thread(session.id)
    assert [m.meta["source_turn_id"] for m in messages] == [
        "D1:1", "D1:2", "D1:3", "D1:5", "D1:6", "D2:1", "D2:2", "D2:3",
    ]  # fmt: skip
    assert {m.role for m in messages} == {"user"}
    assert [m.speaker for m in messages[:3]] == ["Mara", "Theo", "Mara"]
    assert messages[1].text == "Busy. I adopted a grey cat called Pepper."
    assert all(m.meta["source"] == "synthetic" and m.meta["conversation"] == "c1" for m in messages)
    first = datetime(2024, 3, 2, 10, 0, tzinfo=UTC)
    assert messages[0].created_at == first
    assert messages[2].created_at == first + timedelta(seconds=2)  # order kept within a session
    assert messages[5].created_at == datetime(2024, 3, 9, 18, 30, tzinfo=UTC)
    assert result.message_ids == {m.meta["source_turn_id"]: m.id for m in messages}


def test_memories_cite_the_turns_they_came_from(
    opened: tuple[Journal, MemoryStore], dataset: Dataset
) -> None:
    _journal, store = opened
    result = _import(opened, dataset)
    memories = store.list()
    ids = set(result.message_ids.values())
    assert memories and all(m.provenance and set(m.provenance) <= ids for m in memories)
    cited = {i for m in memories for i in m.provenance}
    assert cited == ids  # every turn is remembered somewhere
    cat = result.message_ids["D1:2"]
    assert any("Pepper" in m.text and cat in m.provenance for m in memories)
    assert all(h.actor == "import" for h in store.history() if h.action == "add")


def test_the_write_path_runs_for_every_speaker(
    opened: tuple[Journal, MemoryStore], dataset: Dataset
) -> None:
    _journal, store = opened
    result = _import(opened, dataset)
    extracted = {m.text: m for m in store.list()}
    # The other speaker's words count as much as the user's ...
    theo = extracted["Theo adopted a grey cat called Pepper"]
    assert theo.subject == "Theo" and theo.provenance == [result.message_ids["D1:2"]]
    assert theo.valid_from == datetime(2024, 3, 2, 10, 0, 1, tzinfo=UTC)
    # ... and the user's statements about themself are about "user", as in a chat.
    assert extracted["Mara loves cats"].subject == "user"
    assert result.extracted >= 3


def test_long_turns_exchanges_and_answers_are_remembered_too(
    opened: tuple[Journal, MemoryStore], dataset: Dataset
) -> None:
    _journal, store = opened
    result = _import(opened, dataset)
    ids = result.message_ids
    by_kind: dict[str, list[Memory]] = {}
    for m in store.list():
        by_kind.setdefault(m.kind, []).append(m)
    # Each turn as itself, dated and signed, citing only itself.
    signed = [m for m in by_kind["event"] if m.text.startswith("[2024-03-02T10:00:00] Theo: Busy")]
    assert [m.provenance for m in signed] == [[ids["D1:2"]]]
    # A question and its answer: the answer is cited first, it holds what was learned.
    answered = [m for m in by_kind["event"] if "asked: What did you make there?" in m.text]
    assert [m.provenance for m in answered] == [[ids["D1:6"], ids["D1:5"]]]
    exchanges = [m.provenance for m in by_kind["episode"]]
    assert [ids["D2:1"], ids["D2:2"]] in exchanges and len(exchanges) == 6
    people = {m.subject: m for m in by_kind["person"]}
    assert set(people) == {"Mara", "Theo"} and "c1" in people["Mara"].text


def test_names_people_are_called_by_are_learned() -> None:
    turns = [
        _turn("1", "A", "Hi Sam! How are you?"),
        _turn("2", "B", "Good, thanks. How Are you?"),
        _turn("3", "A", "Great, thanks, Sam."),
        _turn("4", "B", "Hope you sleep well."),
        _turn("5", "A", "Hope so too. hope is good."),
    ]
    conversation = Conversation.model_validate(
        {"id": "c", "speakers": ["A", "B"], "sessions": [{"id": "s", "date": "2024-01-01",
                                                           "turns": turns}]}
    )  # fmt: skip
    assert aliases(conversation) == {"A": [], "B": ["Sam"]}


def test_a_question_using_those_names_finds_that_person(
    opened: tuple[Journal, MemoryStore],
) -> None:
    journal, store = opened
    turns = [
        _turn("1", "Lena Ortiz", "Hi Sam! I repaired the brakes on my bike yesterday."),
        _turn("2", "Rui", "Nice. I bought a red kayak and took it out on the lake."),
        _turn("3", "Lena Ortiz", "I want to try paddling too. Thanks, Sam!"),
    ]
    conversation = Conversation.model_validate(
        {"id": "c", "speakers": ["Lena Ortiz", "Rui"], "user": "Lena Ortiz",
         "sessions": [{"id": "s", "date": "2024-01-01", "turns": turns}]}
    )  # fmt: skip
    import_conversation(journal, store, conversation, source="test")
    names = store.names()
    assert names["Sam"] == {"Rui"}
    # The importing user is "user" too: the write path keeps their facts under that subject.
    assert names["Lena"] == names["Ortiz"] == {"Lena Ortiz", "user"}
    assert store.search("What did Sam do on the lake?", k=1)[0].memory.subject == "Rui"
    assert store.search("What did Lena fix?", k=1)[0].memory.subject in {"Lena Ortiz", "user"}


def test_importing_twice_adds_nothing(
    opened: tuple[Journal, MemoryStore], dataset: Dataset
) -> None:
    journal, store = opened
    first = import_dataset(journal, store, dataset)
    count = len(store.list())
    second = import_dataset(journal, store, dataset)
    assert [c.conversation for c in first.imported] == ["c1", "c2"]
    assert second.imported == [] and second.skipped == ["c1", "c2"]
    assert len(store.list()) == count
    assert journal.counts()["messages"] == 10


def test_a_bad_file_is_one_line_naming_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(DatasetError, match="not JSON"):
        load_dataset(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"conversations": [{"id": "c", "sessions": [{"id": "s"}]}]}))
    with pytest.raises(DatasetError, match=r"conversations\.0\.sessions\.0\.date"):
        load_dataset(wrong)
    with pytest.raises(DatasetError, match="unknown format"):
        load_dataset(wrong, "sharegpt")


def test_hearth_import_command(tmp_path: Path, run_hearth: RunHearth, hearth_home: Path) -> None:
    path = tmp_path / "synthetic.json"
    path.write_text(json.dumps(dataset_dict()))
    result = run_hearth("import", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [c["conversation"] for c in report["imported"]] == ["c1", "c2"]
    listed = run_hearth("logs", "list", "--json", "-n", "50")
    assert {m["speaker"] for m in json.loads(listed.stdout)} == {"Mara", "Theo", "Ines", "Jonah"}
    again = run_hearth("import", str(path))
    assert again.returncode == 0 and "already imported" in again.stdout
    bad = run_hearth("import", str(tmp_path / "nope.json"))
    assert bad.returncode == DatasetError.exit_code
    assert "does not exist" in bad.stderr


def _memories(home: Path) -> list[tuple[str, str, list[int]]]:
    db = sqlite3.connect(home / "memory.sqlite3")
    try:
        rows = db.execute("SELECT text, kind, provenance_json FROM memories").fetchall()
    finally:
        db.close()
    return sorted((text, kind, json.loads(cites)) for text, kind, cites in rows)


def _messages(home: Path) -> int:
    try:
        db = sqlite3.connect(f"{(home / 'journal.sqlite3').as_uri()}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def test_an_import_killed_halfway_resumes_to_the_same_memories(
    tmp_path: Path, hearth_home: Path
) -> None:
    path = tmp_path / "synthetic.json"
    path.write_text(json.dumps(dataset_dict()))
    whole, killed = tmp_path / "whole", tmp_path / "killed"

    def hearth(home: Path) -> subprocess.Popen[str]:
        env = {**os.environ, "HEARTH_HOME": str(home)}
        return subprocess.Popen(
            [str(HEARTH), "import", str(path), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )

    victim = hearth(killed)
    deadline = time.monotonic() + 120
    # Killed once the first session's turns are journaled: its memories are still to come.
    while _messages(killed) < 5 and time.monotonic() < deadline and victim.poll() is None:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    journaled, half = _messages(killed), _memories(killed)
    assert 5 <= journaled < 10

    resumed = hearth(killed)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    report = json.loads(out)
    assert [c["conversation"] for c in report["imported"]] == ["c1", "c2"]
    assert report["skipped"] == []

    uninterrupted = hearth(whole)
    assert uninterrupted.communicate(timeout=300)[0] and uninterrupted.returncode == 0
    assert _messages(killed) == _messages(whole) == 10
    assert len(half) < len(_memories(whole))
    assert _memories(killed) == _memories(whole)

    again = hearth(killed)
    out, _ = again.communicate(timeout=300)
    assert json.loads(out)["skipped"] == ["c1", "c2"]
    assert _memories(killed) == _memories(whole)


def test_a_bad_record_is_exit_14_naming_it_with_nothing_imported(
    tmp_path: Path, run_hearth: RunHearth, hearth_home: Path
) -> None:
    surrogate = dataset_dict()
    surrogate["conversations"][1]["sessions"][0]["turns"][1]["text"] = "Wow \ud800 Portugal"
    missing = dataset_dict()
    del missing["conversations"][0]["sessions"][1]["turns"][2]["speaker"]
    twice = dataset_dict()
    twice["conversations"][0]["sessions"][1]["turns"][0]["id"] = "D1:2"
    cases = [
        (surrogate, "conversation c2, conversations.1.sessions.0.turns.1.text", "lone surrogate"),
        (missing, "conversation c1, conversations.0.sessions.1.turns.2.speaker", "required"),
        (twice, "conversation c1, conversations.0", "turn id 'D1:2' appears twice"),
    ]
    for raw, where, why in cases:
        path = tmp_path / "bad.json"
        # json.dumps writes the lone surrogate as the escape "\ud800", as other tools do.
        path.write_text(json.dumps(raw))
        done = run_hearth("import", str(path))
        assert done.returncode == DatasetError.exit_code == 14, done.stderr
        assert where in done.stderr and why in done.stderr
        assert "nothing was imported" in done.stderr and "Traceback" not in done.stderr
        assert not (hearth_home / "journal.sqlite3").exists()
