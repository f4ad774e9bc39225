"""Deleting words for good: off-record messages, and dreams of forgotten memories."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from memory.journal.base import dump_prompt, row_to_message
from memory.journal.messages import MessagesMixin
from memory.journal.offrecord import nearest_on_record, on_record
from memory.journal.schemas import Message


class PurgeMixin(MessagesMixin):
    """Purges that zero the freed bytes and empty the write-ahead log."""

    # -- off the record -----------------------------------------------------------------

    def off_record_sessions(self) -> dict[int, int]:
        """Sessions holding off-record messages -> how many."""
        rows = self._db.execute(
            "SELECT session_id, count(*) n FROM messages WHERE off_record=1 GROUP BY session_id"
        ).fetchall()
        return {int(r["session_id"]): int(r["n"]) for r in rows}

    def purge_off_record(self, session_id: int | None = None) -> int:
        """Delete the off-record messages of one session (default: of every session); returns
        how many went.

        Children are re-linked to their nearest on-record ancestor and a session's head moves
        the same way, so every parent_id still points at a message; what an on-record prompt
        showed of them (only journals from before the mark) is cut from it; a session left
        empty by the purge goes too. Freed bytes are zeroed and the write-ahead log emptied.
        """
        sessions = self.off_record_sessions()
        if session_id is not None:
            sessions = {k: v for k, v in sessions.items() if k == session_id}
        if not sessions:
            return 0
        removed = 0
        with self._tx() as db:
            db.execute("PRAGMA secure_delete=ON")
            for sid in sessions:
                removed += self._purge_session(db, sid)
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def _purge_session(self, db: sqlite3.Connection, session_id: int) -> int:
        rows = db.execute("SELECT * FROM messages WHERE session_id=?", (session_id,)).fetchall()
        messages = [row_to_message(r) for r in rows]
        by_id = {m.id: m for m in messages}
        for after in on_record(messages):
            before = by_id[after.id]
            if after.parent_id != before.parent_id or after.prompt != before.prompt:
                db.execute(
                    "UPDATE messages SET parent_id=?, prompt_json=? WHERE id=?",
                    (after.parent_id, dump_prompt(after.prompt), after.id),
                )
        head = db.execute("SELECT head_id FROM sessions WHERE id=?", (session_id,)).fetchone()
        if head is not None:
            db.execute(
                "UPDATE sessions SET head_id=? WHERE id=?",
                (nearest_on_record(head["head_id"], by_id), session_id),
            )
        cur = db.execute("DELETE FROM messages WHERE session_id=? AND off_record=1", (session_id,))
        # Nothing is kept of a conversation held wholly off the record, not even that it was.
        db.execute(
            "DELETE FROM sessions WHERE id=? AND NOT EXISTS"
            " (SELECT 1 FROM messages WHERE session_id=?)",
            (session_id, session_id),
        )
        return cur.rowcount

    # -- forgetting ---------------------------------------------------------------------

    def dreams_of(self, memory_ids: Collection[str]) -> list[Message]:
        """Every message of the dreams that drew on one of these memories (`MessageMeta.dream`:
        their made-up message quotes it), edits included."""
        wanted = set(memory_ids)
        return [
            m
            for m in self.dream_messages()
            if m.meta.dream is not None and wanted & set(m.meta.dream.memory_ids)
        ]

    def delete_dreams(self, memory_ids: Collection[str]) -> int:
        """Delete the dreams that drew on these memories, whole (a forgotten memory's words
        live on in them); a dream session left empty goes too. Returns how many messages went.

        As `delete_session` does, freed bytes are zeroed and the write-ahead log emptied."""
        doomed = self.dreams_of(memory_ids)
        if not doomed:
            return 0
        ids = [m.id for m in doomed]
        sessions = {m.session_id for m in doomed}
        marks = ",".join("?" * len(ids))
        with self._tx() as db:
            db.execute("PRAGMA secure_delete=ON")
            # One statement: a reply and its edits go with the message they answer.
            cur = db.execute(f"DELETE FROM messages WHERE id IN ({marks})", ids)
            for sid in sessions:
                db.execute(
                    "UPDATE sessions SET head_id=(SELECT max(id) FROM messages WHERE session_id=?)"
                    " WHERE id=?",
                    (sid, sid),
                )
                db.execute(
                    "DELETE FROM sessions WHERE id=? AND NOT EXISTS"
                    " (SELECT 1 FROM messages WHERE session_id=?)",
                    (sid, sid),
                )
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return cur.rowcount
