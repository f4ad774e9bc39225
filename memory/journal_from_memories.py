"""A lost journal (empty or missing while memories cite it) started again from what the
memories still hold: each cited message whose words a memory quotes, marked recovered."""

from __future__ import annotations

import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from memory.clock import now
from memory.health import read_only
from memory.journal.schemas import RECOVERED_SOURCE

TITLE = "recovered from memories"


class Recreated(BaseModel):
    """What `recreate` brought back, and what cannot come back."""

    session_id: int | None
    messages: list[int]
    """Ids of the messages made again (the ids the memories cite), the words their memories
    quote; their replies, and any other words said, are lost."""
    lost: list[int]
    """Cited messages no memory quotes: nothing of their words is left."""

    def line(self) -> str:
        made = (
            f"recreated {len(self.messages)} message(s) the memories quote in session "
            f"{self.session_id} ({TITLE!r}, marked recovered: never exported or scored)"
            if self.messages
            else "no memory quotes the words it came from, so no message could be recreated"
        )
        lost = (
            f"; {len(self.lost)} cited message(s) cannot come back (no memory quotes them: "
            f"ids {', '.join(map(str, self.lost[:10]))}{' …' if len(self.lost) > 10 else ''})"
            if self.lost
            else ""
        )
        return f"{made}{lost}; every reply is lost; new messages take ids after the cited ones"


def _quotes(memory_db: Path) -> tuple[dict[int, list[tuple[str, str]]], set[int]]:
    """For each cited message id, (learned_at, quote) of every memory citing it alone with a
    quote; and every id cited at all."""
    quoted: dict[int, list[tuple[str, str]]] = defaultdict(list)
    cited: set[int] = set()
    with read_only(memory_db) as db:
        rows = db.execute("SELECT provenance_json, quote, learned_at FROM memories").fetchall()
    for provenance, quote, learned_at in rows:
        ids = [int(i) for i in json.loads(provenance or "[]")]
        cited.update(ids)
        # A memory citing several messages quotes one of them, and which is not recorded.
        if len(ids) == 1 and quote and str(quote).strip():
            quoted[ids[0]].append((str(learned_at), str(quote).strip()))
    return quoted, cited


def recreate(journal: Path, memory_db: Path, make_fresh: Callable[[Path], None]) -> Recreated:
    """Replace an empty or missing journal by a fresh one (`make_fresh` creates it) holding,
    under their old ids, the person's messages the memories quote, one session in id order;
    the id counter is moved past every cited id, so nothing new takes an old message's id.

    Call under the data dir lock, only when the journal holds no message."""
    quoted, cited = _quotes(memory_db)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)
    make_fresh(journal)
    made = sorted(quoted)
    db = sqlite3.connect(journal, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        session_id = None
        if made:
            first = min(at for i in made for at, _ in quoted[i])
            stamp = now().isoformat(timespec="microseconds")
            cur = db.execute(
                "INSERT INTO sessions(title, created_at, updated_at) VALUES (?,?,?)",
                (TITLE, first, stamp),
            )
            session_id = cur.lastrowid
        parent = None
        for message_id in made:
            texts = list(dict.fromkeys(q for _, q in sorted(quoted[message_id])))
            when = min(at for at, _ in quoted[message_id])
            # Remembered already (its memories are what it came from): never extracted again.
            meta = {"source": RECOVERED_SOURCE, "remembered": True}
            db.execute(
                "INSERT INTO messages(id, session_id, parent_id, role, text, status,"
                " created_at, updated_at, meta_json) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    message_id,
                    session_id,
                    parent,
                    "user",
                    " … ".join(texts),
                    "complete",
                    when,
                    when,
                    json.dumps(meta),
                ),
            )
            parent = message_id
        if session_id is not None:
            db.execute("UPDATE sessions SET head_id=? WHERE id=?", (parent, session_id))
        top = max(cited, default=0)
        if top:
            # AUTOINCREMENT hands out ids past the counter: past every id a memory cites.
            db.execute("DELETE FROM sqlite_sequence WHERE name='messages'")
            db.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('messages', ?)", (top,))
        db.execute("COMMIT")
    finally:
        db.close()
    os.chmod(journal, 0o600)
    return Recreated(session_id=session_id, messages=made, lost=sorted(cited - set(made)))
