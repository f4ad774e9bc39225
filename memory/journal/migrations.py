"""journal.sqlite3's schema: its named migrations, in order."""

from __future__ import annotations

from memory.sqlite import Migration, migrations

# Named migrations, applied once each in order; PRAGMA user_version counts those applied.
# Each is a SQL script, split into statements by `memory.sqlite.statements`. Never edit one that
# has shipped (SQLite keeps each CREATE statement's text, indentation included): append a new one.
_SCRIPTS: list[tuple[str, str]] = [
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
    (
        # Training signals: thumbs and notes, which sibling reply is kept, and a ledger of
        # exports. Edits are message rows with meta {"edit_of": id}; the `edits` view reads them.
        # Messages carry no foreign key from export_items: forgetting a message must still be
        # able to list the exports that contained it.
        "0002_feedback_and_exports",
        """
        CREATE TABLE feedback (
            message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            rating INTEGER NOT NULL DEFAULT 0 CHECK (rating IN (-1, 0, 1)),
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE choices (
            parent_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL
        );
        CREATE INDEX messages_edit_of ON messages(json_extract(meta_json, '$.edit_of'));
        CREATE VIEW edits AS
            SELECT id AS message_id, json_extract(meta_json, '$.edit_of') AS edit_of, created_at
            FROM messages WHERE json_extract(meta_json, '$.edit_of') IS NOT NULL;
        CREATE TABLE exports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            file_format TEXT NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            rows INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            command TEXT NOT NULL
        );
        CREATE TABLE export_items (
            export_id INTEGER NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL,
            trained INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (export_id, message_id)
        );
        CREATE INDEX export_items_message ON export_items(message_id);
        """,
    ),
    (
        # Off the record: a message sent with memory off (or in a temporary session), and every
        # reply to it, is marked so that no export, recall, memory or later on-record prompt
        # ever reads it, and so it can be purged. Rows written before this column existed are
        # marked from what they kept: a user message with meta {"memory": false}, the edits of
        # such a message, and the replies to any of them.
        "0003_off_record",
        """
        ALTER TABLE messages ADD COLUMN off_record INTEGER NOT NULL DEFAULT 0;
        UPDATE messages SET off_record=1
            WHERE session_id IN (SELECT id FROM sessions WHERE temporary=1)
            OR (role='user' AND json_extract(meta_json, '$.memory') = 0);
        UPDATE messages SET off_record=1
            WHERE role='user' AND json_extract(meta_json, '$.edit_of') IN
                (SELECT id FROM messages WHERE off_record=1);
        UPDATE messages SET off_record=1
            WHERE role='assistant' AND parent_id IN (SELECT id FROM messages WHERE off_record=1);
        CREATE INDEX messages_off_record ON messages(session_id) WHERE off_record=1;
        """,
    ),
    (
        # The sessions screen puts a session away without deleting it: archived sessions are
        # kept whole (and exported, recalled, resumable) but listed only when asked for.
        "0004_archived_sessions",
        """
        ALTER TABLE sessions ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        # `hearth score`: a reply's mean log-probability under one model, given the prompt it
        # saw ('full'), without the notes recalled for it ('no_notes'), and without one of them
        # ('without:<memory id>'). Rows go with their message (deleting a session, purging off
        # the record); forgetting a memory deletes its 'without:' rows.
        "0005_scores",
        """
        CREATE TABLE scores (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            variant TEXT NOT NULL,
            mean_logprob REAL NOT NULL,
            tokens INTEGER NOT NULL,
            model_sha256 TEXT NOT NULL,
            other_model INTEGER NOT NULL DEFAULT 0,
            scored_at TEXT NOT NULL,
            PRIMARY KEY (message_id, variant, model_sha256)
        );
        CREATE INDEX scores_variant ON scores(variant);
        """,
    ),
    (
        # `hearth understanding`: bits per token of one of the person's messages under one
        # model, given the recent conversation alone and given it plus the notes recalled
        # before it. Only numbers: rows go with their message.
        "0006_surprise",
        """
        CREATE TABLE surprise (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            model_sha256 TEXT NOT NULL,
            tokens INTEGER NOT NULL,
            bits_alone REAL NOT NULL,
            bits_with REAL NOT NULL,
            notes INTEGER NOT NULL,
            scored_at TEXT NOT NULL,
            PRIMARY KEY (message_id, model_sha256)
        );
        """,
    ),
    (
        # `hearth serve`: a client names its conversation (the OpenAI `user` field); the
        # session it names is found again by that name.
        "0007_client_sessions",
        """
        ALTER TABLE sessions ADD COLUMN client TEXT;
        CREATE UNIQUE INDEX sessions_client ON sessions(client) WHERE client IS NOT NULL;
        """,
    ),
]

MIGRATIONS: list[Migration] = migrations(_SCRIPTS)
SCHEMA_VERSION = len(MIGRATIONS)
