"""`hearth score`: a reply's log-probability with and without its recalled notes; real model."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from agent.context import BLOCK_END, memory_block, with_memories
from agent.scoring import variants
from agent.startup import Home
from agent.turn import Agent
from memory.clock import now
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.journal.schemas import ChatMessage, ModelInfo, Score
from memory.settings import Paths, Settings
from tests.conftest import RunHearth

FACT = "Priya's cat Biscuit is a grey tabby"
OTHER = "Priya works night shifts at the hospital"
ASK = "How is Biscuit doing?"
REPEATS_IT = "Your grey tabby Biscuit must be lovely."


@dataclass
class Turn:
    cat: str
    """The memory the reply repeats."""
    reply: int


def repeat_the_fact(make_agent: Callable[..., tuple[Home, Agent]]) -> Turn:
    """A real turn that recalls the cat, its reply then rewritten to repeat the fact (the tiny
    model's own words would not: the test is about the scoring, not about the model)."""
    home, agent = make_agent(chat={"user_name": "Priya"}, sampling={"max_tokens": 4})
    assert agent.store is not None
    cat = agent.store.add(FACT)
    agent.store.add(OTHER)
    session = agent.session(new=True)
    result = agent.run_turn(session.id, ASK)
    assert cat.id in agent.journal.message(result.user_turn_id).meta.recalled_ids
    agent.journal.update(result.turn_id, text=REPEATS_IT)
    home.close()  # `hearth score` opens the data dir for itself
    return Turn(cat=cat.id, reply=result.turn_id)


def figures(paths: Paths, reply: int) -> dict[str, float]:
    journal = Journal(paths.journal)
    try:
        return {s.variant: s.mean_logprob for s in journal.scores(reply)}
    finally:
        journal.close()


def test_taking_out_the_note_a_reply_repeats_makes_the_reply_less_likely(
    make_agent: Callable[..., tuple[Home, Agent]], run_hearth: RunHearth, paths: Paths
) -> None:
    turn = repeat_the_fact(make_agent)
    done = run_hearth("score", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["scored"] == 1 and report["other_model"] == 0 and report["skipped"] == []
    scores = figures(paths, turn.reply)
    assert {"full", "no_notes", f"without:{turn.cat}"} <= scores.keys()
    assert scores["full"] > scores["no_notes"]
    assert scores["full"] > scores[f"without:{turn.cat}"]


def test_a_second_run_scores_nothing_new_and_memory_show_says_the_note_was_used(
    make_agent: Callable[..., tuple[Home, Agent]], run_hearth: RunHearth, paths: Paths
) -> None:
    turn = repeat_the_fact(make_agent)
    assert run_hearth("score").returncode == 0
    again = json.loads(run_hearth("score", "--json").stdout)
    assert (again["scored"], again["done_before"], again["rows"]) == (0, 1, 0)
    shown = json.loads(run_hearth("memory", "show", turn.cat, "--json").stdout)
    used = shown["used"]
    assert used["used"] and used["drop"] > 0
    assert (used["message_id"], used["replies"]) == (turn.reply, 1)
    text = run_hearth("memory", "show", turn.cat).stdout
    assert "used: without it" in text


def test_forgetting_a_memory_deletes_the_figures_scored_without_it(
    make_agent: Callable[..., tuple[Home, Agent]], run_hearth: RunHearth, paths: Paths
) -> None:
    turn = repeat_the_fact(make_agent)
    assert run_hearth("score").returncode == 0
    assert f"without:{turn.cat}" in figures(paths, turn.reply)
    forgot = run_hearth("memory", "forget", turn.cat, "--json")
    assert forgot.returncode == 0, forgot.stderr
    assert json.loads(forgot.stdout)["journal"]["scores_deleted"] == 1
    left = figures(paths, turn.reply)
    assert f"without:{turn.cat}" not in left and "full" in left


def test_a_reply_another_model_wrote_is_scored_and_marked_so(
    run_hearth: RunHearth, paths: Paths
) -> None:
    journal = Journal(paths.journal)
    session = journal.create_session()
    journal.append(session.id, "user", ASK)
    elsewhere = ModelInfo(name="other", path="/models/other.gguf", sha256="0" * 64)
    prompt = [ChatMessage(role="user", content=ASK)]
    reply = journal.append(session.id, "assistant", REPEATS_IT, prompt=prompt, model=elsewhere)
    journal.close()
    report = json.loads(run_hearth("score", "--session", str(session.id), "--json").stdout)
    assert (report["scored"], report["other_model"], report["rows"]) == (1, 1, 1)
    journal = Journal(paths.journal)
    (full,) = journal.scores(reply.id)
    journal.close()
    assert full.variant == "full" and full.other_model and full.mean_logprob < 0


def _scored_reply(journal: Journal, temporary: bool) -> int:
    session = journal.create_session(temporary=temporary)
    journal.append(session.id, "user", ASK)
    reply = journal.append(session.id, "assistant", REPEATS_IT)
    score = Score(
        message_id=reply.id,
        variant="full",
        mean_logprob=-1.0,
        tokens=9,
        model_sha256="0" * 64,
        scored_at=now(),
    )
    journal.add_scores([score])
    assert journal.scores(reply.id) == [score]
    return reply.id


def test_scores_go_with_the_messages_a_delete_or_a_purge_takes(paths: Paths) -> None:
    journal = Journal(paths.journal)
    deleted = _scored_reply(journal, temporary=False)
    journal.delete_session(journal.message(deleted).session_id)
    purged = _scored_reply(journal, temporary=True)
    assert journal.purge_off_record() == 2
    assert journal.scores(deleted) == journal.scores(purged) == []
    journal.close()


def test_a_note_shown_before_its_memory_was_edited_is_still_taken_out(
    paths: Paths, embedder: SentenceEmbedder
) -> None:
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        cat, other = store.add_many([NewMemory(text=FACT), NewMemory(text=OTHER)])
    shown = with_memories(ASK, memory_block([cat, other], "Priya"))
    journal = Journal(paths.journal)
    session = journal.create_session()
    meta = {"shown_as": shown, "recalled_ids": [cat.id, other.id]}
    user = journal.append(session.id, "user", ASK, meta=meta)
    prompt = [ChatMessage(role="user", content=shown)]
    reply = journal.append(session.id, "assistant", REPEATS_IT, prompt=prompt)
    journal.close()
    edited = cat.model_copy(update={"text": "Priya's cat Biscuit is a ginger tabby"})
    found = variants(reply, user, {cat.id: (edited, [edited.text, FACT]), other.id: None}.get)
    assert set(found) == {"full", "no_notes", f"without:{cat.id}"}
    assert found["no_notes"][-1].content == ASK
    without = found[f"without:{cat.id}"][-1].content
    assert "grey tabby" not in without and OTHER in without
    assert without.endswith(f"{BLOCK_END}\n\n{ASK}")
