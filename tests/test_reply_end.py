"""Where a reply ends: stopped when it repeats itself (kept up to there, and marked), and, cut
at its length limit, at its last full sentence."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from agent.reply_end import LOOP_WORDS, LoopGuard, end_at_sentence
from agent.startup import Home
from agent.turn import Agent
from memory.journal.journal import Journal
from tests.conftest import RunHearth

PARAGRAPH = "It is a delicate and rewarding hobby that requires great care and dedication. "


def _feed(text: str, size: int) -> LoopGuard:
    guard = LoopGuard()
    for i in range(0, len(text), size):
        if guard.feed(text[i : i + size]):
            break
    return guard


def test_a_repeated_paragraph_is_caught_where_it_began_again() -> None:
    for size in (1, 3, 7, 40):  # however the tokens split the words
        guard = _feed(PARAGRAPH * 3, size)
        assert guard.repeat_from == len(PARAGRAPH), size


def test_a_short_sentence_said_over_and_over_is_a_loop() -> None:
    guard = _feed("I love you. " * 20, 4)
    assert guard.repeat_from == len("I love you. ")


def test_case_does_not_hide_a_loop() -> None:
    guard = _feed(PARAGRAPH + PARAGRAPH.upper() + " and on", 5)
    assert guard.repeat_from == len(PARAGRAPH)


def test_prose_that_echoes_a_phrase_is_not_a_loop() -> None:
    text = (
        "The quick brown fox jumps over the lazy dog, and then the quick brown cat jumps over "
        "the lazy dog again. You said you love the river; I remember you love the river in "
        "spring, when the river is high and you walk along the river with your sister. "
    )
    assert _feed(text, 3).repeat_from is None
    # Eleven words in common are not yet twelve.
    words = " ".join(f"w{i}" for i in range(LOOP_WORDS - 1))
    assert _feed(f"{words} x {words} y end ", 2).repeat_from is None


def _repeats(text: str) -> bool:
    words = text.casefold().split()
    grams = [tuple(words[i : i + LOOP_WORDS]) for i in range(len(words) - LOOP_WORDS + 1)]
    return len(grams) != len(set(grams))


def test_a_looping_reply_stops_early_is_cut_and_journaled_as_a_loop(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> None:
    # Greedy and never allowed to end, the tiny model soon says the same thing again.
    _, agent = make_agent(sampling={"max_tokens": 700, "ignore_eos": True, "temperature": 0})
    result = agent.run_turn(agent.session().id, "Tell me about the sea.")
    reply = agent.journal.message(result.turn_id)
    assert reply.usage.finish_reason == "loop"
    assert reply.status == "complete" and reply.text == result.reply
    assert result.completion_tokens < 700  # stopped, not run to the limit
    assert reply.text.strip() and not _repeats(reply.text)

    # An ordinary reply says why it ended too.
    agent.settings.sampling = agent.settings.sampling.model_copy(
        update={"max_tokens": 3, "ignore_eos": False}
    )
    ended = agent.run_turn(agent.session().id, "Hello")
    assert agent.journal.message(ended.turn_id).usage.finish_reason == "length"


def test_a_looped_reply_is_exported_only_if_the_person_kept_it(
    run_hearth: RunHearth, hearth_home: Path
) -> None:
    looping = {
        "HEARTH_SAMPLING__IGNORE_EOS": "true",
        "HEARTH_SAMPLING__TEMPERATURE": "0",
        "HEARTH_SAMPLING__MAX_TOKENS": "700",  # past where it starts again
    }
    said = run_hearth("say", "Tell me about the sea.", "--json", env=looping, short=False)
    assert said.returncode == 0, said.stderr
    turn = json.loads(said.stdout)["turn_id"]
    journal = Journal(hearth_home / "journal.sqlite3")
    assert journal.message(turn).usage.finish_reason == "loop"
    journal.close()

    def exported() -> list[str]:
        out = hearth_home / "sft.jsonl"
        done = run_hearth("export", "sft", "--out", str(out))
        assert done.returncode == 0, done.stderr
        if not out.exists():  # nothing to export writes no file
            return []
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        out.unlink()
        return [m["content"] for r in rows for m in r["messages"] if m["role"] == "assistant"]

    assert exported() == []
    assert run_hearth("feedback", str(turn), "--up").returncode == 0
    (kept,) = exported()
    assert re.sub(r"\s+", " ", kept).strip()


def test_a_reply_cut_at_its_limit_ends_at_its_last_full_sentence() -> None:
    cut = "The sea is vast. It covers most of the planet! Its depths hold creatures we ha"
    assert end_at_sentence(cut) == "The sea is vast. It covers most of the planet!"
    quoted = 'At the door she turned and said "come back soon." Then she waved and wal'
    assert end_at_sentence(quoted) == 'At the door she turned and said "come back soon."'
    assert end_at_sentence("A whole reply.") == "A whole reply."


def test_a_cut_that_would_lose_most_of_the_reply_or_break_code_is_left_alone() -> None:
    short_first = "Yes. Then there is the long story of how the river rose and flooded the"
    assert end_at_sentence(short_first) == short_first
    code = "Try this:\n\n```python\nx = 1. \ny = 2. \nprint(x + y"
    assert end_at_sentence(code) == code


def test_a_real_reply_at_its_limit_is_kept_to_its_last_sentence(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> None:
    _, agent = make_agent(sampling={"max_tokens": 120, "temperature": 0})
    streamed: list[str] = []
    result = agent.run_turn(agent.session().id, "Tell me about the sea.", on_piece=streamed.append)
    reply = agent.journal.message(result.turn_id)
    assert reply.usage.finish_reason == "length"
    assert reply.text == end_at_sentence("".join(streamed))


def test_bench_manners_runs_both_arms_over_the_script(run_hearth: RunHearth) -> None:
    done = run_hearth("bench", "manners", "--turns", "1", "--json", short=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    before, after = result["before"], result["after"]
    assert (before["max_tokens"], before["stop_loops"]) == (512, False)
    assert (after["max_tokens"], after["stop_loops"]) == (192, True)  # a 135M model: short
    assert before["replies"] == after["replies"] == 1
    assert 0 < after["max_tokens_seen"] <= 192 and after["median_words"] > 0
