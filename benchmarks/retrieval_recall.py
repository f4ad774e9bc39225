"""`hearth bench retrieval`: evidence recall of Hearth's memory against plain retrieval."""

from __future__ import annotations

import re
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from agent.importing.conversations import (
    CachedEmbedder,
    import_conversation,
)
from agent.importing.records import Conversation
from benchmarks.dataset import evidence_turns, open_dataset, scratch_home, turn_document
from memory.settings import MemorySettings

if TYPE_CHECKING:
    from memory.graph.embedder import Embedder

CUTS = (1, 5, 10, 20)
# MRR looks this deep; a first evidence turn further down scores 0.
MRR_DEPTH = 50
# Memories asked of store.search per question: enough to fill MRR_DEPTH turns.
SEARCH_K = 50
# Hybrid baseline: reciprocal-rank fusion of each ranker's top FUSION_DEPTH.
FUSION_DEPTH = 100
RRF_K = 60
SYSTEMS = ("hearth", "bm25", "dense", "hybrid")
BM25 = "SQLite FTS5 bm25() (unicode61 tokenizer, no stemming), an OR of the question's words"

Vectors = npt.NDArray[np.float32]
Ranker = Callable[[int], list[str]]
"""Question index -> turn ids, best first."""


# -- scoring ----------------------------------------------------------------------------------


def ranked_turns(
    provenances: Iterable[Sequence[int]], turn_of: Mapping[int, str], depth: int = MRR_DEPTH
) -> list[str]:
    """Memories (best first) as turns: each memory's provenance in order, turns already listed
    skipped, so a memory citing many turns takes that many places."""
    ranked: dict[str, None] = {}
    for provenance in provenances:
        for message_id in provenance:
            turn = turn_of.get(message_id)
            if turn is not None:
                ranked.setdefault(turn)
            if len(ranked) >= depth:
                return list(ranked)
    return list(ranked)


def recall_at(ranked: Sequence[str], evidence: Sequence[str], k: int) -> float:
    return len(set(ranked[:k]) & set(evidence)) / len(evidence)


def reciprocal_rank(
    ranked: Sequence[str], evidence: Sequence[str], depth: int = MRR_DEPTH
) -> float:
    wanted = set(evidence)
    for rank, turn in enumerate(ranked[:depth], start=1):
        if turn in wanted:
            return 1.0 / rank
    return 0.0


class Scores(BaseModel):
    """Means over questions."""

    model_config = ConfigDict(populate_by_name=True)

    recall_1: float = Field(alias="recall@1")
    recall_5: float = Field(alias="recall@5")
    recall_10: float = Field(alias="recall@10")
    recall_20: float = Field(alias="recall@20")
    mrr: float
    questions: int


class SystemScores(Scores):
    per_category: dict[str, Scores]


class Timings(BaseModel):
    ingest_s: float
    """Importing every conversation into Hearth (journal, write path, memories, index)."""
    query_p50_ms: float
    query_p95_ms: float
    """One store.search(), the question's embedding included."""


class RetrievalReport(BaseModel):
    dataset: str
    settings: dict[str, Any]
    skipped: int
    """Questions left without evidence once ids were parsed (not scored)."""
    systems: dict[str, SystemScores]
    timings: Timings


@dataclass
class _Ranked:
    """One system's ranked turns for one question."""

    category: str
    evidence: list[str]
    turns: list[str]


def _scores(rows: Sequence[_Ranked]) -> Scores:
    def mean(values: Iterable[float]) -> float:
        listed = list(values)
        return sum(listed) / len(listed) if listed else 0.0

    recall = {k: mean(recall_at(r.turns, r.evidence, k) for r in rows) for k in CUTS}
    return Scores.model_validate(
        {
            **{f"recall@{k}": value for k, value in recall.items()},
            "mrr": mean(reciprocal_rank(r.turns, r.evidence) for r in rows),
            "questions": len(rows),
        }
    )


def score(rows: Sequence[_Ranked]) -> SystemScores:
    """Overall and per-category means (categories in sorted order)."""
    categories = sorted({r.category for r in rows})
    per = {c: _scores([r for r in rows if r.category == c]) for c in categories}
    return SystemScores(**_scores(rows).model_dump(), per_category=per)


# -- baselines over raw turns -----------------------------------------------------------------


def _terms(text: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\w+", text.lower())))


class Bm25:
    """BM25 over documents with SQLite FTS5 (in memory)."""

    def __init__(self, documents: Sequence[str]) -> None:
        self._db = sqlite3.connect(":memory:")
        self._db.execute("CREATE VIRTUAL TABLE docs USING fts5(text, tokenize='unicode61')")
        self._db.executemany("INSERT INTO docs(rowid, text) VALUES (?, ?)", enumerate(documents))

    def top(self, query: str, n: int) -> list[int]:
        terms = _terms(query)
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        rows = self._db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (match, n)
        ).fetchall()
        return [int(r[0]) for r in rows]

    def close(self) -> None:
        self._db.close()


def dense_top(documents: Vectors, query: Vectors, n: int) -> list[int]:
    """Indexes of the n documents most cosine-similar to the query (unit vectors)."""
    similarity = documents @ query
    n = min(n, len(similarity))
    best = np.argpartition(-similarity, n - 1)[:n] if n else np.array([], dtype=np.int64)
    return [int(i) for i in sorted(best, key=lambda i: (-similarity[i], i))]


