"""Faults: kill -9 between the stores' writes, a failing fsync, a full disk, an unwritable log."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent.startup import load_agent, open_home
from memory.datadir import ensure_data_dir
from memory.errors import StorageError
from memory.graph.db import MemoryDB
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.settings import load_settings, resolve_paths
from tests.conftest import HEARTH, RunHearth
from tui.cli.chat import OFF_RECORD_NOTE

FAULT = "HEARTH_TESTING__FAULT_POINT"
SHORT = {"HEARTH_SAMPLING__MAX_TOKENS": "2"}
OLD_DATADIR = Path(__file__).parent / "fixtures" / "old_datadir"


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in db.execute(sql)]
    finally:
        db.close()


def _intact(path: Path) -> bool:
    return _query(path, "PRAGMA integrity_check") == [("ok",)]


def _messages(home: Path) -> list[tuple[object, ...]]:
    return _query(home / "journal.sqlite3", "SELECT id, role, text, status FROM messages")


def _userns(*flags: str) -> str | None:
    """Why `unshare` with these flags cannot run here, or None when it can."""
    if shutil.which("unshare") is None:
        return "no unshare program on this machine"
    probe = subprocess.run(["unshare", *flags, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"user namespaces are not allowed here (unshare {' '.join(flags)}: {probe.stderr})"
    return None


def test_kill_9_between_the_memory_db_and_the_index_is_caught_up_at_the_next_open(
    run_hearth: RunHearth, hearth_home: Path, embedder: SentenceEmbedder
) -> None:
    killed = run_hearth(
        "say", "My cat is called Miso.", env={FAULT: "before-index-write", **SHORT}, process=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    # The turn is journaled whole; memory.sqlite3 holds the memory and its queued index write.
    turn = _messages(hearth_home)
    assert turn[0][1:] == ("user", "My cat is called Miso.", "complete")
    assert [r[1] for r in turn] == ["user", "assistant"] and turn[1][3] == "complete"
    memory_db = hearth_home / "memory.sqlite3"
    assert _intact(hearth_home / "journal.sqlite3") and _intact(memory_db)
    ids = {r[0] for r in _query(memory_db, "SELECT id FROM memories")}
    assert ids and ids <= {r[0] for r in _query(memory_db, "SELECT id FROM index_pending")}

    # The next write-open replays the queue: the index and memory.sqlite3 agree, by id.
    home = open_home(write_lock=True)
    try:
        store = MemoryStore.open(
            home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
        )
        home.store = store
        stats = store.stats()
        assert stats.indexed == stats.memories == len(ids)
        assert _query(memory_db, "SELECT count(*) FROM index_pending") == [(0,)]
        vector = store.embed(["What is my cat called?"])[0]
        found = {h.memory.id for h in store.search_by_vector("What is my cat called?", vector)}
        assert ids & found
    finally:
        home.close()


def test_kill_9_between_the_reply_and_the_memory_write_leaves_a_visible_gap_that_is_filled(
    run_hearth: RunHearth, hearth_home: Path, embedder: SentenceEmbedder
) -> None:
    killed = run_hearth(
        "say", "I live in Porto.", env={FAULT: "before-memory-write", **SHORT}, process=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [r[1] for r in _messages(hearth_home)] == ["user", "assistant"]
    memory_db = hearth_home / "memory.sqlite3"
    assert _intact(hearth_home / "journal.sqlite3") and _intact(memory_db)
    assert _query(memory_db, "SELECT count(*) FROM memories") == [(0,)]

    home = open_home({"sampling": {"max_tokens": 1}}, write_lock=True)
    try:
        home.store = MemoryStore.open(
            home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
        )
        # The gap is visible in the journal: the message is marked not yet remembered ...
        user = home.journal.message(1)
        assert user.meta.remembered is False
        # ... and the next writing start makes its memory (agent/catch_up.py), once: answering
        # it again makes no second one.
        agent = load_agent(home)
        assert home.store.count() == 1
        assert home.journal.message(1).meta.remembered is True
        result = agent.reply_to(user.id)
        assert result.stored == [] and home.store.count() == 1
    finally:
        home.close()


def _seed_journal(home: Path) -> list[tuple[object, ...]]:
    ensure_data_dir(home)
    journal = Journal(home / "journal.sqlite3")
    try:
        session = journal.create_session()
        user = journal.append(session.id, "user", "An earlier message.")
        journal.append(session.id, "assistant", "An earlier reply.", parent_id=user.id)
    finally:
        journal.close()
    return _messages(home)


def test_an_fsync_error_exits_10_in_one_line_and_reports_nothing_saved(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    before = _seed_journal(hearth_home)
    # A named fake (memory/faults.py): the error SQLite raises when fsync fails, at commit.
    failed = run_hearth(
        "say", "--no-memory", "--json", "Will this be kept?", env={FAULT: "commit-fsync-error"}
    )
    assert failed.returncode == 10, failed.stderr
    assert failed.stdout == ""
    # One line of error; before it, at most say's own off-record notice (--no-memory).
    *before_error, error = failed.stderr.strip().splitlines()
    assert before_error in ([], [OFF_RECORD_NOTE]), failed.stderr
    assert error.startswith("hearth: could not save to ") and "fsync" in error, failed.stderr
    assert _messages(hearth_home) == before
    assert _intact(hearth_home / "journal.sqlite3")


def test_a_full_database_file_is_a_storage_error_and_loses_nothing(
    hearth_home: Path, embedder: SentenceEmbedder
) -> None:
    # SQLITE_FULL for real: max_page_count caps the file where it stands.
    home = hearth_home
    before = _seed_journal(home)
    journal = Journal(home / "journal.sqlite3")
    try:
        pages = journal._db.execute("PRAGMA page_count").fetchone()[0]
        journal._db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StorageError, match=r"could not save to .*full") as err:
            journal.append(1, "user", "x" * 100_000)
        assert err.value.exit_code == 10 and "\n" not in str(err.value)
        assert len(journal.messages(1)) == 2
    finally:
        journal.close()
    assert _messages(home) == before and _intact(home / "journal.sqlite3")

    paths = resolve_paths()
    store = MemoryStore.open(paths, load_settings(paths), write=True, embedder=embedder)
    try:
        kept = store.add("I have a cat named Miso.")
        pages = store._db._db.execute("PRAGMA page_count").fetchone()[0]
        store._db._db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StorageError):
            store.add("A long memory. " * 5000)
        assert [m.id for m in store.list()] == [kept.id]
        assert store.stats().indexed == 1
    finally:
        store.close()


FULL_DISK_DRIVER = """
import json, os, sqlite3, subprocess, sys
hearth, home = sys.argv[1], sys.argv[2]
env = {**os.environ, "HEARTH_HOME": home, "HEARTH_SAMPLING__MAX_TOKENS": "2"}
results = {}
for name, args in [
    ("logs list", ["logs", "list"]),
    ("logs status", ["logs", "status", "--json"]),
    ("memory list", ["memory", "list"]),
    ("say", ["say", "Hello there."]),
    ("say --no-memory", ["say", "--no-memory", "Hello there."]),
]:
    done = subprocess.run([hearth, *args], capture_output=True, text=True, env=env)
    results[name] = [done.returncode, done.stdout, done.stderr]
