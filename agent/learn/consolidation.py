"""Consolidation ("sleep"): merge near-duplicates, link related memories, reflect, decay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

from agent.memory_use import NEVER_MATTERS_RECALLS, never_mattered
from memory.graph.kinds import MERGED_KINDS
from memory.graph.nodes import Memory

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal

# Cosine similarities (all-MiniLM-L6-v2) chosen on hand-made pairs: paraphrases of one fact sit
# above 0.9; memories about one topic from different angles between 0.55 and 0.9.
MERGE_AT = 0.92
RELATED_AT = 0.55
LINKS_PER_MEMORY = 3
# Episodes that resemble each other this much are one recurring theme; three make a reflection.
THEME_AT = 0.5
THEME_SIZE = 3
# A memory never shown to a reply halves in importance every DECAY_HALF_LIFE days, to a floor.
DECAY_AFTER_DAYS = 14
DECAY_HALF_LIFE_DAYS = 90.0
DECAY_FLOOR = 0.1
# How the person felt fades faster: a worry from a month ago is not how they are today.
FEELING_DECAY_AFTER_DAYS = 3
FEELING_HALF_LIFE_DAYS = 14.0
# A memory recalled often that never mattered to a reply (agent/memory_use.py) is worth half
# its base importance: it is crowding better notes out of the prompt.
NEVER_MATTERS_FACTOR = 0.5

# Similarities are compared all-pairs, so a run looks at the most recent memories only.
MAX_MEMORIES = 3000

_MERGEABLE = set(MERGED_KINDS)  # the kind registry's word (memory.graph.kinds)


class SleepReport(BaseModel):
    """What one consolidation run changed; a second run right after reports nothing."""

    merged: list[tuple[str, str]] = Field(default_factory=list)
    """(kept, retired duplicate) pairs."""
    linked: list[tuple[str, str]] = Field(default_factory=list)
    reflections: list[str] = Field(default_factory=list)
    decayed: list[str] = Field(default_factory=list)
    never_mattered: list[str] = Field(default_factory=list)
    """Recalled often but never mattered to a scored reply: importance lowered."""

    @property
    def changed(self) -> bool:
        return bool(
            self.merged or self.linked or self.reflections or self.decayed or self.never_mattered
        )

    def summary(self) -> str:
        """One line for `hearth sleep` and the chat's idle run."""
        return (
            f"merged {len(self.merged)} duplicate(s), linked {len(self.linked)} pair(s), "
            f"wrote {len(self.reflections)} reflection(s), decayed {len(self.decayed)} "
            f"memory(ies), lowered {len(self.never_mattered)} that never mattered"
            + ("" if self.changed else ": nothing to change")
        )


def _similarities(
    store: MemoryStore, memories: Sequence[Memory]
) -> tuple[list[Memory], np.ndarray]:
    by_id = {m.id: m for m in memories}
    found, vectors = store.vectors(list(by_id))
    if not found:
        return [], np.zeros((0, 0), dtype=np.float32)
    return [by_id[i] for i in found], vectors @ vectors.T


def _merge(store: MemoryStore, memories: list[Memory], sims: np.ndarray) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    retired: set[str] = set()
    for i, a in enumerate(memories):
        for j in range(i + 1, len(memories)):
            b = memories[j]
            if a.id in retired or b.id in retired or sims[i, j] < MERGE_AT:
                continue
            if a.kind != b.kind or a.subject != b.subject or a.kind not in _MERGEABLE:
                continue
            if a.pinned or b.pinned:
                continue
            keep, drop = (a, b) if a.learned_at <= b.learned_at else (b, a)
            store.merge(keep.id, drop.id)
            retired.add(drop.id)
            merged.append((keep.id, drop.id))
    return merged


def _link(store: MemoryStore, memories: list[Memory], sims: np.ndarray) -> list[tuple[str, str]]:
    existing = {(e.src, e.dst) for e in store.edges()}
    linked: list[tuple[str, str]] = []
    for i, a in enumerate(memories):
        order = np.argsort(-sims[i])
        picked = 0
        for j in order:
            if picked >= LINKS_PER_MEMORY or sims[i, j] < RELATED_AT:
                break
            b = memories[int(j)]
            if b.id == a.id:
                continue
            picked += 1
            pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
            if pair in existing or (pair[1], pair[0]) in existing:
                continue
            store.link(
                pair[0], pair[1], "related", round(float(sims[i, j]), 3), actor="consolidation"
            )
            existing.add(pair)
            linked.append(pair)
    return linked


