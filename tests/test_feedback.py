"""Feedback in the journal: regenerations, choices, edits, thumbs and corrections."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.feedback import choose, edit, feedback, regenerate
from agent.learn.corrections import flag_correction, is_correction
from agent.startup import load_agent, open_home
from memory.errors import FeedbackError, NotFoundError
from memory.export.writer import ExportOptions, run_export
from memory.journal.journal import Journal
from memory.journal.migrations import MIGRATIONS
from memory.journal.schemas import Message
from tests.conftest import RunHearth
from tests.scripted_journal import Chat, at


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal.sqlite3")
    yield opened
    opened.close()


def turn(chat: Chat, text: str, reply: str, minute: int) -> tuple[Message, Message]:
    user = chat.user(text, at(1, minute))
    return user, chat.reply(user, reply, at(1, minute + 1))


# -- the journal ----------------------------------------------------------------------------


def test_the_signals_migration_is_appended_after_the_first(journal: Journal) -> None:
    assert [name for name, _sql in MIGRATIONS][:2] == [
        "0001_sessions_and_messages",
        "0002_feedback_and_exports",
    ]
    db = sqlite3.connect(journal.path)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert {"feedback", "choices", "edits", "exports", "export_items"} <= names


def test_regenerations_are_siblings_and_the_latest_is_kept_until_one_is_chosen(
    journal: Journal,
) -> None:
    chat = Chat(journal, journal.create_session().id)
    user, first = turn(chat, "hello", "Hi!", 0)
    second = chat.reply(user, "Hello there!", at(1, 5))
    assert [m.id for m in journal.siblings(first.id)] == [first.id, second.id]
    assert journal.session(chat.session_id).head_id == second.id
    assert journal.choices() == {}

    choose(journal, first.id)
    assert journal.choices() == {user.id: first.id}
    # The chat goes on from the chosen reply when a sibling was at the end of it.
    assert journal.session(chat.session_id).head_id == first.id


def test_choosing_an_earlier_reply_keeps_the_conversation_that_went_on(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    user, first = turn(chat, "hello", "Hi!", 0)
    second = chat.reply(user, "Hello there!", at(1, 5))
    _, later = turn(chat, "how are you?", "Well, thanks.", 10)
    assert later.parent_id is not None and journal.message(later.parent_id).parent_id == second.id
    choose(journal, first.id)
    assert journal.session(chat.session_id).head_id == later.id


def test_only_replies_can_be_chosen_or_rated(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    user, _reply = turn(chat, "hello", "Hi!", 0)
    with pytest.raises(FeedbackError):
        choose(journal, user.id)
    with pytest.raises(FeedbackError):
        feedback(journal, user.id, rating=1)
    with pytest.raises(NotFoundError):  # no such message at all
        feedback(journal, 4242, rating=1)


def test_an_edited_reply_is_a_kept_sibling_and_the_original_stays(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    user, original = turn(chat, "hello", "Hi!", 0)
    edited = edit(journal, original.id, "Hello, friend.")
    assert journal.message(original.id).text == "Hi!"
    assert edited.parent_id == user.id and edited.role == "assistant"
    assert edited.meta["edit_of"] == original.id
    assert edited.prompt == original.prompt  # a preference pair needs the prompt it answered
    assert journal.choices() == {user.id: edited.id}
    assert journal.session(chat.session_id).head_id == edited.id


def test_editing_an_earlier_reply_keeps_the_head(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    _, first = turn(chat, "hello", "Hi!", 0)
    _, last = turn(chat, "how are you?", "Well.", 10)
    edit(journal, first.id, "Hello, friend.")
    assert journal.session(chat.session_id).head_id == last.id


def test_an_edited_user_message_branches_and_becomes_the_head(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    user, _ = turn(chat, "What is 2 + 2?", "4.", 0)
    edited = edit(journal, user.id, "What is 3 + 3?")
    assert edited.parent_id == user.parent_id and edited.role == "user"
    assert edited.meta == {"edit_of": user.id}
    assert journal.session(chat.session_id).head_id == edited.id
    assert [m.text for m in journal.thread(chat.session_id)] == ["What is 3 + 3?"]
    assert journal.message(user.id).text == "What is 2 + 2?"


def test_an_edit_must_change_something(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    _, reply = turn(chat, "hello", "Hi!", 0)
    with pytest.raises(FeedbackError):
        edit(journal, reply.id, "Hi!")
    with pytest.raises(FeedbackError):
        edit(journal, reply.id, "  ")


def test_thumbs_and_notes_are_kept_per_reply(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    _, reply = turn(chat, "hello", "Hi!", 0)
    assert journal.feedback_for(reply.id) is None
    assert feedback(journal, reply.id, rating=1).rating == 1
    noted = feedback(journal, reply.id, note="warm")
    assert (noted.rating, noted.note) == (1, "warm")  # a note alone keeps the thumb
    assert feedback(journal, reply.id, rating=-1).note == "warm"
    assert feedback(journal, reply.id, rating=0).rating == 0
    with pytest.raises(FeedbackError):
        feedback(journal, reply.id, rating=2)
    assert list(journal.feedbacks()) == [reply.id]


# -- the correction detector ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "No, listen, I have two cats.",
        "no no, the other one",
        "That's not what I said.",
        "that\u2019s not what I meant",
        "You're wrong about that.",
        "I said Tuesday, not Thursday.",
        "Actually, it was my sister.",
        "You misunderstood me.",
        "I never said that",
        "That is incorrect.",
        "Wrong. Try again.",
        "Not quite: it's Anna.",
    ],
)
def test_corrections_are_detected(text: str) -> None:
    assert is_correction(text)


@pytest.mark.parametrize(
    "text",
    [
        "No",
        "No, I don't have a dog.",
        "Nope, not yet.",
        "What did I say yesterday?",
        "I like cats, actually.",
        "It's actually quite nice out.",
        "Tell me what you said about Paris.",
        "Thanks, that's right!",
    ],
)
def test_ordinary_messages_are_not_corrections(text: str) -> None:
    assert not is_correction(text)


def test_only_a_message_answering_a_reply_is_flagged(journal: Journal) -> None:
    chat = Chat(journal, journal.create_session().id)
    first = chat.user("Actually, let me start over.", at(1))
    assert not flag_correction(journal, first)  # answers nothing
    chat.reply(first, "Sure.", at(1, 1))
    pushback = chat.user("No, listen: that's not what I said.", at(1, 2))
    assert flag_correction(journal, pushback)
    assert journal.message(pushback.id).meta == {"correction": True}


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def chat_ids(hearth_home: Path) -> dict[str, int]:
    """A session with one regenerated turn, written to this test's data dir."""
    home = open_home()
    try:
        chat = Chat(home.journal, home.journal.create_session().id)
        user, first = turn(chat, "hello", "Hi!", 0)
        second = chat.reply(user, "Hello there!", at(1, 5))
    finally:
        home.close()
    return {"user": user.id, "first": first.id, "second": second.id}


