"""kill -9 in the middle of a streamed reply loses nothing that came before it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import RunHearth

LONG_REPLY = """
from agent.startup import load_agent, open_home
home = open_home(
    {"sampling": {"max_tokens": 3000, "ignore_eos": True}, "model": {"n_ctx": 4096}},
    write_lock=True,
)
agent = load_agent(home)
agent.run_turn(agent.session().id, "Tell me everything you know about the sea.")
"""


def _rows(journal: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM messages ORDER BY id")]
    finally:
        db.close()


def _wait_for_partial(journal: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the reply ended before it could be killed"
        db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        try:
            row = db.execute(
                "SELECT count(*) FROM messages WHERE status='incomplete' AND length(text) > 20"
            ).fetchone()
        finally:
            db.close()
        if row[0]:
            return
        time.sleep(0.2)
    raise AssertionError("no partial reply was journaled in time")


def test_kill_9_mid_reply_keeps_earlier_turns_and_the_partial(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    first = run_hearth("say", "My cat is called Miso.", "--json")
    assert first.returncode == 0, first.stderr
    journal = hearth_home / "journal.sqlite3"
    before = _rows(journal)

    proc = subprocess.Popen(
        [sys.executable, "-c", LONG_REPLY],
        env={**os.environ, "HEARTH_HOME": str(hearth_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_partial(journal, proc, timeout=120)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    after = _rows(journal)
    assert after[: len(before)] == before  # earlier messages byte-identical
    new = after[len(before) :]
    assert len(new) == 2
    user, partial = new
    assert user["role"] == "user" and user["text"] == "Tell me everything you know about the sea."
    assert partial["role"] == "assistant" and partial["status"] == "incomplete"
    assert isinstance(partial["text"], str) and len(partial["text"]) > 20

    # The stores open cleanly afterwards, the lock is free, and the chat goes on.
    status = json.loads(run_hearth("logs", "status", "--json").stdout)
    assert status["incomplete"] == 1
    again = run_hearth("say", "Are you still there?", "--json")
    assert again.returncode == 0, again.stderr
