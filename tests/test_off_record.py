"""Off the record: what is said with memory off never reaches an export, a recall, a memory or a
later prompt, and is deleted when the person leaves the session (or after a crash)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from agent.feedback import regenerate
from agent.startup import Home, load_agent, open_home
from agent.turn import Agent
from memory.export.writer import ExportOptions, run_export
from memory.journal.journal import Journal
from tests.conftest import RunHearth
from tui.app import OFF_RECORD_MARK, OFF_RECORD_NOTICE, HearthApp
from tui.widgets.chat_input import ChatInput
from tui.widgets.messages import MessageView

SECRET = "the vault code is 4417 and Pavel must never know"
OLD_DATADIR = Path(__file__).parent / "fixtures" / "old_datadir"


@pytest.fixture
def make_agent(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> Callable[..., tuple[Home, Agent]]:
    """The suite's, with short replies."""
    return lambda **overrides: make_agent(**{"sampling": {"max_tokens": 8}, **overrides})


def dangling_parents(journal_path: Path) -> list[int]:
    """Messages whose parent_id names no message."""
    db = sqlite3.connect(journal_path)
    try:
        rows = db.execute(
            "SELECT id FROM messages m WHERE parent_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.id = m.parent_id)"
        ).fetchall()
    finally:
        db.close()
    return [int(r[0]) for r in rows]


def exported_text(path: Path) -> str:
    if path.suffix == ".parquet":
        return json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False)
    return path.read_text()


def test_an_off_record_turn_leaves_no_trace(
    make_agent: Callable[..., tuple[Home, Agent]], tmp_path: Path
) -> None:
    home, agent = make_agent()
    session = agent.session(new=True)
    first = agent.run_turn(session.id, "I live in Porto.")
    secret = agent.run_turn(session.id, f"Just between us: {SECRET}.", use_memory=False)
    # A regeneration of words said off the record stays off the record.
    again = regenerate(agent, secret.turn_id)
    later = agent.run_turn(session.id, "I like green tea.")
    journal = home.journal
    for turn_id in (secret.user_turn_id, secret.turn_id, again.turn_id):
        assert journal.message(turn_id).off_record
    for turn_id in (first.user_turn_id, first.turn_id, later.user_turn_id, later.turn_id):
        assert not journal.message(turn_id).off_record
    # Rated and chosen, as training signals would be, and still never exported.
    for turn_id in (first.turn_id, secret.turn_id, again.turn_id, later.turn_id):
        journal.set_feedback(turn_id, rating=1, note="good")
    journal.choose(secret.turn_id)

    # The on-record turn after it never saw it: the history skips it, so no prompt stores it.
    later_prompt = journal.message(later.turn_id).prompt
    assert later_prompt is not None
    assert SECRET not in json.dumps([m.model_dump() for m in later_prompt])
    assert [m.role for m in later_prompt] == ["system", "user", "assistant", "user"]

    # Neither remembered nor recalled.
    assert agent.store is not None
    assert all("4417" not in m.text for m in agent.store.list(valid_only=False))
    hits = agent.store.search("What is the vault code? Pavel")
    assert all("4417" not in h.memory.text for h in hits)

    # No export of any kind or format holds it, frozen prompts included.
    written = 0
    for kind in ("sft", "dpo", "kto", "openai", "sharegpt"):
        for file_format in ("jsonl", "parquet"):
            for frozen in (False, True):
                out = tmp_path / f"{kind}-{file_format}-{frozen}.{file_format}"
                result = run_export(
                    journal,
                    ExportOptions(
                        kind=kind,  # type: ignore[arg-type]
                        file_format=file_format,  # type: ignore[arg-type]
                        context_frozen=frozen,
                        out=out,
                        min_rating=-1,
                        command="test",
                    ),
                )
                if result.path is None:
                    continue
                written += 1
                assert "4417" not in exported_text(result.path), (kind, file_format, frozen)
                assert result.card is not None and "4417" not in result.card.read_text()
    assert written >= 12  # sft, openai and sharegpt at least, each in both shapes and formats

    # Leaving the session deletes it; parent links stay valid and the thread reads on.
    removed = agent.leave(session.id)
    assert removed == 3
    assert journal.counts()["off_record"] == 0
    assert dangling_parents(home.paths.journal) == []
    thread = journal.thread(session.id)
    assert [m.id for m in thread] == [
        first.user_turn_id,
        first.turn_id,
        later.user_turn_id,
        later.turn_id,
    ]
    assert journal.message(later.user_turn_id).parent_id == first.turn_id
    # The bytes are gone from the file too (freed pages zeroed, write-ahead log emptied).
    journal_bytes = home.paths.journal.read_bytes()
    wal = home.paths.journal.with_name("journal.sqlite3-wal")
    if wal.exists():
        journal_bytes += wal.read_bytes()
    assert b"4417" not in journal_bytes


