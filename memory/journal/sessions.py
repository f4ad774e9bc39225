"""Sessions in the journal: made, named, listed, searched, archived and deleted."""

from __future__ import annotations

import sqlite3
from typing import Any

from memory.clock import now
from memory.journal.base import JournalBase, iso, no_session, row_to_session
from memory.journal.schemas import Session, SessionSummary

TITLE_CHARS = 50
"""How long a title derived from a session's first message may be, ellipsis included."""


def derived_title(text: str) -> str:
    """A session named by how it began: the first line of its first message, cut short (a
    row of the sessions screen is one line)."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


# One row per session: its count and its first on-record user message (what a title is
# derived from; words said off the record never name a session), newest first.
_SUMMARIES = (
    "SELECT s.id, s.title, s.created_at, s.updated_at, s.archived,"
    " (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS n,"
    " (SELECT m.text FROM messages m WHERE m.session_id = s.id AND m.role = 'user'"
    " AND m.off_record = 0 ORDER BY m.id LIMIT 1) AS first"
    " FROM sessions s WHERE (? OR s.archived = 0) AND NOT {dream}{where}"
    " ORDER BY s.updated_at DESC, s.id DESC"
)
# A session of dreams (`hearth dream`): made up, never a chat to go on in or list with the chats.
_DREAM = (
    "EXISTS (SELECT 1 FROM messages d WHERE d.session_id = s.id"
    " AND json_extract(d.meta_json, '$.synthetic') = 1)"
)
# A session brought in by `hearth import` from another app: history, never the chat to go on in.
# Its first message says so (one indexed lookup a session, not a scan of its messages).
_IMPORTED = (
    "(SELECT json_extract(f.meta_json, '$.imported') FROM messages f WHERE f.session_id = s.id"
    " ORDER BY f.id LIMIT 1) IS NOT NULL"
)
# One word of a search: in the title, or in something said on the record.
_WORD = (
    " AND (instr(hearth_fold(s.title), ?) OR EXISTS (SELECT 1 FROM messages m"
    " WHERE m.session_id = s.id AND m.off_record = 0 AND instr(hearth_fold(m.text), ?)))"
)


class SessionsMixin(JournalBase):
    """The journal's sessions."""

    def create_session(self, title: str = "", temporary: bool = False) -> Session:
        ts = iso(now())
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO sessions(title, created_at, updated_at, temporary) VALUES (?,?,?,?)",
                (title, ts, ts, int(temporary)),
            )
            assert cur.lastrowid is not None
            sid = cur.lastrowid
        return self.session(sid)

    def client_session(self, client: str) -> Session:
        """The session a client of `hearth serve` names `client` (created, titled so, the
        first time it is named)."""
        with self._tx() as db:
            row = db.execute("SELECT id FROM sessions WHERE client=?", (client,)).fetchone()
            if row is None:
                ts = iso(now())
                cur = db.execute(
                    "INSERT INTO sessions(title, created_at, updated_at, client) VALUES (?,?,?,?)",
                    (client, ts, ts, client),
                )
                assert cur.lastrowid is not None
                return self._session_in(db, cur.lastrowid)
        return self.session(int(row["id"]))

    def named_session(self, client: str) -> Session | None:
        """The session a client of `hearth serve` names `client`, if it named one before."""
        with self._lock:
            row = self._db.execute("SELECT id FROM sessions WHERE client=?", (client,)).fetchone()
        return None if row is None else self.session(int(row["id"]))

    def _session_in(self, db: sqlite3.Connection, session_id: int) -> Session:
        row = db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        return row_to_session(row)

    def latest_session(self) -> Session | None:
        """The session to go on in: the most recent one, never a temporary, archived, dream or
        imported one."""
        row = self._db.execute(
            "SELECT id FROM sessions s WHERE temporary=0 AND archived=0 AND NOT "
            + _DREAM
            + " AND NOT "
            + _IMPORTED
            + " ORDER BY updated_at DESC, id DESC LIMIT 1"
        ).fetchone()
        return self.session(row["id"]) if row else None

    def sessions(self) -> list[Session]:
        rows = self._db.execute("SELECT id FROM sessions ORDER BY updated_at DESC").fetchall()
        return [self.session(r["id"]) for r in rows]

    def session_summaries(self, include_archived: bool = False) -> list[SessionSummary]:
        """Every session as the sessions screen lists it, newest first, in one query (one
        `session()` and `thread()` per row would make the screen slow on a long journal)."""
        return self.search_sessions("", include_archived)

    def search_sessions(self, words: str, include_archived: bool = False) -> list[SessionSummary]:
        """The chat sessions (never one of dreams: `hearth dream list` shows those) where
        every word (case-insensitive, anywhere in a word) is in the title
        or in a message said on the record, newest first; no words: every session. The journal
        has no full-text index, and a person's journal is small enough to scan."""
        found = words.casefold().split()
        sql = _SUMMARIES.format(dream=_DREAM, where=_WORD * len(found))
        args: list[Any] = [int(include_archived)]
        for word in found:
            args += [word, word]
        return [
            SessionSummary(
                id=r["id"],
                title=r["title"],
                display_title=r["title"] or derived_title(r["first"] or "") or f"Session {r['id']}",
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                messages=r["n"],
                archived=bool(r["archived"]),
            )
            for r in self._db.execute(sql, args).fetchall()
        ]

    def rename_session(self, session_id: int, title: str) -> Session:
        """Name a session as the person calls it, on one line; an empty title lets a name be
        derived again. Its updated time stays: naming a chat is not talking in it."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE sessions SET title=? WHERE id=?", (" ".join(title.split()), session_id)
            )
            if cur.rowcount == 0:
                raise no_session(session_id)
        return self.session(session_id)

    def archive_session(self, session_id: int, archived: bool = True) -> Session:
        """Put a session away (or back): nothing in it changes, the sessions screen hides it."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE sessions SET archived=? WHERE id=?", (int(archived), session_id)
            )
            if cur.rowcount == 0:
                raise no_session(session_id)
        return self.session(session_id)

    def delete_session(self, session_id: int) -> int:
        """Delete a session and every message in it, for good; returns how many messages went.

        As `purge_off_record` does, freed bytes are zeroed and the write-ahead log emptied, so
        the words do not linger in the file. Feedback and choices on those messages go with
        them (their foreign keys cascade). Parent links never leave a session, so no other
        session changes. The export ledger keeps its rows, as forgetting does: the files it
        lists still hold these messages. Memories learned from the session are not touched.
        """
        with self._tx() as db:
            db.execute("PRAGMA secure_delete=ON")
            if db.execute("SELECT 1 FROM sessions WHERE id=?", (session_id,)).fetchone() is None:
                raise no_session(session_id)
            # One statement: SQLite checks the parent links once every message is gone.
            cur = db.execute("DELETE FROM messages WHERE session_id=?", (session_id,))
            db.execute("DELETE FROM sessions WHERE id=?", (session_id,))
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return cur.rowcount
