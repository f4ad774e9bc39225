"""Placing a client's resent conversation in the journal's tree (agent/serving/threads.py), on
a real journal: what is there is never journaled twice, what is new or changed is a branch."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from agent.serving.schemas import Said
from agent.serving.threads import CLIENT_SOURCE, find_session, place
from memory.journal.journal import Journal


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


def u(text: str) -> Said:
    return Said(role="user", text=text)


def a(text: str) -> Said:
    return Said(role="assistant", text=text)


class Talk(NamedTuple):
    """A session with one exchange and a second message answered: u1 a1 u2 a2."""

    sid: int
    u1: int
    a1: int
    u2: int
    a2: int


def _talk(journal: Journal) -> Talk:
    sid = journal.create_session().id
    u1 = journal.append(sid, "user", "hi").id
    a1 = journal.append(sid, "assistant", "Hello there.").id
    u2 = journal.append(sid, "user", "how are you?").id
    return Talk(sid, u1, a1, u2, journal.append(sid, "assistant", "Well, thanks. And you?").id)


def test_a_new_message_follows_the_path_it_resends(journal: Journal) -> None:
    t = _talk(journal)
    # Rewrapped and with a fragment streamed past the journaled reply's end: the same messages.
    said = [
        u("hi"),
        a("Hello\n there."),
        u("how are you?"),
        a("Well, thanks.  And you? I"),
        u("ok"),
    ]
    placed = place(journal, journal.session(t.sid), said)
    assert (placed.action, placed.parent_id, placed.matched, placed.added) == ("turn", t.a2, 4, 0)
    assert len(journal.messages(t.sid)) == 4


def test_an_earlier_version_the_client_went_on_from_is_kept(journal: Journal) -> None:
    t = _talk(journal)
    other = journal.append(t.sid, "assistant", "Fine!", parent_id=t.u2)
    said = [u("hi"), a("Hello there."), u("how are you?"), a("Well, thanks. And you?"), u("good")]
    placed = place(journal, journal.session(t.sid), said)
    assert placed.parent_id == t.a2
    assert journal.choices()[t.u2] == t.a2 != other.id


def test_same_last_message_is_a_regeneration_a_changed_one_an_edit(journal: Journal) -> None:
    t = _talk(journal)
    session = journal.session(t.sid)
    again = place(journal, session, [u("hi"), a("Hello there."), u("how are you?")])
    assert (again.action, again.user_id) == ("regenerate", t.u2)
    changed = place(journal, session, [u("hi"), a("Hello there."), u("how old are you?")])
    assert (changed.action, changed.user_id, changed.parent_id) == ("edit", t.u2, t.a1)
    assert len(journal.messages(t.sid)) == 4  # the caller writes the edit and its reply


def test_history_hearth_never_saw_is_journaled_as_the_clients(journal: Journal) -> None:
    t = _talk(journal)
    # The client's version of the first reply (edited there), then the rest on that branch.
    said = [u("hi"), a("Hey!"), u("what's new?"), a("Not much."), u("tell me more")]
    placed = place(journal, journal.session(t.sid), said)
    assert (placed.action, placed.matched, placed.added) == ("turn", 1, 3)
    new = [m for m in journal.messages(t.sid, newest_first=False) if m.id > t.a2]
    assert [(m.role, m.text) for m in new] == [
        ("assistant", "Hey!"),
        ("user", "what's new?"),
        ("assistant", "Not much."),
    ]
    assert new[0].meta.edit_of == t.a1 and new[0].parent_id == t.u1
    assert all(m.meta.source == CLIENT_SOURCE for m in new)
    assert placed.parent_id == new[-1].id


def test_a_session_is_found_by_a_reply_it_repeats_never_by_a_greeting(journal: Journal) -> None:
    t = _talk(journal)
    assert find_session(journal, [u("hi"), a("Hello there."), u("more")]) == journal.session(t.sid)
    assert find_session(journal, [u("hi")]) is None
    assert find_session(journal, [u("hi"), a("Something else."), u("more")]) is None


def test_a_reply_cannot_be_answered(journal: Journal) -> None:
    session = journal.create_session()
    with pytest.raises(ValueError, match="the person's"):
        place(journal, session, [u("hi"), a("Hello.")])
