"""`hearth memory ...` as a user runs it: real subprocesses on a temp HEARTH_HOME, JSON checked."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.settings import Paths, Settings
from tests.conftest import RunHearth, seed

ROOT = Path(__file__).resolve().parent.parent

HIT_KEYS = {"id", "kind", "text", "score", "dense", "lexical", "recency", "importance", "graph"}


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder()


def run_json(run_hearth: RunHearth, *args: str) -> Any:
    done = run_hearth("memory", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_add_search_show_edit_pin_and_history_as_json(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    other, _ = seed(paths, embedder, "My sister Ana is allergic to peanuts", "I like green tea")
    added = run_json(run_hearth, "add", "I live in Lisbon", "--kind", "fact", "--pin")
    assert added["text"] == "I live in Lisbon" and added["pinned"] is True

    hits = run_json(run_hearth, "search", "where do I live?", "-k", "2")
    assert len(hits) == 2 and set(hits[0]) >= HIT_KEYS
    assert hits[0]["id"] == added["id"] and hits[0]["score"] >= hits[1]["score"]

    edited = run_json(run_hearth, "edit", added["id"], "I live in Lisbon, by the river")
    assert edited["text"] == "I live in Lisbon, by the river"
    assert run_json(run_hearth, "unpin", added["id"])["pinned"] is False
    assert run_json(run_hearth, "pin", added["id"])["pinned"] is True

    listed = run_json(run_hearth, "list")
    assert listed[0]["id"] == added["id"]  # pinned first
    assert {"id", "kind", "text"} <= set(listed[0])

    shown = run_json(run_hearth, "show", other)
    assert shown["provenance"] == [] and shown["edges"] == []
    history = run_json(run_hearth, "history", added["id"])
    assert [e["action"] for e in history] == ["add", "edit", "unpin", "pin"]
    assert history[1]["text"] == "I live in Lisbon, by the river"


def test_search_says_who_a_query_names(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add("Tomas: my new job at the library is tiring", subject="Tomas", kind="event")
        store.add("Priya: my new job at the bakery is tiring", subject="Priya", kind="event")
    done = run_hearth("memory", "search", "How is Thomas's job?")
    assert done.returncode == 0, done.stderr
    assert "names Tomas: their memories rank higher; meaning searched as: How is job?" in (
        " ".join(done.stdout.split())
    )
    assert done.stdout.index("library") < done.stdout.index("bakery")
    plain = run_hearth("memory", "search", "job")
    assert "rank higher" not in plain.stdout


def test_show_lists_provenance_and_edges(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    journal = Journal(paths.journal)
    said = journal.append(journal.create_session().id, "user", "I moved to Porto last week")
    journal.close()
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        old = store.add("I live in Lisbon")
        new = store.supersede(old.id, NewMemory(text="I live in Porto", provenance=[said.id]))
    shown = run_json(run_hearth, "show", new.id)
    assert shown["provenance"] == [said.id]
    assert shown["sources"] == [{"id": said.id, "role": "user", "text": said.text}]
    assert shown["edges"][0] | {"created_at": None} == {
        "src": new.id,
        "dst": old.id,
        "type": "supersedes",
        "weight": 1.0,
        "created_at": None,
    }
    assert [m["id"] for m in run_json(run_hearth, "list")] == [new.id]
    assert {m["id"] for m in run_json(run_hearth, "list", "--all")} == {old.id, new.id}


def test_stats_graph_and_rebuild(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    first, second = seed(paths, embedder, "I live in Lisbon", "Ana is my sister")
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.link(first, second, "related", 0.5)
    stats = run_json(run_hearth, "stats")
    assert stats["memories"] == 2 and stats["edges"] == 1 and stats["indexed"] == 2
    assert stats["embedder"]["name"] == "all-MiniLM-L6-v2"

    graph = run_hearth("memory", "graph", "--format", "json")
    assert json.loads(graph.stdout)["edges"][0]["type"] == "related"
    dot = run_hearth("memory", "graph", "--format", "dot").stdout
    assert dot.startswith("digraph memory {") and f'"{first}" -> "{second}"' in dot
    mermaid = run_hearth("memory", "graph", "--format", "mermaid").stdout
    assert f"{first} -->|related| {second}" in mermaid

    assert run_json(run_hearth, "rebuild") == {"memories": 2, "indexed": 2, "reembedded": 0}


def test_unknown_ids_and_bad_arguments_fail_with_one_line(run_hearth: RunHearth) -> None:
    done = run_hearth("memory", "show", "m_nope")
    assert done.returncode == 9
    assert done.stderr.strip().splitlines() == [
        "hearth: no memory m_nope; `hearth memory list --all` shows ids"
    ]
    # Usage errors: click's code is 2 (the entry point may still report them as code 1).
    neither = run_hearth("memory", "forget")
    assert neither.returncode != 0 and "--matching PHRASE" in neither.stderr
    unknown = run_hearth("memory", "list", "--kind", "gossip")
    assert unknown.returncode != 0 and "unknown kind 'gossip'" in unknown.stderr


def test_forget_matching_leaves_the_canary_in_no_file(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    canary = "Quokka-Canary-51d2e8"
    journal = Journal(paths.journal)
    session = journal.create_session()
    journal.append(session.id, "user", f"Please remember the word {canary}.")
    journal.close()
    planted, kept = seed(paths, embedder, f"The secret word is {canary}", "I like green tea")
    failed = run_hearth("memory", "show", canary)  # the log now holds the canary too
    assert failed.returncode == 9

    report = run_json(run_hearth, "forget", "--matching", canary.upper(), "--yes")
    assert report["memory_ids"] == [planted]
    assert report["journal"]["message_texts_redacted"] == 1
    assert report["log"]["lines_redacted"] >= 1
    assert report["chroma"] == {"vectors_removed": 1, "vectors_reindexed": 1}

    for path in paths.data_dir.rglob("*"):
        if path.is_file():
            assert canary.lower().encode() not in path.read_bytes().lower(), path
    assert [m["id"] for m in run_json(run_hearth, "list", "--all")] == [kept]
    history = run_json(run_hearth, "history", planted)
    assert [e["action"] for e in history] == ["add", "forget"]
    assert all(e["text"] is None for e in history)


def test_forget_by_id_reports_each_store(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    gone, _ = seed(paths, embedder, "I dislike olives", "I like green tea")
    report = run_json(run_hearth, "forget", gone)
    assert report["memory_ids"] == [gone]
    assert set(report) == {
        "memory_ids",
        "memory_db",
        "chroma",
        "journal",
        "log",
        "exports",
        "exports_elsewhere",
        "backups_elsewhere",
        "copies_deleted",
    }
    assert report["memory_db"]["memories"] == 1
    assert report["backups_elsewhere"] == []  # forgetting one memory by id: no phrase to seek
    human = run_hearth("memory", "show", gone)
    assert human.returncode == 9


def test_write_commands_are_refused_while_another_process_holds_the_lock(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    (memory,) = seed(paths, embedder, "I live in Lisbon")
    holder = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "hold_lock.py"), str(paths.lock_file)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = run_hearth("memory", "pin", memory)
        assert refused.returncode == 7 and f"pid {holder.pid}" in refused.stderr
        assert [m["id"] for m in run_json(run_hearth, "list")] == [memory]
    finally:
        holder.kill()
        holder.wait()


def test_a_changed_embedding_model_is_refused_with_the_fix(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    seed(paths, embedder, "I live in Lisbon")
    with sqlite3.connect(paths.memory_db) as db:
        db.execute("UPDATE embedder SET name = 'some-other-model', hash = '0123456789abcdef'")
    db.close()
    refused = run_hearth("memory", "pin", "m_any")
    assert refused.returncode == 8
    assert "hearth memory rebuild --reembed" in refused.stderr
    assert "some-other-model (384-d, 0123456789ab)" in refused.stderr  # both models named
    assert "all-MiniLM-L6-v2 (384-d," in refused.stderr
    assert run_json(run_hearth, "rebuild", "--reembed")["reembedded"] == 1
    assert run_json(run_hearth, "stats")["embedder"]["name"] == "all-MiniLM-L6-v2"


def test_reading_commands_never_import_torch(paths: Paths) -> None:
    commands = [["list"], ["stats"], ["history"], ["show", "m_x"], ["graph", "--format", "json"]]
    code = (
        "import sys\n"
        "from tui.cli import main as cli\n"
        f"for argv in {commands!r}:\n"
        "    sys.argv = ['hearth', 'memory', *argv]\n"
        "    try:\n        cli.main()\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
