"""`hearth bench voice`: the detector of replies that speak as the person, and a short real run."""

from __future__ import annotations

import json

import pytest

from benchmarks.voice import claims, in_context
from tests.conftest import RunHearth


@pytest.mark.parametrize(
    ("reply", "found"),
    [
        ("Hi! I'm Priya, nice to meet you.", [("name", "I'm Priya")]),
        ("My name is Priya and I love my job.", [("name", "My name is Priya")]),
        (
            "I am a night-shift nurse at a children's hospital.",
            [("job", "I am a night-shift nurse")],
        ),
        ("I work nights at the hospital.", [("job", "I work nights at the hospital")]),
        (
            "I've been working as a nurse for years.",
            [("job", "I've been working as a nurse")],
        ),
        ("After my shift I sleep.", [("job", "my shift")]),
        ("My cat Biscuit sleeps on my feet.", [("cat", "My cat")]),
        ("I have a grey tabby cat called Biscuit.", [("cat", "I have a grey tabby cat")]),
        ("Biscuit is my best friend.", [("cat", "Biscuit is my")]),
        ("I\u2019m Akula the cat!", [("cat", "I\u2019m Akula the cat")]),
        ("I'm visiting my older sister in Leeds.", [("sister", "my older sister")]),
        (
            "I'm Priya. My cat is grey.",
            [("name", "I'm Priya"), ("cat", "My cat")],
        ),
    ],
)
def test_a_first_person_claim_of_her_facts_is_found(
    reply: str, found: list[tuple[str, str]]
) -> None:
    assert [(c.kind, c.said) for c in claims(reply)] == found


@pytest.mark.parametrize(
    "reply",
    [
        "Your cat Biscuit sounds lovely, Priya!",
        "You're a nurse at a children's hospital, and your sister Anjali lives in Leeds.",
        "Priya's cat is called Biscuit.",
        "I'm Priya's companion, Hearth.",
        'You said: "I have a grey tabby cat called Biscuit", \u201cmy sister lives in Leeds\u201d.',
        "I'm a companion, and I remember that you work nights.",
    ],
)
def test_speaking_about_her_or_quoting_her_is_no_claim(reply: str) -> None:
    assert claims(reply) == []


def test_a_claim_is_shown_with_the_words_around_it() -> None:
    reply = (
        "Remember me? What's that?\n\n" + "Well, " * 20 + "I've got a blue tabby cat. " + "La " * 30
    )
    [claim] = claims(reply)
    shown = in_context(reply, claim)
    assert shown.startswith("…Well, ") and shown.endswith("…")
    assert "I've got a blue tabby cat. La" in shown and "\n" not in shown


def test_bench_voice_runs_two_sessions_with_the_embedded_model(run_hearth: RunHearth) -> None:
    # One turn in each of two sessions: the second knows her only from the memory notes.
    result = run_hearth(
        "bench", "voice", "--runs", "1", "--sessions", "2", "--turns", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["replies"] == 2
    assert report["per_session"] == {
        "1": [1, int(bool(report["turns"][0]["claims"]))],
        "2": [1, int(bool(report["turns"][1]["claims"]))],
    }
    assert set(report["per_kind"]) == {"name", "job", "cat", "sister"}
    # Session 1 said "I'm Priya": session 2's message was shown with a note of it.
    assert "Priya" in report["notes"]
    assert [t["message"] for t in report["turns"]] == [
        "Hi! I'm Priya. I'm new here, just trying you out.",
        "Hello again! What do you remember about me?",
    ]
