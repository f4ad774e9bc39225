"""Loss and recovery: a broken index rebuilt, a damaged database recovered, a mismatch refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from memory.damage import recover
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.settings import Paths, Settings
from tests.conftest import RunHearth, seed

SHORT = {"HEARTH_SAMPLING__MAX_TOKENS": "4"}


def garble(path: Path) -> None:
    """Overwrite a file with bytes that are not SQLite, keeping its size."""
    path.write_bytes(b"garbage!" * (path.stat().st_size // 8))


def test_a_broken_index_is_rebuilt_and_say_recalls(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    lisbon, _ = seed(paths, embedder, "I live in Lisbon", "My sister Ana plays the cello")
    index_file = paths.chroma_dir / "chroma.sqlite3"
    garble(index_file)

    # A reader writes nothing: it says so and searches by words.
    found = run_hearth("memory", "search", "Lisbon", "--json")
    assert found.returncode == 0, found.stderr
    assert [h["id"] for h in json.loads(found.stdout)] == [lisbon]
    assert "could not be read" in found.stderr and "Traceback" not in found.stderr
    assert index_file.read_bytes().startswith(b"garbage!")

    said = run_hearth("say", "--json", "Where do I live?", env=SHORT)
    assert said.returncode == 0, said.stderr
    assert lisbon in [m["id"] for m in json.loads(said.stdout)["recalled"]]
    assert said.stderr.count("rebuilt it from memory.sqlite3 (2 vectors)") == 1
    stats = json.loads(run_hearth("memory", "stats", "--json").stdout)
    assert stats["indexed"] == 3  # the two seeded, and the question's words kept as `said`

    garble(index_file)
    rebuilt = run_hearth("memory", "rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["indexed"] == 3
    # Among the facts (the question's own words, kept as `said`, are as close in meaning).
    found = run_hearth("memory", "search", "which city is my home", "--kind", "fact", "--json")
    dense = json.loads(found.stdout)
    assert dense[0]["id"] == lisbon and dense[0]["dense"] > 0


def damaged_journal(path: Path, sessions: int = 20, turns: int = 100) -> list[str]:
    """A journal of sessions * turns messages with garbage written over pages in its middle;
    the texts written, in id order."""
    journal = Journal(path)
    texts = []
    for s in range(sessions):
        session = journal.create_session(title=f"s{s}")
        for i in range(turns):
            text = f"session {s} turn {i}: " + "words " * 60
            journal.append(session.id, "user" if i % 2 == 0 else "assistant", text)
            texts.append(text)
    journal.close()  # the last connection checkpoints: every page is in the main file
    pages = path.stat().st_size // 4096
    with path.open("r+b") as fh:
        fh.seek(4096 * (pages * 2 // 3))
        fh.write(b"\xde\xad" * 2048 * 3)
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):
        db.execute("PRAGMA integrity_check").fetchall()
    db.close()
    return texts


def test_a_damaged_journal_is_refused_kept_and_recovered(
    run_hearth: RunHearth, paths: Paths
) -> None:
    texts = damaged_journal(paths.journal)
    damaged = paths.journal.read_bytes()

    listed = run_hearth("logs", "list")
    assert listed.returncode == 16, listed.stderr
    assert "is damaged" in listed.stderr and "hearth logs recover" in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1
    assert paths.journal.read_bytes() == damaged  # refused before anything was written

    done = run_hearth("logs", "recover", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    kept = Path(report["kept"])
    assert kept.read_bytes() == damaged and kept.stat().st_mode & 0o777 == 0o600
    assert report["rows"]["sessions"] == 20
    assert len(texts) * 0.9 <= report["rows"]["messages"] < len(texts)

    journal = Journal(paths.journal)
    try:
        assert journal.counts()["messages"] == report["rows"]["messages"]
        early = journal.messages(newest_first=False, limit=500)
        assert [m.text for m in early] == texts[:500]  # earlier turns intact, in order
        # A lost message's id is never handed out again (memories may cite it).
        new = journal.append(1, "user", "after the recovery")
        assert new.id == len(texts) + 1
    finally:
        journal.close()
    assert run_hearth("logs", "status").returncode == 0
    again = run_hearth("logs", "recover")
    assert again.returncode == 0 and "nothing to recover" in again.stdout


def test_the_salvage_without_the_sqlite3_program_reads_past_damaged_pages(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    texts = damaged_journal(path, sessions=5, turns=200)
    report = recover(path, "journal", lambda p: Journal(p).close(), program=None)
    assert report.method == "salvage" and not report.intact
    assert len(texts) * 0.9 <= report.rows["messages"] < len(texts)
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, text FROM messages ORDER BY id").fetchall()
    db.close()
    # What came back is exactly what was written, before and after the damaged pages.
    assert all(text == texts[i - 1] for i, text in rows)
    assert rows[-1][0] == len(texts)


@pytest.mark.parametrize("loss", ["empty", "missing"])
def test_a_lost_journal_is_not_taken_as_new_while_memories_cite_it(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder, loss: str
) -> None:
    journal = Journal(paths.journal)
    session = journal.create_session()
    said = [journal.append(session.id, "user", f"I have {n} cats").id for n in (2, 3)]
    journal.close()
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add("I have 3 cats", provenance=said)
        store.add("I like tea")  # cites nothing: never a reason to refuse
    for part in (paths.journal, Path(f"{paths.journal}-wal"), Path(f"{paths.journal}-shm")):
        part.unlink(missing_ok=True)
    if loss == "empty":
        paths.journal.touch()

    for args in (("say", "hello"), ("memory", "add", "I like coffee")):
        refused = run_hearth(*args, env=SHORT)
        assert refused.returncode == 17, refused.stderr
        assert f"journal {paths.journal} is {loss}" in refused.stderr
        assert "1 memories in memory.sqlite3 cite 2 of its messages" in refused.stderr
        assert "restore journal.sqlite3 from a backup" in refused.stderr
    # Reading still works, and nothing was written to the journal by the refused writers.
    assert run_hearth("memory", "list").returncode == 0
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        assert store.stats().memories == 2


def test_a_damaged_memory_database_is_recovered_and_searchable(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    lisbon, *_ = seed(paths, embedder, "I live in Lisbon", "I play the cello", "I like tea")
    db = sqlite3.connect(paths.memory_db)
    page = db.execute("SELECT rootpage FROM sqlite_master WHERE name='history'").fetchone()[0]
    db.close()
    with paths.memory_db.open("r+b") as fh:  # the history table's page: memories stay readable
        fh.seek(4096 * (page - 1))
        fh.write(b"\xde\xad" * 2048)

    listed = run_hearth("memory", "list")
    assert listed.returncode == 16 and "hearth memory recover" in listed.stderr

    done = run_hearth("memory", "recover", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"]["memories"] == report["rows"]["vectors"] == 3
    assert Path(report["kept"]).exists()
    # Both indexes were made again: the vectors' and the words'.
    found = json.loads(run_hearth("memory", "search", "Lisbon", "--json").stdout)
    assert found[0]["id"] == lisbon and found[0]["dense"] > 0 and found[0]["lexical"] > 0


def _journal_of(path: Path, count: int) -> list[str]:
    journal = Journal(path)
    session = journal.create_session(title="kept")
    texts = [f"message {n}: " + "words " * 40 for n in range(count)]
    for text in texts:
        journal.append(session.id, "user", text)
    journal.close()
    return texts


def test_a_journal_whose_header_was_overwritten_keeps_every_message(
    run_hearth: RunHearth, paths: Paths
) -> None:
    texts = _journal_of(paths.journal, 300)
    with paths.journal.open("r+b") as fh:
        fh.write(b"\x00garbage-garbage-garbage-gar")  # the first 28 bytes
    damaged = paths.journal.read_bytes()

    done = run_hearth("logs", "recover", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["method"].startswith("header repaired")
    assert report["rows"]["messages"] == len(texts) and report["rows"]["sessions"] == 1
    assert Path(report["kept"]).read_bytes() == damaged
    journal = Journal(paths.journal)
    try:
        assert [m.text for m in journal.messages(newest_first=False, limit=1000)] == texts
    finally:
        journal.close()


@pytest.mark.parametrize("page_size", [1024, 8192])
def test_the_salvage_finds_a_page_size_the_header_lost(tmp_path: Path, page_size: int) -> None:
    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA page_size = {page_size}")
    db.close()
    texts = _journal_of(path, 120)
    with path.open("r+b") as fh:
        fh.write(b"\xff" * 28)
    report = recover(path, "journal", lambda p: Journal(p).close(), program=None)
    assert report.method == "header repaired, salvage"
    assert report.rows["messages"] == len(texts)


def test_a_zero_byte_journal_is_named_by_doctor_and_fix_recreates_what_memories_quote(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    journal = Journal(paths.journal)
    session = journal.create_session()
    words = ["I moved to Porto last year.", "Nice!", "My dog is called Rex.", "Hi Rex!", "Tea."]
    ids = [
        journal.append(session.id, "user" if n % 2 == 0 else "assistant", text).id
        for n, text in enumerate(words)
    ]
    journal.close()
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        store.add_many(
            [
                NewMemory(text="Lives in Porto", provenance=[ids[0]], quote=words[0]),
                NewMemory(text="Has a dog named Rex", provenance=[ids[2]], quote=words[2]),
                NewMemory(text="Likes tea", provenance=[ids[4]]),  # no quote: cannot come back
            ]
        )
    for part in (paths.journal, Path(f"{paths.journal}-wal"), Path(f"{paths.journal}-shm")):
        part.unlink(missing_ok=True)
    paths.journal.touch()

    # doctor and say agree: both name the state.
    doctor = run_hearth("doctor")
    assert doctor.returncode == 18
    line = next(ln for ln in doctor.stdout.splitlines() if "journal:" in ln)
    assert line.startswith("FAIL") and "is empty but 3 memories" in line
    assert "hearth doctor --fix" in line
    assert run_hearth("say", "hello", env=SHORT).returncode == 17

    fixed = run_hearth("doctor", "--fix")
    told = " ".join(fixed.stderr.split())
    assert "recreated 2 message(s)" in told, fixed.stderr
    assert f"1 cited message(s) cannot come back (no memory quotes them: ids {ids[4]})" in told
    line = next(ln for ln in fixed.stdout.splitlines() if "journal:" in ln)
    assert line.startswith("ok"), fixed.stdout

    said = run_hearth("say", "--json", "hello", env=SHORT)
    assert said.returncode == 0, said.stderr
    journal = Journal(paths.journal)
    try:
        back = {m.id: m for m in journal.messages(newest_first=False, limit=100)}
        assert back[ids[0]].text == words[0] and back[ids[2]].text == words[2]
        assert back[ids[0]].meta.source == "recovered"
        assert ids[4] not in back and ids[1] not in back
        assert min(i for i in back if i not in (ids[0], ids[2])) > ids[4]  # no old id reused
    finally:
        journal.close()
