"""memory.sqlite3, the memory graph's truth: this package holds every SQL statement run on it."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from memory.clock import now
from memory.graph.db.filters import Filters
from memory.graph.db.lexical import fts_query
from memory.graph.db.migrations import MIGRATIONS
from memory.graph.db.rows import (
    MEMORY_COLUMNS,
    MEMORY_FIELDS,
    Vectors,
    column_value,
    iso,
    memory_values,
    row_to_history,
    row_to_memory,
    stack,
    vector_blob,
)
from memory.graph.nodes import (
    Action,
    Actor,
    Edge,
    EdgeType,
    EmbedderIdentity,
    HistoryEntry,
    Memory,
)
from memory.graph.people import squeeze
from memory.sqlite import Database, compact
from memory.text import fold


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
        self.unit = self._sql.unit

    def close(self) -> None:
        self._sql.close()

    def schema_version(self) -> int:
        return self._sql.schema_version()

    @property
    def full_disk(self) -> str | None:
        """Why nothing can be written (the disk was full at open), or None."""
        return self._sql.full_disk

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
            f"INSERT INTO memories({MEMORY_COLUMNS}) VALUES ({','.join('?' * MEMORY_FIELDS)})",
            memory_values(memory),
        )
        self.set_vector(db, memory.id, vector)

    def set_vector(self, db: sqlite3.Connection, memory_id: str, vector: Vectors) -> None:
        blob = vector_blob(vector)
        db.execute("INSERT OR REPLACE INTO vectors(id, vector) VALUES (?,?)", (memory_id, blob))
        db.execute("INSERT OR IGNORE INTO index_pending(id) VALUES (?)", (memory_id,))

    def update(self, db: sqlite3.Connection, memory_id: str, **fields: Any) -> None:
        """Set columns of one memory (json-encoding lists, ISO-encoding times)."""
        sets: list[str] = []
        args: list[Any] = []
        for field, given in fields.items():
            name, value = column_value(field, given)
            sets.append(f"{name}=?")
            args.append(value)
        db.execute(f"UPDATE memories SET {', '.join(sets)} WHERE id=?", (*args, memory_id))

    def mark_recalled(
        self, db: sqlite3.Connection, memory_ids: Sequence[str], at: datetime
    ) -> None:
        """Count one more recall of each of these memories, at `at`."""
        db.executemany(
            "UPDATE memories SET recalled_count = recalled_count + 1, last_recalled_at = ?"
            " WHERE id = ?",
            [(iso(at), i) for i in memory_ids],
        )

    def get(self, memory_id: str) -> Memory | None:
        row = self._db.execute(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE id=?", (memory_id,)
        ).fetchone()
        return row_to_memory(row) if row else None

    def get_many(self, ids: Sequence[str], filters: Filters) -> dict[str, Memory]:
        """The memories among `ids` that pass the filters."""
        if not ids:
            return {}
        where, args = filters.sql()
        rows = self._db.execute(
            f"SELECT {MEMORY_COLUMNS} FROM memories"
            f" WHERE id IN ({','.join('?' * len(ids))}) AND {where}",
            (*ids, *args),
        ).fetchall()
        return {r["id"]: row_to_memory(r) for r in rows}

    def select(self, filters: Filters, limit: int | None = None) -> list[Memory]:
        """Memories passing the filters, pinned first, then the most recently learned."""
        where, args = filters.sql()
        sql = (
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE {where}"
            " ORDER BY pinned DESC, learned_at DESC, n DESC"
        )
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [row_to_memory(r) for r in self._db.execute(sql, args).fetchall()]

    def pinned(self, filters: Filters) -> list[Memory]:
        where, args = filters.sql()
        rows = self._db.execute(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE pinned = 1 AND {where}"
            " ORDER BY learned_at, n",
            args,
        ).fetchall()
        return [row_to_memory(r) for r in rows]

    def in_slot(self, subject: str, slot: str, filters: Filters) -> list[Memory]:
        """Memories setting one single-valued attribute of one subject (indexed lookup)."""
        where, args = filters.sql()
        rows = self._db.execute(
            f"SELECT {MEMORY_COLUMNS} FROM memories WHERE subject = ? COLLATE NOCASE"
            f" AND slot = ? AND {where} ORDER BY learned_at",
            [subject, slot, *args],
        ).fetchall()
        return [row_to_memory(r) for r in rows]

    def matching(self, phrase: str) -> list[str]:
        """Ids of memories whose text, quote or subject contains the phrase, ignoring case and the
        kind of apostrophe. The subject "user" is a label, not something the user said:
        forgetting "er" must not take every memory about the user."""
        needle = fold(phrase)
        rows = self._db.execute("SELECT id, text, subject, quote FROM memories").fetchall()
        return [
            r["id"]
            for r in rows
            if needle in fold(r["text"])
            or needle in fold(r["quote"] or "")
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
        # The name a forgotten name memory gave goes with it, whatever else says it.
        db.execute(f"DELETE FROM names WHERE given_in IN ({marks})", ids)
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

    def count(self, filters: Filters | None = None) -> int:
        where, args = (filters or Filters()).sql()
        row = self._db.execute(f"SELECT count(*) FROM memories WHERE {where}", args).fetchone()
        return int(row[0])

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
        return found, stack(blobs)

    def iter_vectors(self, batch: int) -> Iterator[tuple[list[str], Vectors]]:
        """Every stored vector, a batch at a time, in a stable order."""
        cursor = self._db.execute("SELECT id, vector FROM vectors ORDER BY id")
        while rows := cursor.fetchmany(batch):
            yield [r["id"] for r in rows], stack([r["vector"] for r in rows])

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

    def give_name(self, db: sqlite3.Connection, memory_id: str, name: str | None) -> None:
        """Record the name the person's name memory `memory_id` gives (None: it gives none);
        any name it gave before goes."""
        db.execute("DELETE FROM names WHERE given_in = ?", (memory_id,))
        if name:
            db.execute(
                "INSERT INTO names(name, subject, given_in) VALUES (?, 'user', ?)"
                " ON CONFLICT(name, subject) DO UPDATE SET given_in = excluded.given_in",
                (name, memory_id),
            )

    def given_names(self, filters: Filters) -> list[tuple[Memory, str | None]]:
        """The person's name memories passing the filters, newest first, each with the name
        recorded for it (None: not recorded yet, as in a data dir from before names were kept)."""
        where, args = filters.sql()
        columns = ", ".join(f"memories.{c.strip()}" for c in MEMORY_COLUMNS.split(","))
        rows = self._db.execute(
            f"SELECT {columns}, names.name AS given FROM memories"
            " LEFT JOIN names ON names.given_in = memories.id AND names.subject = 'user'"
            " WHERE memories.subject = 'user' COLLATE NOCASE AND memories.slot = 'name'"
            f" AND memories.id IN (SELECT id FROM memories WHERE {where})"
            " ORDER BY memories.learned_at DESC, memories.n DESC",
            args,
        ).fetchall()
        return [(row_to_memory(r), r["given"]) for r in rows]

    def forget_names(self, db: sqlite3.Connection, texts: Sequence[str | None]) -> int:
        """Drop the names that forgotten texts (memories, a phrase) say as a word (a letter
        doubled or not) or that contain the phrase, for anyone, the user included; names of
        someone whose subject contains the phrase; and the names of people no memory is about
        any more (the user's own stay until forgotten by name). The person's own name stays
        while the name memory giving it does (forgetting "Priya called" is not forgetting
        that the person is Priya) and goes with it."""
        removed = db.execute(
            "DELETE FROM names WHERE (subject != 'user'"
            " AND subject NOT IN (SELECT DISTINCT subject FROM memories))"
            " OR (given_in IS NOT NULL AND given_in NOT IN (SELECT id FROM memories))"
        ).rowcount
        forgotten = [fold(t) for t in texts if t]
        said = {squeeze(w) for t in forgotten for w in re.findall(r"\w+", t)}
        rows = db.execute("SELECT name, subject FROM names WHERE given_in IS NULL").fetchall()
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

    # -- rejections (memory.graph.rejections) ----------------------------------------------

    def add_rejections(self, db: sqlite3.Connection, digests: Sequence[str]) -> None:
        db.executemany(
            "INSERT OR IGNORE INTO rejections(digest, at) VALUES (?, ?)",
            [(d, iso(now())) for d in digests],
        )

    def rejected(self, digests: Sequence[str] | None = None) -> bool:
        """Whether any of these digests was rejected (None: whether anything ever was)."""
        if digests is None:
            return self._db.execute("SELECT 1 FROM rejections LIMIT 1").fetchone() is not None
        if not digests:
            return False
        marks = ",".join("?" * len(digests))
        found = self._db.execute(
            f"SELECT 1 FROM rejections WHERE digest IN ({marks}) LIMIT 1", list(digests)
        )
        return found.fetchone() is not None

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
        return [row_to_history(r) for r in reversed(rows)]

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
