"""Messages in the journal: written, rewritten as they stream, and read back."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from memory.clock import now
from memory.errors import NotFoundError
from memory.journal.base import JournalBase, dump_prompt, iso, row_to_message
from memory.journal.schemas import ChatMessage, Message, MessageMeta, ModelInfo, Role, Status, Usage


class MessagesMixin(JournalBase):
    """The journal's messages."""

    def append(
        self,
        session_id: int,
        role: Role,
        text: str,
        *,
        parent_id: int | None = None,
        status: Status = "complete",
        speaker: str | None = None,
        prompt: list[ChatMessage] | None = None,
        model: ModelInfo | None = None,
        sampling: dict[str, Any] | None = None,
        meta: MessageMeta | dict[str, Any] | None = None,
        created_at: datetime | None = None,
        off_record: bool = False,
        root: bool = False,
    ) -> Message:
        """Write one message and make it the session's head; committed when this returns.

        `parent_id` None follows the session's head, unless `root`: the message then starts a
        conversation of its own in the session (a dream, which follows no other dream).

        `meta`: its turn state (a dict is read as a MessageMeta); only the keys given are stored.
        `off_record`: said with memory off; a message of a temporary session, and a reply to an
        off-record message, is off the record whatever this says.
        """
        ts = iso(created_at or now())
        with self._tx() as db:
            if parent_id is None and not root:
                head = db.execute("SELECT head_id FROM sessions WHERE id=?", (session_id,))
                row = head.fetchone()
                if row is None:
                    raise NotFoundError(f"no session {session_id}")
                parent_id = row["head_id"]
            off_record = off_record or _inherits_off_record(db, session_id, role, parent_id)
            cur = db.execute(
                "INSERT INTO messages(session_id, parent_id, role, speaker, text, status,"
                " created_at, updated_at, prompt_json, model_json, sampling_json, meta_json,"
                " off_record) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    session_id,
                    parent_id,
                    role,
                    speaker,
                    text,
                    status,
                    ts,
                    ts,
                    dump_prompt(prompt),
                    model.model_dump_json() if model else None,
                    json.dumps(sampling) if sampling is not None else None,
                    MessageMeta.merged_json("{}", meta),
                    int(off_record),
                ),
            )
            assert cur.lastrowid is not None
            mid = cur.lastrowid
            db.execute(
                "UPDATE sessions SET head_id=?, updated_at=? WHERE id=?", (mid, ts, session_id)
            )
        return self.message(mid)

    def update(
        self,
        message_id: int,
        *,
        text: str | None = None,
        status: Status | None = None,
        usage: Usage | None = None,
        meta: MessageMeta | dict[str, Any] | None = None,
    ) -> None:
        """Rewrite a reply as it streams or when it ends; committed when this returns.

        `meta` is merged: its keys are written over the stored ones, the others stay as stored.
        """
        sets: list[str] = ["updated_at=?"]
        args: list[Any] = [iso(now())]
        if text is not None:
            sets.append("text=?")
            args.append(text)
        if status is not None:
            sets.append("status=?")
            args.append(status)
        if usage is not None:
            sets.append("usage_json=?")
            args.append(usage.model_dump_json())
        with self._tx() as db:
            if meta is not None:
                row = db.execute("SELECT meta_json FROM messages WHERE id=?", (message_id,))
                sets.append("meta_json=?")
                args.append(MessageMeta.merged_json(row.fetchone()["meta_json"], meta))
            db.execute(f"UPDATE messages SET {', '.join(sets)} WHERE id=?", (*args, message_id))

    def messages(
        self, session_id: int | None = None, limit: int | None = None, newest_first: bool = True
    ) -> list[Message]:
        sql = "SELECT * FROM messages"
        args: list[Any] = []
        if session_id is not None:
            sql += " WHERE session_id=?"
            args.append(session_id)
        sql += " ORDER BY id " + ("DESC" if newest_first else "ASC")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [row_to_message(r) for r in self._db.execute(sql, args).fetchall()]

    def imported_messages(self, format: str) -> list[Message]:
        """Every message `hearth import` brought in from an export of this format (its
        `MessageMeta.imported`), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE json_extract(meta_json, '$.imported.format') = ?"
            " ORDER BY id",
            (format,),
        ).fetchall()
        return [row_to_message(r) for r in rows]

    def dream_messages(self) -> list[Message]:
        """Every message of every dream (`MessageMeta.dream`), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE json_extract(meta_json, '$.dream') IS NOT NULL"
            " ORDER BY id"
        ).fetchall()
        return [row_to_message(r) for r in rows]

    def thread(self, session_id: int, head_id: int | None = None) -> list[Message]:
        """The conversation path ending at head_id (default: the session's head), oldest first."""
        if head_id is None:
            head_id = self.session(session_id).head_id
        if head_id is None:
            return []
        rows = self._db.execute(
            "WITH RECURSIVE path(id) AS (SELECT ? UNION ALL "
            "SELECT m.parent_id FROM messages m JOIN path p ON m.id = p.id "
            "WHERE m.parent_id IS NOT NULL) "
            "SELECT messages.* FROM messages JOIN path USING(id) ORDER BY messages.id",
            (head_id,),
        ).fetchall()
        return [row_to_message(r) for r in rows]

    def counts(self) -> dict[str, int]:
        row = self._db.execute(
            "SELECT (SELECT count(*) FROM sessions) s, (SELECT count(*) FROM messages) m,"
            " (SELECT count(*) FROM messages WHERE status='incomplete') i,"
            " (SELECT count(*) FROM messages WHERE off_record=1) o"
        ).fetchone()
        return {
            "sessions": row["s"],
            "messages": row["m"],
            "incomplete": row["i"],
            "off_record": row["o"],
        }


def _inherits_off_record(
    db: sqlite3.Connection, session_id: int, role: Role, parent_id: int | None
) -> bool:
    row = db.execute(
        "SELECT (SELECT temporary FROM sessions WHERE id=?) t,"
        " (SELECT off_record FROM messages WHERE id=?) p",
        (session_id, parent_id),
    ).fetchone()
    return bool(row["t"]) or (role == "assistant" and bool(row["p"]))
