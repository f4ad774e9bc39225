"""MemoryStore: the one API to the memory graph that the agent, the CLI and the benchmarks use."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from memory.datadir import DataDirLock, ensure_data_dir
from memory.errors import EmbedderChangedError, NotFoundError
from memory.graph import people
from memory.graph.db import Filters, MemoryDB, iso, now
from memory.graph.embedder import Embedder, SentenceEmbedder
from memory.graph.flags import INSTRUCTION_LIKE, with_flags
from memory.graph.forgetting import MARKER, compact_file, log_files, scrub_file
from memory.graph.nodes import (
    Actor,
    Edge,
    EdgeType,
    EmbedderIdentity,
    ForgetReport,
    HistoryEntry,
    Hit,
    Kind,
    Memory,
    MemoryStats,
    NewMemory,
    new_memory_id,
)
from memory.graph.retrieval import (
    Candidates,
    approx_tokens,
    fuse,
    graph_scores,
    seeds,
    within_budget,
)
from memory.graph.vector_index import VectorIndex
from memory.journal.journal import Journal
from memory.settings import MemorySettings, Paths, Settings

log = logging.getLogger(__name__)


def _spellings(phrase: str | None) -> list[str]:
    """A phrase to forget as typed and with the other apostrophe: phones type a curly one,
    keyboards a straight one, and the same name may be stored either way."""
    if not phrase:
        return []
    return list(
        dict.fromkeys([phrase, phrase.replace("\u2019", "'"), phrase.replace("'", "\u2019")])
    )


def _about(memory: Memory, mentions: people.Mentions) -> bool:
    """Whether a memory is about someone the query names: stored under them, or the user's own
    memory that says their name ("I lent Ana my bike"). Another person's words that say the
    name are about that other person: counting them was measured to recall less."""
    if memory.subject in mentions.subjects:
        return True
    if memory.subject != "user" or not mentions.called:
        return False
    return people.says_name(memory.text, mentions.called)


Vectors = npt.NDArray[np.float32]


class MemoryStore:
    """Memories in SQLite (the truth) with their vectors indexed in Chroma (derived).

    Every write goes to SQLite first, with the id queued in `index_pending` in the same
    transaction; Chroma follows and the queue entry is cleared. A crash in between is repaired at
    the next write-open. Opened with `write=False` it writes nothing but a missing schema and
    reads Chroma as the writer left it; opened with `write=True` this process holds the data dir
    lock, the one writer of Chroma.
    """

    def __init__(
        self,
        paths: Paths,
        settings: MemorySettings,
        db: MemoryDB,
        *,
        write: bool,
        embedder: Embedder | None,
        lock: DataDirLock | None,
        owns_lock: bool,
        user_name: str = "",
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.user_name = user_name
        """What the user is called (chat.user_name): a query naming them means "user"."""
        self.write = write
        self._db = db
        self._embedder = embedder
        self._embedder_checked = False
        self._lock = lock
        self._owns_lock = owns_lock
        self._index: VectorIndex | None = None

    # -- opening and closing ----------------------------------------------------------

    @classmethod
    def open(
        cls,
        paths: Paths,
        settings: Settings,
        *,
        write: bool,
        embedder: Embedder | None = None,
        lock: DataDirLock | None = None,
        verify_embedder: bool = True,
    ) -> MemoryStore:
        """Open the store. With write=True, take the data dir lock (unless `lock`, already
        held by this process, is given), check the embedder and repair a lagging index.

        Raises DataDirLockedError (another process writes), EmbedderChangedError (the vectors
        were made by another model: `verify_embedder=False` is for `rebuild --reembed` only)
        and DataDirNewerError.
        """
        ensure_data_dir(paths.data_dir)
        owns_lock = write and lock is None
        if owns_lock:
            lock = DataDirLock(paths.lock_file).acquire()
        try:
            db = MemoryDB(paths.memory_db)
        except BaseException:
            if owns_lock and lock is not None:
                lock.release()
            raise
        store = cls(
            paths,
            settings.memory,
            db,
            write=write,
            embedder=embedder,
            lock=lock if write else None,
            owns_lock=owns_lock,
            user_name=settings.chat.user_name,
        )
        try:
            # Unverified opens are for `rebuild --reembed`, which recreates the index anyway:
            # repairing it first with another model's vectors could not even succeed.
            if write and verify_embedder:
                store._check_embedder()
                store.repair_index()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        self._db.close()
        if self._owns_lock and self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the embedder and the index -----------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The injected embedder, or the bundled model (loaded on first use)."""
        if self._embedder is None:
            self._embedder = SentenceEmbedder(batch_size=self.settings.embed_batch_size)
        return self._embedder

    def _check_embedder(self) -> EmbedderIdentity:
        """Refuse vectors from another model; record the model on a first write-open."""
        current = self.embedder.identity
        if self._embedder_checked:
            return current
        recorded = self._db.embedder()
        if recorded is None and self.write:
            with self._db.tx() as db:
                self._db.set_embedder(db, current)
        elif recorded is not None and recorded != current:
            raise EmbedderChangedError(
                f"the memory index was built with {recorded.name} ({recorded.dimension}-d, "
                f"{recorded.hash[:12]}) but the embedding model is now {current.name} "
                f"({current.dimension}-d, {current.hash[:12]}); "
                "run `hearth memory rebuild --reembed`"
            )
        self._embedder_checked = True
        return current

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for texts, in batches, after checking the model is the recorded one."""
        self._check_embedder()
        return self.embedder.embed(texts)

    def _index_for_write(self) -> VectorIndex:
        self._require_write()
        if self._index is None:
            self._index = self._new_index()
        return self._index

    def _index_for_read(self) -> VectorIndex | None:
        # A read-only open never creates the Chroma folder or collection; a missing index
        # means no dense hits (lexical search still works).
        if self._index is None and (self.write or self.paths.chroma_dir.exists()):
            self._index = self._new_index()
        return self._index

    def _new_index(self) -> VectorIndex:
        return VectorIndex(
            self.paths.chroma_dir,
            ef_search=self.settings.ef_search,
            ef_construction=self.settings.ef_construction,
            write=self.write,
        )

    def _require_write(self) -> None:
        if not self.write:
            raise RuntimeError("this MemoryStore was opened read-only (write=False)")

    def _sync_index(self, ids: Sequence[str]) -> None:
        """Make Chroma match SQLite for these ids, then clear them from the pending queue."""
        index = self._index_for_write()
        found, vectors = self._db.vectors(ids)
        if found:
            index.upsert(found, vectors)
        gone = sorted(set(ids) - set(found))
        if gone:
            index.delete(gone)
        self._db.clear_pending(ids)

    def repair_index(self) -> dict[str, int]:
        """Bring a Chroma that lags SQLite back in line (upserts, so never a duplicate)."""
        index = self._index_for_write()
        pending = self._db.pending()
        if pending:
            self._sync_index(pending)
        # A full comparison, not counts: a lost id and a stray one leave the counts equal.
        # Listing 100k ids from both stores takes a fraction of a second.
        in_index, in_db = index.ids(), self._db.all_ids()
        missing, extra = sorted(in_db - in_index), sorted(in_index - in_db)
        if missing or extra:
            self._sync_index([*missing, *extra])
        added, removed = len(missing), len(extra)
        if pending or added or removed:
            log.warning(
                "memory index repaired: %d pending, %d added, %d removed",
                len(pending),
                added,
                removed,
            )
        return {"pending": len(pending), "added": added, "removed": removed}

    # -- writing ------------------------------------------------------------------------

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
            self._check_vectors(vectors, len(items))
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
        self._sync_index([m.id for m in memories])
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

    def _check_vectors(self, vectors: Vectors, rows: int) -> None:
        dimension = self._check_embedder().dimension
        if vectors.shape != (rows, dimension):
            raise ValueError(
                f"expected vectors of shape ({rows}, {dimension}), got {vectors.shape}"
            )

    def update_text(self, memory_id: str, text: str, *, actor: Actor = "user") -> Memory:
        """Edit a memory's words (re-embedded); history keeps each version until forgotten."""
        self._require_write()
        memory = self.get(memory_id)
        vector = self.embed([text])[0]
        flags = with_flags(text, [f for f in memory.flags if f != INSTRUCTION_LIKE])
        with self._db.tx() as db:
            self._db.update(db, memory_id, text=text, flags=flags)
            self._db.set_vector(db, memory_id, vector)
            self._db.record(db, memory_id, "edit", actor, text=text)
        self._sync_index([memory_id])
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
            new = NewMemory(text=new, kind=old.kind, subject=old.subject, importance=old.importance)
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
        self._sync_index([memory.id])
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
        at = iso(now())
        with self._db.tx() as db:
            db.executemany(
                "UPDATE memories SET recalled_count = recalled_count + 1, last_recalled_at = ?"
                " WHERE id = ?",
                [(at, str(i)) for i in memory_ids],
            )

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

    def vectors(self, ids: Sequence[str]) -> tuple[builtins.list[str], Vectors]:
        """Stored vectors (unit length) for these ids, in the order found."""
        return self._db.vectors(ids)

    def pinned(self) -> builtins.list[Memory]:
        """Current pinned memories (core ones included): the prompt's stable prefix."""
        return self._db.pinned(Filters(valid_at=now()))

    def count(self) -> int:
        """How many memories exist (cheap: no embedder, no index)."""
        return self._db.count()

    def in_slot(self, subject: str, slot: str) -> builtins.list[Memory]:
        """Current memories that set this single-valued attribute of this subject."""
        return self._db.in_slot(subject, slot, Filters(valid_at=now()))

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

    # -- forgetting -----------------------------------------------------------------------

    def forget(self, memory_id: str, journal: Journal | None = None) -> ForgetReport:
        """Remove one memory from every store; history keeps a tombstone without its text."""
        memory = self.get(memory_id)
        return self._forget([memory], None, journal)

    def forget_matching(self, phrase: str, journal: Journal | None = None) -> ForgetReport:
        """Forget every memory whose text or subject contains the phrase (ignoring case), and
        replace the phrase in the journal's messages and prompts and in the log."""
        if not phrase.strip():
            raise ValueError("an empty phrase would match every memory")
        ids = self._db.matching(phrase)
        memories = [self.get(i) for i in ids]
        return self._forget(memories, phrase, journal)

    def _forget(
        self, memories: Sequence[Memory], phrase: str | None, journal: Journal | None
    ) -> ForgetReport:
        self._require_write()
        ids = [m.id for m in memories]
        index = self._index_for_write()
        in_index = len(set(ids) & index.ids()) if ids else 0
        removed: dict[str, int] = {"memories": 0}
        with self._db.tx() as db:
            if ids:
                removed = self._db.delete(db, ids)
            for memory in memories:
                # The tombstone: that something was forgotten, never what.
                self._db.record(db, memory.id, "forget", "user", detail={"kind": memory.kind})
            removed["history_texts_redacted"] = sum(
                self._db.redact_history(db, form, MARKER) for form in _spellings(phrase)
            )
            removed["names"] = self._db.forget_names(db, [*(m.text for m in memories), phrase])
        texts = [m.text for m in memories]
        journal_counts = self._redact_journal(journal, texts, phrase)
        self._db.compact()
        rebuilt = self._rebuild_index()
        scrubbed = sum(
            scrub_file(path, [*texts, *_spellings(phrase)])
            for path in log_files(self.paths.log_file)
        )
        return ForgetReport(
            memory_ids=ids,
            memory_db=removed,
            chroma={"vectors_removed": in_index, "vectors_reindexed": rebuilt},
            journal=journal_counts,
            log={"occurrences_scrubbed": scrubbed},
        )

    def _redact_journal(
        self, journal: Journal | None, texts: Sequence[str], phrase: str | None
    ) -> dict[str, int]:
        if journal is None:
            return {}
        # Prompts show a memory on one line: a multi-line text is found in that form too.
        forms = {form for text in texts for form in (text, " ".join(text.split()))}
        prompts = sum(journal.redact_in_prompts(form, MARKER) for form in forms)
        messages = sum(journal.redact(form, MARKER) for form in _spellings(phrase))
        compact_file(journal.path)
        return {"prompts_redacted": prompts, "messages_redacted": messages}

    def _rebuild_index(self) -> int:
        """Recreate Chroma from SQLite's vectors (deleted vectors' bytes go with the old one)."""
        index = self._index_for_write()
        added = index.recreate(self._db.iter_vectors(batch=2048))
        self._db.clear_pending(self._db.pending())
        return added

    def rebuild(self, *, reembed: bool = False, actor: Actor = "user") -> dict[str, Any]:
        """Recreate the index (and FTS5) from SQLite; with reembed, first re-embed every memory
        with the current model and record it (the fix for EmbedderChangedError)."""
        self._require_write()
        reembedded = self._reembed_all() if reembed else 0
        with self._db.tx() as db:
            self._db.rebuild_fts(db)
        indexed = self._rebuild_index()
        with self._db.tx() as db:
            self._db.record(
                db, None, "rebuild", actor, detail={"reembed": reembed, "indexed": indexed}
            )
        return {"memories": self._db.count(), "indexed": indexed, "reembedded": reembedded}

    def _reembed_all(self) -> int:
        identity = self.embedder.identity
        done = 0
        for batch in list(self._db.iter_texts(batch=512)):
            vectors = self.embedder.embed([text for _id, text in batch])
            with self._db.tx() as db:
                for (memory_id, _text), vector in zip(batch, vectors, strict=True):
                    self._db.set_vector(db, memory_id, vector)
            done += len(batch)
        with self._db.tx() as db:
            self._db.set_embedder(db, identity)
        self._embedder_checked = True
        return done

    # -- reading --------------------------------------------------------------------------

    def get(self, memory_id: str) -> Memory:
        memory = self._db.get(memory_id)
        if memory is None:
            raise NotFoundError(f"no memory {memory_id}; `hearth memory list --all` shows ids")
        return memory

    def edges(self, memory_id: str | None = None) -> builtins.list[Edge]:
        """Edges to or from one memory (every edge when None)."""
        if memory_id is None:
            return self._db.edges()
        self.get(memory_id)
        return self._db.edges([memory_id])

    def history(
        self, memory_id: str | None = None, *, limit: int | None = None
    ) -> builtins.list[HistoryEntry]:
        """Every change, oldest first; for one memory (forgotten ones keep their tombstone)."""
        entries = self._db.history(memory_id, limit)
        if memory_id is not None and not entries:
            raise NotFoundError(f"no memory {memory_id}; `hearth memory list --all` shows ids")
        return entries

    def stats(self) -> MemoryStats:
        counts = self._db.counts(now())
        index = self._index_for_read()
        return MemoryStats(
            **counts,
            expired=counts["memories"] - counts["valid"],
            indexed=index.count() if index is not None else None,
            embedder=self._db.embedder(),
        )

    def add_names(self, subject: str, names: Sequence[str]) -> None:
        """Record what the person stored under `subject` is also called, so a query using
        those names finds them ("Kate" for "Emi"; "Sam" for "user"). A name of several words
        is recorded as each word a query could use alone."""
        self._require_write()
        words = [w for name in names for w in people.name_tokens(name.strip())]
        with self._db.tx() as db:
            self._db.add_names(db, subject, list(dict.fromkeys(words)))

    def names(self) -> dict[str, set[str]]:
        """Each name a person Hearth has memories about is called by -> the subjects those
        memories are stored under: their subject's own words, the names recorded for them, and
        the configured user name (when it is a name) for "user"."""
        subjects = set(self._db.subjects())
        names: dict[str, set[str]] = {}
        for subject in subjects:
            for name in people.name_tokens(subject):
                names.setdefault(name, set()).add(subject)
        for name, subject in self._db.names():
            if subject in subjects or subject == "user":
                names.setdefault(name, set()).add(subject)
        if self.user_name[:1].isupper():
            for name in people.name_tokens(self.user_name):
                names.setdefault(name, set()).add("user")
        return names

    def mentions(self, query: str) -> people.Mentions:
        """The known people `query` names, and the query without their names."""
        return people.find(query, self.names())

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        kinds: Sequence[Kind] | None = None,
        valid_only: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
        token_budget: int | None = None,
        count_tokens: Callable[[str], int] = approx_tokens,
        at: datetime | None = None,
        mentions: people.Mentions | None = None,
    ) -> builtins.list[Hit]:
        """The k best memories for a query, best first, by hybrid rank fusion.

        Filters (valid at `at`, default now; kinds; a time range on when the memory was true)
        run in SQLite. With a token budget, hits are kept in order while their texts fit. A
        query that names known people is embedded without their names (a name says who, not
        what), and memories about the people it names rank higher (`weight_person`); pass
        `mentions` when the caller has already asked `self.mentions(query)`.
        """
        mentions = mentions or self.mentions(query)
        vector = self.embed([mentions.rest or query])[0]
        return self.search_by_vector(
            query,
            vector,
            k,
            kinds=kinds,
            valid_only=valid_only,
            since=since,
            until=until,
            token_budget=token_budget,
            count_tokens=count_tokens,
            at=at,
            mentions=mentions,
        )

    def search_by_vector(
        self,
        query: str,
        vector: Vectors,
        k: int | None = None,
        *,
        kinds: Sequence[Kind] | None = None,
        valid_only: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
        token_budget: int | None = None,
        count_tokens: Callable[[str], int] = approx_tokens,
        at: datetime | None = None,
        mentions: people.Mentions | None = None,
    ) -> builtins.list[Hit]:
        """`search` with the query already embedded (the benchmark times both); `mentions`,
        when given, are the people `query` names (none are looked for otherwise)."""
        k = k or self.settings.k
        at = at or now()
        mentions = mentions or people.Mentions(rest=query)
        filters = Filters(
            valid_at=at if valid_only else None, kinds=kinds, since=since, until=until
        )
        fetch = k * self.settings.overfetch
        index = self._index_for_read()
        dense = dict(index.query(vector, fetch)) if index is not None else {}
        # Names are matched by the person ranking: counting them again as words would lift
        # every memory that says the name, answer or not.
        lexical = dict(self._db.lexical(mentions.rest or query, fetch, filters))
        memories = self._db.get_many([*dense, *lexical], filters)
        found = Candidates(dense={i: s for i, s in dense.items() if i in memories}, lexical=lexical)
        self._add_neighbours(found, memories, filters)
        # Lifted only when on the topic too: a fact about Ana that has nothing to do with the
        # question stays where its meaning puts it.
        floor = self.settings.person_relevance * max(found.dense.values(), default=0.0)
        about = [
            i
            for i, m in memories.items()
            if _about(m, mentions) and found.dense.get(i, -1.0) >= floor
        ]
        hits = fuse(found, memories, self.settings, at, about=about)
        if token_budget is not None:
            hits = within_budget(hits, token_budget, count_tokens)
        return hits[:k]

    def _add_neighbours(
        self, found: Candidates, memories: dict[str, Memory], filters: Filters
    ) -> None:
        """One hop of graph: neighbours of the best hits join the candidates (filtered too)."""
        seed_ids = seeds(found, self.settings)
        if not seed_ids:
            return
        scores = graph_scores(seed_ids, self._db.edges(seed_ids))
        memories.update(self._db.get_many([i for i in scores if i not in memories], filters))
        found.graph = {i: s for i, s in scores.items() if i in memories}

    # Defined last: inside the class body its name hides the builtin `list` from annotations.
    def list(
        self,
        *,
        kinds: Sequence[Kind] | None = None,
        valid_only: bool = True,
        limit: int | None = None,
    ) -> builtins.list[Memory]:
        """Memories, pinned first, then the most recently learned."""
        filters = Filters(valid_at=now() if valid_only else None, kinds=kinds)
        return self._db.select(filters, limit)
