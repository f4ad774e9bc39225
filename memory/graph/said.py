"""The person's kept words (`said` memories) that go with what was learned from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory.graph.kinds import SAID
from memory.graph.nodes import Hit, Memory

if TYPE_CHECKING:
    from memory.graph.db import MemoryDB

# A memory learned from a message points at the `said` memories of that message holding the
# words it was learned from, by a `derived_from` edge (the write path links them:
# agent/learn/said.py).
# The edge is the evidence: forgetting, rejecting or superseding the memory reaches those words.


def holding(db: MemoryDB, memories: Sequence[Memory]) -> list[Memory]:
    """The `said` memories linked from these memories (learned from their words), not among
    them, in a stable order."""
    ids = [m.id for m in memories if m.kind != SAID]
    if not ids:
        return []
    given = {m.id for m in memories}
    sources = set(ids)
    found: dict[str, Memory] = {}
    for edge in db.edges(ids, ["derived_from"]):
        if edge.src in sources and edge.dst not in given and edge.dst not in found:
            memory = db.get(edge.dst)
            if memory is not None and memory.kind == SAID:
                found[memory.id] = memory
    return list(found.values())


def learned_from(db: MemoryDB, said: Memory) -> list[Memory]:
    """The memories learned from these kept words (linked to them), in a stable order: a
    reject of the words rejects what was learned from them too, as it means the same."""
    if said.kind != SAID:
        return []
    found: dict[str, Memory] = {}
    for edge in db.edges([said.id], ["derived_from"]):
        if edge.dst == said.id and edge.src not in found:
            memory = db.get(edge.src)
            if memory is not None and memory.kind != SAID:
                found[memory.id] = memory
    return list(found.values())


def with_said(db: MemoryDB, memories: Sequence[Memory]) -> list[Memory]:
    """These memories, then the `said` memories holding the words they were learned from: a
    forget or reject of what was learned takes the words it was learned from too."""
    return [*memories, *holding(db, memories)]


def one_per_source(hits: Sequence[Hit]) -> list[Hit]:
    """At most one memory per source message between a message's kept words and what was
    learned from it, in rank order: a `said` hit whose message a better hit already came from
    is dropped, and so is a learned one whose message a better `said` hit holds. Other memories
    (an import's, an episode's) pass as they are."""
    taken: set[int] = set()  # messages a kept hit came from
    said_taken: set[int] = set()  # messages a kept `said` hit holds
    kept: list[Hit] = []
    for hit in hits:
        sources = set(hit.memory.provenance)
        if hit.memory.kind == SAID:
            if sources & taken:
                continue
            said_taken |= sources
        elif sources and sources <= said_taken:
            continue
        taken |= sources
        kept.append(hit)
    return kept
