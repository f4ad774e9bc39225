"""Redaction: a pattern replaced where people and the model wrote it, shape kept."""

from __future__ import annotations

import json
import re
import sqlite3

from memory.journal.base import JournalBase


class RedactionMixin(JournalBase):
    """Replacing a pattern across the journal (`hearth forget`, `hearth redact`)."""

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
