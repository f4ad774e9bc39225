"""A full disk: a refused run leaves nothing behind but one log line, doctor tells it from
damage, and the memories a turn missed are made once there is room again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.startup import Home
from agent.turn import Agent
from memory.errors import StorageError
from memory.graph.db import MemoryDB
from memory.journal.journal import Journal
from memory.journal.schemas import MessageMeta
from tests.conftest import HEARTH
from tests.test_faults import OLD_DATADIR, _userns

DRIVER = """
import json, os, subprocess, sys
hearth, home = sys.argv[1], sys.argv[2]
env = {**os.environ, "HEARTH_HOME": home, "HEARTH_SAMPLING__MAX_TOKENS": "2"}
before = sorted(os.listdir(home))
results = {"before": before}
for n in range(3):
    done = subprocess.run([hearth, "say", "Hello there."], capture_output=True, text=True, env=env)
    results[f"say {n}"] = [done.returncode, done.stdout, done.stderr]
results["after"] = sorted(os.listdir(home))
done = subprocess.run([hearth, "doctor", "--json"], capture_output=True, text=True, env=env)
results["doctor"] = [done.returncode, done.stdout, done.stderr]
with open(os.path.join(home, "hearth.log"), encoding="utf-8", errors="replace") as fh:
    results["log"] = fh.read()
print(json.dumps(results))
"""


def test_a_refused_run_on_a_full_disk_leaves_one_log_line_and_doctor_tells_it_from_damage(
    tmp_path: Path,
) -> None:
    why = _userns("-rm")
    if why:
        pytest.skip(f"no tmpfs to fill: {why}")
    home = tmp_path / "home"
    shutil.copytree(OLD_DATADIR, home)
    Journal(home / "journal.sqlite3").close()
    MemoryDB(home / "memory.sqlite3").close()
    mount = tmp_path / "disk"
    mount.mkdir()
    # 40 KB left: what four refused runs used to eat (a traceback and a -shm file each).
    script = (
        f"mount -t tmpfs -o size=16m tmpfs {mount} && cp -a {home} {mount}/home && "
        f"(dd if=/dev/zero of={mount}/fill bs=64k 2>/dev/null; true) && "
        f"truncate -s -40K {mount}/fill && "
        f'exec {sys.executable} -c "$DRIVER" {HEARTH} {mount}/home'
    )
    done = subprocess.run(
        ["unshare", "-rm", "bash", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "DRIVER": DRIVER},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for n in range(3):
        rc, out, err = results[f"say {n}"]
        assert rc == 10 and out == "" and len(err.strip().splitlines()) == 1, err
    # Nothing new but the lock file, the log and the model's metadata cache (the model loads
    # beside the store's opening; the cache's write gives up quietly when the disk is full):
    # no -shm or -wal, no run marker.
    new = set(results["after"]) - set(results["before"])
    assert new <= {"hearth.lock", "hearth.log", "gguf-info.json"}
    log = results["log"]
    assert "Traceback" not in log and len(log.strip().splitlines()) == 3, log

    rc, out, _ = results["doctor"]
    assert rc == 18
    checks = {c["name"]: c for c in json.loads(out)}
    for name in ("journal", "memory"):
        assert checks[name]["ok"] and "intact" in checks[name]["detail"], checks[name]
    assert checks["index"]["ok"], checks["index"]
    assert not checks["disk"]["ok"] and "free some space" in checks["disk"]["fix"]


SAID = {
    "old history": "My uncle is called Bartholomew.",
    "off the record": "My cousin is called Wilhelmina.",
    "memory off": "My aunt is called Gertrude.",
    "client history": "My boss is called Reginald.",
    "dream": "My neighbour is called Ferdinand.",
    "imported": "My teacher is called Cornelius.",
}


def _journal_unremembered(journal: Journal, session: int) -> None:
    """One person's message of each kind that must never be caught up, none remembered."""
    journal.append(session, "user", SAID["off the record"], off_record=True)
    journal.append(session, "user", SAID["memory off"], meta=MessageMeta(memory=False))
    journal.append(session, "user", SAID["client history"], meta={"source": "client"})
    journal.append(session, "user", SAID["dream"], meta={"synthetic": True})
    journal.append(session, "user", SAID["imported"], meta={"source": "chatgpt"})


def test_memories_missed_on_a_full_disk_are_made_when_space_returns(
    make_agent: Callable[..., tuple[Home, Agent]], hearth_home: Path
) -> None:
    # A data dir from before: its history was never marked remembered, and stays so.
    hearth_home.mkdir(parents=True, exist_ok=True)
    old = Journal(hearth_home / "journal.sqlite3")
    first = old.create_session("before")
    old.append(first.id, "user", SAID["old history"])
    old.close()

    home, agent = make_agent(sampling={"max_tokens": 4})
    session = agent.session(new=True)
    _journal_unremembered(home.journal, session.id)
    assert agent.store is not None
    # The memory database is full (SQLITE_FULL for real): the turn's memory write fails.
    db = agent.store._db._db
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(StorageError):
        agent.run_turn(session.id, "My cat is called Biscuit.")
    said = next(
        m for m in home.journal.messages(session.id) if m.text == "My cat is called Biscuit."
    )
    assert not said.meta.remembered and agent.store.count() == 0
    home.close()

    # Space returns: the next writing start makes the missed memories, and only those.
    home, agent = make_agent(sampling={"max_tokens": 4})
    assert agent.store is not None
    texts = [m.text for m in agent.store.list()]
    assert any("Biscuit" in t for t in texts), texts
    for words in SAID.values():
        name = words.split()[-1].rstrip(".")
        assert not any(name in t for t in texts), (name, texts)
    assert home.journal.message(said.id).meta.remembered
    # Once: a later start makes nothing again.
    count = agent.store.count()
    home.close()
    _, agent = make_agent(sampling={"max_tokens": 4})
    assert agent.store is not None and agent.store.count() == count
