"""`hearth bench answers --personal`: its scoring on fixed strings, and a short real run."""

from __future__ import annotations

import json

import pytest

from benchmarks.answers_personal import PERSONAL, answered, borrowed
from tests.conftest import RunHearth

FACTS = {f.topic: f for f in PERSONAL}


def test_the_set_is_a_dozen_different_things() -> None:
    assert len(PERSONAL) == 12 and len(FACTS) == 12


def test_an_answer_is_the_expected_word_anywhere_in_the_reply() -> None:
    assert answered("Your name is Ingrid!", FACTS["name"])
    assert answered("You go rock-climbing on weekends.", FACTS["hobby"])  # "climb" starts it
    assert answered("PEANUTS, I remember.", FACTS["health"])
    assert not answered("I don't know your name yet.", FACTS["name"])
    assert not answered("You like to unclimb.", FACTS["hobby"])  # a word's start, not inside


@pytest.mark.parametrize(
    ("reply", "found"),
    [
        ("Hi, I'm Ingrid. I'm a carpenter.", ["name", "job"]),
        ("My parrot Pickle says hello.", ["pet"]),
        ("I drive an old red Saab around Bergen.", ["car"]),
        ("My brother Anders is a pilot.", ["family"]),
        ("Hello, I'm Harlon, your friend.", ["calls itself Harlon"]),
        ("My name is Omar.", ["calls itself Omar"]),
    ],
)
def test_a_reply_claiming_her_facts_or_another_name_is_borrowed_identity(
    reply: str, found: list[str]
) -> None:
    assert borrowed(reply) == found


@pytest.mark.parametrize(
    "reply",
    [
        "Your name is Ingrid and your parrot is called Pickle.",
        "I'm Hearth. I'm glad you told me about your brother Anders.",
        'You said: "I drive an old red Saab".',
        "I'm sorry, I don't know. I'm Not sure.",
    ],
)
def test_speaking_about_her_is_no_borrowing(reply: str) -> None:
    assert borrowed(reply) == []


def test_it_asks_which_questions_one_set_at_a_time(run_hearth: RunHearth) -> None:
    for args, said in (
        ((), "say which questions: `hearth bench answers --personal` or `--dataset FILE`"),
        (("--personal", "--dataset", "x.json"), "choose one: --personal or --dataset FILE"),
    ):
        done = run_hearth("bench", "answers", *args)
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [said]


def test_the_first_fact_asked_back_with_memory_on_and_off(run_hearth: RunHearth) -> None:
    done = run_hearth("bench", "answers", "--personal", "--facts", "1", "--json", short=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["questions"] == 1
    on, off = result["on"], result["off"]
    assert on["memory"] and not off["memory"]
    assert on["remembered"] == 1 and off["remembered"] == 0  # "I'm Ingrid" is kept
    assert [r["question"] for r in on["replies"]] == ["What's my name?"]
    assert on["replies"][0]["notes"] >= 1 and off["replies"][0]["notes"] == 0
    assert off["answered"] == 0  # a new session without memory cannot know it
    assert len(on["said_replies"]) == len(off["said_replies"]) == 1
