"""memory.sqlite3, the memory graph's source of truth: memories, vectors, edges, history, FTS5."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memory.graph.forgetting import compact
from memory.graph.nodes import (
    Action,
    Actor,
    Edge,
    EdgeType,
    EmbedderIdentity,
    HistoryEntry,
    Kind,
    Memory,
)
from memory.graph.people import fold, squeeze
from memory.sqlite import Database, Migration

Vectors = npt.NDArray[np.float32]

# Named migrations, applied once each in order; PRAGMA user_version counts those applied.
# Statements are listed one by one because trigger bodies contain semicolons.
# Never edit one that has shipped: append a new one.
MIGRATIONS: list[Migration] = [
    (
        "0001_memories_edges_history",
        [
            """CREATE TABLE memories (
                n INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                text TEXT NOT NULL,
                subject TEXT NOT NULL DEFAULT 'user',
                importance REAL NOT NULL DEFAULT 0.5,
                pinned INTEGER NOT NULL DEFAULT 0,
                flags_json TEXT NOT NULL DEFAULT '[]',
                provenance_json TEXT NOT NULL DEFAULT '[]',
                valid_from TEXT,
                valid_to TEXT,
                learned_at TEXT NOT NULL,
                expired_at TEXT
            )""",
            "CREATE INDEX memories_kind ON memories(kind)",
            "CREATE INDEX memories_learned ON memories(learned_at)",
            # Kept apart from `memories` so scans of the small rows never page in 1.5 KB blobs.
            """CREATE TABLE vectors (
                id TEXT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
                vector BLOB NOT NULL
            ) WITHOUT ROWID""",
            # Porter stemming: "peanut" finds "peanuts", "hiking" finds "hike".
            """CREATE VIRTUAL TABLE memory_fts USING fts5(
                text, content='memories', content_rowid='n',
                tokenize='porter unicode61 remove_diacritics 2'
            )""",
            """CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
                INSERT INTO memory_fts(rowid, text) VALUES (new.n, new.text);
            END""",
            """CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
                INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.n, old.text);
            END""",
            """CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
                INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.n, old.text);
                INSERT INTO memory_fts(rowid, text) VALUES (new.n, new.text);
            END""",
            """CREATE TABLE edges (
                src TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
                dst TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
                type TEXT NOT NULL,
                weight REAL NOT NULL DEFAULT 1.0,
                created_at TEXT NOT NULL,
                PRIMARY KEY (src, dst, type)
            )""",
            "CREATE INDEX edges_dst ON edges(dst)",
            """CREATE TABLE history (
                n INTEGER PRIMARY KEY AUTOINCREMENT,
                memory_id TEXT,
                action TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL,
                text TEXT,
                detail_json TEXT NOT NULL DEFAULT '{}'
            )""",
            "CREATE INDEX history_memory ON history(memory_id, n)",
            """CREATE TABLE embedder (
                one INTEGER PRIMARY KEY CHECK (one = 1),
                name TEXT NOT NULL,
                dimension INTEGER NOT NULL,
                hash TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            )""",
            # Ids whose Chroma entry may differ from SQLite: written in the same transaction as
            # the change, cleared once Chroma has it. A crash in between is replayed at open.
            "CREATE TABLE index_pending (id TEXT PRIMARY KEY) WITHOUT ROWID",
        ],
    ),
    (
        "0002_slots_and_recall",
        [
            # A single-valued attribute ("residence", "job"): a new value supersedes the old.
            "ALTER TABLE memories ADD COLUMN slot TEXT",
            "CREATE INDEX memories_slot ON memories(subject, slot) WHERE slot IS NOT NULL",
            # Recall bookkeeping for consolidation's decay of memories that are never used.
            "ALTER TABLE memories ADD COLUMN recalled_count INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE memories ADD COLUMN last_recalled_at TEXT",
            "ALTER TABLE memories ADD COLUMN base_importance REAL",
        ],
    ),
    (
        "0003_names",
        [
            # Every search lists the people memories are about, to find those a query names.
            "CREATE INDEX memories_subject ON memories(subject)",
            # What people are called besides their subject ("Kate" for the speaker "Emi").
            """CREATE TABLE names (
                name TEXT NOT NULL,
                subject TEXT NOT NULL,
                PRIMARY KEY (name, subject)
            ) WITHOUT ROWID""",
        ],
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)

_MEMORY_COLUMNS = (
    "id, kind, text, subject, importance, pinned, flags_json, provenance_json,"
    " valid_from, valid_to, learned_at, expired_at, slot, recalled_count, last_recalled_at,"
    " base_importance"
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """UTC ISO text, so SQL string comparison is time comparison; naive times are taken as UTC."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.isoformat(timespec="microseconds")