def test_cli_choose_edit_and_feedback(chat_ids: dict[str, int], run_hearth: RunHearth) -> None:
    chose = run_hearth("choose", str(chat_ids["first"]), "--json")
    assert chose.returncode == 0, chose.stderr
    assert json.loads(chose.stdout) == {
        "kept": chat_ids["first"],
        "parent_id": chat_ids["user"],
        "siblings": [chat_ids["first"], chat_ids["second"]],
    }
    rated = run_hearth("feedback", str(chat_ids["first"]), "--down", "--note", "too curt")
    assert rated.returncode == 0, rated.stderr
    assert rated.stdout.strip() == f"#{chat_ids['first']}: thumbs down; note: too curt"
    edited = run_hearth("edit", str(chat_ids["first"]), "Hi! Good to see you.", "--json")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["edit_of"] == chat_ids["first"]
    dpo = run_hearth("export", "dpo", "--json")
    assert json.loads(dpo.stdout)["signals"] == {"edit": 1, "sibling": 1}


def test_cli_feedback_errors_are_one_line(chat_ids: dict[str, int], run_hearth: RunHearth) -> None:
    on_user = run_hearth("feedback", str(chat_ids["user"]), "--up")
    assert on_user.returncode == FeedbackError.exit_code == 12  # the README's row
    assert on_user.stderr.count("\n") == 1 and "not a reply" in on_user.stderr
    unchanged = run_hearth("edit", str(chat_ids["first"]), "Hi!")
    assert unchanged.returncode == FeedbackError.exit_code
    assert "same" in unchanged.stderr
    assert run_hearth("feedback", str(chat_ids["first"])).returncode == 2
    assert run_hearth("feedback", str(chat_ids["first"]), "--up", "--down").returncode == 2


# -- on the real model ----------------------------------------------------------------------


def test_live_regenerate_writes_a_sibling_from_the_same_prompt(hearth_home: Path) -> None:
    home = open_home({"sampling": {"max_tokens": 48}}, write_lock=True)
    try:
        agent = load_agent(home)
        session = agent.session(new=True)
        agent.run_turn(session.id, "Hi! I have a cat called Miso.")
        pushback = agent.run_turn(session.id, "No, listen: that's not what I said.")
        assert home.journal.message(pushback.user_turn_id).meta.get("correction") is True

        again = regenerate(agent, pushback.turn_id)
        original = home.journal.message(pushback.turn_id)
        fresh = home.journal.message(again.turn_id)
        assert fresh.parent_id == original.parent_id == pushback.user_turn_id
        assert fresh.prompt == original.prompt  # the same prompt-building path
        assert fresh.status == "complete" and fresh.text == again.reply
        assert fresh.sampling is not None and fresh.sampling["seed"] is not None
        assert [m.id for m in home.journal.siblings(original.id)] == [original.id, fresh.id]
        assert home.journal.session(session.id).head_id == fresh.id
        assert home.journal.choices() == {pushback.user_turn_id: fresh.id}

        choose(home.journal, original.id)
        result = run_export(home.journal, ExportOptions(kind="dpo", out=hearth_home / "dpo.jsonl"))
        distinct = original.text.strip() != fresh.text.strip()
        assert result.rows == (1 if distinct else 0)
        if distinct:
            row = json.loads((hearth_home / "dpo.jsonl").read_text())
            assert row["chosen"][0]["content"] == original.text
            assert row["rejected"][0]["content"] == fresh.text
            assert row["prompt"] == [m.model_dump() for m in original.prompt or []]
    finally:
        home.close()


def test_live_cli_regenerate(run_hearth: RunHearth) -> None:
    said = run_hearth("say", "Hello!", "--json")
    assert said.returncode == 0, said.stderr
    first = json.loads(said.stdout)["turn_id"]
    again = run_hearth("regenerate", str(first), "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["siblings"] == [first, result["turn_id"]]
    assert result["user_turn_id"] == json.loads(said.stdout)["user_turn_id"]
