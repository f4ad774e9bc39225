"""`hearth bench extraction`: what "states a turn" means, and exact coverage on a small data set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.learn.extract import extract
from agent.learn.model_extract import ModelExtractor
from benchmarks.extraction_recall import (
    content_words,
    extractor_for,
    held,
    run_extraction_bench,
    states,
)
from memory.graph.embedder import SentenceEmbedder
from memory.settings import ModelSettings
from tests.conftest import RunHearth

# Two invented conversations; which turns the rules remember is known (see the tests below).
FIXTURE = Path(__file__).parent / "fixtures" / "extraction_dataset.json"


# -- "states" ---------------------------------------------------------------------------------


def test_content_words_leave_out_stop_words_and_compare_stems() -> None:
    assert content_words("I'm working as a nurse at the children's hospital!") == {
        "work",
        "nurs",
        "children",
        "hospital",
    }
    assert content_words("Im doing good, you?") == {"good"}
    assert content_words("He works; she worked; they work") == {"work"}


def test_a_third_person_rewrite_still_states_the_turn() -> None:
    turn = "I work as a nurse on the night shift at a children's hospital."
    assert states(turn, "Priya works as a nurse on night shifts at a children's hospital")
    assert states("I have a grey tabby cat called Biscuit", "Priya has a grey tabby cat, Biscuit")


def test_a_memory_holding_less_than_half_of_the_turn_does_not_state_it() -> None:
    turn = "I love pottery. The kiln at the studio exploded while the neighbours watched football."
    assert held(turn, "I love pottery") == pytest.approx(2 / 9)
    assert not states(turn, "I love pottery")
    assert states("My sister lives in Leeds", "Priya's sister lives in Leeds")


def test_a_turn_without_content_words_is_stated_by_any_memory_citing_it() -> None:
    assert held("Are you?", "anything") == 1.0


def test_the_rules_are_the_default_and_a_model_runs_the_model_extractor(
    embedded_gguf: Path, embedder: SentenceEmbedder
) -> None:
    assert extractor_for(None, ModelSettings()) == ("rules", extract)
    name, extractor = extractor_for(embedded_gguf, ModelSettings())
    assert name == f"model {embedded_gguf.name}" and isinstance(extractor, ModelExtractor)
    # The tiny model remembers little; what is measured is that its run is counted the same way.
    report = run_extraction_bench(
        FIXTURE, extractor=extractor, extractor_name=name, embedder=embedder, limit=1
    )
    assert report.extractor == name and report.turns == 7
    assert report.overall.evidence == 7 and report.overall.stated <= report.overall.cited


# -- a run ------------------------------------------------------------------------------------


def test_coverage_on_the_fixture_is_what_the_rules_remember(embedder: SentenceEmbedder) -> None:
    # c1: D1:2 (a cat), D1:3 (a job), D2:2 (training) are remembered whole; D1:4 only as "I
    # love pottery" (cited, 2 of its 9 content words: not stated); D1:1 and D1:5 not at all.
    # c2: D1:1 (moving to Porto) is remembered; D1:2 ("never been to Portugal") is not.
    report = run_extraction_bench(FIXTURE, embedder=embedder)
    assert report.extractor == "rules"
    assert (report.conversations, report.turns, report.memories) == (2, 9, 5)
    assert report.actions == {"add": 5, "update": 0, "supersede": 0, "noop": 0}
    assert report.turns_with_memory == 5
    assert (report.questions, report.skipped, report.questions_stated) == (6, 1, 4)
    assert (report.distinct_evidence, report.distinct_stated) == (7, 4)
    overall = report.overall
    assert (overall.evidence, overall.cited, overall.stated) == (8, 6, 5)
    assert {c: (v.evidence, v.cited, v.stated) for c, v in report.per_category.items()} == {
        "1": (3, 3, 2),
        "2": (3, 3, 3),  # D1:3 named by two questions counts twice
        "3": (2, 0, 0),
    }
    assert {k: (v.memories, v.cited, v.stated) for k, v in report.per_kind.items()} == {
        "fact": (1, 2, 2),
        "preference": (1, 1, 0),
        "event": (2, 2, 2),
        "commitment": (1, 1, 1),
    }


def test_bench_extraction_prints_the_tables_and_the_rule(run_hearth: RunHearth) -> None:
    result = run_hearth("bench", "extraction", "--dataset", str(FIXTURE), "--limit", "1")
    assert result.returncode == 0, result.stderr
    assert "extraction coverage: extraction-fixture, rules" in result.stdout
    flat = " ".join(result.stdout.split())
    assert "1 conversations, 7 turns: 4 memories made (57.1 per 100 turns" in flat
    assert "at least half of the turn's content words" in flat


def test_bench_extraction_json_and_a_model_that_is_not_there(
    run_hearth: RunHearth, tmp_path: Path
) -> None:
    result = run_hearth("bench", "extraction", "--dataset", str(FIXTURE), "--limit", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["overall"] == {"evidence": 7, "cited": 5, "stated": 4}
    refused = run_hearth(
        "bench", "extraction", "--dataset", str(FIXTURE), "--model", str(tmp_path / "m.gguf")
    )
    assert refused.returncode == 4
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith(f"hearth: model file {tmp_path / 'm.gguf'} does not exist")
