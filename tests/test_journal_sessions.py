"""The journal's sessions as the sessions screen uses them: titles, search, rename, archive,
delete."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from memory.errors import NotFoundError
from memory.journal.journal import TITLE_CHARS, Journal

OLD_JOURNAL = Path(__file__).parent / "fixtures" / "old_datadir" / "journal.sqlite3"


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j.sqlite3")


def _chat(journal: Journal, *texts: str, title: str = "") -> int:
    """A session with these user messages, each answered."""
    sid = journal.create_session(title=title).id
    for text in texts:
        journal.append(sid, "user", text)
        journal.append(sid, "assistant", f"reply to {text}")
    return sid


def _titles(journal: Journal, **kw: bool) -> dict[int, str]:
    return {s.id: s.display_title for s in journal.session_summaries(**kw)}


def _fk_problems(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        db.close()


def test_titles_are_stored_or_come_from_the_first_message_said_on_the_record(
    journal: Journal,
) -> None:
    first = _chat(journal, "\n  Planning the garden  \nand the shed", "later words")
    long = _chat(journal, "x" * 80)
    named = _chat(journal, "ignored", title="Taxes")
    secret = journal.create_session().id
    journal.append(secret, "user", "my diagnosis came back", off_record=True)
    journal.append(secret, "assistant", "I'm here.")
    journal.append(secret, "user", "Holiday plans")
    empty = journal.create_session().id
    titles = _titles(journal)
    assert titles[first] == "Planning the garden"
    assert titles[long] == "x" * (TITLE_CHARS - 1) + "…" and len(titles[long]) == TITLE_CHARS
    assert titles[named] == "Taxes"
    assert titles[secret] == "Holiday plans"  # never the words said off the record
    assert titles[empty] == f"Session {empty}"
    # Newest first, each with its message count (off-record ones are in the journal too).
    summaries = journal.session_summaries()
    assert [s.id for s in summaries] == [empty, secret, named, long, first]
    assert [s.messages for s in summaries] == [0, 3, 2, 2, 4]


def test_a_session_said_wholly_off_the_record_is_named_by_its_id(journal: Journal) -> None:
    sid = journal.create_session().id
    journal.append(sid, "user", "between us: 4417", off_record=True)
    assert _titles(journal) == {sid: f"Session {sid}"}


def test_rename_persists_on_one_line_and_empty_derives_again(journal: Journal) -> None:
    sid = _chat(journal, "Planning the garden")
    updated = journal.session(sid).updated_at
    assert journal.rename_session(sid, "  Garden\nnotes ").title == "Garden notes"
    assert Journal(journal.path).session(sid).title == "Garden notes"  # committed
    assert _titles(journal) == {sid: "Garden notes"}
    assert journal.session(sid).updated_at == updated  # naming a chat is not talking in it
    journal.rename_session(sid, "   ")
    assert _titles(journal) == {sid: "Planning the garden"}
    with pytest.raises(NotFoundError):
        journal.rename_session(sid + 1, "nothing")


def test_archived_sessions_are_listed_only_when_asked(journal: Journal) -> None:
    kept, away = _chat(journal, "kept"), _chat(journal, "put away")
    assert journal.archive_session(away).archived
    assert list(_titles(journal)) == [kept]
    assert list(_titles(journal, include_archived=True)) == [away, kept]
    assert [s.archived for s in journal.session_summaries(include_archived=True)] == [True, False]
    assert [m.text for m in journal.thread(away)] == ["put away", "reply to put away"]
    assert not journal.archive_session(away, archived=False).archived
    assert list(_titles(journal)) == [away, kept]
    with pytest.raises(NotFoundError):
        journal.archive_session(away + 1)


def test_delete_takes_the_session_its_messages_and_their_signals_only(journal: Journal) -> None:
    gone = _chat(journal, "The code is 4417", "more")
    kept = _chat(journal, "Keep me")
    gone_reply = journal.messages(gone)[0]
    kept_reply = journal.messages(kept)[0]
    for reply in (gone_reply, kept_reply):
        journal.set_feedback(reply.id, 1, "good")
        journal.choose(reply.id)
    journal.edit(gone_reply.id, "an edited reply")
    ids = {m.id for m in journal.messages(gone)}
    journal.record_export(
        kind="sft",
        file_format="jsonl",
        path=Path("out.jsonl"),
        sha256="0" * 64,
        rows=1,
        command="hearth export sft",
        trained_ids=ids,
        context_ids=set(),
    )

    assert journal.delete_session(gone) == len(ids) == 5
    with pytest.raises(NotFoundError):
        journal.session(gone)
    assert journal.messages(gone) == []
    assert set(journal.feedbacks()) == {kept_reply.id}
    assert journal.choices() == {kept_reply.parent_id: kept_reply.id}
    assert [m.text for m in journal.thread(kept)] == ["Keep me", "reply to Keep me"]
    assert _fk_problems(journal.path) == []
    # The ledger still says the export file holds them: it does.
    assert [e.message_ids for e in journal.exports_containing(ids)] == [sorted(ids)]
    # The words are gone from the file too (freed pages zeroed, write-ahead log emptied).
    raw = journal.path.read_bytes()
    wal = journal.path.with_name(journal.path.name + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert b"4417" not in raw
    with pytest.raises(NotFoundError):
        journal.delete_session(gone)


def test_search_finds_every_word_in_titles_or_on_record_messages(journal: Journal) -> None:
    garden = _chat(journal, "Émile helped in the GARDEN", "the roses are late")
    taxes = _chat(journal, "numbers", title="Taxes with émile")
    secret = journal.create_session().id
    journal.append(secret, "user", "my garden diagnosis", off_record=True)

    def found(words: str, include_archived: bool = False) -> list[int]:
        return [s.id for s in journal.search_sessions(words, include_archived)]

    assert found("émile") == [taxes, garden]  # case folded beyond ASCII, titles too
    assert found("garden ROSES") == [garden]  # every word, in any of its messages
    assert found("garden taxes") == []
    assert found("reply to numbers") == [taxes]  # replies are searched too
    assert found("diagnosis") == []  # never what was said off the record
    assert found("%") == [] and found("_") == []  # no LIKE wildcards
    assert found("  ") == [s.id for s in journal.session_summaries()]
    journal.archive_session(garden)
    assert found("roses") == [] and found("roses", include_archived=True) == [garden]


def test_a_journal_from_the_previous_schema_has_no_archived_session(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    shutil.copyfile(OLD_JOURNAL, path)
    journal = Journal(path)
    summaries = journal.session_summaries()
    assert summaries and not any(s.archived for s in summaries)
    assert journal.session_summaries(include_archived=True) == summaries
    assert all(s.display_title for s in summaries)


def test_an_archived_session_is_not_the_one_hearth_goes_on_in(journal: Journal) -> None:
    older = _chat(journal, "first")
    newer = _chat(journal, "second")
    assert journal.latest_session().id == newer  # type: ignore[union-attr]
    journal.archive_session(newer)
    assert journal.latest_session().id == older  # type: ignore[union-attr]
