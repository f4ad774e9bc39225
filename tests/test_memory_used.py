"""Memories the model leans on, and those recalled often that never mattered: `hearth memory
show`, the TUI's memory views and `hearth sleep`, from ablation scores written straight into a
real journal (no model: what `hearth score` would have written)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from agent.learn.consolidation import DECAY_FLOOR, SleepReport, sleep
from agent.memory_use import MIN_SCORED, NEVER_MATTERS_RECALLS, never_mattered, use_line
from agent.reply_memories import MemoryRow
from agent.startup import Home
from memory.clock import now
from memory.graph.embedder import SentenceEmbedder
from memory.graph.nodes import Memory
from memory.graph.store import MemoryStore
from memory.journal.journal import Journal
from memory.journal.schemas import MemoryUse, Score
from memory.settings import Paths, Settings
from tests.conftest import RunHearth
from tests.scripted_backend import scripted_loader
from tests.test_memory_screen import SIZE, _highlight, _open, _pane
from tests.test_tui import _ready, _until
from tui.app import HearthApp
from tui.widgets.memory_rows import row_content

CAT = "Priya's cat Biscuit is a grey tabby"
NOISE = "Priya once mentioned the weather in March"
PRIVATE = "Priya was diagnosed with asthma"
SHA = "0" * 64


def _score(
    journal: Journal, drops: dict[str, float], replies: int = MIN_SCORED, full: float = -1.0
) -> None:
    """`replies` scored replies, each with the full prompt and without each memory in `drops`
    (its mean log-probability that much lower without it)."""
    session = journal.create_session()
    for _ in range(replies):
        journal.append(session.id, "user", "How is Biscuit?")
        reply = journal.append(session.id, "assistant", "Biscuit is well.")

        def row(variant: str, mean: float, message_id: int = reply.id) -> Score:
            return Score(
                message_id=message_id,
                variant=variant,
                mean_logprob=mean,
                tokens=5,
                model_sha256=SHA,
                scored_at=now(),
            )

        journal.add_scores(
            [row("full", full)] + [row(f"without:{i}", full - d) for i, d in drops.items()]
        )


def _recalled(store: MemoryStore, *ids: str, times: int = NEVER_MATTERS_RECALLS) -> None:
    for _ in range(times):
        store.mark_recalled(list(ids))


def _memory(recalled: int) -> Memory:
    return Memory(
        id="m_1",
        kind="fact",
        text=CAT,
        learned_at=datetime(2026, 3, 1, tzinfo=UTC),
        recalled_count=recalled,
    )


def test_never_mattered_needs_enough_recalls_scored_replies_and_no_real_drop() -> None:
    quiet = MemoryUse(memory_id="m_1", drop=0.01, message_id=1, replies=MIN_SCORED)
    assert never_mattered(_memory(NEVER_MATTERS_RECALLS), quiet)
    assert not never_mattered(_memory(NEVER_MATTERS_RECALLS - 1), quiet)  # too few recalls
    assert not never_mattered(_memory(9), quiet.model_copy(update={"replies": MIN_SCORED - 1}))
    assert not never_mattered(_memory(9), quiet.model_copy(update={"drop": 0.4}))
    assert not never_mattered(_memory(9), None)  # never scored: nothing known

    assert use_line(_memory(9), None) is None
    assert use_line(_memory(9), quiet) == "recalled 9 times, never mattered"
    used = quiet.model_copy(update={"drop": 0.4})
    assert use_line(_memory(1), used) == f"used: drops by 0.400 over {MIN_SCORED} replies"
    unused = quiet.model_copy(update={"drop": -0.1})
    assert use_line(_memory(1), unused) == f"not used: no drop over {MIN_SCORED} replies"


def test_a_panel_row_shows_the_used_figure_only_when_scored() -> None:
    memory = _memory(2)
    plain = row_content(
        MemoryRow(section="recalled", memory_id="m_1", memory=memory), revealed=False
    )
    assert "used" not in plain.plain
    use = MemoryUse(memory_id="m_1", drop=0.25, message_id=1, replies=4)
    row = MemoryRow(section="recalled", memory_id="m_1", memory=memory, use=use)
    assert "used: drops by 0.250 over 4 replies" in row_content(row, revealed=False).plain
    # A sensitive memory's words stay hidden; its figures are only numbers and show.
    private = memory.model_copy(update={"text": PRIVATE, "flags": ["sensitive"]})
    drawn = row_content(row.model_copy(update={"memory": private}), revealed=False).plain
    assert "asthma" not in drawn and "used: drops by 0.250" in drawn


def test_sleep_lowers_a_memory_that_never_mattered_and_leaves_a_used_one(
    paths: Paths, embedder: SentenceEmbedder
) -> None:
    journal = Journal(paths.journal)
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        cat = store.add(CAT, importance=0.5)
        noise = store.add(NOISE, importance=0.5)
        # Recalled often, but not quite often enough yet: one recall short.
        _recalled(store, cat.id, noise.id, times=NEVER_MATTERS_RECALLS - 1)
        _score(journal, {cat.id: 0.3, noise.id: 0.01})

        assert sleep(store, at=now(), journal=journal).never_mattered == []
        _recalled(store, cat.id, noise.id, times=1)
        # Without the journal, sleep knows nothing about use and lowers nothing.
        assert sleep(store, at=now()).never_mattered == []

        report = sleep(store, at=now(), journal=journal)
        assert report.never_mattered == [noise.id] and report.changed
        lowered = store.get(noise.id)
        assert (lowered.importance, lowered.base_importance) == (0.25, 0.5)
        assert store.get(cat.id).importance == 0.5
        assert [e.actor for e in store.history(noise.id)][-1] == "consolidation"

        # Halved from the base, not again each night: a second run changes nothing.
        again = sleep(store, at=now(), journal=journal)
        assert not again.changed, again
    journal.close()
    assert DECAY_FLOOR < 0.25  # the floor did not decide the figure above


def test_memory_show_and_sleep_json_say_it_never_mattered(
    run_hearth: RunHearth, paths: Paths, embedder: SentenceEmbedder
) -> None:
    journal = Journal(paths.journal)
    with MemoryStore.open(paths, Settings(), write=True, embedder=embedder) as store:
        noise = store.add(NOISE, importance=0.6)
        _recalled(store, noise.id)
    _score(journal, {noise.id: 0.0})
    journal.close()

    shown = json.loads(run_hearth("memory", "show", noise.id, "--json").stdout)
    assert shown["used"]["never_mattered"] and not shown["used"]["used"]
    text = run_hearth("memory", "show", noise.id).stdout
    assert f"never mattered: recalled {NEVER_MATTERS_RECALLS} times" in text

    report = json.loads(run_hearth("sleep", "--json").stdout)
    assert report["never_mattered"] == [noise.id]
    assert "lowered 0 that never mattered" in run_hearth("sleep").stdout
    with MemoryStore.open(paths, Settings(), write=False, embedder=embedder) as store:
        assert store.get(noise.id).importance == 0.3


async def test_the_memory_screen_shows_how_much_replies_lean_on_a_memory(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    app = HearthApp(make_home(), loader=scripted_loader(embedder))
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.agent is not None and app.agent.store is not None
        store = app.agent.store
        cat = store.add(CAT)
        noise = store.add(NOISE)
        private = store.add(PRIVATE, kind="event", flags=["sensitive"])
        unscored = store.add("Priya likes green tea", kind="preference")
        _recalled(store, noise.id)
        _score(app.home.journal, {cat.id: 0.42, noise.id: 0.0, private.id: 0.2})

        screen = await _open(pilot)
        await _highlight(pilot, screen, cat.id)
        assert f"used: drops by 0.420 over {MIN_SCORED} replies" in _pane(screen)
        await _highlight(pilot, screen, noise.id)
        assert f"recalled {NEVER_MATTERS_RECALLS} times, never mattered" in _pane(screen)
        await _highlight(pilot, screen, unscored.id)
        assert "used" not in _pane(screen) and "never mattered" not in _pane(screen)
        await _highlight(pilot, screen, private.id)
        pane = _pane(screen)
        assert "asthma" not in pane and "used: drops by 0.200" in pane


async def test_an_idle_chat_sleeps_once_on_the_memory_worker(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    # Idle after 0.3 s: the memory is seeded before the app starts, so its first idle spell
    # finds the memory that never mattered.
    home = make_home(memory={"idle_sleep_minutes": 0.005})
    with MemoryStore.open(
        home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
    ) as store:
        noise = store.add(NOISE, importance=0.5)
        _recalled(store, noise.id)
    _score(home.journal, {noise.id: 0.0})
    app = HearthApp(home, loader=scripted_loader(embedder))
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        assert app.agent is not None and app.agent.store is not None
        kept = app.agent.store
        await _until(pilot, lambda: kept.get(noise.id).importance == 0.25)
        await _until(pilot, lambda: any("While idle" in str(n.message) for n in app._notifications))
        assert app.idle_slept  # once this spell: no second run until a turn ends
        said = [str(n.message) for n in app._notifications if "While idle" in str(n.message)]
        assert said == ["While idle: " + _summary(lowered=1) + "."]
        await pilot.pause(0.5)
        assert len([n for n in app._notifications if "While idle" in str(n.message)]) == 1


def _summary(lowered: int) -> str:
    return (
        "merged 0 duplicate(s), linked 0 pair(s), wrote 0 reflection(s), decayed 0 memory(ies),"
        f" lowered {lowered} that never mattered"
    )


def test_idle_sleep_steps_aside_while_a_turn_or_change_holds_the_agent(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    agent = scripted_loader(embedder)(make_home())
    assert agent.store is not None
    noise = agent.store.add(NOISE, importance=0.5)
    _recalled(agent.store, noise.id)
    _score(agent.journal, {noise.id: 0.0})
    got: list[tuple[SleepReport | None, str | None]] = []
    with agent.paused():  # as a turn, a memory change or a lent data dir holds it
        assert agent.sleep_when_idle(lambda report, error: got.append((report, error)))
        # The worker gives up at once rather than wait: settle() inside here would deadlock.
        agent.settle()
    assert got == [(None, None)] and agent.store.get(noise.id).importance == 0.5
    assert agent.sleep_when_idle(lambda report, error: got.append((report, error)))
    agent.settle()
    report, error = got[-1]
    assert error is None and report is not None and report.never_mattered == [noise.id]
