"""Hybrid ranking: dense, lexical, recency, importance and graph ranks, reciprocal-rank fused."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from memory.graph.nodes import Edge, Hit, Memory
from memory.settings import MemorySettings


@dataclass
class Candidates:
    """What the rankers found for one query, before fusion."""

    dense: dict[str, float] = field(default_factory=dict)
    """id -> cosine similarity, in Chroma's order."""
    lexical: dict[str, float] = field(default_factory=dict)
    """id -> bm25 relevance, in FTS5's order."""
    graph: dict[str, float] = field(default_factory=dict)
    """id -> largest edge weight to a seed hit."""


def ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """1-based competition ranks, higher score first: ties share a rank, so a signal on which
    every candidate is equal (say, default importance) shifts no candidate past another."""
    ordered = sorted(scores.values(), reverse=True)
    first: dict[float, int] = {}
    for position, value in enumerate(ordered, start=1):
        first.setdefault(value, position)
    return {key: first[value] for key, value in scores.items()}


def rrf(rank: int | None, weight: float, k: float) -> float:
    return 0.0 if rank is None else weight / (k + rank)


def seeds(found: Candidates, settings: MemorySettings) -> list[str]:
    """The best hits by dense and lexical rank alone, whose neighbours join as graph candidates."""
    dense, lexical = ranks(found.dense), ranks(found.lexical)
    fused = {
        i: rrf(dense.get(i), settings.weight_dense, settings.rrf_k)
        + rrf(lexical.get(i), settings.weight_lexical, settings.rrf_k)
        for i in {*found.dense, *found.lexical}
    }
    return sorted(fused, key=lambda i: (-fused[i], i))[: settings.graph_seeds]


def graph_scores(seed_ids: Sequence[str], edges: Sequence[Edge]) -> dict[str, float]:
    """One hop: each neighbour of a seed (another seed included) scores the largest weight of
    an edge to a seed."""
    chosen = set(seed_ids)
    scores: dict[str, float] = {}
    for edge in edges:
        for here, there in ((edge.src, edge.dst), (edge.dst, edge.src)):
            if here in chosen and there != here:
                scores[there] = max(scores.get(there, 0.0), edge.weight)
    return scores


def recency(memory: Memory, at: datetime, half_life_days: float) -> float:
    age_days = max(0.0, (at - memory.learned_at).total_seconds() / 86400)
    return float(0.5 ** (age_days / half_life_days))


def fuse(
    found: Candidates,
    memories: Mapping[str, Memory],
    settings: MemorySettings,
    at: datetime,
    about: Collection[str] = (),
) -> list[Hit]:
    """Every candidate that passed the filters, scored and ordered best first (ties by id).
    `about` holds the ids of memories about the people the query names."""
    fresh = {i: recency(m, at, settings.recency_half_life_days) for i, m in memories.items()}
    weight = {i: m.importance for i, m in memories.items()}
    rank = {
        "dense": ranks({i: s for i, s in found.dense.items() if i in memories}),
        "lexical": ranks({i: s for i, s in found.lexical.items() if i in memories}),
        "graph": ranks({i: s for i, s in found.graph.items() if i in memories}),
        "recency": ranks(fresh),
        "importance": ranks(weight),
    }
    weights = {
        "dense": settings.weight_dense,
        "lexical": settings.weight_lexical,
        "graph": settings.weight_graph,
        "recency": settings.weight_recency,
        "importance": settings.weight_importance,
        "person": settings.weight_person,
    }
    base = {i: sum(rrf(rank[s].get(i), weights[s], settings.rrf_k) for s in rank) for i in memories}
    # Memories about a named person ranked among themselves by everything else: the best of
    # them rises most, a weak one barely, so no fact about Ana buries the answer itself.
    rank["person"] = ranks({i: base[i] for i in about if i in memories})
    hits = [
        Hit(
            memory=memory,
            score=sum(rrf(rank[s].get(i), weights[s], settings.rrf_k) for s in rank),
            dense=found.dense.get(i),
            lexical=found.lexical.get(i),
            recency=fresh[i],
            importance=memory.importance,
            graph=found.graph.get(i),
        )
        for i, memory in memories.items()
    ]
    hits.sort(key=lambda h: (-h.score, h.memory.id))
    return hits


def within_budget(hits: Sequence[Hit], budget: int, count: Callable[[str], int]) -> list[Hit]:
    """The best hits whose texts fit in `budget` tokens together; a hit too large is skipped."""
    kept: list[Hit] = []
    used = 0
    for hit in hits:
        cost = count(hit.memory.text)
        if used + cost <= budget:
            kept.append(hit)
            used += cost
    return kept


def approx_tokens(text: str) -> int:
    """About four characters a token for English: good enough to budget memories."""
    return max(1, len(text) // 4)
