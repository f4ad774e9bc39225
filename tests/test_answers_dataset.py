"""`hearth bench answers --dataset`: LoCoMo's token F1, the first-person rewrite, a tiny run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.context import BLOCK_END, BLOCK_START
from benchmarks.answers_dataset import WAYS, AnswersReport, block, run_answers_bench
from benchmarks.answers_scoring import (
    answer_recall,
    first_person,
    normalise,
    second_person,
    token_f1,
)
from memory.graph.embedder import SentenceEmbedder
from memory.journal.schemas import ModelInfo
from memory.settings import SamplingSettings, Settings
from tests.scripted_backend import ScriptedBackend

# -- scoring --------------------------------------------------------------------------------


def test_the_normaliser_lowers_drops_punctuation_articles_and_and() -> None:
    assert normalise("The Cat, and a dog!  An owl's nest.") == ["cat", "dog", "owls", "nest"]
    # Whole words only: "android" and "theatre" keep their letters.
    assert normalise("Android theatre band") == ["android", "theatre", "band"]


def test_token_f1_counts_shared_tokens_with_repeats() -> None:
    assert token_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)
    assert token_f1("Paris.", "paris") == 1.0
    assert token_f1("no idea", "Paris") == 0.0
    assert token_f1("", "Paris") == 0.0
    # A repeated word counts as often as the gold answer has it, no more.
    assert token_f1("cat cat cat", "cat dog") == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))


def test_answer_recall_ignores_the_reply_length() -> None:
    assert answer_recall("Well, I think it was in Paris, in France, long ago.", "Paris") == 1.0
    assert answer_recall("Paris", "Paris, France") == 0.5
    assert answer_recall("anything", "the") == 0.0  # nothing left of the gold answer


@pytest.mark.parametrize(
    ("question", "name", "expected"),
    [
        ("Where was Caroline born?", "Caroline", "Where was I born?"),
        ("What does Caroline like?", "Caroline", "What do I like?"),
        ("Is Caroline a nurse?", "Caroline", "Am I a nurse?"),
        ("How long has Caroline had her dog?", "Caroline", "How long have I had my dog?"),
        ("What is Caroline's job?", "Caroline", "What is my job?"),
        ("Caroline's sister lives where?", "Caroline", "My sister lives where?"),
        ("Caroline likes which band?", "Caroline", "I like which band?"),
        ("Caroline watches which show?", "Caroline", "I watch which show?"),
        ("What did Mel give Caroline?", "Caroline", "What did Mel give me?"),
        ("Did Caroline and Mel go hiking?", "Caroline", "Did Mel and I go hiking?"),
        ("What do Caroline and Mel's talks show?", "Caroline", "What do Mel's and my talks show?"),
        ("When did Fahim Khan watch Naruto?", "Fahim Khan", "When did I watch Naruto?"),
        ("When did Fahim express his love?", "Fahim Khan", "When did I express my love?"),
        ("How does elise spend her time?", "Elise", "How do I spend my time?"),
        ("What did Mel say about cats?", "Caroline", "What did Mel say about cats?"),
    ],
)
def test_the_first_person_rewrite_agrees_the_verb(question: str, name: str, expected: str) -> None:
    assert first_person(question, name) == expected


def test_the_gold_answer_is_said_to_the_person() -> None:
    assert second_person("Caroline's mum, and Caroline herself", "Caroline") == (
        "your mum, and you herself"
    )
    assert second_person("On 31.12.2023", "Caroline") == "On 31.12.2023"
    # Scored after the mapping: "you" in a reply now matches.
    assert token_f1("you did", second_person("Caroline did", "Caroline")) == 1.0


# -- a run end to end -----------------------------------------------------------------------


def tiny_dataset() -> dict[str, Any]:
    """Two conversations, three questions (one in the first, two in the second)."""

    def session(sid: str, date: str, turns: list[tuple[str, str, str]]) -> dict[str, Any]:
        return {
            "id": sid,
            "date": date,
            "turns": [{"id": i, "speaker": s, "text": t} for i, s, t in turns],
        }

    return {
        "name": "tiny",
        "conversations": [
            {
                "id": "c1",
                "speakers": ["Caroline", "Mel"],
                "user": "Caroline",
                "sessions": [
                    session("S1", "2024-03-01T10:00:00", [
                        ("D1:1", "Caroline", "I was born in Lisbon, by the river."),
                        ("D1:2", "Mel", "Lisbon is lovely in spring."),
                    ]),
                    session("S2", "2024-03-05T10:00:00", [
                        ("D2:1", "Caroline", "My dog Biscuit chewed my shoes again."),
                        ("D2:2", "Mel", "Oh no, poor shoes!"),
                    ]),
                ],
                "questions": [
                    {"id": "q1", "question": "Where was Caroline born?", "answer": "Lisbon",
                     "evidence": ["D1:1"], "category": "1"},
                ],
            },
            {
                "id": "c2",
                "speakers": ["Sam", "Ana"],
                "user": "Sam",
                "sessions": [
                    session("S1", "2024-04-01T09:00:00", [
                        ("D1:1", "Sam", "I play the cello in an orchestra."),
                        ("D1:2", "Ana", "I started learning the flute last month."),
                    ]),
                ],
                "questions": [
                    {"id": "q2", "question": "What does Sam play?", "answer": "the cello",
                     "evidence": ["D1:1"], "category": "1"},
                    {"id": "q3", "question": "What did Ana start learning?",
                     "answer": "the flute", "evidence": ["D1:2"], "category": "2"},
                ],
            },
        ],
    }  # fmt: skip


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_dataset()), encoding="utf-8")
    return path


def test_the_oracle_block_is_the_evidence_as_dated_lines_between_the_notes_markers() -> None:
    line = "[2024-03-01] Caroline: I was born in Lisbon."
    assert block([line]).splitlines() == [BLOCK_START, line, BLOCK_END]
    assert block([]) == ""


def test_a_tiny_data_set_is_asked_four_ways_in_both_forms(
    tiny: Path, tmp_path: Path, embedder: SentenceEmbedder
) -> None:
    # The words don't matter here (the scripted backend): the pipeline, the ways, the report.
    backend = ScriptedBackend(["I think it was Lisbon, with the cello."])
    info = ModelInfo(name=backend.name, path=str(backend.path), sha256="0" * 64)
    settings = Settings.model_construct(sampling=SamplingSettings(seed=1))
    keep = tmp_path / "kept"
    report = run_answers_bench(
        tiny, backend, info, settings, sample=10, seed=0, first=True, keep_dir=keep,
        embedder=embedder,
    )  # fmt: skip
    assert (report.sample, report.candidates, report.conversations) == (10, 3, 2)
    assert [f.form for f in report.forms] == ["as given", "first person"]
    # Two of the three questions are about the conversation's user.
    assert [f.rewritten for f in report.forms] == [0, 2]
    for form in report.forms:
        assert set(form.ways) == set(WAYS)
        for figures in form.ways.values():
            assert figures.questions == 3
            assert set(figures.per_category) == {"1", "2"}
    given = report.forms[0].ways
    # The same reply every time: Lisbon and cello are in it, the flute is not.
    assert given["none"].f1 == given["hearth"].f1 > 0
    assert given["oracle"].per_category["2"].recall == 0.0
    assert given["oracle"].per_category["1"].recall == 1.0
    assert report.forms[0].hearth_over_oracle == pytest.approx(1.0)
    asked = {r.question for r in report.replies if r.form == "first person"}
    assert asked == {"Where was I born?", "What do I play?", "What did Ana start learning?"}
    oracle = [r for r in report.replies if r.way == "oracle" and r.form == "as given"]
    assert all(r.notes == 1 for r in oracle)  # one evidence line each
    recent = [r for r in report.replies if r.way == "recent"]
    assert all(r.notes > 0 for r in recent)
    hearth = [r for r in report.replies if r.way == "hearth"]
    assert any(r.notes > 0 for r in hearth)  # Hearth recalled the imported turns
    # One JSON object; the kept dirs are imported once and reused by the next run.
    assert AnswersReport.model_validate_json(report.model_dump_json()) == report
    assert sorted(p.name for p in keep.iterdir()) == ["c1", "c2"]
    again = run_answers_bench(
        tiny, backend, info, settings, sample=1, seed=0, keep_dir=keep, embedder=embedder
    )
    assert again.ingest_s == 0.0
    assert [f.form for f in again.forms] == ["as given"]
    assert again.forms[0].ways["none"].questions == 1
