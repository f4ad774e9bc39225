"""MemoryStore: the one API to the memory graph that the agent, the CLI and the benchmarks use."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from memory.clock import now
from memory.datadir import DataDirLock, ensure_data_dir
from memory.errors import NotFoundError, StorageError
from memory.graph import forgetting, people, rejections
from memory.graph.db import MemoryDB
from memory.graph.db.filters import AsOf, Filters
from memory.graph.db.rows import Vectors
from memory.graph.embedder import Embedder
from memory.graph.flags import INSTRUCTION_LIKE, SENSITIVE, with_flags
from memory.graph.indexing import IndexKeeper
from memory.graph.kinds import COUNTED_KINDS
from memory.graph.nodes import (
    Actor,
    Edge,
    EdgeType,
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
from memory.journal.journal import Journal
from memory.settings import MemorySettings, Paths, Settings

AS_OF_WIDER = 8
"""How many times more nearest vectors a search looking back at a moment (`AsOf`) reads."""

ACCEPTED_IMPORTANCE = 0.8
"""At least this important once the person has said a memory is right (`MemoryStore.accept`)."""


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
        self._keeper = IndexKeeper(paths, settings, db, write=write, embedder=embedder)
        self._lock = lock
        self._owns_lock = owns_lock
        self._rejections_key: bytes | None = None

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
            if write and db.full_disk is not None:
                db.close()
                # Before Chroma, whose own errors on a full disk say less.
                raise StorageError(f"cannot write memories in {paths.data_dir}: {db.full_disk}")
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
                store._keeper.check_embedder()
                store.repair_index()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self._keeper.close()
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
    def loaded_embedder(self) -> Embedder | None:
        """The embedder if it is loaded (to hand to the store's next opening), else None."""
        return self._keeper.loaded_embedder

    @property
    def embedder(self) -> Embedder:
        """The injected embedder, or the bundled model (loaded on first use)."""
        return self._keeper.embedder

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for texts, in batches, after checking the model is the recorded one."""
        return self._keeper.embed(texts)

    @property
    def notices(self) -> builtins.list[str]:
        """What went wrong with the index since opening and what was done, one line each."""
        return self._keeper.notices

    def repair_index(self) -> dict[str, int]:
        """Bring a Chroma that lags SQLite back in line (upserts, so never a duplicate)."""
        return self._keeper.repair()

    def _require_write(self) -> None:
        self._keeper.require_write()

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

    def vectors(self, ids: Sequence[str]) -> tuple[builtins.list[str], Vectors]:
        """Stored vectors (unit length) for these ids, in the order found."""
        return self._db.vectors(ids)

    def pinned(self) -> builtins.list[Memory]:
        """Current pinned memories (core ones included): the prompt's stable prefix."""
        return self._db.pinned(Filters(valid_at=now()))

    def count(self, *, said: bool = False) -> int:
        """How many memories exist (cheap: no embedder, no index): the things Hearth knows,
        what the welcome counts; with `said`, the person's kept words too (every memory)."""
        return self._db.count(None if said else Filters(kinds=COUNTED_KINDS))

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

    # -- forgetting (memory.graph.forgetting) -------------------------------------------

    def forget(
        self,
        memory_id: str,
        journal: Journal | None = None,
        *,
        shown_as: forgetting.ShownAs | None = None,
        everywhere: bool = False,
    ) -> ForgetReport:
        """Remove one memory from every store and the lines that showed it to the model; history
        keeps a tombstone without its text. With `everywhere`, its words go too, as a phrase,
        wherever they are written (see `forget_matching`)."""
        memory = self.get(memory_id)
        reach = self._reach(journal, shown_as)
        if everywhere:
            said = memory.quote or memory.text
            return forgetting.forget(reach, self._with_matching(memory), said)
        return forgetting.forget(reach, [memory])

    def forget_matching(
        self,
        phrase: str,
        journal: Journal | None = None,
        *,
        shown_as: forgetting.ShownAs | None = None,
    ) -> ForgetReport:
        """Forget every memory whose text or subject contains the phrase (ignoring case), and
        replace the phrase in the journal's message texts and prompts, the log and exports."""
        reach = self._reach(journal, shown_as)
        return forgetting.forget(reach, forgetting.matching(reach, phrase), phrase)

    def preview_forget(
        self,
        *,
        memory_id: str | None = None,
        everywhere: bool = False,
        phrase: str | None = None,
        journal: Journal | None = None,
        shown_as: forgetting.ShownAs | None = None,
    ) -> forgetting.ForgetPreview:
        """What `forget(memory_id, everywhere=...)` (a memory id) or `forget_matching(phrase)`
        would change; nothing is written."""
        reach = self._reach(journal, shown_as)
        if memory_id is not None:
            memory = self.get(memory_id)
            if not everywhere:
                return forgetting.preview(reach, [memory])
            said = memory.quote or memory.text
            return forgetting.preview(reach, self._with_matching(memory), said)
        assert phrase is not None
        return forgetting.preview(reach, forgetting.matching(reach, phrase), phrase)

    def _with_matching(self, memory: Memory) -> builtins.list[Memory]:
        """The memory, then every other one holding its whole text or the words it came from
        (its quote: forgetting everywhere takes what the person said, however it was stored)."""
        # One scan of the table a phrase: most memories have no quote, or one that is the text.
        phrases = dict.fromkeys([memory.text, memory.quote or memory.text])
        ids = [i for phrase in phrases for i in self._db.matching(phrase)]
        return [memory, *(self.get(i) for i in dict.fromkeys(ids) if i != memory.id)]

    def _reach(
        self, journal: Journal | None, shown_as: forgetting.ShownAs | None = None
    ) -> forgetting.Reach:
        return forgetting.Reach(
            db=self._db,
            index=self._keeper,
            get=self.get,
            log_file=self.paths.log_file,
            journal=journal,
            exports_dir=self.paths.exports_dir,
            shown_as=shown_as,
            data_dir=self.paths.data_dir,
        )

    # -- the person's word on a memory (memory.graph.rejections) ----------------------------

    def reject(
        self,
        memory_id: str,
        journal: Journal | None = None,
        *,
        shown_as: forgetting.ShownAs | None = None,
    ) -> ForgetReport:
        """The person says a memory is wrong: it is forgotten (as `forget` does) and never
        learned again from the same words. What is kept is keyed hashes of every text it had
        and of the sentences it was learned from (found in `journal`), never the words."""
        self._require_write()
        memory = self.get(memory_id)
        texts = [memory.text, *(e.text for e in self._db.history(memory_id) if e.text)]
        # The words as said, too: memory text is written about the person, the quote is what
        # a message holds, and the same words said again are the same rejected memory.
        texts += [memory.quote] if memory.quote else []
        sentences = [
            sentence
            for message in self._messages(journal, memory.provenance)
            for text in texts
            if (sentence := rejections.source_sentence(message, text))
        ]
        key = self._key(create=True)
        assert key is not None
        with self._db.tx() as db:
            # Before the forget: a crash between the two leaves it rejected, never relearnable.
            self._db.add_rejections(db, rejections.digests(key, texts, sentences))
            self._db.record(db, memory_id, "reject", "user", detail={"kind": memory.kind})
        return self.forget(memory_id, journal, shown_as=shown_as)

    def rejected(self, *texts: str, said_in: str | None = None) -> bool:
        """Whether the person rejected a memory of any of these words (a memory's text, the
        quote it came from), or one learned from the sentence of `said_in` (the message) that
        says them. One lookup for them all."""
        if not self._db.rejected():
            return False  # nothing rejected yet: no key to read (nor to make)
        key = self._key(create=False)
        if key is None:
            return False  # its key is gone, so no hash kept can be matched any more
        found = [rejections.source_sentence(said_in, t) for t in texts] if said_in else []
        sentences = [s for s in found if s]
        return self._db.rejected(rejections.digests(key, list(texts), sentences))

    def accept(self, memory_id: str, *, actor: Actor = "user") -> Memory:
        """The person says a memory is right.

        The graph has no confidence field and no "confirmed" mark, so accepting uses what it
        has: an `accept` entry in the memory's history (who, when: `accepted` reads it) and its
        importance raised to at least ACCEPTED_IMPORTANCE, so recall ranks it higher. Its base
        importance is raised too, so consolidation's decay starts from there, not below."""
        self._require_write()
        memory = self.get(memory_id)
        importance = max(memory.importance, ACCEPTED_IMPORTANCE)
        changes: dict[str, Any] = {"importance": importance}
        if memory.base_importance is not None:
            changes["base_importance"] = max(memory.base_importance, ACCEPTED_IMPORTANCE)
        with self._db.tx() as db:
            self._db.update(db, memory_id, **changes)
            self._db.record(db, memory_id, "accept", actor, detail={"importance": importance})
        return self.get(memory_id)

    def accepted(self, memory_id: str) -> bool:
        """Whether the person ever accepted this memory (`accept`)."""
        return any(e.action == "accept" for e in self._db.history(memory_id))

    def _key(self, *, create: bool) -> bytes | None:
        if self._rejections_key is None:
            self._rejections_key = rejections.read_key(self.paths.rejections_key, create=create)
        return self._rejections_key

    @staticmethod
    def _messages(journal: Journal | None, ids: Sequence[int]) -> builtins.list[str]:
        """The texts of these journal messages that are still there."""
        if journal is None:
            return []
        found: builtins.list[str] = []
        for message_id in ids:
            try:
                found.append(journal.message(message_id).text)
            except NotFoundError:
                continue  # purged (said off the record) or forgotten with its session
        return found

    # -- rebuilding -------------------------------------------------------------------------

    def rebuild(
        self,
        *,
        reembed: bool = False,
        actor: Actor = "user",
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Recreate the index (and FTS5) from SQLite; with reembed, first re-embed every memory
        with the current model and record it (the fix for EmbedderChangedError), reporting
        `progress(done, total)`."""
        self._require_write()
        reembedded = self._keeper.reembed_all(progress) if reembed else 0
        with self._db.tx() as db:
            self._db.rebuild_fts(db)
        indexed = self._keeper.rebuild()
        with self._db.tx() as db:
            self._db.record(
                db, None, "rebuild", actor, detail={"reembed": reembed, "indexed": indexed}
            )
        return {"memories": self._db.count(), "indexed": indexed, "reembedded": reembedded}

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
        return MemoryStats(
            **counts,
            expired=counts["memories"] - counts["valid"],
            indexed=self._keeper.count(),
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
        return people.known_names(self._db.subjects(), self._db.names(), self.user_name)

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
        as_of: AsOf | None = None,
    ) -> builtins.list[Hit]:
        """The k best memories for a query, best first, by hybrid rank fusion.

        Filters (valid at `at`, default now; kinds; a time range on when the memory was true)
        run in SQLite. `as_of` searches the memory as it stood before a message instead of
        the memories valid now (`hearth understanding`: nothing learned later may answer).
        With a token budget, hits are kept in order while their texts fit. A query that names
        known people is embedded without their names (a name says who, not what), and memories
        about the people it names rank higher (`weight_person`); pass `mentions` when the
        caller has already asked `self.mentions(query)`.
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
            as_of=as_of,
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
        as_of: AsOf | None = None,
    ) -> builtins.list[Hit]:
        """`search` with the query already embedded (the benchmark times both); `mentions`,
        when given, are the people `query` names (none are looked for otherwise)."""
        k = k or self.settings.k
        at = at or (as_of.at if as_of is not None else None) or now()
        mentions = mentions or people.Mentions(rest=query)
        filters = Filters(
            valid_at=at if valid_only and as_of is None else None,
            kinds=kinds,
            since=since,
            until=until,
            as_of=as_of,
        )
        fetch = k * self.settings.overfetch
        # The nearest vectors are most often of memories learned later than the moment looked
        # back at, which the filter then drops: look wider so the earlier ones still come up.
        dense_fetch = fetch * AS_OF_WIDER if as_of is not None else fetch
        dense = dict(self._keeper.query(vector, dense_fetch))
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
            if people.about(m, mentions) and found.dense.get(i, -1.0) >= floor
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

    def sensitive_sources(self) -> set[int]:
        """The journal messages that sensitive memories (health, feelings, private matters)
        came from, expired and superseded ones included: exports leave them out."""
        return {i for m in self._db.select(Filters(), None) if m.sensitive for i in m.provenance}

    # Defined last: inside the class body its name hides the builtin `list` from annotations.
    def list(
        self,
        *,
        kinds: Sequence[Kind] | None = None,
        valid_only: bool = True,
        limit: int | None = None,
        sensitive: bool = True,
        sources: Sequence[int] | None = None,
    ) -> builtins.list[Memory]:
        """Memories, pinned first, then the most recently learned; `sensitive=False` leaves out
        health, feelings and private matters (what a welcome screen may show); `sources` keeps
        those learned from these journal messages."""
        filters = Filters(valid_at=now() if valid_only else None, kinds=kinds, sources=sources)
        if sensitive:
            return self._db.select(filters, limit)
        # Flags are also earned when read (older memories), so the filter runs here, not in SQL.
        kept = [m for m in self._db.select(filters, None) if not m.sensitive]
        return kept if limit is None else kept[:limit]