def _iso_or_none(dt: datetime | None) -> str | None:
    return iso(dt) if dt is not None else None


@dataclass(frozen=True)
class Filters:
    """Which memories a read may return; applied in SQL."""

    valid_at: datetime | None = None
    """Only memories current at this time (None: every memory, expired ones included)."""
    kinds: Sequence[Kind] | None = None
    since: datetime | None = None
    """Only memories true (or learned, when valid_from is unknown) at or after this time."""
    until: datetime | None = None

    def sql(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.valid_at is not None:
            clauses.append("expired_at IS NULL AND (valid_to IS NULL OR valid_to > ?)")
            args.append(iso(self.valid_at))
        if self.kinds:
            clauses.append(f"kind IN ({','.join('?' * len(self.kinds))})")
            args.extend(self.kinds)
        if self.since is not None:
            clauses.append("COALESCE(valid_from, learned_at) >= ?")
            args.append(iso(self.since))
        if self.until is not None:
            clauses.append("COALESCE(valid_from, learned_at) < ?")
            args.append(iso(self.until))
        return (" AND ".join(clauses) or "1"), args


# Dropped from lexical queries (unless nothing else is left): they match nearly every memory.
_STOPWORD_TEXT = (
    "a an and are as at be by do does did for from had has have how i in is it its me my of on"
    " or so that the their there they this to was we were what when where which who why will"
    " with you your"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def fts_query(text: str) -> str | None:
    """User text as an FTS5 OR of quoted terms, so no FTS syntax in it can error or inject."""
    terms = list(dict.fromkeys(re.findall(r"\w+", text.lower())))
    content = [t for t in terms if t not in _STOPWORDS]
    chosen = (content or terms)[:32]
    if not chosen:
        return None
    return " OR ".join(f'"{t}"' for t in chosen)


def _stack(blobs: Sequence[bytes]) -> Vectors:
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])


def _row_to_memory(row: sqlite3.Row) -> Memory:
    return Memory(
        id=row["id"],
        kind=row["kind"],
        text=row["text"],
        subject=row["subject"],
        importance=row["importance"],
        pinned=bool(row["pinned"]),
        flags=json.loads(row["flags_json"]),
        provenance=json.loads(row["provenance_json"]),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        learned_at=row["learned_at"],
        expired_at=row["expired_at"],
        slot=row["slot"],
        recalled_count=row["recalled_count"],
        last_recalled_at=row["last_recalled_at"],
        base_importance=row["base_importance"],
    )


def _row_to_history(row: sqlite3.Row) -> HistoryEntry:
    return HistoryEntry(
        n=row["n"],
        memory_id=row["memory_id"],
        action=row["action"],
        actor=row["actor"],
        at=row["at"],
        text=row["text"],
        detail=json.loads(row["detail_json"]),
    )


