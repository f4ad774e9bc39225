"""Sensitive kinds (health, feelings, private matters): marked on memories, old ones too,
filtered for a welcome screen, and left out of exports unless asked for."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from memory.export.writer import ExportOptions, run_export
from memory.graph.embedder import SentenceEmbedder
from memory.graph.flags import SENSITIVE
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.sensitivity import sensitive
from memory.settings import Paths, Settings
from tests.conftest import RunHearth

SENSITIVE_TEXTS = [
    "I was diagnosed with diabetes last year",
    "my sister is pregnant",
    "I feel so lonely lately",
    "My mom passed away in March",
    "Tom and Ana are getting divorced",
    "I'm on antidepressants",
    "Ben is drowning in debt",
]
PLAIN_TEXTS = [
    "I like hiking",
    "My sister lives in Lisbon",
    "I work at the hospital as a nurse",
    "I'm afraid I can't come on Friday",
    "my favourite colour is blue",
]


@pytest.mark.parametrize("text", SENSITIVE_TEXTS)
def test_sensitive_kinds_are_recognised(text: str) -> None:
    assert sensitive(text)


@pytest.mark.parametrize("text", PLAIN_TEXTS)
def test_everyday_memories_are_not_sensitive(text: str) -> None:
    assert not sensitive(text)


def test_memories_are_marked_and_a_welcome_list_leaves_them_out(
    paths: Paths, embedder: SentenceEmbedder
) -> None:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        health = store.add("I was diagnosed with asthma")
        plain = store.add("I like green tea")
        assert health.sensitive and SENSITIVE in health.flags and not plain.sensitive
        assert [m.id for m in store.list(sensitive=False)] == [plain.id]
        edited = store.update_text(health.id, "I like black tea")
        assert not edited.sensitive  # the flag follows the words
    # A memory stored before the flag existed earns it when read.
    db = sqlite3.connect(paths.memory_db)
    db.execute("UPDATE memories SET text = 'my friend is in rehab', flags_json = '[]'")
    db.commit()
    db.close()
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        assert all(m.sensitive for m in store.list()) and store.list(sensitive=False) == []


def test_exports_leave_sensitive_rows_out_unless_asked(
    paths: Paths, embedder: SentenceEmbedder, tmp_path: Path
) -> None:
    journal = Journal(paths.journal)
    turns = [
        "I was diagnosed with asthma",  # sensitive words
        "Ana told me some news about her baby plans",  # the source of a sensitive memory
        "I like green tea",
    ]
    ids = []
    for text in turns:
        # One session each: a row carries its conversation, so one sensitive turn would take
        # the later turns of its session out with it (as it should).
        session = journal.create_session()
        user = journal.append(session.id, "user", text)
        journal.append(session.id, "assistant", "I see.", parent_id=user.id)
        ids.append(user.id)
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add("Ana is pregnant", subject="Ana", provenance=[ids[1]])
        sources = store.sensitive_sources()
    assert sources == {ids[1]}

    def export(name: str, include: bool) -> list[dict[str, object]]:
        options = ExportOptions(
            kind="sft", context_frozen=True, out=tmp_path / name, include_sensitive=include
        )
        result = run_export(journal, options, sensitive_sources=sources)
        assert result.sensitive_left_out == (0 if include else 2)
        assert result.card is not None
        card = result.card.read_text()
        assert ("left out: 2 rows" in card) != include
        lines = (tmp_path / name).read_text().splitlines()
        return [json.loads(line) for line in lines]

    assert len(export("all.jsonl", True)) == 3
    (kept,) = export("safe.jsonl", False)
    assert "green tea" in json.dumps(kept) and "asthma" not in json.dumps(kept)
    journal.close()


def test_memory_list_marks_sensitive_memories(run_hearth: RunHearth) -> None:
    added = run_hearth("memory", "add", "I was diagnosed with asthma")
    assert added.returncode == 0, added.stderr
    listed = run_hearth("memory", "list")
    assert "sensitive" in listed.stdout
