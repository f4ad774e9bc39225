"""The model extractor: schema-held output, quotes checked, dates resolved, the probe, history."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.learn.choice import choose
from agent.learn.extract import extract as rules
from agent.learn.model_extract import ModelExtractor, Reading, read_reply
from agent.learn.probe import PROBE, ProbeRun, cached
from agent.runtime.backend import LlamaBackend
from agent.runtime.gguf import read_info
from agent.startup import Home
from agent.turn import Agent
from memory.settings import Paths
from tests.conftest import RunHearth

# A Wednesday: "next Saturday" is 2026-03-07, "yesterday" 2026-03-03.
WHEN = datetime(2026, 3, 4, 12, tzinfo=UTC)


def item(quote: str, text: str, **fields: Any) -> dict[str, Any]:
    """One memory as the model writes it."""
    base = {
        "kind": "fact",
        "text": text,
        "quote": quote,
        "subject": "Priya",
        "relation": None,
        "slot": None,
        "importance": "medium",
    }
    return {**base, **fields}


def reply(*items: dict[str, Any]) -> str:
    return json.dumps({"memories": list(items)})


def test_the_embedded_model_forced_on_writes_json_of_the_schema(backend: LlamaBackend) -> None:
    message = "My cat Biscuit is a grey tabby."
    extractor = ModelExtractor(backend, keep_cache=False)

    kept = extractor(message, speaker="Priya", when=WHEN)

    # The grammar holds even a 135M model to the schema: its reply always parses.
    assert extractor.last.valid and extractor.last.kept == kept
    # Whatever it kept quotes the message; the rest was dropped as invented.
    assert all(c.quote in message for c in kept)


def test_a_candidate_whose_quote_is_not_in_the_message_is_dropped() -> None:
    message = "My sister Anjali  lives in Leeds. I\u2019m a nurse."
    raw = reply(
        item("My sister Anjali lives in Leeds", "Anjali lives in Leeds", subject="Anjali"),
        item("I have three children", "Priya has three children"),
        item("I'm a nurse", "Priya is a nurse", slot="Job", subject="I"),
    )

    reading = read_reply(raw, message, speaker="Priya", when=WHEN)

    assert reading.invented == ["I have three children"]
    anjali, nurse = reading.kept
    # Whitespace and apostrophes may be retyped; the quote kept is the message's own span.
    assert anjali.quote == "My sister Anjali  lives in Leeds"
    assert nurse.quote == "I\u2019m a nurse"
    assert (nurse.subject, nurse.slot) == ("Priya", "job")


def test_a_quote_too_short_to_prove_anything_is_dropped() -> None:
    raw = reply(item("I", "Priya exists"), item("a nurse", "Priya is a nurse"))
    reading = read_reply(raw, "I am a nurse.", speaker="Priya", when=WHEN)
    assert (reading.invented, [c.quote for c in reading.kept]) == (["I"], ["a nurse"])


def test_a_reply_that_is_not_json_of_the_schema_gives_nothing() -> None:
    reading = read_reply('{"memories": [{"kind": "fact"', "I am a nurse.", speaker="P", when=WHEN)
    assert reading == Reading(valid=False)


def test_dates_come_from_the_quote_not_the_model() -> None:
    message = "Next Saturday I'm running a half marathon. Yesterday I adopted a cat."
    raw = reply(
        item(
            "Next Saturday I'm running a half marathon",
            "Priya runs a half marathon on 1 May",
            kind="commitment",
        ),
        item("Yesterday I adopted a cat", "Priya adopted a cat", kind="event"),
        item("my sister", "Priya's sister is kind", subject="my sister", relation="sister"),
    )

    plan, event = read_reply(raw, message, speaker="Priya", when=WHEN).kept

    assert plan.due == datetime(2026, 3, 7, tzinfo=UTC) and plan.valid_from is None
    assert event.valid_from == datetime(2026, 3, 3, tzinfo=UTC) and event.due is None


def test_an_unnamed_relative_is_the_speakers() -> None:
    message = "My sister is a pilot."
    raw = reply(item("My sister is a pilot", "Priya's sister is a pilot", subject="my sister"))
    (sister,) = read_reply(raw, message, speaker="Priya", when=WHEN).kept
    assert sister.subject == "Priya's sister"


def _reader(replies: dict[str, str]) -> Callable[..., Reading]:
    """Reads each probe message from a fixed reply, through the real reply checks."""

    def read(text: str, *, speaker: str, when: datetime) -> Reading:
        return read_reply(replies[text], text, speaker=speaker, when=when)

    return read


def _perfect() -> dict[str, str]:
    answers = {}
    for message in PROBE:
        items = [item(message.text.rstrip("."), " ".join(words)) for words in message.expected]
        answers[message.text] = reply(*items)
    return answers


def test_the_probe_passes_a_model_that_finds_the_known_memories(tmp_path: Path) -> None:
    run = ProbeRun(tmp_path / "m.gguf")
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    results = [run.step(_reader(_perfect())) for _ in PROBE]

    assert results[:-1] == [None] * (len(PROBE) - 1)
    assert results[-1] is not None and results[-1].passed
    assert results[-1].summary() == "passed the probe: 5/5 expected memories"


def test_the_probe_stops_at_the_first_invented_memory(tmp_path: Path) -> None:
    answers = _perfect()
    first = PROBE[0].text
    answers[first] = reply(item("I work nights", "Priya works nights"))
    (tmp_path / "m.gguf").write_bytes(b"GGUF")

    result = ProbeRun(tmp_path / "m.gguf").step(_reader(answers))

    assert result is not None and not result.passed and result.read == 1
    assert result.summary() == (
        "the model failed the probe: 0/5 expected memories, 1 invented; "
        "stopped after 1 of 6 messages"
    )


def test_auto_does_not_probe_a_model_under_a_billion_parameters(
    embedded_gguf: Path, paths: Paths
) -> None:
    parameters = read_info(embedded_gguf).parameters
    choice = choose("auto", embedded_gguf, parameters, paths)
    assert (choice.use, choice.pending) == ("rules", False)
    assert choose("auto", embedded_gguf, 2_000_000_000, paths).pending


def test_the_probe_rejects_the_embedded_model_and_auto_then_uses_the_rules(
    run_hearth: RunHearth, embedded_gguf: Path, make_home: Callable[..., Home]
) -> None:
    probed = run_hearth("models", "info", "--probe")
    assert probed.returncode == 0, probed.stderr
    assert "memory extractor: rules (the model failed the probe: 0/5" in probed.stdout

    home = make_home()
    decided = cached(home.paths.extractor_probe, embedded_gguf)
    assert decided is not None and not decided.passed
    choice = choose("auto", embedded_gguf, None, home.paths)
    assert (choice.use, choice.probe) == ("rules", decided)
    # Shown again without a second probe; a forced setting says so, with the probe's word.
    again = run_hearth("models", "info", env={"HEARTH_MEMORY__EXTRACTOR": "model"})
    assert "memory extractor: model (memory.extractor = model; the probe: the model" in again.stdout


def test_the_model_extractor_runs_on_the_chats_instance_and_keeps_its_prefix(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> None:
    _home, agent = make_agent(sampling={"max_tokens": 4}, memory={"extractor": "model"})
    assert isinstance(agent.extract, ModelExtractor)
    session = agent.session(new=True)
    told: list[str | None] = []

    agent.run_turn(session.id, "I work as a nurse.", on_remembered=lambda _i, _s, e: told.append(e))
    second = agent.run_turn(session.id, "Tell me something.", on_remembered=lambda *_: None)

    agent.settle()
    assert told == [None]
    # The extraction ran between the turns on the same llama.cpp instance; the chat's KV cache
    # came back, so the second turn evaluated only what is new.
    assert second.tokens_reused > second.prompt_tokens // 2


def test_auto_gives_the_agent_the_rules_for_the_embedded_model(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> None:
    _home, agent = make_agent()
    assert agent.extract is rules and agent.after_write is None


def test_memory_extract_reads_history_once(
    run_hearth: RunHearth, make_home: Callable[..., Home]
) -> None:
    home = make_home()
    session = home.journal.create_session()
    for day, text in (
        (1, "I grew up in Porto."),
        (10, "My sister Anjali lives in Leeds."),
        (11, "I work as a nurse at the children's hospital."),
    ):
        home.journal.append(
            session.id, "user", text, speaker="you", created_at=datetime(2026, 2, day, tzinfo=UTC)
        )
    home.close()

    first = run_hearth("memory", "extract", "--since", "2026-02-05", "--json")
    second = run_hearth("memory", "extract", "--since", "2026-02-05", "--json")

    assert first.returncode == 0, first.stderr
    done = json.loads(first.stdout)
    assert (done["extractor"], done["read"], done["done_before"]) == ("rules", 2, 0)
    assert len(done["changed"]) >= 2
    listed = run_hearth("memory", "list", "--json")
    texts = " ".join(m["text"] for m in json.loads(listed.stdout))
    assert "Leeds" in texts and "nurse" in texts and "Porto" not in texts
    again = json.loads(second.stdout)
    assert (again["read"], again["done_before"], again["changed"]) == (0, 2, [])


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01"])
def test_memory_extract_refuses_a_date_it_cannot_read(run_hearth: RunHearth, since: str) -> None:
    assert run_hearth("memory", "extract", "--since", since).returncode == 2
