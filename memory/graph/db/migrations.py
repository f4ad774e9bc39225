"""memory.sqlite3's schema: its named migrations, in order."""

from __future__ import annotations

from memory.sqlite import Migration, migrations

# Named migrations, applied once each in order; PRAGMA user_version counts those applied.
# Each is a SQL script, split into statements by `memory.sqlite.statements` (a trigger body's
# semicolons stay inside its statement). Never edit one that has shipped: append a new one.
# SQLite keeps each CREATE statement's text, indentation included, so the scripts keep the
# indentation the statements were first written with.
_SCRIPTS: list[tuple[str, str]] = [
    (
        "0001_memories_edges_history",
        """
            CREATE TABLE memories (
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
            );
            CREATE INDEX memories_kind ON memories(kind);
            CREATE INDEX memories_learned ON memories(learned_at);
            -- Kept apart from `memories` so scans of the small rows never page in 1.5 KB blobs.
            CREATE TABLE vectors (
                id TEXT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
                vector BLOB NOT NULL
            ) WITHOUT ROWID;
            -- Porter stemming: "peanut" finds "peanuts", "hiking" finds "hike".
            CREATE VIRTUAL TABLE memory_fts USING fts5(
                text, content='memories', content_rowid='n',
                tokenize='porter unicode61 remove_diacritics 2'
            );
            CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
                INSERT INTO memory_fts(rowid, text) VALUES (new.n, new.text);
            END;
            CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
                INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.n, old.text);
            END;
            CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
                INSERT INTO memory_fts(memory_fts, rowid, text) VALUES ('delete', old.n, old.text);
                INSERT INTO memory_fts(rowid, text) VALUES (new.n, new.text);
            END;
            CREATE TABLE edges (
                src TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
                dst TEXT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
                type TEXT NOT NULL,
                weight REAL NOT NULL DEFAULT 1.0,
                created_at TEXT NOT NULL,
                PRIMARY KEY (src, dst, type)
            );
            CREATE INDEX edges_dst ON edges(dst);
            CREATE TABLE history (
                n INTEGER PRIMARY KEY AUTOINCREMENT,
                memory_id TEXT,
                action TEXT NOT NULL,
                actor TEXT NOT NULL,
                at TEXT NOT NULL,
                text TEXT,
                detail_json TEXT NOT NULL DEFAULT '{}'
            );
            CREATE INDEX history_memory ON history(memory_id, n);
            CREATE TABLE embedder (
                one INTEGER PRIMARY KEY CHECK (one = 1),
                name TEXT NOT NULL,
                dimension INTEGER NOT NULL,
                hash TEXT NOT NULL,
                recorded_at TEXT NOT NULL
            );
            -- Ids whose Chroma entry may differ from SQLite: written in the same transaction as the
            -- change, cleared once Chroma has it. A crash in between is replayed at open.
            CREATE TABLE index_pending (id TEXT PRIMARY KEY) WITHOUT ROWID;
        """,
    ),
    (
        "0002_slots_and_recall",
        """
            -- A single-valued attribute ("residence", "job"): a new value supersedes the old.
            ALTER TABLE memories ADD COLUMN slot TEXT;
            CREATE INDEX memories_slot ON memories(subject, slot) WHERE slot IS NOT NULL;
            -- Recall bookkeeping for consolidation's decay of memories that are never used.
            ALTER TABLE memories ADD COLUMN recalled_count INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE memories ADD COLUMN last_recalled_at TEXT;
            ALTER TABLE memories ADD COLUMN base_importance REAL;
        """,
    ),
    (
        "0003_names",
        """
            -- Every search lists the people memories are about, to find those a query names.
            CREATE INDEX memories_subject ON memories(subject);
            -- What people are called besides their subject ("Kate" for the speaker "Emi").
            CREATE TABLE names (
                name TEXT NOT NULL,
                subject TEXT NOT NULL,
                PRIMARY KEY (name, subject)
            ) WITHOUT ROWID;
        """,
    ),
    (
        "0004_rejections",
        """
            -- What the person rejected, as keyed hashes (HMAC-SHA256, the key in a file beside
            -- the database) of its words and of the sentences it was learned from: never the
            -- words, so a reject forgets as completely as a forget.
            CREATE TABLE rejections (
                digest TEXT PRIMARY KEY,
                at TEXT NOT NULL
            ) WITHOUT ROWID;
        """,
    ),
    (
        "0005_quotes",
        """
            -- The person's words a memory came from, verbatim: the text is written about them
            -- ("Priya works as a nurse"), the quote keeps what they said ("I work as a nurse").
            -- NULL for memories from before (their text was the quote) and those typed in.
            ALTER TABLE memories ADD COLUMN quote TEXT;
        """,
    ),
    (
        "0006_given_names",
        """
            -- The person's own name as their name memory gives it ("Priya Sharma"), kept beside
            -- the names a query may use so a turn reads it instead of parsing memories. NULL for
            -- those other names. Older data dirs fill it at the first read of the name. No
            -- index: the table holds a few names a person, and a page more would be all it adds.
            ALTER TABLE names ADD COLUMN given_in TEXT;
        """,
    ),
]

MIGRATIONS: list[Migration] = migrations(_SCRIPTS)
SCHEMA_VERSION = len(MIGRATIONS)