def _themes(episodes: list[Memory], sims: np.ndarray) -> list[list[int]]:
    """Connected groups of similar episodes (union-find over the similarity graph)."""
    parent = list(range(len(episodes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(episodes)):
        for j in range(i + 1, len(episodes)):
            if sims[i, j] >= THEME_AT:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(episodes)):
        groups.setdefault(root(i), []).append(i)
    return [g for g in groups.values() if len(g) >= THEME_SIZE]


def _reflect(store: MemoryStore, episodes: list[Memory], sims: np.ndarray) -> list[str]:
    """A reflection per recurring theme, built from its most central episode (extractive: a
    small model's own summary would invent), with `derived_from` edges as its evidence."""
    covered = {e.dst for e in store.edges() if e.type == "derived_from"}
    made: list[str] = []
    for group in _themes(episodes, sims):
        members = [episodes[i] for i in group]
        if any(m.id in covered for m in members):
            # One reflection per theme: a new episode joining it does not earn a near-copy.
            continue
        centre = group[int(np.argmax(sims[np.ix_(group, group)].sum(axis=1)))]
        text = (
            f"A recurring theme across {len(group)} conversations: "
            f"{episodes[centre].text.split(': ', 1)[-1]}"
        )
        provenance = sorted({p for m in members for p in m.provenance})
        reflection = store.add(
            text,
            kind="reflection",
            importance=0.6,
            provenance=provenance,
            actor="consolidation",
        )
        for m in members:
            store.link(reflection.id, m.id, "derived_from", actor="consolidation")
        made.append(reflection.id)
    return made


def _unused(journal: Journal, memories: Sequence[Memory]) -> set[str]:
    # The recall count first: most memories are recalled too rarely to be judged, and each
    # judgement is a query of the journal's scores.
    return {
        m.id
        for m in memories
        if m.recalled_count >= NEVER_MATTERS_RECALLS and never_mattered(m, journal.memory_use(m.id))
    }


def _decay(
    store: MemoryStore, memories: Sequence[Memory], at: datetime, unused: set[str]
) -> tuple[list[str], list[str]]:
    """Whole days since last use decide the value, so two runs on one day agree. Both the
    fading and the never-mattered halving start from base_importance, in one value: done as two
    steps, each run would undo the other's and a second run would not be a no-op.
    Returns (decayed, lowered for never mattering)."""
    decayed: list[str] = []
    lowered: list[str] = []
    for m in memories:
        if m.pinned or m.kind == "core":
            continue
        feeling = m.kind == "feeling"
        # A feeling is about the days it was said in: it fades from then, used or not.
        last_used = m.learned_at if feeling else (m.last_recalled_at or m.learned_at)
        idle_days = (at - last_used).days
        idle = idle_days >= (FEELING_DECAY_AFTER_DAYS if feeling else DECAY_AFTER_DAYS)
        if not idle and m.id not in unused:
            continue
        half_life = FEELING_HALF_LIFE_DAYS if feeling else DECAY_HALF_LIFE_DAYS
        base = m.base_importance if m.base_importance is not None else m.importance
        value = base * (0.5 ** (idle_days / half_life) if idle else 1.0)
        value *= NEVER_MATTERS_FACTOR if m.id in unused else 1.0
        value = round(max(DECAY_FLOOR, value), 2)
        if value != round(m.importance, 2):
            store.update(m.id, importance=value, base_importance=base, actor="consolidation")
            (lowered if m.id in unused else decayed).append(m.id)
    return decayed, lowered


def sleep(
    store: MemoryStore,
    *,
    at: datetime,
    limit: int = MAX_MEMORIES,
    journal: Journal | None = None,
) -> SleepReport:
    """One consolidation pass over the `limit` most recent current memories. With the journal,
    memories recalled often that never mattered to a scored reply (`hearth score`) lose
    importance too; without it, nothing is known about that.

    Order matters for "a second run changes nothing": reflections are written before links are
    drawn, so a reflection made now is already linked when the next run looks."""
    report = SleepReport()
    memories, sims = _similarities(store, store.list(limit=limit))
    report.merged = _merge(store, memories, sims)
    memories, sims = _similarities(store, store.list(limit=limit))
    episodes = [i for i, m in enumerate(memories) if m.kind == "episode"]
    report.reflections = _reflect(
        store, [memories[i] for i in episodes], sims[np.ix_(episodes, episodes)]
    )
    if report.reflections:
        memories, sims = _similarities(store, store.list(limit=limit))
    report.linked = _link(store, memories, sims)
    memories = store.list(limit=limit)
    unused = _unused(journal, memories) if journal is not None else set()
    report.decayed, report.never_mattered = _decay(store, memories, at, unused)
    return report
