"""`hearth understanding`: bits per token of the person's messages with and without memory."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from agent.importing.conversations import load_dataset
from agent.startup import Home
from agent.turn import Agent
from agent.understanding import Moment, journal_moments, per_session
from benchmarks.understanding_bits import dataset_moments, later_turns, pick
from memory.clock import now
from memory.graph.db.filters import AsOf
from memory.graph.nodes import NewMemory
from memory.journal.journal import Journal
from memory.journal.schemas import Surprise
from memory.settings import Paths
from tests.conftest import RunHearth

# The first session: details about the person's life, each its own turn.
TOLD = [
    "My sister Anjali is a marine biologist in Pune.",
    "Anjali studies octopus camouflage at the Pune marine institute.",
    "My cat Biscuit is a grey tabby and he sleeps on my feet.",
]
# A week later they come back and refer to those details.
BACK = [
    "Anjali called, her octopus camouflage paper at the Pune marine institute got accepted!",
    "Biscuit the grey tabby slept on my feet all night again.",
]
REPLY = "That's lovely to hear."


def two_sessions(make_agent: Callable[..., tuple[Home, Agent]]) -> list[int]:
    """Real turns in two sessions (the write path remembers the first); each reply is then a
    fixed sentence, so the figures depend on the memory, not on what the tiny model said."""
    home, agent = make_agent(chat={"user_name": "Priya"}, sampling={"max_tokens": 2})
    ids: list[int] = []
    for texts in (TOLD, BACK):
        session = agent.session(new=True)
        for text in texts:
            result = agent.run_turn(session.id, text)
            agent.journal.update(result.turn_id, text=REPLY)
            ids.append(result.user_turn_id)
    home.close()
    return ids


def test_a_person_referring_back_is_less_surprising_with_memory(
    make_agent: Callable[..., tuple[Home, Agent]], run_hearth: RunHearth, tmp_path: Path
) -> None:
    ids = two_sessions(make_agent)
    plot = tmp_path / "understanding.png"
    done = run_hearth("understanding", "--json", "--plot", str(plot))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["measured"] == len(ids) and report["skipped"] == []
    first, second = report["sessions"]
    assert first["messages"] == len(TOLD) and second["messages"] == len(BACK)
    # Coming back, the person's words are less surprising to a Hearth that remembers them.
    assert second["with_notes"] == len(BACK)
    assert second["bits_with"] < second["bits_alone"]
    assert plot.read_bytes().startswith(b"\x89PNG")
    # A second run measures nothing again and reports the same figures.
    again = json.loads(run_hearth("understanding", "--json").stdout)
    assert (again["measured"], again["done_before"]) == (0, len(ids))
    assert again["sessions"] == report["sessions"]


def test_a_message_is_never_read_with_a_note_made_of_it_or_of_anything_later(
    make_agent: Callable[..., tuple[Home, Agent]], paths: Paths
) -> None:
    ids = two_sessions(make_agent)
    journal = Journal(paths.journal)
    try:
        moments = {m.message_id: m for m in journal_moments(journal)}
    finally:
        journal.close()
    back: Moment = moments[ids[len(TOLD)]]
    # The query is the end of the session before, never the message itself.
    assert back.query and BACK[0] not in back.query and TOLD[-1] in back.query
    assert back.before == []
    assert back.as_of == AsOf(message_id=back.message_id, at=back.at)


def test_as_of_keeps_out_memories_learned_or_cited_later(
    make_agent: Callable[..., tuple[Home, Agent]],
) -> None:
    home, agent = make_agent()
    store = agent.store
    assert store is not None
    early = store.add_many([NewMemory(text="Priya grows tomatoes", provenance=[3])])[0]
    late = store.add_many([NewMemory(text="Priya grows tomatoes on the roof", provenance=[9])])[0]
    typed = store.add("Priya grows tomatoes in pots")
    hits = store.search("tomatoes", 10, as_of=AsOf(message_id=5))
    assert {h.memory.id for h in hits} == {early.id, typed.id}
    before_typed = AsOf(message_id=5, at=typed.learned_at - timedelta(seconds=1))
    assert typed.id not in {h.memory.id for h in store.search("tomatoes", 10, as_of=before_typed)}
    assert not before_typed.admits(late) and AsOf(message_id=10, at=now()).admits(late)
    home.close()


FIXTURE = Path(__file__).parent / "fixtures" / "extraction_dataset.json"


def test_the_bench_reads_only_later_sessions_and_never_the_message_in_its_query(
    run_hearth: RunHearth,
) -> None:
    conversation = load_dataset(FIXTURE).conversations[0]
    later = later_turns(conversation)
    assert [t.text for t in later] == ["I started training for a half marathon in May."]
    chosen, candidates = pick([conversation], 5, seed=0)
    assert candidates == 1 and chosen == {conversation.id: {later[0].id}}
    ids = {t.id: n for n, (_s, _i, t) in enumerate(conversation.turns(), start=1)}
    (moment,) = dataset_moments(conversation, ids, {later[0].id})
    assert moment.query == "Pepper knocked my coffee off the table today."
    assert [m.role for _i, m in moment.before] == ["assistant"]  # Theo, before Mara spoke
    assert moment.as_of == AsOf(message_id=ids[later[0].id])

    done = run_hearth("bench", "understanding", "--dataset", str(FIXTURE), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["candidates"] == 1 and report["overall"]["messages"] == 1
    assert report["overall"]["tokens"] > 0 and report["skipped"] == 0


def test_a_session_resumed_after_another_is_one_row_and_figures_weigh_tokens() -> None:
    def row(message_id: int, session_id: int, tokens: int, alone: float, with_: float) -> Surprise:
        return Surprise(
            message_id=message_id, model_sha256="m", tokens=tokens, bits_alone=alone,
            bits_with=with_, notes=1, scored_at=now(), session_id=session_id,
        )  # fmt: skip

    rows = [row(1, 1, 10, 6.0, 5.0), row(2, 2, 5, 4.0, 4.0), row(3, 1, 30, 6.0, 7.0)]
    first, second = per_session(rows)
    assert (first.session_id, first.messages, second.session_id) == (1, 2, 2)
    assert first.bits_alone == 6.0 and first.bits_with == 6.5  # (10 * 5 + 30 * 7) / 40
    assert first.less_surprising == 0.5 and second.saved == 0.0
