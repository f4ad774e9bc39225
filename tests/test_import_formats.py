"""Each app's export read into one shape: messages, times, speakers, what is skipped, versions
and the kept path, and broken structure refused naming where."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.importing.files import export_files
from agent.importing.formats import detect, get
from agent.importing.plan import ImportOptions, summarize
from agent.importing.threads import Thread
from memory.errors import DatasetError
from tests.import_exports import (
    INSTRUCTIONS,
    T0,
    chatgpt_conversation,
    claude_export,
    openwebui_export,
    sillytavern_chat,
    write_chatgpt_split,
    write_jsonl,
    write_llm_db,
)


def _read(*paths: Path, format: str = "auto") -> tuple[str, list[Thread]]:
    files = export_files(list(paths))
    chosen = detect(files) if format == "auto" else get(format)
    threads = chosen.read(files)
    assert isinstance(threads, list)
    return chosen.name, threads


def _kept(thread: Thread) -> list[tuple[str, str, str]]:
    return [(n.id, n.role, n.text) for n in thread.kept()]


def test_chatgpt_split_export_folder_and_zip(tmp_path: Path) -> None:
    archive = write_chatgpt_split(tmp_path / "export")
    for where in (tmp_path / "export", archive):
        name, threads = _read(where)
        assert name == "chatgpt"
        assert [t.id for t in threads] == ["c-trip", "c-bike"]
    trip, bike = threads
    assert trip.title == "Trip to Lisbon" and bike.title == ""  # a null title
    assert _kept(trip) == [
        ("u1", "user", "I am planning a trip to Lisbon in May."),
        ("a1b", "assistant", "May is a fine time; book early."),
        ("u2b", "user", "What should I pack for rain?"),
        # A reply split over a tool call and two nodes is one reply.
        ("a4", "assistant", "Pack a light raincoat.\n\nAnd comfortable shoes."),
        ("u3", "user", "Thanks, that helps a lot."),  # a voice message's transcription
        ("a5", "assistant", "You are welcome!"),
    ]
    assert {n.id for n in trip.nodes} == {"u1", "a1", "a1b", "u2", "a2", "u2b", "a4", "u3", "a5"}
    by_id = trip.by_id
    assert by_id["u1"].time == datetime.fromtimestamp(T0, UTC)
    assert by_id["a1b"].model == "gpt-4o" and by_id["a5"].model == "gpt-4o-mini"  # the default
    assert dict(trip.skipped) == {"hidden": 1, "code": 1, "role tool": 1}
    # The custom instructions are never a message, but kept aside for --include-instructions.
    assert trip.instructions == ["\n\n".join(INSTRUCTIONS)]
    assert all(INSTRUCTIONS[0] not in n.text for n in trip.nodes)


STARTER = "My sourdough starter smells like acetone."


def test_claude_tree_flat_content_blocks_and_attachments(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(claude_export()))
    name, (tree, flat) = _read(path)
    assert name == "claude"
    assert _kept(tree) == [
        ("h1", "user", f"{STARTER}\n\n[notes.txt]\nFed daily at 9am."),
        ("a1b", "assistant", "Feed it twice a day."),  # the newest leaf's path
        ("h2", "user", "Thanks, I will try that."),
        ("a2", "assistant", "Good luck with the bake!"),
    ]  # fmt: skip
    assert tree.by_id["a1"].text == "It is hungry; feed it more often."  # abandoned, kept aside
    assert tree.by_id["h1"].time == datetime(2024, 6, 1, 8, tzinfo=UTC)
    assert {k: v for k, v in tree.skipped.items() if v} == {
        "thinking": 1, "tool_use": 1, "tool_result": 1, "file": 1,
    }  # fmt: skip
    assert _kept(flat) == [
        ("f1", "user", "Remind me: my sister is Zoe."),
        ("f2", "assistant", "Noted: your sister is Zoe."),
    ]


def test_sillytavern_swipes_dates_and_hidden_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "Seraphina - 2023-6-11 @15h 55m 23s 123ms.jsonl",
                       sillytavern_chat())  # fmt: skip
    name, (thread,) = _read(path)
    assert name == "sillytavern" and thread.title.startswith("Seraphina - 2023-6-11")
    assert _kept(thread) == [
        ("2.1", "assistant", "Welcome, traveller."),  # a greeting's swipes are not versions
        ("3", "user", "I adopted a dog named Biscuit."),
        ("4.0", "assistant", "What a lovely name!"),
        ("6", "user", "Goodnight."),
    ]
    swipe = thread.by_id["4.1"]
    assert (swipe.parent, swipe.text, swipe.model) == ("3", "Biscuit is a sweet name.", "claude-2")
    assert "2.0" not in thread.by_id
    assert dict(thread.skipped) == {"hidden or narrator": 1}
    by_id = thread.by_id
    # Local times without a zone are this machine's; epoch milliseconds are UTC.
    assert by_id["2.1"].time == datetime(2023, 6, 11, 15, 55).astimezone()
    assert by_id["3"].time == datetime(2023, 6, 11, 15, 56, 1, 5000).astimezone()
    assert by_id["4.0"].time == datetime(2023, 6, 11, 15, 57).astimezone()
    assert by_id["4.1"].time == datetime.fromtimestamp(1686499080, UTC)
    assert by_id["6"].time == datetime.fromtimestamp(1686499260, UTC)
    assert by_id["3"].speaker == "Ana" and by_id["4.0"].speaker == "Seraphina"
    assert not get("sillytavern").remembers  # role-play is journaled only unless --remember


def test_openwebui_parallel_answers_and_kept_path(tmp_path: Path) -> None:
    path = tmp_path / "chat-export-1717200100.json"
    path.write_text(json.dumps(openwebui_export()))
    name, (thread,) = _read(path)
    assert name == "openwebui" and thread.title == "Hiking near Oslo"
    assert [n.id for n in thread.kept()] == ["m1", "m3", "m4", "m5"]
    by_id = thread.by_id
    assert by_id["m2"].parallel and by_id["m3"].parallel and not by_id["m5"].parallel
    assert by_id["m2"].model == "Llama 3" and by_id["m1"].time == datetime.fromtimestamp(
        1717200000, UTC
    )


def test_llm_logs_db_with_fragments_and_the_old_logs_table(tmp_path: Path) -> None:
    db = write_llm_db(tmp_path / "logs.db")
    before = db.read_bytes()
    name, (thread,) = _read(db)
    assert name == "llm" and thread.title == "Garden questions"
    assert _kept(thread) == [
        ("01r1:prompt", "user", "Notes: tomatoes.\n\nSummarise my notes."),
        ("01r1:response", "assistant", "You grow tomatoes."),
        ("01r2:prompt", "user", "What else grows well with them?"),
        ("01r2:response", "assistant", "Basil."),
    ]
    assert thread.by_id["01r1:prompt"].time == datetime(2024, 7, 1, 9, tzinfo=UTC)
    assert thread.by_id["01r2:response"].model == "gpt-4o-mini"
    assert dict(thread.skipped) == {"system prompt": 1}
    assert db.read_bytes() == before  # opened read-only
    _name, (old,) = _read(write_llm_db(tmp_path / "old.db", old=True))
    assert [n.text for n in old.kept()] == ["I grow tomatoes.", "Nice.", "And basil.",
                                            "Good pairing."]  # fmt: skip
    assert old.by_id["1:prompt"].time == datetime(2023, 4, 1, 9, tzinfo=UTC)


def _broken_chatgpt(tmp_path: Path, change: str) -> Path:
    conversation = chatgpt_conversation()
    if change == "dangling":
        conversation["mapping"]["u2"]["parent"] = "nowhere"
    elif change == "cycle":
        conversation["mapping"]["u1"]["parent"] = "a1b"
    elif change == "mapping":
        del conversation["mapping"]
    path = tmp_path / change / "conversations.json"
    path.parent.mkdir()
    path.write_text(json.dumps([conversation]))
    return path


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("dangling", "conversation c-trip, message u2: parent: 'nowhere' is no message"),
        ("cycle", "conversation c-trip, message u1: parent: the messages' parents form a cycle"),
        ("mapping", "conversation c-trip, field mapping: missing"),
    ],
)
def test_broken_structure_is_refused_naming_file_record_and_field(
    tmp_path: Path, change: str, where: str
) -> None:
    path = _broken_chatgpt(tmp_path, change)
    with pytest.raises(DatasetError) as caught:
        _read(path)
    assert str(path) in str(caught.value) and where in str(caught.value)
    assert "nothing was imported" in str(caught.value)


def test_other_broken_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "chat.jsonl"
    bad.write_text('{"user_name": "A", "character_name": "B"}\n{"name": "B", "mes": \n')
    with pytest.raises(DatasetError, match=r"chat\.jsonl: line 2 is not JSON"):
        _read(bad)
    swipes = sillytavern_chat()
    swipes[3]["swipe_id"] = 5
    with pytest.raises(DatasetError, match="line 4, field swipe_id: 5 names no swipe"):
        _read(write_jsonl(tmp_path / "s.jsonl", swipes))
    notdb = tmp_path / "logs.db"
    notdb.write_text("not sqlite")
    with pytest.raises(DatasetError, match="not a SQLite database"):
        _read(notdb, format="llm")
    owui = openwebui_export()
    owui[0]["chat"]["history"]["messages"]["m4"]["parentId"] = "m9"
    path = tmp_path / "owui.json"
    path.write_text(json.dumps(owui))
    with pytest.raises(DatasetError, match="conversation w-hike, message m4: parent: 'm9'"):
        _read(path)
    claude = tmp_path / "claude" / "conversations.json"
    claude.parent.mkdir()
    claude.write_text(json.dumps([{"uuid": "k", "name": "x"}]))
    with pytest.raises(DatasetError, match="conversation k, field chat_messages: missing"):
        _read(claude)


def test_the_format_is_told_from_the_files(tmp_path: Path) -> None:
    claude = tmp_path / "claude.zip"
    with zipfile.ZipFile(claude, "w") as z:
        z.writestr("conversations.json", json.dumps(claude_export()))
        z.writestr("users.json", "[]")
    assert detect(export_files([claude])).name == "claude"
    neutral = tmp_path / "set.json"
    neutral.write_text(json.dumps({"name": "n", "conversations": []}))
    assert detect(export_files([neutral])).name == "neutral"
    other = tmp_path / "other.txt"
    other.write_text("hello")
    with pytest.raises(DatasetError, match="cannot tell the format"):
        detect(export_files([other]))


def test_an_openwebui_chat_without_history_and_a_group_chat(tmp_path: Path) -> None:
    chats = openwebui_export()
    del chats[0]["chat"]["history"]  # older exports: only the linear copy
    path = tmp_path / "owui.json"
    path.write_text(json.dumps(chats))
    name, (thread,) = _read(path)  # its linear messages are one path
    assert name == "openwebui"
    assert [n.id for n in thread.kept()] == ["m1", "m3", "m4", "m5"]
    group = sillytavern_chat()
    group.insert(4, {"name": "Lilith", "is_user": False, "is_system": False,
                     "send_date": 1686499100000, "mes": "Biscuit? I want to meet him.",
                     "extra": {"model": "mixtral"}, "swipe_id": 0, "swipes": []})  # fmt: skip
    _name, threads = _read(write_jsonl(tmp_path / "group.jsonl", group))
    summary = summarize("sillytavern", threads, ImportOptions(user_name="Ana", remember=False))
    assert summary.speakers == ["Seraphina", "Ana", "Lilith"]
    assert (summary.person, summary.replies, summary.memories) == (2, 4, 0)
    assert summary.skipped == {"hidden or narrator": 1}
