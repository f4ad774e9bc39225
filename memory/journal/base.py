"""The journal's connection and the row readers every part of it shares."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from memory.errors import NotFoundError
from memory.journal.migrations import MIGRATIONS
from memory.journal.schemas import ChatMessage, Message, MessageMeta, ModelInfo, Session, Usage
from memory.sqlite import Database


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds")


class JournalBase:
    """The open journal file, and reading one session or message by id; the parts of
    `Journal` (sessions, messages, signals, ...) build on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sql = Database(path, what="journal", migrations=MIGRATIONS)
        self._db = self._sql.conn
        self._lock = self._sql.lock
        self._tx = self._sql.tx
        self.unit = self._sql.unit
        """Many writes as one transaction (`memory.sqlite.Database.unit`): an import's batch."""
        # SQLite's own lower() and LIKE fold ASCII only: a search for "émile" must find "Émile".
        self._db.create_function("hearth_fold", 1, str.casefold, deterministic=True)

    def close(self) -> None:
        self._sql.close()

    def session(self, session_id: int) -> Session:
        row = self._db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            raise no_session(session_id)
        return row_to_session(row)

    def message(self, message_id: int) -> Message:
        row = self._db.execute("SELECT * FROM messages WHERE id=?", (message_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no message {message_id}; `hearth logs list` shows message ids")
        return row_to_message(row)

    def schema_version(self) -> int:
        return self._sql.schema_version()


def row_to_session(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        title=row["title"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        head_id=row["head_id"],
        temporary=bool(row["temporary"]),
        archived=bool(row["archived"]),
    )


def no_session(session_id: int) -> NotFoundError:
    return NotFoundError(f"no session {session_id}; `hearth logs list` shows sessions")


def dump_prompt(prompt: list[ChatMessage] | None) -> str | None:
    if prompt is None:
        return None
    return json.dumps([m.model_dump() for m in prompt], ensure_ascii=False)


def row_to_message(row: sqlite3.Row) -> Message:
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
