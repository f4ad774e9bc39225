"""The memory graph's records: memories (nodes), typed edges, history entries and search hits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.graph.kinds import KINDS as KINDS
from memory.graph.kinds import Kind as Kind

EdgeType = Literal["about", "related", "supersedes", "contradicts", "part_of", "derived_from"]
EDGE_TYPES: tuple[EdgeType, ...] = (
    "about",
    "related",
    "supersedes",
    "contradicts",
    "part_of",
    "derived_from",
)
Actor = Literal["user", "extraction", "consolidation", "import"]
Action = Literal[
    "add",
    "update",
    "edit",
    "supersede",
    "pin",
    "unpin",
    "link",
    "forget",
    "rebuild",
    "reject",
    "accept",
]


def new_memory_id() -> str:
    return "m_" + uuid.uuid4().hex[:12]


class Memory(BaseModel):
    """One node: what Hearth knows, about whom, where it came from and when it was true."""

    id: str
    kind: Kind
    text: str
    subject: str = "user"
    """Who it is about: "user" or a named person."""
    importance: float = Field(0.5, ge=0.0, le=1.0)
    pinned: bool = False
    flags: list[str] = Field(default_factory=list)
    """Warnings for the user, e.g. `instruction_like` for text that reads as a command."""
    provenance: list[int] = Field(default_factory=list)
    """The journal message ids this memory came from."""
    valid_from: datetime | None = None
    """When it became true in the world (unknown when None)."""
    valid_to: datetime | None = None
    """When it stopped being true in the world (still true when None)."""
    learned_at: datetime
    """When Hearth learned it."""
    expired_at: datetime | None = None
    """When Hearth retired it (superseded); None while current."""
    slot: str | None = None
    """A single-valued attribute it sets ("residence", "job"); a new value supersedes it."""
    recalled_count: int = 0
    """How many replies it was shown to."""
    last_recalled_at: datetime | None = None
    base_importance: float | None = None
    """Importance before consolidation's decay (None: never decayed)."""
    quote: str | None = None
    """The person's words it came from, verbatim (None: typed in, or stored before quotes
    were kept, when the text itself is what they said)."""

    def is_valid(self, at: datetime) -> bool:
        return self.expired_at is None and (self.valid_to is None or self.valid_to > at)

    @property
    def sensitive(self) -> bool:
        """Health, feelings or someone's private matters (see `memory.graph.flags`)."""
        return "sensitive" in self.flags


class NewMemory(BaseModel):
    """What a caller supplies to add a memory; the store fills in id and learned_at."""

    text: str = Field(min_length=1)
    kind: Kind = "fact"
    subject: str = "user"
    importance: float = Field(0.5, ge=0.0, le=1.0)
    pinned: bool = False
    flags: list[str] = Field(default_factory=list)
    provenance: list[int] = Field(default_factory=list)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    slot: str | None = None
    quote: str | None = None


class Edge(BaseModel):
    """A typed, weighted link from one memory to another."""

    src: str
    dst: str
    type: EdgeType
    weight: float = 1.0
    created_at: datetime


class HistoryEntry(BaseModel):
    """One change to the graph, who made it and when; a forgotten memory's entries carry no text."""

    n: int
    memory_id: str | None
    action: Action
    actor: Actor
    at: datetime
    text: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class Hit(BaseModel):
    """One search result and why it ranked where it did.

    The parts are the raw signals (None when this ranker did not find the memory); `score` is
    their reciprocal-rank fusion, the only number hits are ordered by.
    """

    memory: Memory
    score: float
    dense: float | None = None
    """Cosine similarity of the query and memory embeddings."""
    lexical: float | None = None
    """FTS5 bm25 relevance (negated, so higher is better)."""
    recency: float
    """0.5 ** (age / half-life), from when Hearth learned the memory."""
    importance: float
    graph: float | None = None
    """Largest weight of an edge to one of the best hits (one hop)."""


class EmbedderIdentity(BaseModel):
    """Which model made the vectors: a different one makes every stored vector meaningless."""

    name: str
    dimension: int
    hash: str

    def same_vectors(self, other: EmbedderIdentity) -> bool:
        """The same files, so the same vectors: the name is only a label (a copy of the bundled
        model in a folder of its own is the same model)."""
        return (self.dimension, self.hash) == (other.dimension, other.hash)

    def label(self) -> str:
        return f"{self.name} ({self.dimension}-d, {self.hash[:12]})"


class MemoryStats(BaseModel):
    """Counts for `hearth memory stats`."""

    memories: int
    valid: int
    expired: int
    pinned: int
    flagged: int
    by_kind: dict[str, int]
    edges: int
    history: int
    indexed: int | None
    """Vectors in Chroma (None when the index is not opened)."""
    embedder: EmbedderIdentity | None
    db_bytes: int


class ForgetReport(BaseModel):
    """What a forget removed, store by store (a preview: what it would remove)."""

    memory_ids: list[str]
    memory_db: dict[str, int]
    chroma: dict[str, int]
    journal: dict[str, int]
    log: dict[str, int]
    exports: dict[str, int] = Field(default_factory=dict)
    """Files under the data dir's exports/ rewritten without what was forgotten."""
    exports_elsewhere: list[dict[str, Any]] = Field(default_factory=list)
    """Exports the ledger lists outside the data dir, never touched: path, exists, holds_phrase."""
    backups_elsewhere: list[dict[str, Any]] = Field(default_factory=list)
    """Backups `hearth backup` wrote outside the data dir: path, exists, holds_phrase, done
    (listed, rewritten or deleted)."""
    copies_deleted: list[str] = Field(default_factory=list)
    """Safety copies in the data dir (migration backups, damaged or restored-over files) that
    held the words, deleted."""
