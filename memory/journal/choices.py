"""Training signals on messages: versions, choices, feedback and edits."""

from __future__ import annotations

import sqlite3

from memory.clock import now
from memory.errors import FeedbackError, NotFoundError
from memory.journal.base import JournalBase, iso, row_to_message
from memory.journal.schemas import Message, MessageMeta
from memory.journal.signals import Feedback


class ChoicesMixin(JournalBase):
    """The versions of a message, the one kept, the verdict on it, and corrections."""

    def siblings(self, message_id: int) -> list[Message]:
        """Every version of a message (regenerations, edits): same parent and role, oldest first."""
        msg = self.message(message_id)
        rows = self._db.execute(
            "SELECT * FROM messages WHERE session_id=? AND role=? AND parent_id IS ? ORDER BY id",
            (msg.session_id, msg.role, msg.parent_id),
        ).fetchall()
        return [row_to_message(r) for r in rows]

    def versions(self, session_id: int) -> dict[int, list[int]]:
        """For each message of the session that has other versions (regenerations, edits, a
        branch), the ids of all of them, oldest first: what the chat marks "2/3"."""
        rows = self._db.execute(
            "SELECT id, parent_id, role FROM messages WHERE session_id=? ORDER BY id",
            (session_id,),
        ).fetchall()
        groups: dict[tuple[int | None, str], list[int]] = {}
        for r in rows:
            groups.setdefault((r["parent_id"], r["role"]), []).append(int(r["id"]))
        return {i: ids for ids in groups.values() if len(ids) > 1 for i in ids}

    def latest_leaf(self, message_id: int) -> int:
        """The newest message in the branch under this one (itself when nothing follows): where
        the conversation that went on from this version ended."""
        row = self._db.execute(
            "WITH RECURSIVE below(id) AS (SELECT ? UNION ALL "
            "SELECT m.id FROM messages m JOIN below b ON m.parent_id = b.id) "
            "SELECT max(id) AS leaf FROM below",
            (message_id,),
        ).fetchone()
        return int(row["leaf"])

    def set_head(self, session_id: int, message_id: int) -> None:
        """Go on from this message: the next one said in the session follows it."""
        if self.message(message_id).session_id != session_id:
            raise NotFoundError(f"message {message_id} is not in session {session_id}")
        with self._tx() as db:
            db.execute(
                "UPDATE sessions SET head_id=?, updated_at=? WHERE id=?",
                (message_id, iso(now()), session_id),
            )

    def choose(self, message_id: int) -> Message:
        """Keep this reply among its siblings; if a sibling was the session's head, it now is."""
        msg = self._reply(message_id)
        ts = iso(now())
        with self._tx() as db:
            _record_choice(db, msg.parent_id, msg.id, ts)
            # Choosing among the replies at the end of a chat continues the chat from the one
            # chosen; a conversation that went on from another sibling keeps its head.
            head = db.execute("SELECT head_id FROM sessions WHERE id=?", (msg.session_id,))
            head_id = head.fetchone()["head_id"]
            sibling = db.execute(
                "SELECT 1 FROM messages WHERE id=? AND parent_id=? AND role='assistant'",
                (head_id, msg.parent_id),
            ).fetchone()
            if sibling is not None:
                db.execute(
                    "UPDATE sessions SET head_id=?, updated_at=? WHERE id=?",
                    (msg.id, ts, msg.session_id),
                )
        return msg

    def choices(self) -> dict[int, int]:
        """Explicit choices: user message id -> the reply kept for it (else the latest is)."""
        rows = self._db.execute("SELECT parent_id, message_id FROM choices").fetchall()
        return {int(r["parent_id"]): int(r["message_id"]) for r in rows}

    def set_feedback(
        self, message_id: int, rating: int | None = None, note: str | None = None
    ) -> Feedback:
        """Rate a reply (+1, -1, or 0 to clear) and/or note why; None leaves a field as it was."""
        self._reply(message_id)
        if rating not in (None, -1, 0, 1):
            raise ValueError(f"a rating is -1, 0 or +1, not {rating}")
        ts = iso(now())
        with self._tx() as db:
            db.execute(
                "INSERT INTO feedback(message_id, rating, note, created_at, updated_at)"
                " VALUES (:id, coalesce(:rating, 0), coalesce(:note, ''), :ts, :ts)"
                " ON CONFLICT(message_id) DO UPDATE SET rating=coalesce(:rating, rating),"
                " note=coalesce(:note, note), updated_at=:ts",
                {"id": message_id, "rating": rating, "note": note, "ts": ts},
            )
        found = self.feedback_for(message_id)
        assert found is not None
        return found

    def feedback_for(self, message_id: int) -> Feedback | None:
        row = self._db.execute("SELECT * FROM feedback WHERE message_id=?", (message_id,))
        found = row.fetchone()
        return Feedback(**dict(found)) if found else None

    def feedbacks(self) -> dict[int, Feedback]:
        """Every reply's feedback, by message id."""
        rows = self._db.execute("SELECT * FROM feedback").fetchall()
        return {int(r["message_id"]): Feedback(**dict(r)) for r in rows}

    def edit(self, message_id: int, text: str) -> Message:
        """A corrected version of a message, stored beside it with meta {"edit_of": id}.

        The original stays. An edited reply keeps the prompt the original was written for (a
        preference pair needs it) and becomes the kept sibling; exports put it in place of the
        original, and it becomes the session's head if the original was. An edited user message
        starts a new branch from the same parent and becomes the head.
        """
        orig = self.message(message_id)
        ts = iso(now())
        edit = MessageMeta(edit_of=orig.id)
        with self._tx() as db:
            stored = db.execute(
                "SELECT prompt_json, meta_json, off_record FROM messages WHERE id=?", (orig.id,)
            )
            row = stored.fetchone()
            # An edited reply keeps the original's turn state (trimmed, stored, ...); a user
            # message's edit is a new message, with none.
            reply = orig.role == "assistant"
            prompt_json = row["prompt_json"] if reply else None
            meta_json = MessageMeta.merged_json(row["meta_json"] if reply else "{}", edit)
            cur = db.execute(
                "INSERT INTO messages(session_id, parent_id, role, speaker, text, status,"
                " created_at, updated_at, prompt_json, meta_json, off_record)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    orig.session_id,
                    orig.parent_id,
                    orig.role,
                    orig.speaker,
                    text,
                    "complete",
                    ts,
                    ts,
                    prompt_json,
                    meta_json,
                    # A corrected version of words said off the record is off the record too.
                    row["off_record"],
                ),
            )
            assert cur.lastrowid is not None
            new_id = cur.lastrowid
            if orig.role == "assistant" and orig.parent_id is not None:
                _record_choice(db, orig.parent_id, new_id, ts)
            # A reply edited further up keeps the conversation that went on after it.
            db.execute(
                "UPDATE sessions SET head_id=?, updated_at=? WHERE id=?"
                " AND (? = 'user' OR head_id=?)",
                (new_id, ts, orig.session_id, orig.role, orig.id),
            )
        return self.message(new_id)

    def _reply(self, message_id: int) -> Message:
        msg = self.message(message_id)
        if msg.role != "assistant" or msg.parent_id is None:
            # The message exists: it is the wrong kind for a reply command (exit 12, not 9).
            raise FeedbackError(
                f"message {message_id} is not a reply (it is a {msg.role} message); "
                "`hearth logs list` shows which ids are replies"
            )
        return msg


def _record_choice(db: sqlite3.Connection, parent_id: int | None, message_id: int, ts: str) -> None:
    db.execute(
        "INSERT INTO choices(parent_id, message_id, created_at) VALUES (?,?,?)"
        " ON CONFLICT(parent_id) DO UPDATE SET message_id=excluded.message_id,"
        " created_at=excluded.created_at",
        (parent_id, message_id, ts),
    )