class MemoryDB:
    """Every SQL statement on memory.sqlite3; safe to share across threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sql = Database(
            path, what="memory database", migrations=MIGRATIONS, secure_delete=True
        )
        self._db = self._sql.conn
        self._lock = self._sql.lock
        self.tx = self._sql.tx

    def close(self) -> None:
        self._sql.close()

    def schema_version(self) -> int:
        return self._sql.schema_version()

    # -- embedder identity ----------------------------------------------------------------

    def embedder(self) -> EmbedderIdentity | None:
        row = self._db.execute("SELECT name, dimension, hash FROM embedder").fetchone()
        if row is None:
            return None
        return EmbedderIdentity(name=row["name"], dimension=row["dimension"], hash=row["hash"])

    def set_embedder(self, db: sqlite3.Connection, identity: EmbedderIdentity) -> None:
        db.execute(
            "INSERT OR REPLACE INTO embedder(one, name, dimension, hash, recorded_at)"
            " VALUES (1,?,?,?,?)",
            (identity.name, identity.dimension, identity.hash, iso(now())),
        )

    # -- memories -------------------------------------------------------------------------

    def insert(self, db: sqlite3.Connection, memory: Memory, vector: Vectors) -> None:
        db.execute(
            f"INSERT INTO memories({_MEMORY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                memory.id,
                memory.kind,
                memory.text,
                memory.subject,
                memory.importance,
                int(memory.pinned),
                json.dumps(memory.flags),
                json.dumps(memory.provenance),
                _iso_or_none(memory.valid_from),
                _iso_or_none(memory.valid_to),
                iso(memory.learned_at),
                _iso_or_none(memory.expired_at),
                memory.slot,
                memory.recalled_count,
                _iso_or_none(memory.last_recalled_at),
                memory.base_importance,
            ),
        )
        self.set_vector(db, memory.id, vector)

    def set_vector(self, db: sqlite3.Connection, memory_id: str, vector: Vectors) -> None:
        blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        db.execute("INSERT OR REPLACE INTO vectors(id, vector) VALUES (?,?)", (memory_id, blob))
        db.execute("INSERT OR IGNORE INTO index_pending(id) VALUES (?)", (memory_id,))

    def update(self, db: sqlite3.Connection, memory_id: str, **fields: Any) -> None:
        """Set columns of one memory (json-encoding lists, ISO-encoding times)."""
        sets: list[str] = []
        args: list[Any] = []
        for name, value in fields.items():
            if name in ("flags", "provenance"):
                name, value = f"{name}_json", json.dumps(value)
            elif isinstance(value, datetime):
                value = iso(value)
            elif isinstance(value, bool):
                value = int(value)
            sets.append(f"{name}=?")
            args.append(value)
        db.execute(f"UPDATE memories SET {', '.join(sets)} WHERE id=?", (*args, memory_id))

    def get(self, memory_id: str) -> Memory | None:
        row = self._db.execute(
            f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE id=?", (memory_id,)
        ).fetchone()
        return _row_to_memory(row) if row else None

    def get_many(self, ids: Sequence[str], filters: Filters) -> dict[str, Memory]:
        """The memories among `ids` that pass the filters."""
        if not ids:
            return {}
        where, args = filters.sql()
        rows = self._db.execute(
            f"SELECT {_MEMORY_COLUMNS} FROM memories"
            f" WHERE id IN ({','.join('?' * len(ids))}) AND {where}",
            (*ids, *args),
        ).fetchall()
        return {r["id"]: _row_to_memory(r) for r in rows}

    def select(self, filters: Filters, limit: int | None = None) -> list[Memory]:
        """Memories passing the filters, pinned first, then the most recently learned."""
        where, args = filters.sql()
        sql = (
            f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE {where}"
            " ORDER BY pinned DESC, learned_at DESC, n DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_row_to_memory(r) for r in self._db.execute(sql, args).fetchall()]

    def pinned(self, filters: Filters) -> list[Memory]:
        where, args = filters.sql()
        rows = self._db.execute(
            f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE pinned = 1 AND {where}"
            " ORDER BY learned_at, n",
            args,
        ).fetchall()
        return [_row_to_memory(r) for r in rows]

    def in_slot(self, subject: str, slot: str, filters: Filters) -> list[Memory]:
        """Memories setting one single-valued attribute of one subject (indexed lookup)."""
        where, args = filters.sql()
        rows = self._db.execute(
            f"SELECT {_MEMORY_COLUMNS} FROM memories WHERE subject = ? COLLATE NOCASE"
            f" AND slot = ? AND {where} ORDER BY learned_at",
            [subject, slot, *args],
        ).fetchall()
        return [_row_to_memory(r) for r in rows]

    def matching(self, phrase: str) -> list[str]:
        """Ids of memories whose text or subject contains the phrase, ignoring case and the
        kind of apostrophe. The subject "user" is a label, not something the user said:
        forgetting "er" must not take every memory about the user."""
        needle = fold(phrase)
        rows = self._db.execute("SELECT id, text, subject FROM memories").fetchall()
        return [
            r["id"]
            for r in rows
            if needle in fold(r["text"])
            or (r["subject"] != "user" and needle in fold(r["subject"]))
        ]

    def delete(self, db: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
        """Remove memories with their vectors, FTS entries and edges; counts per table."""
        marks = ",".join("?" * len(ids))
        edges = db.execute(
            f"DELETE FROM edges WHERE src IN ({marks}) OR dst IN ({marks})", (*ids, *ids)
        ).rowcount
        vectors = db.execute(f"DELETE FROM vectors WHERE id IN ({marks})", ids).rowcount
        memories = db.execute(f"DELETE FROM memories WHERE id IN ({marks})", ids).rowcount
        history = db.execute(
            f"UPDATE history SET text=NULL WHERE memory_id IN ({marks}) AND text IS NOT NULL", ids
        ).rowcount
        db.executemany("INSERT OR IGNORE INTO index_pending(id) VALUES (?)", [(i,) for i in ids])
        return {
            "memories": memories,
            "fts_entries": memories,
            "vectors": vectors,
            "edges": edges,
            "history_texts_cleared": history,
        }

    def all_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT id FROM memories")}

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM memories").fetchone()[0])

    # -- vectors --------------------------------------------------------------------------

    def vectors(self, ids: Sequence[str]) -> tuple[list[str], Vectors]:
        """The stored vectors of those ids that exist, in one matrix (rows in `found` order)."""
        found: list[str] = []
        blobs: list[bytes] = []
        # Chunked: SQLite limits how many parameters one statement may bind.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self._db.execute(
                f"SELECT id, vector FROM vectors WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            found.extend(r["id"] for r in rows)
            blobs.extend(r["vector"] for r in rows)
        return found, _stack(blobs)

    def iter_vectors(self, batch: int) -> Iterator[tuple[list[str], Vectors]]:
        """Every stored vector, a batch at a time, in a stable order."""
        cursor = self._db.execute("SELECT id, vector FROM vectors ORDER BY id")
        while rows := cursor.fetchmany(batch):
            yield [r["id"] for r in rows], _stack([r["vector"] for r in rows])

    def iter_texts(self, batch: int) -> Iterator[list[tuple[str, str]]]:
        cursor = self._db.execute("SELECT id, text FROM memories ORDER BY n")
        while rows := cursor.fetchmany(batch):
            yield [(r["id"], r["text"]) for r in rows]

    def pending(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM index_pending")]

    def clear_pending(self, ids: Sequence[str]) -> None:
        with self.tx() as db:
            db.executemany("DELETE FROM index_pending WHERE id=?", [(i,) for i in ids])

    def subjects(self) -> list[str]:
        """Who the memories are about (expired ones included), each once. Every search asks,
        so it hops through the subject index instead of reading every row: microseconds at
        100,000 memories where a filtered DISTINCT takes 30 ms."""
        rows = self._db.execute(
            """WITH RECURSIVE hop(subject) AS (
                SELECT min(subject) FROM memories
                UNION ALL
                SELECT (SELECT min(subject) FROM memories WHERE subject > hop.subject)
                FROM hop WHERE hop.subject IS NOT NULL
            ) SELECT subject FROM hop WHERE subject IS NOT NULL"""
        ).fetchall()
        return [r["subject"] for r in rows]

    def add_names(self, db: sqlite3.Connection, subject: str, names: Sequence[str]) -> None:
        db.executemany(
            "INSERT OR IGNORE INTO names(name, subject) VALUES (?, ?)",
            [(n, subject) for n in names],
        )

    def names(self) -> list[tuple[str, str]]:
        """(name, subject) for every name recorded."""
        rows = self._db.execute("SELECT name, subject FROM names").fetchall()
        return [(r["name"], r["subject"]) for r in rows]

    def forget_names(self, db: sqlite3.Connection, texts: Sequence[str | None]) -> int:
        """Drop the names that forgotten texts (memories, a phrase) say as a word (a letter
        doubled or not) or that contain the phrase, for anyone, the user included; names of
        someone whose subject contains the phrase; and the names of people no memory is about
        any more (the user's own stay until forgotten by name)."""
        removed = db.execute(
            "DELETE FROM names WHERE subject != 'user'"
            " AND subject NOT IN (SELECT DISTINCT subject FROM memories)"
        ).rowcount
        forgotten = [fold(t) for t in texts if t]
        said = {squeeze(w) for t in forgotten for w in re.findall(r"\w+", t)}
        rows = db.execute("SELECT name, subject FROM names").fetchall()
        doomed = [
            (r["name"], r["subject"])
            for r in rows
            if squeeze(fold(r["name"])) in said
            or any(
                t in fold(r["name"]) or (r["subject"] != "user" and t in fold(r["subject"]))
                for t in forgotten
            )
        ]
        db.executemany("DELETE FROM names WHERE name=? AND subject=?", doomed)
        return removed + len(doomed)

    # -- lexical --------------------------------------------------------------------------

    def lexical(self, query: str, limit: int, filters: Filters) -> list[tuple[str, float]]:
        """(id, bm25 relevance) best first; the filters run inside the same SQL."""
        match = fts_query(query)
        if match is None:
            return []
        where, args = filters.sql()
        rows = self._db.execute(
            "SELECT memories.id AS id, -bm25(memory_fts) AS score FROM memory_fts"
            " JOIN memories ON memories.n = memory_fts.rowid"
            f" WHERE memory_fts MATCH ? AND {where} ORDER BY bm25(memory_fts) LIMIT ?",
            (match, *args, limit),
        ).fetchall()
        return [(r["id"], float(r["score"])) for r in rows]

    def rebuild_fts(self, db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO memory_fts(memory_fts) VALUES ('rebuild')")

    def compact(self) -> None:
        """Merge FTS5 segments (deleted terms linger in old ones until then), then VACUUM and
        truncate the WAL: after a forget, no page of this file keeps the forgotten bytes."""
        with self.tx() as db:
            db.execute("INSERT INTO memory_fts(memory_fts) VALUES ('optimize')")
        with self._lock:
            compact(self._db)

    # -- edges ----------------------------------------------------------------------------

    def link(self, db: sqlite3.Connection, edge: Edge) -> None:
        db.execute(
            "INSERT OR REPLACE INTO edges(src, dst, type, weight, created_at) VALUES (?,?,?,?,?)",
            (edge.src, edge.dst, edge.type, edge.weight, iso(edge.created_at)),
        )

    def edges(
        self, ids: Sequence[str] | None = None, types: Sequence[EdgeType] | None = None
    ) -> list[Edge]:
        """Edges touching any of `ids` (every edge when None), optionally of some types."""
        clauses: list[str] = []
        args: list[Any] = []
        if ids is not None:
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            clauses.append(f"(src IN ({marks}) OR dst IN ({marks}))")
            args.extend([*ids, *ids])
        if types:
            clauses.append(f"type IN ({','.join('?' * len(types))})")
            args.extend(types)
        where = " AND ".join(clauses) or "1"
        rows = self._db.execute(
            f"SELECT src, dst, type, weight, created_at FROM edges WHERE {where}"
            " ORDER BY created_at, src, dst",
            args,
        ).fetchall()
        return [Edge(**dict(r)) for r in rows]

    # -- history --------------------------------------------------------------------------

    def record(
        self,
        db: sqlite3.Connection,
        memory_id: str | None,
        action: Action,
        actor: Actor,
        *,
        text: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO history(memory_id, action, actor, at, text, detail_json)"
            " VALUES (?,?,?,?,?,?)",
            (memory_id, action, actor, iso(now()), text, json.dumps(detail or {})),
        )

    def history(self, memory_id: str | None = None, limit: int | None = None) -> list[HistoryEntry]:
        """Changes oldest first; with a limit, the newest `limit` of them."""
        sql = "SELECT * FROM history"
        args: list[Any] = []
        if memory_id is not None:
            sql += " WHERE memory_id=?"
            args.append(memory_id)
        sql += " ORDER BY n DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        rows = self._db.execute(sql, args).fetchall()
        return [_row_to_history(r) for r in reversed(rows)]

    def redact_history(self, db: sqlite3.Connection, phrase: str, marker: str) -> int:
        """Replace the phrase (ignoring case) in every history text; rows changed."""
        pattern = re.compile(re.escape(phrase), re.IGNORECASE)
        rows = db.execute("SELECT n, text FROM history WHERE text IS NOT NULL").fetchall()
        changed = [
            (pattern.sub(marker, r["text"]), r["n"]) for r in rows if pattern.search(r["text"])
        ]
        db.executemany("UPDATE history SET text=? WHERE n=?", changed)
        return len(changed)

    # -- counts ---------------------------------------------------------------------------

    def counts(self, at: datetime) -> dict[str, Any]:
        row = self._db.execute(
            "SELECT count(*) AS total,"
            " sum(expired_at IS NULL AND (valid_to IS NULL OR valid_to > ?)) AS valid,"
            " sum(pinned) AS pinned, sum(flags_json != '[]') AS flagged,"
            " (SELECT count(*) FROM edges) AS edges, (SELECT count(*) FROM history) AS history"
            " FROM memories",
            (iso(at),),
        ).fetchone()
        kinds = self._db.execute("SELECT kind, count(*) FROM memories GROUP BY kind").fetchall()
        page = self._db.execute("PRAGMA page_count").fetchone()[0]
        size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return {
            "memories": row["total"],
            "valid": row["valid"] or 0,
            "pinned": row["pinned"] or 0,
            "flagged": row["flagged"] or 0,
            "edges": row["edges"],
            "history": row["history"],
            "by_kind": {k: c for k, c in kinds},
            "db_bytes": page * size,
        }
