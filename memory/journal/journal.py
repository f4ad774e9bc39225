"""The durable conversation journal: every session and message, in SQLite, the source of truth."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from memory.clock import now
from memory.errors import FeedbackError, NotFoundError
from memory.journal.migrations import MIGRATIONS
from memory.journal.offrecord import nearest_on_record, on_record
from memory.journal.schemas import (
    ChatMessage,
    MemoryUse,
    Message,
    MessageMeta,
    ModelInfo,
    Role,
    Score,
    Session,
    SessionSummary,
    Status,
    Surprise,
    Usage,
)
from memory.journal.signals import ExportRecord, Feedback
from memory.sqlite import Database


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds")


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


class Journal:
    """All reads and writes of the journal go through here; safe to share across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sql = Database(path, what="journal", migrations=MIGRATIONS)
        self._db = self._sql.conn
        self._lock = self._sql.lock
        self._tx = self._sql.tx
        # SQLite's own lower() and LIKE fold ASCII only: a search for "émile" must find "Émile".
        self._db.create_function("hearth_fold", 1, str.casefold, deterministic=True)

    def close(self) -> None:
        self._sql.close()

    # -- sessions -----------------------------------------------------------------------

    def create_session(self, title: str = "", temporary: bool = False) -> Session:
        ts = _iso(now())
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
                ts = _iso(now())
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
        return _row_to_session(row)

    def session(self, session_id: int) -> Session:
        row = self._db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise _no_session(session_id)
        return _row_to_session(row)

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
                raise _no_session(session_id)
        return self.session(session_id)

    def archive_session(self, session_id: int, archived: bool = True) -> Session:
        """Put a session away (or back): nothing in it changes, the sessions screen hides it."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE sessions SET archived=? WHERE id=?", (int(archived), session_id)
            )
            if cur.rowcount == 0:
                raise _no_session(session_id)
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
                raise _no_session(session_id)
            # One statement: SQLite checks the parent links once every message is gone.
            cur = db.execute("DELETE FROM messages WHERE session_id=?", (session_id,))
            db.execute("DELETE FROM sessions WHERE id=?", (session_id,))
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return cur.rowcount

    # -- messages -----------------------------------------------------------------------

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
        ts = _iso(created_at or now())
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
                    _dump_prompt(prompt),
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
        args: list[Any] = [_iso(now())]
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

    def message(self, message_id: int) -> Message:
        row = self._db.execute("SELECT * FROM messages WHERE id=?", (message_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no message {message_id}; `hearth logs list` shows message ids")
        return _row_to_message(row)

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
        return [_row_to_message(r) for r in self._db.execute(sql, args).fetchall()]

    def imported_messages(self, format: str) -> list[Message]:
        """Every message `hearth import` brought in from an export of this format (its
        `MessageMeta.imported`), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE json_extract(meta_json, '$.imported.format') = ?"
            " ORDER BY id",
            (format,),
        ).fetchall()
        return [_row_to_message(r) for r in rows]

    def dream_messages(self) -> list[Message]:
        """Every message of every dream (`MessageMeta.dream`), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE json_extract(meta_json, '$.dream') IS NOT NULL"
            " ORDER BY id"
        ).fetchall()
        return [_row_to_message(r) for r in rows]

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
        return [_row_to_message(r) for r in rows]

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

    def schema_version(self) -> int:
        return self._sql.schema_version()

    # -- model identity -----------------------------------------------------------------

    def model_sha256(self, path: Path) -> str:
        """The file's sha256, computed once and cached by (size, mtime)."""
        st = path.stat()
        key = str(path.resolve())
        row = self._db.execute(
            "SELECT sha256 FROM model_hashes WHERE path=? AND size=? AND mtime_ns=?",
            (key, st.st_size, st.st_mtime_ns),
        ).fetchone()
        if row:
            return str(row["sha256"])
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        sha = digest.hexdigest()
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO model_hashes(path, size, mtime_ns, sha256)"
                " VALUES (?,?,?,?)",
                (key, st.st_size, st.st_mtime_ns, sha),
            )
        return sha

    # -- ablation scores (`hearth score`) ------------------------------------------------

    def add_scores(self, scores: list[Score]) -> None:
        """Record one reply's scores together: a run stopped midway leaves whole replies."""
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO scores(message_id, variant, mean_logprob, tokens,"
                " model_sha256, other_model, scored_at) VALUES (?,?,?,?,?,?,?)",
                [
                    (s.message_id, s.variant, s.mean_logprob, s.tokens, s.model_sha256,
                     int(s.other_model), _iso(s.scored_at))
                    for s in scores
                ],
            )  # fmt: skip

    def scores(self, message_id: int) -> list[Score]:
        """A reply's scores, by every model that scored it."""
        rows = self._db.execute(
            "SELECT * FROM scores WHERE message_id=? ORDER BY model_sha256, variant", (message_id,)
        ).fetchall()
        return [
            Score(**{**dict(r), "other_model": bool(r["other_model"])}) for r in rows
        ]  # fmt: skip

    def scores_of(self, variants: tuple[str, ...]) -> list[Score]:
        """Every reply's scores of these variants, by every model (an export reads them once)."""
        marks = ",".join("?" * len(variants))
        rows = self._db.execute(
            f"SELECT * FROM scores WHERE variant IN ({marks}) ORDER BY message_id, model_sha256",
            variants,
        ).fetchall()
        return [
            Score(**{**dict(r), "other_model": bool(r["other_model"])}) for r in rows
        ]  # fmt: skip

    def scored_ids(self, model_sha256: str) -> set[int]:
        """Replies this model has scored (a second run skips them)."""
        rows = self._db.execute(
            "SELECT DISTINCT message_id FROM scores WHERE model_sha256=? AND variant='full'",
            (model_sha256,),
        ).fetchall()
        return {int(r["message_id"]) for r in rows}

    def delete_ablations(self, memory_ids: list[str]) -> int:
        """Forget the figures scored without these memories; returns how many rows went."""
        with self._tx() as db:
            cur = db.executemany(
                "DELETE FROM scores WHERE variant=?", [(f"without:{i}",) for i in memory_ids]
            )
        return cur.rowcount

    def memory_use(self, memory_id: str) -> MemoryUse | None:
        """The largest drop in a reply's mean log-probability when this memory's note was
        taken out (None: no reply was scored without it)."""
        rows = self._db.execute(
            "SELECT w.message_id, f.mean_logprob - w.mean_logprob AS drop_ FROM scores w"
            " JOIN scores f ON f.message_id = w.message_id"
            " AND f.model_sha256 = w.model_sha256 AND f.variant = 'full'"
            " WHERE w.variant = ? ORDER BY drop_ DESC",
            (f"without:{memory_id}",),
        ).fetchall()
        if not rows:
            return None
        replies = len({r["message_id"] for r in rows})
        top = rows[0]
        return MemoryUse(
            memory_id=memory_id, drop=top["drop_"], message_id=top["message_id"], replies=replies
        )

    # -- surprise (`hearth understanding`) -----------------------------------------------

    def add_surprise(self, row: Surprise) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO surprise(message_id, model_sha256, tokens, bits_alone,"
                " bits_with, notes, scored_at) VALUES (?,?,?,?,?,?,?)",
                (row.message_id, row.model_sha256, row.tokens, row.bits_alone, row.bits_with,
                 row.notes, _iso(row.scored_at)),
            )  # fmt: skip

    def surprises(self, model_sha256: str | None = None) -> list[Surprise]:
        """Every message's surprise under this model (default: the model that measured last),
        with its session and time, oldest first."""
        if model_sha256 is None:
            last = self._db.execute(
                "SELECT model_sha256 FROM surprise ORDER BY scored_at DESC LIMIT 1"
            ).fetchone()
            if last is None:
                return []
            model_sha256 = str(last["model_sha256"])
        rows = self._db.execute(
            "SELECT s.*, m.session_id, m.created_at AS at FROM surprise s"
            " JOIN messages m ON m.id = s.message_id WHERE s.model_sha256 = ? ORDER BY m.id",
            (model_sha256,),
        ).fetchall()
        return [Surprise(**dict(r)) for r in rows]

    # -- training signals: versions, choices, feedback, edits ---------------------------

    def siblings(self, message_id: int) -> list[Message]:
        """Every version of a message (regenerations, edits): same parent and role, oldest first."""
        msg = self.message(message_id)
        rows = self._db.execute(
            "SELECT * FROM messages WHERE session_id=? AND role=? AND parent_id IS ? ORDER BY id",
            (msg.session_id, msg.role, msg.parent_id),
        ).fetchall()
        return [_row_to_message(r) for r in rows]

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
                (message_id, _iso(now()), session_id),
            )

    def choose(self, message_id: int) -> Message:
        """Keep this reply among its siblings; if a sibling was the session's head, it now is."""
        msg = self._reply(message_id)
        ts = _iso(now())
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
        ts = _iso(now())
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
        ts = _iso(now())
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

    # -- training signals: the export ledger --------------------------------------------

    def record_export(
        self,
        *,
        kind: str,
        file_format: str,
        path: Path,
        sha256: str,
        rows: int,
        command: str,
        trained_ids: set[int],
        context_ids: set[int],
    ) -> ExportRecord:
        """Ledger one written export and every message it contained (trained or as context)."""
        ts = _iso(now())
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO exports(kind, file_format, path, sha256, rows, created_at, command)"
                " VALUES (?,?,?,?,?,?,?)",
                (kind, file_format, str(path), sha256, rows, ts, command),
            )
            assert cur.lastrowid is not None
            export_id = cur.lastrowid
            items = [(export_id, mid, 1) for mid in sorted(trained_ids)]
            items += [(export_id, mid, 0) for mid in sorted(context_ids - trained_ids)]
            db.executemany(
                "INSERT INTO export_items(export_id, message_id, trained) VALUES (?,?,?)", items
            )
        return self._export(export_id)

    def exported_message_ids(self, kind: str | None = None, trained_only: bool = True) -> set[int]:
        """Messages some export (of this kind) already contained; what --only-new leaves out."""
        sql = "SELECT DISTINCT i.message_id FROM export_items i JOIN exports e ON e.id=i.export_id"
        where: list[str] = []
        args: list[Any] = []
        if kind is not None:
            where.append("e.kind=?")
            args.append(kind)
        if trained_only:
            where.append("i.trained=1")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return {int(r[0]) for r in self._db.execute(sql, args).fetchall()}

    def exports_containing(self, message_ids: set[int] | list[int]) -> list[ExportRecord]:
        """The exports that hold any of these messages, each naming which; oldest first."""
        wanted = sorted(set(message_ids))
        found: dict[int, list[int]] = {}
        # Chunked: SQLite limits how many parameters one statement may bind.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT export_id, message_id FROM export_items WHERE message_id IN ({marks})",
                chunk,
            ).fetchall()
            for r in rows:
                found.setdefault(int(r["export_id"]), []).append(int(r["message_id"]))
        return [
            self._export(eid).model_copy(update={"message_ids": sorted(mids)})
            for eid, mids in sorted(found.items())
        ]

    def exports(self) -> list[ExportRecord]:
        """The ledger, oldest first."""
        rows = self._db.execute("SELECT id FROM exports ORDER BY id").fetchall()
        return [self._export(int(r["id"])) for r in rows]

    def _export(self, export_id: int) -> ExportRecord:
        row = self._db.execute("SELECT * FROM exports WHERE id=?", (export_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no export {export_id}")
        return ExportRecord(**dict(row))

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
        messages = [_row_to_message(r) for r in rows]
        by_id = {m.id: m for m in messages}
        for after in on_record(messages):
            before = by_id[after.id]
            if after.parent_id != before.parent_id or after.prompt != before.prompt:
                db.execute(
                    "UPDATE messages SET parent_id=?, prompt_json=? WHERE id=?",
                    (after.parent_id, _dump_prompt(after.prompt), after.id),
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

    def set_export_sha256(self, export_id: int, sha256: str) -> None:
        """A ledgered export rewritten by a forget: the ledger keeps the file's new checksum."""
        with self._tx() as db:
            db.execute("UPDATE exports SET sha256=? WHERE id=?", (sha256, export_id))

    def redact(
        self, pattern: re.Pattern[str], marker: str, *, dry_run: bool = False
    ) -> dict[str, int]:
        """Replace the pattern with `marker` in what people and the model wrote: message texts,
        the `content` of stored prompts, the notes kept with a user message (meta `shown_as`),
        session titles and feedback notes. Never keys, roles or ids: the journal keeps its shape.
        Counts by place (with dry_run: what would change, and nothing is written).

        Freed bytes are zeroed (secure_delete), but the caller must still VACUUM the file.
        """
        with self._tx() as db:
            counts = self._redact_messages(db, pattern, marker, own_words=True, write=not dry_run)
            for name, table, column, key in (
                ("session_titles", "sessions", "title", "id"),
                ("feedback_notes", "feedback", "note", "message_id"),
            ):
                rows = db.execute(f"SELECT {key}, {column} FROM {table}").fetchall()
                hits = [r for r in rows if pattern.search(r[column])]
                if not dry_run:
                    db.executemany(
                        f"UPDATE {table} SET {column}=? WHERE {key}=?",
                        [(pattern.sub(marker, r[column]), r[key]) for r in hits],
                    )
                counts[name] = len(hits)
        return counts

    def redact_shown(self, pattern: re.Pattern[str], marker: str, *, dry_run: bool = False) -> int:
        """Replace the pattern (a memory's line as the model was shown it) where the model saw
        it: the `content` of stored prompts and the notes kept with a user message (meta
        `shown_as`). The messages' own words stay. Returns how many messages changed."""
        with self._tx() as db:
            counts = self._redact_messages(db, pattern, marker, own_words=False, write=not dry_run)
        return counts["prompts"] + counts["notes_shown"]

    def snippets(self, pattern: re.Pattern[str], limit: int = 3, width: int = 30) -> list[str]:
        """A few message texts around where the pattern occurs, for a preview."""
        found: list[str] = []
        for row in self._db.execute("SELECT id, text FROM messages ORDER BY id"):
            match = pattern.search(row["text"])
            if match is None:
                continue
            start, end = max(0, match.start() - width), match.end() + width
            text = " ".join(row["text"][start:end].split())
            dots = ("…" if start > 0 else "", "…" if end < len(row["text"]) else "")
            found.append(f"message {row['id']}: {dots[0]}{text}{dots[1]}")
            if len(found) == limit:
                break
        return found

    def _redact_messages(
        self,
        db: sqlite3.Connection,
        pattern: re.Pattern[str],
        marker: str,
        *,
        own_words: bool,
        write: bool,
    ) -> dict[str, int]:
        """Replace the pattern in prompts' contents and meta `shown_as` (and, with own_words,
        in message texts); freed bytes are zeroed. Counts messages changed in each place."""
        db.execute("PRAGMA secure_delete=ON")
        counts = {"texts": 0, "prompts": 0, "notes_shown": 0}
        rows = db.execute("SELECT id, text, prompt_json, meta_json FROM messages").fetchall()
        for row in rows:
            text = pattern.sub(marker, row["text"]) if own_words else row["text"]
            prompt = _redact_prompt(row["prompt_json"], pattern, marker)
            meta = _redact_meta(row["meta_json"], pattern, marker)
            counts["texts"] += text != row["text"]
            counts["prompts"] += prompt != row["prompt_json"]
            counts["notes_shown"] += meta != row["meta_json"]
            if write and (text, prompt, meta) != (
                row["text"],
                row["prompt_json"],
                row["meta_json"],
            ):
                db.execute(
                    "UPDATE messages SET text=?, prompt_json=?, meta_json=? WHERE id=?",
                    (text, prompt, meta, row["id"]),
                )
        return counts


def _redact_prompt(raw: str | None, pattern: re.Pattern[str], marker: str) -> str | None:
    """A stored prompt with the pattern replaced inside each message's `content` only: roles
    and every other key stay byte for byte, so the prompt still reads as a prompt."""
    # Parsed, not matched in the raw JSON: there a phrase with quotes, newlines or non-ASCII
    # letters may be spelled differently, and "user" would match the roles.
    if raw is None:
        return None
    data = json.loads(raw)
    changed = False
    for entry in data if isinstance(data, list) else []:
        content = entry.get("content") if isinstance(entry, dict) else None
        if isinstance(content, str) and pattern.search(content):
            entry["content"] = pattern.sub(marker, content)
            changed = True
    return json.dumps(data, ensure_ascii=False) if changed else raw


def _redact_meta(raw: str | None, pattern: re.Pattern[str], marker: str) -> str | None:
    """Meta with the pattern replaced in `shown_as`, the one key that holds words."""
    if raw is None:
        return None
    data = json.loads(raw)
    shown = data.get("shown_as") if isinstance(data, dict) else None
    if not isinstance(shown, str) or not pattern.search(shown):
        return raw
    # Written back as MessageMeta writes it (ASCII escapes), key order kept.
    return json.dumps({**data, "shown_as": pattern.sub(marker, shown)})


def _row_to_session(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        title=row["title"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        head_id=row["head_id"],
        temporary=bool(row["temporary"]),
        archived=bool(row["archived"]),
    )


def _no_session(session_id: int) -> NotFoundError:
    return NotFoundError(f"no session {session_id}; `hearth logs list` shows sessions")


def _inherits_off_record(
    db: sqlite3.Connection, session_id: int, role: Role, parent_id: int | None
) -> bool:
    row = db.execute(
        "SELECT (SELECT temporary FROM sessions WHERE id=?) t,"
        " (SELECT off_record FROM messages WHERE id=?) p",
        (session_id, parent_id),
    ).fetchone()
    return bool(row["t"]) or (role == "assistant" and bool(row["p"]))


def _record_choice(db: sqlite3.Connection, parent_id: int | None, message_id: int, ts: str) -> None:
    db.execute(
        "INSERT INTO choices(parent_id, message_id, created_at) VALUES (?,?,?)"
        " ON CONFLICT(parent_id) DO UPDATE SET message_id=excluded.message_id,"
        " created_at=excluded.created_at",
        (parent_id, message_id, ts),
    )


def _dump_prompt(prompt: list[ChatMessage] | None) -> str | None:
    if prompt is None:
        return None
    return json.dumps([m.model_dump() for m in prompt], ensure_ascii=False)


def _row_to_message(row: sqlite3.Row) -> Message:
    prompt = json.loads(row["prompt_json"]) if row["prompt_json"] else None
    return Message(
        id=row["id"],
        session_id=row["session_id"],
        parent_id=row["parent_id"],
        role=row["role"],
        speaker=row["speaker"],
        text=row["text"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        prompt=[ChatMessage(**m) for m in prompt] if prompt is not None else None,
        model=ModelInfo.model_validate_json(row["model_json"]) if row["model_json"] else None,
        sampling=json.loads(row["sampling_json"]) if row["sampling_json"] else None,
        usage=Usage.model_validate_json(row["usage_json"]),
        meta=MessageMeta.from_json(row["meta_json"]),
        off_record=bool(row["off_record"]),
    )
