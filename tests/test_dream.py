"""The dream loop (`hearth dream`): made-up turns over real memories, answered by the real
model through the chat's context builder, reviewed, and exported only once accepted."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from agent.dream.loop import run_dreams
from agent.dream.pick import pick, pickable
from agent.dream.review import dreams
from agent.dream.scenarios import scenario
from agent.learn.history import since
from agent.scoring import scorable
from agent.startup import Home, load_agent
from agent.turn import Agent
from memory.clock import now
from memory.datadir import ensure_data_dir
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import NewMemory
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.settings import Paths, Settings, resolve_paths
from tests.cli_inprocess import Done, run_main
from tests.test_forgetting import on_a_terminal
from tests.test_tui import _ready, _until
from tui.app import HearthApp
from tui.screens.dreams import DreamsScreen
from tui.widgets.dialogs import TextDialog

SECRET = "Sam's locker code is 4411"
OLD_HOME = "Sam lives in York"
EDITED = "You moved from York to Leeds in the spring, so Leeds it is now."
KINDS = ("sft", "dpo", "kto", "openai", "sharegpt")


@dataclass
class Dreamed:
    """One data dir, dreamed in once for the whole module (the model and embedder load once)."""

    home: Path
    paths: Paths
    ids: dict[str, str]
    report: dict[str, Any]
    memories_before: list[dict[str, Any]]
    history_before: int

    def hearth(self, *args: str) -> Done:
        env = {
            "HEARTH_HOME": str(self.home),
            "HEARTH_SAMPLING__MAX_TOKENS": "16",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
        return run_main(*args, env=env)


def _memories(paths: Paths, embedder: SentenceEmbedder) -> tuple[list[dict[str, Any]], int]:
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        found = [m.model_dump(mode="json") for m in store.list(valid_only=False)]
        return sorted(found, key=lambda m: m["id"]), len(store.history())


def seed_memories(store: MemoryStore) -> dict[str, str]:
    """A past event, a plan whose date has passed, a memory the person corrected, a secret."""
    at = now()
    event, plan, old, secret = store.add_many(
        [
            NewMemory(
                text="Sam ran the Leeds half marathon",
                kind="event",
                importance=0.7,
                valid_from=at - timedelta(days=20),
            ),
            NewMemory(
                text="Sam has a dentist appointment",
                kind="commitment",
                valid_from=at - timedelta(days=3),
            ),
            NewMemory(text=OLD_HOME, kind="fact", slot="residence"),
            NewMemory(text=SECRET, kind="fact", flags=["secret"]),
        ]
    )
    # The person said where they live now: the old value is the one a dream says again.
    moved = store.supersede(old.id, "Sam lives in Leeds", actor="user")
    return {"event": event.id, "plan": plan.id, "moved": moved.id, "secret": secret.id}


@pytest.fixture(scope="module")
def dreamed(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceEmbedder
) -> Iterator[Dreamed]:
    home = tmp_path_factory.mktemp("dream") / "home"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HEARTH_HOME", str(home))
        paths = resolve_paths()
        ensure_data_dir(paths.data_dir)
        with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
            ids = seed_memories(store)
        before, history = _memories(paths, embedder)
        data = Dreamed(home, paths, ids, {}, before, history)
        done = data.hearth("dream", "--n", "3", "--seed", "7", "--json")
        assert done.returncode == 0, done.stderr
        data.report = json.loads(done.stdout)
        yield data


def test_each_dream_is_a_synthetic_candidate_with_the_memories_it_drew_on(
    dreamed: Dreamed, embedder: SentenceEmbedder
) -> None:
    report, ids = dreamed.report, dreamed.ids
    assert (report["made"], report["pickable"], report["corrected"]) == (3, 3, 1)
    by_kind = {d["kind"]: d for d in report["dreams"]}
    assert set(by_kind) == {"past_event", "past_plan", "correction"}
    assert by_kind["past_event"]["memory_ids"] == [ids["event"]]
    assert by_kind["past_plan"]["memory_ids"] == [ids["plan"]]
    assert by_kind["correction"]["memory_ids"] == [ids["moved"]]
    # The corrected memory is rehearsed by saying its old value again, in the person's voice.
    assert OLD_HOME in by_kind["correction"]["scenario"]
    assert "dentist appointment" in by_kind["past_plan"]["scenario"]

    journal = Journal(dreamed.paths.journal)
    try:
        for d in report["dreams"]:
            assert d["review"] == "pending" and d["synthetic"] is True
            scenario, reply = journal.message(d["id"]), journal.message(d["reply_id"])
            for m in (scenario, reply):
                assert m.meta.synthetic is True
                assert m.meta.dream is not None and m.meta.dream.memory_ids == d["memory_ids"]
                assert m.session_id == report["session_id"]
            assert scenario.parent_id is None  # a dream follows no other dream
            assert reply.parent_id == scenario.id and reply.status == "complete"
            # Answered through the chat's context builder: the persona, then the scenario
            # with the notes recalled for it; never a secret.
            assert reply.prompt is not None and reply.prompt[0].role == "system"
            assert reply.prompt[-1].role == "user"
            assert reply.prompt[-1].content.endswith(scenario.text)
            assert scenario.meta.recalled_ids and ids["secret"] not in scenario.meta.recalled_ids
            assert all("4411" not in p.content for p in reply.prompt)
        session = journal.session(report["session_id"])
        assert "Dreams (synthetic)" in session.title
        # Never a chat to go on in, never listed with the chats, never read as said.
        assert journal.latest_session() is None
        assert journal.session_summaries(include_archived=True) == []
        assert scorable(journal) == []
        assert since(journal, datetime(2000, 1, 1, tzinfo=UTC)) == []
    finally:
        journal.close()
    # `hearth logs` says what they are.
    shown = dreamed.hearth("logs", "show", str(report["dreams"][0]["reply_id"]))
    assert "synthetic: dream, pending" in shown.stdout
    # The memory store is only read: same memories, same recall counts, no history entry.
    after, history = _memories(dreamed.paths, embedder)
    assert after == dreamed.memories_before
    assert history == dreamed.history_before


def test_the_same_seed_picks_the_same_memories_and_makes_the_same_scenarios(
    dreamed: Dreamed, embedder: SentenceEmbedder
) -> None:
    journal = Journal(dreamed.paths.journal)
    store = MemoryStore.open(dreamed.paths, Settings(), write=False, embedder=embedder)
    try:
        rng, at = random.Random(7), now()
        pool = pickable(store, journal, at)
        picked = pick(pool, 3, rng)
        others = [p for p in pool if p not in picked]
        again = [scenario(p, others, at, rng) for p in picked]
    finally:
        store.close()
        journal.close()
    made = dreamed.report["dreams"]
    assert [s.memory_ids for s in again] == [d["memory_ids"] for d in made]
    assert [s.text for s in again] == [d["scenario"] for d in made]


def _in(words: str, jsonl: str) -> bool:
    """Whether a JSONL file's text holds these words (as its JSON strings spell them)."""
    return json.dumps(words, ensure_ascii=False)[1:-1] in jsonl


