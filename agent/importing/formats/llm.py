"""simonw/llm's logs.db (SQLite, opened read-only): one row a prompt and its response, in
conversations; very old databases keep them in a `logs` table."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.importing.files import ExportFile
from agent.importing.formats.shape import parse_time
from agent.importing.threads import REFUSED, Node, Thread, finish
from memory.errors import DatasetError

_SQLITE = b"SQLite format 3\x00"


class Llm:
    """`conversations(id, name, model)`, `responses(id, model, prompt, system, response,
    conversation_id, datetime_utc)`, fragments in `prompt_fragments` and `fragments`."""

    name = "llm"
    remembers = True

    def detect(self, files: Sequence[ExportFile]) -> bool:
        named = [f for f in files if f.basename.endswith((".db", ".sqlite", ".sqlite3"))]
        return any(f.peek(16) == _SQLITE for f in named)

    def read(self, files: Sequence[ExportFile]) -> list[Thread]:
        found = [f for f in files if f.peek(16) == _SQLITE]
        if not found:
            names = ", ".join(f.label for f in files)
            raise DatasetError(f"{names}: not a SQLite database (llm's logs.db){REFUSED}")
        return [t for f in found for t in _read(f)]


def _read(file: ExportFile) -> list[Thread]:
    path = file.local()
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "responses" in tables:
                return _responses(db, file.label, tables)
            if "logs" in tables:
                return _logs(db, file.label)
            raise DatasetError(f"{file.label}: has no responses (nor logs) table{REFUSED}")
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise DatasetError(f"{file.label}: not a readable SQLite database: {exc}{REFUSED}") from exc
    finally:
        if file.on_disk is None:
            Path(path).unlink(missing_ok=True)


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _utc(value: Any) -> datetime | None:
    # llm writes datetime_utc in UTC without a zone.
    moment = parse_time(value) if isinstance(value, str | int | float) else None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _responses(db: sqlite3.Connection, label: str, tables: set[str]) -> list[Thread]:
    names = {}
    if "conversations" in tables:
        names = {str(r["id"]): r["name"] or "" for r in db.execute("SELECT * FROM conversations")}
    fragments: dict[str, list[str]] = {}
    if {"prompt_fragments", "fragments"} <= tables:
        for r in db.execute(
            "SELECT p.response_id, f.content FROM prompt_fragments p"
            ' JOIN fragments f ON f.id = p.fragment_id ORDER BY p.response_id, p."order"'
        ):
            fragments.setdefault(str(r[0]), []).append(r[1] or "")
    columns = _columns(db, "responses")
    order = "datetime_utc, id" if "datetime_utc" in columns else "id"
    rows = [dict(r) for r in db.execute(f"SELECT * FROM responses ORDER BY {order}")]
    threads: dict[str, Thread] = {}
    for row in rows:
        if row.get("id") is None:
            raise DatasetError(f"{label}: table responses, a row, field id: missing{REFUSED}")
        conversation = str(row.get("conversation_id") or row["id"])
        thread = threads.get(conversation)
        if thread is None:
            thread = threads[conversation] = Thread(
                format="llm",
                id=conversation,
                title=names.get(conversation, ""),
                file=label,
                nodes=[],
            )
        prompt = "\n\n".join([*fragments.get(str(row["id"]), []), row.get("prompt") or ""])
        _exchange(thread, row, prompt, _utc(row.get("datetime_utc")))
    return [finish(t) for t in threads.values()]


def _logs(db: sqlite3.Connection, label: str) -> list[Thread]:
    """The oldest databases: `logs(id, model, timestamp, prompt, system, response, chat_id)`."""
    threads: dict[str, Thread] = {}
    for r in db.execute("SELECT * FROM logs ORDER BY id"):
        row = dict(r)
        conversation = str(row.get("chat_id") or row.get("id"))
        thread = threads.setdefault(
            conversation, Thread(format="llm", id=conversation, title="", file=label, nodes=[])
        )
        _exchange(thread, row, row.get("prompt") or "", _utc(row.get("timestamp")))
    return [finish(t) for t in threads.values()]


def _exchange(thread: Thread, row: dict[str, Any], prompt: str, when: datetime | None) -> None:
    """A row's prompt and its response, after the conversation's last response."""
    ident = str(row["id"])
    previous = thread.nodes[-1].id if thread.nodes else None
    if (row.get("system") or "").strip():
        thread.skipped["system prompt"] += 1
    asked = Node(id=f"{ident}:prompt", parent=previous, role="user", text=prompt.strip(), time=when)
    asked.skip = None if asked.text else "empty"
    answer = Node(
        id=f"{ident}:response",
        parent=asked.id,
        role="assistant",
        text=(row.get("response") or "").strip(),
        time=when,
        model=row.get("model") or None,
    )
    answer.skip = None if answer.text else "empty"
    thread.nodes += [asked, answer]
    thread.current = answer.id
    thread.created = thread.created or when


FORMAT = Llm()
