"""Long runs: a soak of many turns, and snapshots of a data dir taken while turns are written.

The default suite soaks for a short run (`slow`: 3 sessions of 12 turns); the `soak` tier
(opt-in: HEARTH_TEST_SOAK=1 or `-m soak`) runs the full 500 turns, ten days of talk."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.startup import load_agent, open_home
from memory.graph.db import MemoryDB
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal

PLACES = ["the market", "the river", "my aunt's house", "the library", "the old harbour"]
FD_SLACK = 4
SNAPSHOTS = 10


def _said(turn: int) -> str:
    # Few tokens a turn. Every turn runs the write path, every tenth stores a liking, and
    # recall finds those again in later sessions; a note shown with each message would cost
    # more than the rest of the turn, so most messages (an outing: not kept by the rules
    # extractor) have nothing new to recall.
    place = PLACES[turn % len(PLACES)]
    return (
        f"I like {place} on day {turn}." if turn % 10 == 0 else f"I went to {place} on day {turn}."
    )


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@dataclass(frozen=True)
class Soak:
    """A soak's length: sessions of `turns` turns each, RSS and open files first read after
    `warm_up` turns (what loads once, late, has loaded by then)."""

    sessions: int
    turns: int
    warm_up: int


SHORT = Soak(sessions=3, turns=12, warm_up=12)
"""The default suite's: every check below still runs (a liking each session, recalled in the
next), over fewer turns."""
FULL = Soak(sessions=10, turns=50, warm_up=50)
"""The `soak` tier's: 500 turns."""


@pytest.mark.parametrize(
    "soak",
    [
        pytest.param(SHORT, id="36-turns", marks=pytest.mark.slow),
        pytest.param(FULL, id="500-turns", marks=pytest.mark.soak),
    ],
)
def test_a_soak_keeps_memory_and_files_flat_and_one_row_per_message(
    hearth_home: Path, embedder: SentenceEmbedder, soak: Soak
) -> None:
    # Every part of a turn runs (journal, recall, memory writes, a new session each
    # `soak.turns` turns) with one-token replies and at most one note a message, so each turn
    # evaluates only its own few new tokens and even the full soak stays a few minutes.
    # Trimming a full window is tests/test_context_limit.py's subject; a session here fits.
    home = open_home(
        {
            "model": {"n_ctx": 4096},
            "sampling": {"max_tokens": 1, "seed": 1},
            "memory": {"recall_k": 1},
        },
        write_lock=True,
    )
    try:
        home.store = MemoryStore.open(
            home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
        )
        agent = load_agent(home)
        started = time.monotonic()
        sessions: list[int] = []
        recalled = 0
        for turn in range(1, soak.sessions * soak.turns + 1):
            if turn % soak.turns == 1:
                sessions.append(agent.session(new=True).id)
            result = agent.run_turn(sessions[-1], _said(turn))
            assert result.status == "complete"
            recalled += bool(result.recalled)
            if turn == soak.warm_up:
                rss, fds = _rss_kib(), _open_fds()
        took = time.monotonic() - started
        rss_end, fds_end = _rss_kib(), _open_fds()
        print(
            f"soak: {soak.sessions * soak.turns} turns in {took:.0f}s; "
            f"RSS {rss} -> {rss_end} KiB; fds {fds} -> {fds_end}; recalled in {recalled} turns"
        )
        assert rss_end <= rss * 1.10, f"RSS grew from {rss} to {rss_end} KiB"
        # A little slack for what opens once, late (measured: +1 or +2 eventfd-like handles
        # in the first 30 turns, none after); a leak per turn would add hundreds.
        assert fds_end <= fds + FD_SLACK, f"open files grew from {fds} to {fds_end}"
        assert recalled >= soak.sessions - 1  # likings from earlier sessions came back

        for n, session in enumerate(sessions):
            rows = agent.journal.messages(session, newest_first=False)
            users = [m for m in rows if m.role == "user"]
            replies = [m for m in rows if m.role == "assistant"]
            said = [_said(t) for t in range(n * soak.turns + 1, (n + 1) * soak.turns + 1)]
            assert len(rows) == 2 * soak.turns  # exactly one row per message
            assert [m.text for m in users] == said
            assert sorted(r.parent_id or 0 for r in replies) == sorted(u.id for u in users)
            assert all(r.status == "complete" for r in replies)
            # Every message went through the write path.
            assert all(u.meta.remembered for u in users)
        cited = {i for m in home.store.list(valid_only=False) for i in m.provenance}
        likings = {m.id for m in agent.journal.messages() if m.text.startswith("I like")}
        assert len(likings) == soak.sessions * soak.turns // 10 and likings <= cited
    finally:
        home.close()