for name in ("journal", "memory"):
    db = sqlite3.connect(f"file:{home}/{name}.sqlite3?mode=ro&immutable=1", uri=True)
    results[name] = db.execute("PRAGMA integrity_check").fetchone()[0]
print(json.dumps(results))
"""


def test_a_full_disk_lets_reading_commands_work_and_says_so_on_a_write(tmp_path: Path) -> None:
    why = _userns("-rm")
    if why:
        pytest.skip(f"no tmpfs to fill: {why}")
    home = tmp_path / "home"
    shutil.copytree(OLD_DATADIR, home)
    # Migrated first (a pending upgrade on a full disk is refused, tested elsewhere).
    Journal(home / "journal.sqlite3").close()
    MemoryDB(home / "memory.sqlite3").close()
    before = _messages(home)
    mount = tmp_path / "disk"
    mount.mkdir()
    script = (
        f"mount -t tmpfs -o size=16m tmpfs {mount} && cp -a {home} {mount}/home && "
        f"(dd if=/dev/zero of={mount}/fill bs=64k 2>/dev/null; true) && "
        f'exec {sys.executable} -c "$DRIVER" {HEARTH} {mount}/home'
    )
    done = subprocess.run(
        ["unshare", "-rm", "bash", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "DRIVER": FULL_DISK_DRIVER},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for name in ("logs list", "logs status", "memory list"):
        rc, out, err = results[name]
        assert rc == 0 and err == "", (name, err)
    assert json.loads(results["logs status"][1])["messages"] == len(before)
    assert "m_" in results["memory list"][1]
    for name in ("say", "say --no-memory"):
        rc, out, err = results[name]
        assert rc == 10 and out == "", (name, err)
        # --no-memory's note on going off the record comes first; then the one error line.
        lines = [line for line in err.strip().splitlines() if not line.startswith("off the")]
        assert len(lines) == 1, (name, err)
        assert "is full (" in lines[0] and "bytes free); free some space" in lines[0]
    assert results["journal"] == results["memory"] == "ok"


def test_an_unwritable_log_puts_no_traceback_on_the_screen(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    before = _seed_journal(hearth_home)
    # A folder where the log file should be: it cannot be opened, even by root.
    (hearth_home / "hearth.log").mkdir()
    listed = run_hearth("logs", "list", "--json")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    assert len(json.loads(listed.stdout)) == len(before)
    missing = run_hearth("logs", "show", "99")
    assert missing.returncode == 9
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "Traceback" not in missing.stderr and "Logging error" not in missing.stderr


def test_a_start_in_a_cut_network_namespace_works(hearth_home: Path) -> None:
    why = _userns("-rn")
    if why:
        pytest.skip(f"cannot cut the network: {why}")
    done = subprocess.run(
        ["unshare", "-rn", str(HEARTH), "say", "--json", "I live in Porto."],
        capture_output=True,
        text=True,
        env={**os.environ, "HEARTH_HOME": str(hearth_home), **SHORT},
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "complete" and result["stored"]
