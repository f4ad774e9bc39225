"""`hearth bench retrieval`: evidence parsing, scoring over turns, and a run end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.dataset import evidence_turns
from benchmarks.retrieval_recall import (
    Bm25,
    _Ranked,
    dense_top,
    ranked_turns,
    recall_at,
    reciprocal_rank,
    rrf,
    score,
)
from tests.conftest import RunHearth
from tests.test_import import dataset_dict

TURNS = ["D1:1", "D1:2", "D1:3", "D1:5", "D2:1", "D2:2", "D2:3"]


# -- evidence ids -----------------------------------------------------------------------------


def test_evidence_is_split_on_semicolons_commas_and_spaces() -> None:
    assert evidence_turns(["D1:1; D1:3,D2:1 D2:2"], TURNS) == ["D1:1", "D1:3", "D2:1", "D2:2"]


def test_a_range_expands_to_the_turns_between_that_exist() -> None:
    # D1:4 is not a turn of the conversation: the range skips it.
    assert evidence_turns(["D1:2-D1:5"], TURNS) == ["D1:2", "D1:3", "D1:5"]
    assert evidence_turns(["D2:1-3"], TURNS) == ["D2:1", "D2:2", "D2:3"]


def test_a_range_across_sessions_follows_the_conversation() -> None:
    assert evidence_turns(["D1:5-D2:2"], TURNS) == ["D1:5", "D2:1", "D2:2"]


def test_stray_punctuation_is_stripped() -> None:
    assert evidence_turns(["D1:3.", "(D2:1)", "'D2:2',"], TURNS) == ["D1:3", "D2:1", "D2:2"]


def test_unknown_ids_are_dropped_and_duplicates_kept_once() -> None:
    assert evidence_turns(["D9:1", "D1:1", "D1;1", "", "D1:1"], TURNS) == ["D1:1"]
    assert evidence_turns(["D1:4", "nonsense"], TURNS) == []


# -- scoring ----------------------------------------------------------------------------------


def test_memories_expand_to_turns_in_provenance_order_without_repeats() -> None:
    turn_of = {10: "a", 11: "b", 12: "c", 13: "d"}
    ranked = ranked_turns([[11], [10, 11, 12], [99, 13]], turn_of)
    assert ranked == ["b", "a", "c", "d"]  # 99 is not a turn of the conversation


def test_broad_provenance_uses_a_place_per_turn() -> None:
    turn_of = {i: f"t{i}" for i in range(40)}
    summary = list(range(30))  # one memory citing 30 turns
    ranked = ranked_turns([summary, [35]], turn_of)
    assert recall_at(ranked, ["t35"], 10) == 0.0
    assert recall_at(ranked, ["t35"], 20) == 0.0
    assert ranked.index("t35") == 30
    assert recall_at(ranked_turns([[35], summary], turn_of), ["t35"], 1) == 1.0


def test_recall_is_the_share_of_evidence_in_the_cut() -> None:
    ranked = ["x", "e1", "y", "e2"]
    assert recall_at(ranked, ["e1", "e2", "e3"], 1) == 0.0
    assert recall_at(ranked, ["e1", "e2", "e3"], 2) == pytest.approx(1 / 3)
    assert recall_at(ranked, ["e1", "e2", "e3"], 10) == pytest.approx(2 / 3)


def test_mrr_is_one_over_the_first_evidence_rank_within_50() -> None:
    assert reciprocal_rank(["x", "y", "e"], ["e", "f"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(["e"], ["e"]) == 1.0
    far = [f"x{i}" for i in range(50)] + ["e"]
    assert reciprocal_rank(far, ["e"]) == 0.0
    assert ranked_turns([[i] for i in range(80)], {i: str(i) for i in range(80)}) == [
        str(i) for i in range(50)
    ]


def test_scores_are_means_overall_and_per_category() -> None:
    rows = [
        _Ranked("1", ["a"], ["a"]),
        _Ranked("1", ["a", "b"], ["x", "a"]),
        _Ranked("2", ["c"], ["x"]),
    ]
    result = score(rows).model_dump(by_alias=True)
    assert result["recall@1"] == pytest.approx((1 + 0 + 0) / 3)
    assert result["recall@5"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert result["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert result["questions"] == 3
    assert result["per_category"]["1"]["recall@5"] == pytest.approx(0.75)
    assert result["per_category"]["2"]["questions"] == 1


# -- baselines --------------------------------------------------------------------------------


def test_bm25_ranks_the_document_with_the_rare_words_first() -> None:
    bm25 = Bm25(["the cat sat", "a dog barked at the mail van", "the cat and the dog"])
    try:
        assert bm25.top("Who barked at the van?", 2)[0] == 1
        assert bm25.top("?!", 5) == []
    finally:
        bm25.close()


def test_dense_top_and_rank_fusion() -> None:
    import numpy as np

    docs = np.eye(3, dtype=np.float32)
    assert dense_top(docs, np.array([0.1, 0.9, 0.4], dtype=np.float32), 2) == [1, 2]
    assert rrf([[1, 2], [2, 3]]) == [2, 1, 3]


# -- end to end -------------------------------------------------------------------------------


def test_bench_retrieval_json_runs_end_to_end(
    tmp_path: Path, run_hearth: RunHearth, hearth_home: Path
) -> None:
    data: dict[str, Any] = dataset_dict()
    data["conversations"][0]["questions"].append(
        {"id": "gone", "question": "?", "answer": "", "evidence": ["D9:9"], "category": "1"}
    )
    path = tmp_path / "synthetic.json"
    path.write_text(json.dumps(data))
    result = run_hearth("bench", "retrieval", "--dataset", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"dataset", "settings", "skipped", "systems", "timings"}
    assert report["dataset"] == "synthetic"
    assert report["skipped"] == 1
    assert set(report["systems"]) == {"hearth", "bm25", "dense", "hybrid"}
    for scores in report["systems"].values():
        for key in ("recall@1", "recall@5", "recall@10", "recall@20", "mrr", "per_category"):
            assert key in scores
        assert 0.0 <= scores["recall@10"] <= 1.0
        assert sum(c["questions"] for c in scores["per_category"].values()) == scores["questions"]
    assert set(report["timings"]) == {"ingest_s", "query_p50_ms", "query_p95_ms"}
    # The data dirs were temporary: nothing was written to the user's.
    assert not (hearth_home / "journal.sqlite3").exists()
    assert not (hearth_home / "memory.sqlite3").exists()
