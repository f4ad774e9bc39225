"""Turn state on a message (MessageMeta) reads and writes back exactly what a row stores."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from memory.journal.journal import Journal
from memory.journal.schemas import MessageMeta

# As an older (or newer) Hearth might have left it: keys in its own order, one no field names,
# and most fields absent.
OLD_REPLY = {
    "context_from": 1,
    "from_a_newer_hearth": {"nested": [1, "two", None], "flag": True},
    "trimmed": [],
    "memory": True,
}


def _stored(path: Path, message_id: int) -> str:
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT meta_json FROM messages WHERE id=?", (message_id,)).fetchone()
        return str(row[0])
    finally:
        db.close()


def _write_raw(path: Path, message_id: int, meta: dict[str, Any]) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE messages SET meta_json=? WHERE id=?", (json.dumps(meta), message_id))


def test_an_old_row_reads_and_writes_back_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    s = journal.create_session()
    user = journal.append(s.id, "user", "hi")
    reply = journal.append(s.id, "assistant", "hello")
    _write_raw(path, reply.id, OLD_REPLY)

    meta = journal.message(reply.id).meta
    # Typed fields read as stored; absent ones have their defaults but stay absent.
    assert meta.context_from == 1 and meta.trimmed == [] and meta.memory is True
    assert meta.stored == [] and meta.edit_of is None
    assert meta.model_extra == {"from_a_newer_hearth": OLD_REPLY["from_a_newer_hearth"]}
    # What `hearth logs show --json` prints: the same object, keys in the same order.
    dumped = journal.message(reply.id).model_dump(mode="json")["meta"]
    assert json.dumps(dumped) == json.dumps(OLD_REPLY)
    assert "stored" not in meta and meta == OLD_REPLY

    # A partial update merges: the keys given are written over, the rest stays as it was.
    journal.update(reply.id, meta=MessageMeta(stored=["m_1"]))
    journal.update(reply.id, meta=MessageMeta(context_from=2))
    assert _stored(path, reply.id) == json.dumps(
        {**OLD_REPLY, "context_from": 2, "stored": ["m_1"]}
    )

    # An edited reply keeps the original's state, unknown keys included, with edit_of last.
    edited = journal.edit(reply.id, "hello there")
    expected = {**OLD_REPLY, "context_from": 2, "stored": ["m_1"], "edit_of": reply.id}
    assert _stored(path, edited.id) == json.dumps(expected)
    # An edited user message starts with edit_of alone.
    assert _stored(path, journal.edit(user.id, "hi!").id) == json.dumps({"edit_of": user.id})


def test_a_row_without_meta_stays_empty(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    s = journal.create_session()
    message = journal.append(s.id, "user", "hi")
    assert _stored(path, message.id) == "{}"
    assert journal.message(message.id).meta.to_dict() == {}
    journal.update(message.id, meta=MessageMeta())
    assert _stored(path, message.id) == "{}"
    # Defaults are what the old code assumed for a missing key, and are never written.
    meta = journal.message(message.id).meta
    assert meta.memory is True and meta.remembered is False and meta.shown_as is None


def test_fields_are_written_in_the_order_given() -> None:
    meta = MessageMeta(trimmed=[3], context_from=4, memory=False)
    assert json.dumps(meta.to_dict()) == '{"trimmed": [3], "context_from": 4, "memory": false}'
    merged = meta.merged(MessageMeta(stored=["m_2"], memory=True))
    assert list(merged.to_dict()) == ["trimmed", "context_from", "memory", "stored"]
    assert merged.memory is True and meta.memory is False  # a merge is a new one
