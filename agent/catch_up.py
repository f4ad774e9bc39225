"""Memories a turn never made (its write failed on a full disk, or the run died first), made
when a writing run next starts, for exactly the messages that should have them."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from agent.learn.person import person_name
from agent.learn.write_path import remember
from memory.errors import NotFoundError, StorageError
from memory.health import read_only
from memory.journal.schemas import Message, MessageMeta

if TYPE_CHECKING:
    from agent.turn import Agent

MARK = "remember-from.json"
"""In the data dir: the last message id when this catch-up first ran. Only later messages are
caught up: an older data dir's history (from before turns marked `remembered`) never is."""
log = logging.getLogger(__name__)

# On-record person messages with memory on, not made up (a dream), not sent by a client as
# history, imported (a `source`, or another app's `imported`: `--journal-only` means it) or
# recovered, and not remembered yet.
_MISSED = (
    "SELECT id FROM messages WHERE id > ? AND role = 'user' AND off_record = 0"
    " AND coalesce(json_extract(meta_json, '$.remembered'), 0) = 0"
    " AND coalesce(json_extract(meta_json, '$.memory'), 1) = 1"
    " AND coalesce(json_extract(meta_json, '$.synthetic'), 0) = 0"
    " AND json_extract(meta_json, '$.source') IS NULL"
    " AND json_extract(meta_json, '$.imported') IS NULL ORDER BY id"
)


def _last_id(journal: Path) -> int:
    with read_only(journal) as db:
        return int(db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0])


def since(data_dir: Path, journal: Path) -> int | None:
    """The id after which messages are caught up; the first time, the journal's last id now,
    recorded (None when it cannot be recorded: nothing is caught up then)."""
    mark = data_dir / MARK
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads(mark.read_text(encoding="utf-8"))["after"])
    try:
        last = _last_id(journal) if journal.exists() else 0
        partial = data_dir / f"{MARK}.partial"
        partial.write_text(json.dumps({"after": last}), encoding="utf-8")
        partial.chmod(0o600)
        os.replace(partial, mark)
    except (OSError, sqlite3.Error):
        return None
    return last


def missed(journal: Path, after: int) -> list[int]:
    """Ids of the messages after `after` whose memories were never made."""
    if not journal.exists():
        return []
    with read_only(journal) as db:
        return [int(r[0]) for r in db.execute(_MISSED, (after,))]


def _wanted(message: Message) -> bool:
    meta: MessageMeta = message.meta
    return (
        message.role == "user"
        and not message.off_record
        and meta.memory
        and not meta.synthetic
        and meta.source is None
        and meta.imported is None
        and not meta.remembered
    )


def remember_missed(agent: Agent, data_dir: Path) -> list[int]:
    """Run the write path, as the turn would have, for each message that missed it; each is
    marked remembered once its memories are committed. The ids done; a full disk stops it
    quietly (the next start goes on)."""
    store = agent.store
    if store is None or not store.write:
        return []
    after = since(data_dir, agent.journal.path)
    if after is None:
        return []
    done: list[int] = []
    for message_id in missed(agent.journal.path, after):
        try:
            message = agent.journal.message(message_id)
        except NotFoundError:
            continue
        if not _wanted(message):
            continue
        said_by = message.speaker or agent.settings.chat.user_name
        speaker = person_name(store, said_by) or said_by
        try:
            with store.unit():  # as a turn writes: one transaction, one index sync
                remember(
                    store,
                    message.text,
                    message_id=message.id,
                    speaker=speaker,
                    when=agent.settings.chat.local_time(message.created_at),
                    user_speaker=speaker,
                    extract=agent.extract,
                )
            agent.journal.update(message.id, meta=MessageMeta(remembered=True))
        except StorageError as exc:
            log.warning("memories of message %s still not made: %s", message.id, exc)
            break
        done.append(message.id)
    if done:
        log.info("made the memories %d earlier message(s) had missed", len(done))
    return done