def _export(dreamed: Dreamed, tmp: Path, kind: str, *flags: str) -> tuple[dict[str, Any], str]:
    out = tmp / f"{kind}-{len(list(tmp.iterdir()))}.jsonl"
    done = dreamed.hearth("export", kind, "--out", str(out), "--json", *flags)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


def test_exports_take_only_accepted_and_edited_dreams_and_never_a_rejected_one(
    dreamed: Dreamed, tmp_path: Path
) -> None:
    by_kind = {d["kind"]: d for d in dreamed.report["dreams"]}
    accepted, edited, rejected = (
        by_kind["past_event"],
        by_kind["correction"],
        by_kind["past_plan"],
    )
    every: tuple[str, ...] = ("--include-synthetic",)
    frozen = ("--include-synthetic", "--context-frozen")
    # Pending dreams are exported by nothing, flag or not.
    for kind in KINDS:
        for flags in ((), every):
            assert _export(dreamed, tmp_path, kind, *flags)[0]["rows"] == 0

    done = dreamed.hearth(
        "dream",
        "review",
        "--accept",
        str(accepted["id"]),
        "--reject",
        str(rejected["id"]),
        "--edit",
        str(edited["id"]),
        "--text",
        EDITED,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    review = json.loads(done.stdout)
    assert [d["review"] for d in review["reviewed"]] == ["accepted", "rejected", "edited"]
    assert review["counts"] == {"pending": 0, "accepted": 1, "edited": 1, "rejected": 1}

    # Without the flag: no dream in any export.
    for kind in KINDS:
        assert _export(dreamed, tmp_path, kind)[0]["rows"] == 0

    # With it: the accepted dream, and the edited one with the person's words.
    result, text = _export(dreamed, tmp_path, "sft", *every)
    rows = [json.loads(line) for line in text.splitlines()]
    assert result["rows"] == 2 and result["synthetic"] == 2
    by_user = {r["messages"][-2]["content"]: r for r in rows}
    assert set(by_user) == {accepted["scenario"], edited["scenario"]}
    assert by_user[accepted["scenario"]]["messages"][-1]["content"] == accepted["reply"]
    assert by_user[edited["scenario"]]["messages"][-1]["content"] == EDITED
    assert all(r["synthetic"] is True for r in rows)
    card = Path(result["card"]).read_text(encoding="utf-8")
    assert "| synthetic rows | 2 of 2 rows are dreams" in card

    # The edited dream is a DPO pair: the edit chosen, the model's reply rejected.
    result, text = _export(dreamed, tmp_path, "dpo", *every)
    (pair,) = [json.loads(line) for line in text.splitlines()]
    assert pair["chosen"] == [{"role": "assistant", "content": EDITED}]
    assert pair["rejected"] == [{"role": "assistant", "content": edited["reply"]}]
    assert pair["prompt"][-1]["content"].endswith(edited["scenario"])
    assert result["signals"] == {"edit": 1}

    # A rejected dream reaches no export of any kind; nor does what made a scenario.
    for kind in KINDS:
        for flags in (every, frozen):
            _, text = _export(dreamed, tmp_path, kind, *flags)
            assert not _in(rejected["scenario"], text)
            assert _in(accepted["scenario"], text) or kind in ("dpo", "kto")
            assert "past_plan" not in text and "memory_ids" not in text


def test_review_refuses_an_id_that_is_not_a_dream_and_an_empty_edit(dreamed: Dreamed) -> None:
    listed = json.loads(dreamed.hearth("dream", "list", "--json").stdout)
    reply_id = listed["dreams"][0]["reply_id"]
    done = dreamed.hearth("dream", "review", "--accept", str(reply_id))
    assert done.returncode == 21 and "is not a dream" in done.stderr
    first = str(listed["dreams"][0]["id"])
    done = dreamed.hearth("dream", "review", "--edit", first, "--text", " ")
    assert done.returncode == 21 and "needs some text" in done.stderr
    assert dreamed.hearth("dream", "review", "--accept", "999").returncode == 9
    # Dreams are reviewed, not chatted: answered again or edited as a turn, a made-up message
    # would be remembered as said, or its review state left behind.
    for command in (("regenerate", str(reply_id)), ("edit", str(reply_id), "Other words.")):
        done = dreamed.hearth(*command)
        assert done.returncode == 21 and "is a dream's" in done.stderr, done.stderr


def test_forgetting_a_memory_deletes_the_dreams_that_drew_on_it_and_their_words(
    dreamed: Dreamed,
) -> None:
    by_kind = {d["kind"]: d for d in dreamed.report["dreams"]}
    gone, kept = by_kind["past_event"], by_kind["correction"]
    # Accepted here too: this test does not lean on the export test having run first.
    accept = ("--accept", str(gone["id"]), "--accept", str(kept["id"]))
    done = dreamed.hearth("dream", "review", *accept, "--json")
    assert done.returncode == 0, done.stderr
    done = dreamed.hearth("export", "sft", "--include-synthetic", "--json")
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert exported["path"] is not None, exported
    written = Path(exported["path"])
    assert _in(gone["scenario"], written.read_text(encoding="utf-8"))

    done = dreamed.hearth("memory", "forget", dreamed.ids["event"], "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["journal"]["dream_messages_deleted"] == 2
    journal = Journal(dreamed.paths.journal)
    try:
        left = {d.id for d in dreams(journal)}
        assert gone["id"] not in left and kept["id"] in left
    finally:
        journal.close()
    text = written.read_text(encoding="utf-8")
    assert not _in(gone["scenario"], text) and _in(kept["scenario"], text)


def test_review_on_a_terminal_asks_about_each_pending_dream(
    make_agent: Callable[..., tuple[Home, Agent]], hearth_home: Path
) -> None:
    home, agent = make_agent(sampling={"max_tokens": 8})
    assert agent.store is not None
    seed_memories(agent.store)
    made = run_dreams(agent, 3, seed=5).dreams
    home.close()  # the review opens the data dir for itself
    done = on_a_terminal(hearth_home, ["dream", "review"], f"a\ne\n{EDITED}\nr")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("[a]ccept, [e]dit, [r]eject") == 3
    journal = Journal(resolve_paths().journal)
    try:
        states = {d.id: d for d in dreams(journal)}
    finally:
        journal.close()
    assert [states[d.id].review for d in made] == ["accepted", "edited", "rejected"]
    assert states[made[1].id].reply == EDITED


def real_loader(embedder: SentenceEmbedder) -> Callable[[Home], Agent]:
    """The app's agent on the real model, with the session's embedder (loaded once)."""

    def load(home: Home) -> Agent:
        home.store = MemoryStore.open(
            home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
        )
        return load_agent(home)

    return load


async def test_the_dreams_screen_accepts_rejects_and_edits_with_keys(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    app = HearthApp(make_home(sampling={"max_tokens": 8}), loader=real_loader(embedder))
    async with app.run_test(size=(120, 36)) as pilot:
        await _ready(pilot)
        assert app.agent is not None and app.agent.store is not None
        seed_memories(app.agent.store)
        made = run_dreams(app.agent, 3, seed=3).dreams
        await pilot.press("f3")
        await _until(pilot, lambda: isinstance(app.screen, DreamsScreen))
        screen = app.screen
        assert isinstance(screen, DreamsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 3

        async def act(row: int, *keys: str) -> None:
            table.move_cursor(row=row)
            await pilot.pause()
            await pilot.press(*keys)
            await pilot.pause()

        await act(0, "a")
        await act(1, "r")
        await act(2, "e")
        await _until(pilot, lambda: isinstance(app.screen, TextDialog))
        app.screen.query_one(Input).value = EDITED
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, DreamsScreen))
        await pilot.pause()

        states = {d.id: d for d in dreams(app.home.journal)}
        first, second, third = (states[d.id] for d in made)
        assert (first.review, second.review, third.review) == ("accepted", "rejected", "edited")
        assert third.reply == EDITED and third.original_reply == made[2].reply
        assert [str(table.get_row_at(i)[0]) for i in range(3)] == [
            "accepted",
            "rejected",
            "edited",
        ]
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, DreamsScreen))