def _leftovers(journal: Journal) -> tuple[int, list[int]]:
    """A session as a crash leaves it: on-record, off-record, on-record again; the ids."""
    session = journal.create_session()
    ids = [
        journal.append(session.id, "user", "Good morning.").id,
        journal.append(session.id, "assistant", "Morning!").id,
        journal.append(session.id, "user", SECRET, off_record=True).id,
        journal.append(session.id, "assistant", "Safe with me.").id,  # a reply: off too
        journal.append(session.id, "user", "Back on the record.").id,
        journal.append(session.id, "assistant", "Welcome back.").id,
    ]
    # A session held wholly off the record goes with its messages.
    alone = journal.create_session()
    journal.append(alone.id, "user", SECRET, off_record=True)
    journal.append(alone.id, "assistant", "Noted.")
    return session.id, ids


def test_logs_purge_off_record(run_hearth: RunHearth, hearth_home: Path) -> None:
    assert run_hearth("logs", "status").returncode == 0  # makes the data dir
    journal = Journal(hearth_home / "journal.sqlite3")
    session_id, ids = _leftovers(journal)
    sessions_before = len(journal.sessions())
    journal.close()

    status = json.loads(run_hearth("logs", "status", "--json").stdout)
    assert status["off_record"] == 4
    listed = run_hearth("logs", "list", "-s", str(session_id), env={"COLUMNS": "200"})
    assert listed.stdout.count("off the record") == 2
    shown = run_hearth("logs", "show", str(ids[2]), env={"COLUMNS": "200"})
    assert "off the record" in shown.stdout.splitlines()[0]

    refused = run_hearth("logs", "purge", "--off-record")
    assert refused.returncode == 15
    assert "4 off-record messages will be deleted" in refused.stderr
    assert "needs --yes" in refused.stderr
    assert json.loads(run_hearth("logs", "status", "--json").stdout)["off_record"] == 4

    done = run_hearth("logs", "purge", "--off-record", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "removed 4 off-record messages"
    journal = Journal(hearth_home / "journal.sqlite3")
    try:
        assert journal.counts()["off_record"] == 0
        assert len(journal.sessions()) == sessions_before - 1
        assert [m.id for m in journal.thread(session_id)] == [ids[0], ids[1], ids[4], ids[5]]
        assert journal.message(ids[4]).parent_id == ids[1]
    finally:
        journal.close()
    assert dangling_parents(hearth_home / "journal.sqlite3") == []
    assert run_hearth("logs", "purge", "--off-record").stdout.strip() == (
        "removed 0 off-record messages"
    )


def test_a_crash_leftover_is_purged_when_a_writer_next_starts(hearth_home: Path) -> None:
    home = open_home()
    session_id, ids = _leftovers(home.journal)
    home.close()

    reader = open_home()  # a reading command leaves them (and counts them)
    try:
        assert reader.purged_off_record == 0
        assert reader.journal.counts()["off_record"] == 4
    finally:
        reader.close()
    writer = open_home(write_lock=True)
    try:
        assert writer.purged_off_record == 4
        assert writer.journal.counts()["off_record"] == 0
        assert writer.journal.session(session_id).head_id == ids[5]
    finally:
        writer.close()
    assert dangling_parents(hearth_home / "journal.sqlite3") == []


def test_the_head_moves_back_when_the_last_turn_was_off_record(hearth_home: Path) -> None:
    home = open_home()
    try:
        journal = home.journal
        session = journal.create_session()
        journal.append(session.id, "user", "Hello.")
        reply = journal.append(session.id, "assistant", "Hi.")
        journal.append(session.id, "user", SECRET, off_record=True)
        journal.append(session.id, "assistant", "Understood.")
        edited = journal.edit(journal.messages(session.id)[1].id, "a corrected secret")
        assert edited.off_record and edited.parent_id == reply.id
        assert journal.purge_off_record(session.id) == 3
        assert journal.session(session.id).head_id == reply.id
    finally:
        home.close()


def test_the_previous_schema_marks_and_purges_its_memory_off_turn(tmp_path: Path) -> None:
    """The old data dir has a `--no-memory` turn (21, 22) whose words reply 24's prompt kept."""
    path = tmp_path / "journal.sqlite3"
    shutil.copy(OLD_DATADIR / "journal.sqlite3", path)
    journal = Journal(path)
    try:
        off = [m.id for m in journal.messages(newest_first=False) if m.off_record]
        assert off == [21, 22]
        secret = journal.message(21).text
        before = journal.message(24).prompt
        assert before is not None and any(m.content == secret for m in before)
        assert journal.purge_off_record() == 2
        after = journal.message(24).prompt
        assert after is not None and len(after) == len(before) - 2
        # Only the off-record pair went: the replies before it said the same words and stay.
        assert [m.role for m in after] == ["system", *["user", "assistant"] * 3, "user"]
        assert all(m.content != secret for m in after)
        assert journal.message(23).parent_id == 20
    finally:
        journal.close()


def test_say_no_memory_deletes_its_turn_after_printing(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    assert run_hearth("logs", "status").returncode == 0  # makes the data dir
    journal = Journal(hearth_home / "journal.sqlite3")
    session = journal.create_session()
    journal.append(session.id, "user", "I live in Porto.")
    journal.append(session.id, "assistant", "Porto is lovely.")
    journal.close()
    said = run_hearth("say", "--no-memory", f"Just between us: {SECRET}.")
    assert said.returncode == 0, said.stderr
    assert said.stdout.strip()  # the reply, and only it, on stdout
    assert "off the record" not in said.stdout
    assert said.stderr.count("off the record") == 1
    listed = json.loads(run_hearth("logs", "list", "--json", "-n", "50").stdout)
    assert [m["role"] for m in listed] == ["assistant", "user"]
    assert all("4417" not in m["text"] for m in listed)
    assert dangling_parents(hearth_home / "journal.sqlite3") == []


# -- the TUI ------------------------------------------------------------------------------


async def _until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)


async def _send_and_wait(pilot: Pilot[None], app: HearthApp, text: str) -> None:
    replies = len([v for v in app.query(MessageView) if v.role == "assistant"])
    app.query_one(ChatInput).focus()
    await pilot.press(*text)
    await pilot.press("enter")
    await _until(
        pilot,
        lambda: (
            len([v for v in app.query(MessageView) if v.role == "assistant"]) > replies
            and not app.generating
        ),
    )


@pytest.fixture
def tui_home(hearth_home: Path) -> Iterator[Home]:
    home = open_home({"sampling": {"max_tokens": 8}}, write_lock=True)
    yield home
    home.close()


async def test_tui_ctrl_t_says_what_happens_and_leaving_purges(tui_home: Home) -> None:
    # No memory store (its embedder takes seconds to load): on the record means the same here.
    app = HearthApp(tui_home, loader=lambda home: load_agent(home, memory=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.agent is not None)
        await _send_and_wait(pilot, app, "Hello there.")
        await pilot.press("ctrl+t")
        assert [n.message for n in app._notifications][-1] == OFF_RECORD_NOTICE
        assert OFF_RECORD_MARK in str(app.query_one("#status", Static).render())
        await _send_and_wait(pilot, app, "Between us: 4417.")
        await pilot.press("ctrl+t")
        assert OFF_RECORD_MARK not in str(app.query_one("#status", Static).render())
        await _send_and_wait(pilot, app, "Back again.")
        journal = tui_home.journal
        assert journal.counts()["off_record"] == 2
        await pilot.press("ctrl+n")  # leaving the session
        await _until(pilot, lambda: journal.counts()["off_record"] == 0)
    texts = [m.text for m in journal.messages(newest_first=False)]
    assert texts[0] == "Hello there." and "Back again." in texts
    assert all("4417" not in t for t in texts) and len(texts) == 4
    assert dangling_parents(tui_home.paths.journal) == []


async def test_tui_started_off_record_says_so_and_quitting_purges(tui_home: Home) -> None:
    app = HearthApp(tui_home, memory=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert OFF_RECORD_NOTICE in [n.message for n in app._notifications]
        assert OFF_RECORD_MARK in str(app.query_one("#status", Static).render())
        await _until(pilot, lambda: app.agent is not None)
        await _send_and_wait(pilot, app, "Between us: 4417.")
        assert tui_home.journal.counts()["off_record"] == 2
        await pilot.press("ctrl+q")
    assert tui_home.journal.counts() == {
        "sessions": 0,
        "messages": 0,
        "incomplete": 0,
        "off_record": 0,
    }


def test_every_message_of_a_temporary_session_is_off_the_record(hearth_home: Path) -> None:
    home = open_home()
    try:
        journal = home.journal
        session = journal.create_session(temporary=True)
        user = journal.append(session.id, "user", SECRET)
        reply = journal.append(session.id, "assistant", "Noted.")
        assert user.off_record and reply.off_record
        assert journal.purge_off_record() == 2
        assert journal.sessions() == []
    finally:
        home.close()
