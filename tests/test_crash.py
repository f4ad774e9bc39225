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

import pytest

from tests.conftest import HEARTH, RunHearth

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
        except sqlite3.OperationalError:
            row = (0,)  # the journal is still being created: a slow start on a busy machine
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


SEGFAULT_MID_REPLY = """
import os, signal
from agent.startup import load_agent, open_home
home = open_home(
    {"sampling": {"max_tokens": 400, "ignore_eos": True}, "model": {"n_ctx": 2048}},
    write_lock=True,
)
agent = load_agent(home)
pieces = 0

def on_piece(text):
    global pieces
    pieces += 1
    if pieces == 80:  # past the journal's 32-piece flush, so the partial reply is on disk
        os.kill(os.getpid(), signal.SIGSEGV)

agent.run_turn(agent.session().id, "Tell me about the sea.", on_piece=on_piece)
"""


def test_a_segfault_mid_reply_is_reported_once_at_the_next_start(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SEGFAULT_MID_REPLY],
        env={**os.environ, "HEARTH_HOME": str(hearth_home)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == -signal.SIGSEGV, proc.stderr

    # The journal is readable and the cut-off reply keeps its incomplete status.
    listed = run_hearth("logs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    partial = json.loads(listed.stdout)[0]
    assert partial["role"] == "assistant" and partial["status"] == "incomplete"
    assert len(partial["text"]) > 20

    # That first start said, in one line, that the run died, where, and where the stack is.
    warnings = [line for line in listed.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, listed.stderr
    line = warnings[0]
    assert line.startswith("hearth: warning: the last run (hearth, pid ")
    assert "died: Segmentation fault in <string>" in line
    assert "called from agent/turn.py" in line
    assert str(hearth_home / "hearth.log") in line
    log = (hearth_home / "hearth.log").read_text()
    assert "Fatal Python error: Segmentation fault" in log

    # Reported once; a clean run leaves nothing to report.
    again = run_hearth("logs", "status", "--json")
    assert again.returncode == 0 and again.stderr == ""
    assert json.loads(again.stdout)["incomplete"] == 1
    assert list((hearth_home / "runs").iterdir()) == []


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_mid_reply_saves_it_interrupted_and_closes_the_run(
    run_hearth: RunHearth, hearth_home: Path, sig: signal.Signals, code: int
) -> None:
    # `hearth say` itself, killed as a service manager (SIGTERM) or a closed terminal (SIGHUP) does.
    proc = subprocess.Popen(
        # Memory on: an off-record turn would be deleted once it ends, interrupted or not.
        [str(HEARTH), "say", "Tell me everything you know about the sea."],
        env={
            **os.environ,
            "HEARTH_HOME": str(hearth_home),
            "HEARTH_SAMPLING__MAX_TOKENS": "3000",
            "HEARTH_SAMPLING__IGNORE_EOS": "true",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    journal = hearth_home / "journal.sqlite3"
    try:
        deadline = time.monotonic() + 60
        while not journal.exists() and time.monotonic() < deadline:  # the process starting
            time.sleep(0.2)
        _wait_for_partial(journal, proc, timeout=120)
        os.kill(proc.pid, sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert b"Traceback" not in stderr
    reply = _rows(journal)[-1]
    assert reply["role"] == "assistant" and reply["status"] == "interrupted"
    assert isinstance(reply["text"], str) and len(reply["text"]) > 20
    # The run ended cleanly: no marker left, so the next start reports no crash.
    assert not list((hearth_home / "runs").iterdir())
    status = run_hearth("logs", "status", "--json")
    assert status.returncode == 0 and "ended without closing" not in status.stderr, status.stderr
    assert json.loads(status.stdout)["incomplete"] == 0