def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Reciprocal-rank fusion: each ranking adds 1 / (k + rank) to what it lists."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(fused, key=lambda i: (-fused[i], i))


# -- the run ----------------------------------------------------------------------------------


@dataclass
class _Question:
    text: str
    category: str
    evidence: list[str]


@dataclass
class _Run:
    """What the run accumulates across conversations."""

    rows: dict[str, list[_Ranked]] = field(default_factory=lambda: {s: [] for s in SYSTEMS})
    skipped: int = 0
    ingest_s: float = 0.0
    query_ms: list[float] = field(default_factory=list)


def _questions(conversation: Conversation, run: _Run) -> list[_Question]:
    turn_ids = [t.id for _s, _i, t in conversation.turns()]
    asked: list[_Question] = []
    for q in conversation.questions:
        evidence = evidence_turns(q.evidence, turn_ids)
        if evidence:
            asked.append(_Question(q.question, q.category, evidence))
        else:
            run.skipped += 1
    return asked


def _hearth(
    conversation: Conversation,
    questions: Sequence[_Question],
    embedder: CachedEmbedder,
    memory: MemorySettings,
    run: _Run,
    advance: Callable[[int], None],
    as_chat: bool = False,
) -> None:
    from benchmarks.retrieval_as_chat import replay_as_chat

    with scratch_home("hearth-retrieval-", embedder, memory) as (store, journal):
        start = time.perf_counter()
        if as_chat:
            ids = replay_as_chat(journal, store, conversation, advance=advance)
        else:
            ids = import_conversation(
                journal, store, conversation, source=conversation.id, advance=advance
            ).message_ids
        run.ingest_s += time.perf_counter() - start
        turn_of = {m: t for t, m in ids.items()}
        for q in questions:
            start = time.perf_counter()
            hits = store.search(q.text, SEARCH_K)
            run.query_ms.append((time.perf_counter() - start) * 1000)
            turns = ranked_turns((h.memory.provenance for h in hits), turn_of)
            run.rows["hearth"].append(_Ranked(q.category, q.evidence, turns))


def _baselines(
    conversation: Conversation,
    questions: Sequence[_Question],
    embedder: Embedder,
    run: _Run,
) -> None:
    turns = conversation.turns()
    ids = [t.id for _s, _i, t in turns]
    documents = [turn_document(s.date.isoformat(), t.speaker, t.text) for s, _i, t in turns]
    vectors = embedder.embed(documents)
    queries = embedder.embed([q.text for q in questions])
    bm25 = Bm25(documents)
    try:
        for q, vector in zip(questions, queries, strict=True):
            lexical = bm25.top(q.text, FUSION_DEPTH)
            dense = dense_top(vectors, vector, FUSION_DEPTH)
            for name, ranking in (
                ("bm25", lexical),
                ("dense", dense),
                ("hybrid", rrf([lexical, dense])),
            ):
                ranked = [ids[i] for i in ranking[:MRR_DEPTH]]
                run.rows[name].append(_Ranked(q.category, q.evidence, ranked))
    finally:
        bm25.close()


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_retrieval_bench(
    path: Path,
    *,
    limit: int | None = None,
    as_chat: bool = False,
    embedder: Embedder | None = None,
    on_total: Callable[[int], None] = lambda n: None,
    advance: Callable[[int], None] = lambda n: None,
    describe: Callable[[str], None] = lambda text: None,
) -> RetrievalReport:
    """Import each conversation into a fresh temporary data dir and ask its questions of
    Hearth (store.search) and of the baselines over the same turns. `on_total` is told how
    many turns will be imported, `advance` is called once a turn, `describe` says what runs.

    `as_chat`: Hearth remembers each conversation as a chat would, not as an import: only the
    `user`'s turns, through the chat's write path (`benchmarks.retrieval_as_chat`). The baselines
    still read every turn."""
    dataset, conversations, cached = open_dataset(path, limit, embedder, on_total, describe)
    memory = MemorySettings()
    run = _Run()
    for number, conversation in enumerate(conversations, start=1):
        describe(f"{number}/{len(conversations)} {conversation.id}")
        questions = _questions(conversation, run)
        _hearth(conversation, questions, cached, memory, run, advance, as_chat)
        _baselines(conversation, questions, cached, run)
        cached.clear()  # each conversation's texts are its own; keep memory flat
    return RetrievalReport(
        dataset=dataset.name,
        settings={
            "conversations": len(conversations),
            "as_chat": as_chat,
            "search_k": SEARCH_K,
            "mrr_depth": MRR_DEPTH,
            "fusion_depth": FUSION_DEPTH,
            "rrf_k": RRF_K,
            "bm25": BM25,
            "dense": cached.identity.name,
            "turn_text": turn_document("<date>", "<speaker>", "<text>"),
            "memory": memory.model_dump(),
        },
        skipped=run.skipped,
        systems={name: score(rows) for name, rows in run.rows.items()},
        timings=Timings(
            ingest_s=run.ingest_s,
            query_p50_ms=statistics.median(run.query_ms) if run.query_ms else 0.0,
            query_p95_ms=_percentile(run.query_ms, 0.95),
        ),
    )