WRITER = """
import sys
from pathlib import Path
from agent.startup import load_agent, open_home
done = Path(sys.argv[1])
home = open_home({"model": {"n_ctx": 512}, "sampling": {"max_tokens": 2}}, write_lock=True)
agent = load_agent(home)
session = agent.session(new=True).id
turn = 0
# Turns until the test has its snapshots (at most MOST_TURNS): as long as they take, no longer.
while turn < MOST_TURNS and not (turn > 1 and done.exists()):
    agent.run_turn(session, f"Day {turn}: I walked to the river and met my friend Rui.")
    turn += 1
    if turn == 1:
        print("writing", flush=True)
home.close()
print(turn, flush=True)
"""
MOST_TURNS = 200


def _check_copy(copy: Path) -> int:
    """The copy opens cleanly; every reply is complete or marked cut off. Replies in it."""
    for name in ("journal.sqlite3", "memory.sqlite3"):
        if (copy / name).exists():
            db = sqlite3.connect(copy / name)  # writable: a copied -wal is replayed, as on restore
            try:
                assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", (copy, name)
            finally:
                db.close()
    if not (copy / "journal.sqlite3").exists():
        return 0
    journal = Journal(copy / "journal.sqlite3")
    try:
        rows = [m for s in journal.sessions() for m in journal.messages(s.id)]
    finally:
        journal.close()
    if (copy / "memory.sqlite3").exists():
        MemoryDB(copy / "memory.sqlite3").close()
    users = {m.id for m in rows if m.role == "user"}
    replies = [m for m in rows if m.role == "assistant"]
    for reply in replies:
        assert reply.status in ("complete", "incomplete", "interrupted"), (copy, reply)
        assert reply.parent_id in users
    # At most one reply per message, and only the newest message may lack one.
    answered = [r.parent_id for r in replies]
    assert len(answered) == len(set(answered))
    assert len(users - set(answered)) <= 1
    return len(replies)


@pytest.mark.slow
def test_snapshots_taken_mid_write_each_open_cleanly(hearth_home: Path, tmp_path: Path) -> None:
    done = tmp_path / "enough-snapshots"
    log = tmp_path / "writer.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER.replace("MOST_TURNS", str(MOST_TURNS)), str(done)],
            env={**os.environ, "HEARTH_HOME": str(hearth_home)},
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    assert proc.stdout is not None
    rng = random.Random(12)
    copies: list[Path] = []
    try:
        # Snapshots start once turns are being written (loading the model comes first).
        assert proc.stdout.readline().strip() == "writing", log.read_text()
        while proc.poll() is None and len(copies) < SNAPSHOTS:
            time.sleep(rng.uniform(0.2, 1.5))
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                # Everything, -wal and -shm included, as a backup tool copying the folder would.
                copy = tmp_path / f"copy{len(copies)}"
                shutil.copytree(hearth_home, copy, ignore_dangling_symlinks=True)
                copies.append(copy)
            finally:
                os.kill(proc.pid, signal.SIGCONT)
        done.touch()
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()
    assert len(copies) == SNAPSHOTS, f"the writer ended after {len(copies)} snapshots"
    seen = [_check_copy(copy) for copy in copies]
    assert seen == sorted(seen) and seen[-1] > 0
    assert _check_copy(hearth_home) == int(out.strip())
