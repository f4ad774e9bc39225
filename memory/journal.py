"""The durable conversation journal: every session and message, in SQLite, the source of truth."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memory.errors import DataDirNewerError, NotFoundError, StorageError
from memory.schemas import ChatMessage, Message, ModelInfo, Role, Session, Status, Usage

# Named migrations, applied once each in order; PRAGMA user_version counts those applied.
# Never edit one that has shipped: append a new one.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_sessions_and_messages",
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            head_id INTEGER,
            temporary INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id INTEGER NOT NULL REFERENCES sessions(id),
            parent_id INTEGER REFERENCES messages(id),
            role TEXT NOT NULL,
            speaker TEXT,
            text TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            prompt_json TEXT,
            model_json TEXT,
            sampling_json TEXT,
            usage_json TEXT NOT NULL DEFAULT '{}',
            meta_json TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX messages_session ON messages(session_id, id);
        CREATE INDEX messages_parent ON messages(parent_id);
        CREATE TABLE model_hashes (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        );
        """,
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)


def now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds")


class Journal:
    """All reads and writes of the journal go through here; safe to share across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the journal {path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._check_version()
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a turn reported as saved survives power loss, not just a process crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # -- schema -------------------------------------------------------------------------

    def _check_version(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self._db.close()
            raise DataDirNewerError(
                f"the journal {self.path} was written by a newer Hearth (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade Hearth or set HEARTH_HOME elsewhere"
            )

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for index, (_name, sql) in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._tx():
                for statement in sql.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {index}")

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if "full" in str(exc) or "I/O" in str(exc) or "readonly" in str(exc):
                    raise StorageError(f"could not save to {self.path}: {exc}") from exc
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

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

    def session(self, session_id: int) -> Session:
        row = self._db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no session {session_id}; `hearth logs list` shows sessions")
        return Session(
            id=row["id"],
            title=row["title"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            head_id=row["head_id"],
            temporary=bool(row["temporary"]),
        )

    def latest_session(self) -> Session | None:
        row = self._db.execute(
            "SELECT id FROM sessions WHERE temporary=0 ORDER BY updated_at DESC, id DESC LIMIT 1"
        ).fetchone()
        return self.session(row["id"]) if row else None

    def sessions(self) -> list[Session]:
        rows = self._db.execute("SELECT id FROM sessions ORDER BY updated_at DESC").fetchall()
        return [self.session(r["id"]) for r in rows]

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
        meta: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Message:
        """Write one message and make it the session's head; committed when this returns."""
        ts = _iso(created_at or now())
        with self._tx() as db:
            if parent_id is None:
                head = db.execute("SELECT head_id FROM sessions WHERE id=?", (session_id,))
                row = head.fetchone()
                if row is None:
                    raise NotFoundError(f"no session {session_id}")
                parent_id = row["head_id"]
            cur = db.execute(
                "INSERT INTO messages(session_id, parent_id, role, speaker, text, status,"
                " created_at, updated_at, prompt_json, model_json, sampling_json, meta_json)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    json.dumps(meta or {}),
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
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Rewrite a reply as it streams or when it ends; committed when this returns."""
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
                merged = {**json.loads(row.fetchone()["meta_json"]), **meta}
                sets.append("meta_json=?")
                args.append(json.dumps(merged))
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
            " (SELECT count(*) FROM messages WHERE status='incomplete') i"
        ).fetchone()
        return {"sessions": row["s"], "messages": row["m"], "incomplete": row["i"]}

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

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
                "INSERT OR REPLACE INTO model_hashes(path, size, mtime_ns, sha256) VALUES (?,?,?,?)",
                (key, st.st_size, st.st_mtime_ns, sha),
            )
        return sha


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
        meta=json.loads(row["meta_json"]),
    )
