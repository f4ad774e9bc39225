"""MemoryStore's writing: adding, editing, superseding, merging, pinning and linking memories."""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from memory.clock import now
from memory.graph.db.rows import Vectors
from memory.graph.flags import INSTRUCTION_LIKE, SENSITIVE, with_flags
from memory.graph.given_name import is_name_memory, worded_name
from memory.graph.nodes import (
    Actor,
    Edge,
    EdgeType,
    Kind,
    Memory,
    NewMemory,
    new_memory_id,
)
from memory.graph.store_base import StoreBase


class StoreWriting(StoreBase):
    """Every change to what a memory says or how it stands (composed into MemoryStore)."""

    def add(
        self,
        text: str,
        *,
        kind: Kind = "fact",
        subject: str = "user",
        importance: float = 0.5,
        pinned: bool = False,
        flags: Sequence[str] = (),
        provenance: Sequence[int] = (),
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        actor: Actor = "user",
    ) -> Memory:
        """Store one memory; committed to SQLite and indexed in Chroma when this returns."""
        item = NewMemory(
            text=text,
            kind=kind,
            subject=subject,
            importance=importance,
            pinned=pinned,
            flags=list(flags),
            provenance=list(provenance),
            valid_from=valid_from,
            valid_to=valid_to,
        )
        return self.add_many([item], actor=actor)[0]

    def add_many(
        self,
        items: Sequence[NewMemory],
        *,
        actor: Actor = "user",
        vectors: Vectors | None = None,
    ) -> builtins.list[Memory]:
        """Store many memories with one batched embedding and one transaction.

        `vectors` (unit length, one row per item) skips embedding; the benchmark uses it to
        reach 100k memories from a smaller pool of real embeddings.
        """
        self._require_write()
        if not items:
            return []
        if vectors is None:
            vectors = self.embed([i.text for i in items])
        else:
            self._keeper.check_vectors(vectors, len(items))
        learned = now()
        memories = [self._new(item, learned) for item in items]
        with self._db.tx() as db:
            for memory, vector in zip(memories, vectors, strict=True):
                self._db.insert(db, memory, vector)
                self._db.record(
                    db,
                    memory.id,
                    "add",
                    actor,
                    text=memory.text,
                    detail={"kind": memory.kind, "provenance": memory.provenance},
                )
                self._give_name(db, memory)
        self._keeper.sync([m.id for m in memories])
        return memories

    def _new(self, item: NewMemory, learned_at: datetime) -> Memory:
        return Memory(
            id=new_memory_id(),
            learned_at=learned_at,
            **{
                **item.model_dump(),
                # A core memory is by definition always in view.
                "pinned": item.pinned or item.kind == "core",
                "flags": with_flags(item.text, item.flags),
            },
        )

    def _give_name(self, db: sqlite3.Connection, memory: Memory) -> None:
        """Keep the name a name memory gives in the names table, in the same transaction as
        the change (a turn reads it there, never parsing memories)."""
        if is_name_memory(memory):
            self._db.give_name(db, memory.id, worded_name(memory.text))

    def update_text(self, memory_id: str, text: str, *, actor: Actor = "user") -> Memory:
        """Edit a memory's words (re-embedded); history keeps each version until forgotten."""
        self._require_write()
        memory = self.get(memory_id)
        vector = self.embed([text])[0]
        # The flags the old words earned are earned again (or not) by the new ones.
        flags = with_flags(
            text, [f for f in memory.flags if f not in (INSTRUCTION_LIKE, SENSITIVE)]
        )
        with self._db.tx() as db:
            self._db.update(db, memory_id, text=text, flags=flags)
            self._db.set_vector(db, memory_id, vector)
            self._db.record(db, memory_id, "edit", actor, text=text)
            self._give_name(db, memory.model_copy(update={"text": text}))
        self._keeper.sync([memory_id])
        return self.get(memory_id)

    def update(
        self,
        memory_id: str,
        *,
        kind: Kind | None = None,
        subject: str | None = None,
        importance: float | None = None,
        flags: Sequence[str] | None = None,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        base_importance: float | None = None,
        actor: Actor = "user",
    ) -> Memory:
        """Change fields other than the text (no re-embedding)."""
        self._require_write()
        self.get(memory_id)
        changes: dict[str, Any] = {
            "kind": kind,
            "subject": subject,
            "importance": importance,
            "flags": list(flags) if flags is not None else None,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "base_importance": base_importance,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if changes:
            with self._db.tx() as db:
                self._db.update(db, memory_id, **changes)
                self._db.record(db, memory_id, "update", actor, detail={"fields": sorted(changes)})
        return self.get(memory_id)

    def supersede(
        self,
        old_id: str,
        new: NewMemory | str,
        *,
        actor: Actor = "user",
    ) -> Memory:
        """Replace a memory that stopped being true: the old one is kept, closed in time
        (valid_to, expired_at) and linked from the new one by a `supersedes` edge."""
        self._require_write()
        old = self.get(old_id)
        if isinstance(new, str):
            # The same attribute's new value: a superseded name memory's successor is one too.
            new = NewMemory(
                text=new,
                kind=old.kind,
                subject=old.subject,
                importance=old.importance,
                slot=old.slot,
            )
        vector = self.embed([new.text])[0]
        at = now()
        memory = self._new(new.model_copy(update={"valid_from": new.valid_from or at}), at)
        with self._db.tx() as db:
            self._db.insert(db, memory, vector)
            self._db.update(db, old_id, valid_to=memory.valid_from, expired_at=at)
            self._db.link(db, Edge(src=memory.id, dst=old_id, type="supersedes", created_at=at))
            self._db.record(
                db, memory.id, "add", actor, text=memory.text, detail={"supersedes": old_id}
            )
            self._db.record(db, old_id, "supersede", actor, detail={"by": memory.id})
            self._give_name(db, memory)
        self._keeper.sync([memory.id])
        return memory

    def add_provenance(
        self, memory_id: str, message_ids: Sequence[int], *, actor: Actor = "extraction"
    ) -> Memory:
        """Another message said the same thing: the memory now cites it too (a merge)."""
        self._require_write()
        memory = self.get(memory_id)
        merged = list(dict.fromkeys([*memory.provenance, *message_ids]))
        if merged != memory.provenance:
            with self._db.tx() as db:
                self._db.update(db, memory_id, provenance=merged)
                self._db.record(
                    db, memory_id, "update", actor, detail={"provenance_added": list(message_ids)}
                )
        return self.get(memory_id)

    def mark_recalled(self, memory_ids: Sequence[int | str]) -> None:
        """Count that these memories were shown to a reply (no history entry: it is not a change
        to what Hearth knows, and one a turn would drown the history)."""
        if not memory_ids or not self.write:
            return
        at = now()
        with self._db.tx() as db:
            self._db.mark_recalled(db, [str(i) for i in memory_ids], at)

    def merge(self, keep_id: str, duplicate_id: str, *, actor: Actor = "consolidation") -> Memory:
        """Two memories say the same: the duplicate is retired (kept, expired, linked by a
        `supersedes` edge) and the kept one cites the duplicate's sources too."""
        self._require_write()
        keep, duplicate = self.get(keep_id), self.get(duplicate_id)
        provenance = list(dict.fromkeys([*keep.provenance, *duplicate.provenance]))
        at = now()
        with self._db.tx() as db:
            self._db.update(db, keep_id, provenance=provenance)
            self._db.update(db, duplicate_id, expired_at=at)
            self._db.link(db, Edge(src=keep_id, dst=duplicate_id, type="supersedes", created_at=at))
            self._db.record(db, keep_id, "update", actor, detail={"merged": duplicate_id})
            self._db.record(db, duplicate_id, "supersede", actor, detail={"merged_into": keep_id})
        return self.get(keep_id)

    def pin(self, memory_id: str, *, actor: Actor = "user") -> Memory:
        return self._set_pinned(memory_id, True, actor)

    def unpin(self, memory_id: str, *, actor: Actor = "user") -> Memory:
        return self._set_pinned(memory_id, False, actor)

    def _set_pinned(self, memory_id: str, pinned: bool, actor: Actor) -> Memory:
        self._require_write()
        self.get(memory_id)
        with self._db.tx() as db:
            self._db.update(db, memory_id, pinned=pinned)
            self._db.record(db, memory_id, "pin" if pinned else "unpin", actor)
        return self.get(memory_id)

    def link(
        self,
        src: str,
        dst: str,
        type: EdgeType,
        weight: float = 1.0,
        *,
        actor: Actor = "user",
    ) -> Edge:
        """Add (or re-weight) a typed edge between two memories."""
        self._require_write()
        self.get(src)
        self.get(dst)
        edge = Edge(src=src, dst=dst, type=type, weight=weight, created_at=now())
        with self._db.tx() as db:
            self._db.link(db, edge)
            self._db.record(
                db, src, "link", actor, detail={"dst": dst, "type": type, "weight": weight}
            )
        return edge
