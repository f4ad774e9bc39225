"""MemoryStore's reading: one memory, counts and lists, the people named, and search."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime

from memory.clock import now
from memory.errors import NotFoundError
from memory.graph import people
from memory.graph.db.filters import AsOf, Filters
from memory.graph.db.rows import Vectors
from memory.graph.kinds import COUNTED_KINDS
from memory.graph.nodes import (
    Edge,
    HistoryEntry,
    Hit,
    Kind,
    Memory,
    MemoryStats,
)
from memory.graph.retrieval import (
    Candidates,
    approx_tokens,
    fuse,
    graph_scores,
    seeds,
    within_budget,
)
from memory.graph.store_base import StoreBase

AS_OF_WIDER = 8
"""How many times more nearest vectors a search looking back at a moment (`AsOf`) reads."""


class StoreReading(StoreBase):
    """Everything that only reads the memory (composed into MemoryStore)."""

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

    def given_names(self) -> builtins.list[tuple[Memory, str | None]]:
        """The person's current name memories, newest first, each with the name kept for it in
        the names table (None: none kept yet, as in a data dir from before it was kept). One
        indexed query: a turn asks once."""
        return self._db.given_names(Filters(valid_at=now()))

    def give_name(self, memory_id: str, name: str | None) -> None:
        """Keep the name a name memory gives (read by the caller from older wording)."""
        self._require_write()
        with self._db.tx() as db:
            self._db.give_name(db, memory_id, name)

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
