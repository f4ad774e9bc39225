"""Other apps' exports journaled: the person's messages as theirs, other models' replies as
replies by another model, versions and branches as the chat makes them, idempotent by
identity, and kept out of memory and exports."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.importing.files import export_files
from agent.importing.formats import detect
from agent.importing.history import ThreadsReport, import_threads
from agent.importing.plan import ImportOptions, select, summarize
from agent.importing.threads import Thread
from agent.scoring import scorable
from memory.errors import DatasetError
from memory.export.card import card_path
from memory.export.rows import ExportFilters, build_rows
from memory.export.writer import ExportOptions, run_export
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.journal.schemas import Message
from memory.journal.tree import ConversationTree
from memory.settings import MemorySettings, Paths, Settings
from tests.conftest import HEARTH, RunHearth
from tests.import_exports import (
    INSTRUCTIONS,
    chatgpt_conversation,
    claude_export,
    openwebui_export,
    sillytavern_chat,
    write_chatgpt_split,
    write_jsonl,
    write_llm_db,
)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.sqlite3")
    yield opened
    opened.close()


def _threads(path: Path) -> tuple[str, list[Thread]]:
    files = export_files([path])
    chosen = detect(files)
    threads = chosen.read(files)
    assert isinstance(threads, list)
    return chosen.name, threads


def _import(
    journal: Journal, path: Path, store: MemoryStore | None = None, **options: object
) -> ThreadsReport:
    name, threads = _threads(path)
    chosen = ImportOptions.model_validate({"user_name": "Ana", **options})
    threads = select(threads, chosen)
    return import_threads(journal, store, threads, summarize(name, threads, chosen), chosen)


def _chatgpt(tmp_path: Path, *, later: bool = False) -> Path:
    path = tmp_path / ("later" if later else "first") / "conversations.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([chatgpt_conversation(later=later)]))
    return path


def _ident(message: Message) -> str:
    assert message.meta.imported is not None
    return message.meta.imported.message


def test_chatgpt_versions_branches_and_the_kept_path(journal: Journal, tmp_path: Path) -> None:
    report = _import(journal, _chatgpt(tmp_path))
    (done,) = report.imported
    session = journal.session(done.session_id)
    assert session.title == "Trip to Lisbon" and done.added == report.added == 9
    thread = journal.thread(session.id)
    assert [_ident(m) for m in thread] == ["u1", "a1b", "u2b", "a4", "u3", "a5"]
    assert [m.role for m in thread] == ["user", "assistant"] * 3
    assert {m.speaker for m in thread if m.role == "user"} == {"Ana"}
    reply = thread[1]
    assert reply.meta.imported is not None and reply.meta.imported.format == "chatgpt"
    assert reply.meta.imported.model == "gpt-4o" and reply.meta.imported.conversation == "c-trip"
    assert reply.speaker == "gpt-4o" and reply.prompt is None and reply.meta.source is None
    by = {_ident(m): m for m in journal.messages(session.id)}
    # A regeneration is a reply version; an edited question a branch, as `hearth edit` makes.
    assert journal.versions(session.id)[by["a1b"].id] == [by["a1"].id, by["a1b"].id]
    assert by["u2b"].meta.edit_of == by["u2"].id and by["u2"].parent_id == by["a1b"].id
    tree = ConversationTree(journal.messages(session.id), journal.choices())
    assert [[_ident(m) for m in b] for b in tree.conversations()] == [
        ["u1", "a1b", "u2b", "a4", "u3", "a5"]
    ]
    # Imported history is never the session `hearth` opens, but the sessions screen lists it.
    assert journal.latest_session() is None
    assert [s.title for s in journal.session_summaries()] == ["Trip to Lisbon"]
    assert report.skipped == {"code": 1, "hidden": 1, "role tool": 1}
    assert scorable(journal) == []  # another model's replies are never scored as Hearth's


def test_a_second_run_adds_nothing_and_a_newer_export_only_its_new_messages(
    journal: Journal, tmp_path: Path
) -> None:
    first = _import(journal, _chatgpt(tmp_path))
    again = _import(journal, _chatgpt(tmp_path))
    assert again.added == 0 and journal.counts()["messages"] == 9
    assert again.imported[0].session_id == first.imported[0].session_id
    newer = _import(journal, _chatgpt(tmp_path, later=True))
    assert newer.added == 2 and journal.counts()["sessions"] == 1
    session = first.imported[0].session_id
    thread = journal.thread(session)
    assert [_ident(m) for m in thread][-3:] == ["a5", "u4", "a6"]  # at their place in the tree
    assert journal.counts()["messages"] == 11


def test_sillytavern_swipes_are_reply_versions_and_it_is_journal_only(
    journal: Journal, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "Seraphina - 1.jsonl", sillytavern_chat())
    report = _import(journal, path, remember=False)
    assert report.memories == 0 and report.made == 0
    session = report.imported[0].session_id
    by = {_ident(m): m for m in journal.messages(session)}
    assert set(by) == {"2.1", "3", "4.0", "4.1", "6"}
    assert journal.versions(session)[by["4.0"].id] == [by["4.1"].id, by["4.0"].id]
    assert [_ident(m) for m in journal.thread(session)] == ["2.1", "3", "4.0", "6"]
    assert by["2.1"].parent_id is None and by["2.1"].role == "assistant"
    assert by["4.1"].meta.imported is not None and by["4.1"].meta.imported.model == "claude-2"
    assert by["3"].speaker == "Ana" and by["4.0"].speaker == "Seraphina"
    more = write_jsonl(tmp_path / "Seraphina - 1.jsonl", sillytavern_chat(more=True))
    assert _import(journal, more, remember=False).added == 1


def test_claude_openwebui_and_llm_kept_paths(journal: Journal, tmp_path: Path) -> None:
    claude = tmp_path / "c" / "conversations.json"
    claude.parent.mkdir()
    claude.write_text(json.dumps(claude_export()))
    owui = tmp_path / "owui.json"
    owui.write_text(json.dumps(openwebui_export()))
    for path, kept in [
        (claude, [["h1", "a1b", "h2", "a2"], ["f1", "f2"]]),
        (owui, [["m1", "m3", "m4", "m5"]]),
        (write_llm_db(tmp_path / "logs.db"), [["01r1:prompt", "01r1:response", "01r2:prompt",
                                               "01r2:response"]]),
    ]:  # fmt: skip
        report = _import(journal, path)
        threads = [journal.thread(c.session_id) for c in report.imported]
        assert [[_ident(m) for m in t] for t in threads] == kept
    titles = {s.title for s in journal.session_summaries()}
    assert titles == {"Sourdough help", "", "Hiking near Oslo", "Garden questions"}


def test_dpo_pairs_imported_versions_only_when_asked(journal: Journal, tmp_path: Path) -> None:
    _import(journal, _chatgpt(tmp_path))
    _import(journal, write_jsonl(tmp_path / "st.jsonl", sillytavern_chat()), remember=False)
    owui = tmp_path / "owui.json"
    owui.write_text(json.dumps(openwebui_export()))
    _import(journal, owui)
    for kind in ("dpo", "sft", "kto", "openai", "sharegpt"):
        rows, _ = build_rows(journal, kind, ExportFilters())
        assert rows == [], kind  # other models' replies never reach an export unasked
    rows, _ = build_rows(journal, "dpo", ExportFilters(include_imported=True))
    pairs = {(r.data["chosen"][0]["content"], r.data["rejected"][0]["content"]) for r in rows}
    # A regeneration and a swipe pair as versions made in Hearth; parallel answers do not.
    assert pairs == {
        ("May is a fine time; book early.", "Lisbon in May is lovely."),
        ("What a lovely name!", "Biscuit is a sweet name."),
    }
    assert all(r.imported and r.signal == "sibling" for r in rows)
    swipe = next(r for r in rows if r.data["chosen"][0]["content"] == "What a lovely name!")
    assert swipe.data["prompt"][-1] == {"role": "user", "content": "I adopted a dog named Biscuit."}


@pytest.fixture
def store(tmp_path: Path, embedder: SentenceEmbedder) -> Iterator[MemoryStore]:
    paths = Paths(config_file=tmp_path / "c.toml", data_dir=tmp_path, models_dir=tmp_path / "m")
    settings = Settings.model_construct(memory=MemorySettings())
    opened = MemoryStore.open(paths, settings, write=True, embedder=embedder)
    yield opened
    opened.close()


def test_only_the_persons_messages_are_remembered(
    journal: Journal, store: MemoryStore, tmp_path: Path
) -> None:
    path = _chatgpt(tmp_path)
    report = _import(journal, path, store)
    person = {m.id for m in journal.messages() if m.role == "user"}
    memories = store.list(valid_only=False)
    assert memories and report.made >= len(memories) > 0
    assert all(set(m.provenance) <= person for m in memories)  # never a reply's words
    replies = [m.text for m in journal.messages() if m.role == "assistant"]
    assert not any(r in m.text for r in replies for m in memories)
    kept = {m.id for m in journal.thread(report.imported[0].session_id) if m.role == "user"}
    assert {i for m in memories for i in m.provenance} == kept  # the edited-away one is not
    assert any("Lisbon" in m.text for m in memories)
    assert not any(INSTRUCTIONS[0] in m.text for m in memories)
    assert all(m.meta.remembered for m in journal.messages() if m.id in kept)
    again = _import(journal, path, store)
    assert again.made == 0 and len(store.list(valid_only=False)) == len(memories)
    _import(journal, path, store, include_instructions=True)
    told = [m for m in store.list() if INSTRUCTIONS[0] in m.text]
    assert len(told) == 1 and told[0].kind == "preference" and INSTRUCTIONS[1] in told[0].text
    _import(journal, path, store, include_instructions=True)
    assert len([m for m in store.list() if INSTRUCTIONS[0] in m.text]) == 1


def test_hearth_import_dry_run_then_zip_journal_only_then_broken(
    tmp_path: Path, run_hearth: RunHearth, hearth_home: Path
) -> None:
    archive = write_chatgpt_split(tmp_path / "export")
    dry = run_hearth("import", str(archive), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert shown["dry_run"] and shown["conversations"] == 2 and shown["messages"] == 11
    assert shown["person"] == 5 and shown["replies"] == 6
    assert shown["first"].startswith("2024-05-01T10:00:00") and shown["memories"] >= 4
    assert shown["skipped"] == {"code": 1, "hidden": 1, "role tool": 1}
    assert shown["instructions"] == ["\n\n".join(INSTRUCTIONS)]
    assert not (hearth_home / "journal.sqlite3").exists()  # a dry run writes nothing
    text = run_hearth("import", str(archive), "--dry-run")
    assert "would skip: 1 code, 1 hidden, 1 role tool" in text.stdout
    assert "custom instructions (left out without --include-instructions)" in text.stdout

    broken = chatgpt_conversation()
    broken["mapping"]["a5"]["parent"] = "gone"
    bad = tmp_path / "bad" / "conversations.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps([broken]))
    refused = run_hearth("import", str(bad))
    assert refused.returncode == DatasetError.exit_code, refused.stderr
    assert f"{bad}: conversation c-trip, message a5: parent: 'gone'" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (hearth_home / "journal.sqlite3").exists()

    done = run_hearth("import", str(archive), "--journal-only", "--since", "2024-05-02", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [c["conversation"] for c in report["imported"]] == ["c-bike"]
    assert report["added"] == 2 and report["made"] == 0
    listed = json.loads(run_hearth("logs", "list", "--json", "-n", "50").stdout)
    assert {m["text"] for m in listed} == {"I fixed my bike brakes today.", "Noted."}


def test_an_import_killed_midway_resumes_to_every_memory(tmp_path: Path, hearth_home: Path) -> None:
    conversations = [chatgpt_conversation(f"c-{i}") for i in range(4)]
    path = tmp_path / "export" / "conversations.json"
    path.parent.mkdir()
    path.write_text(json.dumps(conversations))
    whole, killed = tmp_path / "whole", tmp_path / "killed"

    def hearth(home: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(HEARTH), "import", str(path), "--json"],
            env={**os.environ, "HEARTH_HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )

    victim = hearth(killed)
    deadline = time.monotonic() + 120
    # Killed once the second conversation is journaled: its memories are still to come.
    while _count(killed, "messages") < 18 and time.monotonic() < deadline:
        if victim.poll() is not None:
            break
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    assert 18 <= _count(killed, "messages") < 36
    resumed = hearth(killed)
    _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    uninterrupted = hearth(whole)
    assert uninterrupted.communicate(timeout=300)[0] and uninterrupted.returncode == 0
    assert _count(killed, "messages") == _count(whole, "messages") == 36
    assert _memories(killed) == _memories(whole)
    assert _memories(whole)


def _count(home: Path, table: str) -> int:
    try:
        db = sqlite3.connect(f"{(home / 'journal.sqlite3').as_uri()}?mode=ro", uri=True)
        try:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _memories(home: Path) -> list[tuple[str, str, list[int]]]:
    db = sqlite3.connect(home / "memory.sqlite3")
    try:
        rows = db.execute("SELECT text, kind, provenance_json FROM memories").fetchall()
    finally:
        db.close()
    return sorted((text, kind, json.loads(cites)) for text, kind, cites in rows)


def test_one_conversation_and_the_card_of_an_export_with_imported_rows(
    journal: Journal, tmp_path: Path
) -> None:
    archive = write_chatgpt_split(tmp_path / "export")
    report = _import(journal, archive, conversations=["c-bike"])
    assert [c.conversation for c in report.imported] == ["c-bike"] and report.added == 2
    _import(journal, _chatgpt(tmp_path))
    out = tmp_path / "dpo.jsonl"
    options = ExportOptions(kind="dpo", out=out, include_imported=True)
    result = run_export(journal, options)
    # (The card counts imported rows; `--json`'s result keeps its old keys.)
    assert result.rows == 1
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["imported"] is True
    card = card_path(out).read_text()
    assert "| imported rows | 1 of 1 rows train replies other models wrote" in card
    assert "imported replies included" in card


def test_sillytavern_is_remembered_only_with_remember(
    tmp_path: Path, run_hearth: RunHearth, hearth_home: Path
) -> None:
    path = write_jsonl(tmp_path / "Seraphina - 1.jsonl", sillytavern_chat())
    first = run_hearth("import", str(path), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["made"] == 0 and not (hearth_home / "memory.sqlite3").exists()
    later = run_hearth("import", str(path), "--remember", "--json")
    assert later.returncode == 0, later.stderr
    report = json.loads(later.stdout)
    # Nothing journaled again; the person's two kept messages remembered now.
    assert report["added"] == 0 and [c["remembered"] for c in report["imported"]] == [2]
    assert report["made"] >= 2
