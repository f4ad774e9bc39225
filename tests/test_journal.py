"""The journal: migrations applied once, parent links, threads, model hashes, unicode."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memory.errors import DataDirNewerError
from memory.journal.journal import Journal
from memory.journal.migrations import MIGRATIONS, SCHEMA_VERSION


def test_migrations_run_once_and_set_the_version(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    journal = Journal(path)  # reopening applies nothing twice
    assert journal.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DataDirNewerError, match="newer Hearth"):
        Journal(path)


def test_thread_follows_parent_links_through_branches(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    s = journal.create_session()
    u1 = journal.append(s.id, "user", "one")
    a1 = journal.append(s.id, "assistant", "reply one")
    journal.append(s.id, "user", "two")
    # A branch from the first reply: the session head moves to it.
    branch = journal.append(s.id, "user", "two, differently", parent_id=a1.id)
    assert [m.text for m in journal.thread(s.id)] == ["one", "reply one", "two, differently"]
    assert journal.session(s.id).head_id == branch.id
    assert [m.id for m in journal.thread(s.id, a1.id)] == [u1.id, a1.id]


def test_unicode_and_escape_sequences_round_trip(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    s = journal.create_session()
    text = "naïve 日本語 🙂 \u200d\x1b[31mred\x1b[0m \U0001f9d1\u200d\U0001f373 \ud7ff"
    saved = journal.append(s.id, "user", text)
    assert journal.message(saved.id).text == text


def test_model_hash_is_cached_by_size_and_mtime(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 100)
    first = journal.model_sha256(model)
    assert len(first) == 64
    model.write_bytes(b"GGUF" + b"\1" * 100)
    assert journal.model_sha256(model) != first


def test_a_data_dir_with_url_characters_reopens(tmp_path: Path) -> None:
    home = tmp_path / "home%201 #x?"
    home.mkdir()
    Journal(home / "j.sqlite3").close()
    Journal(home / "j.sqlite3").close()  # the read-only version check must find this file
