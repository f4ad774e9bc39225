"""No echo: a reply that starts to print the notes, their markers or the instructions back is
cut where it began, and journaled with finish_reason `echo`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence

from agent.context import BLOCK_START, ECHO
from agent.reply_end import NO_WORDS, EchoGuard
from agent.runtime.backend import Generation
from agent.startup import Home
from agent.turn import Agent
from memory.graph.embedder import SentenceEmbedder
from memory.graph.store import MemoryStore
from memory.journal.schemas import ChatMessage, ModelInfo
from memory.settings import SamplingSettings
from tests.scripted_backend import ScriptedBackend

PERSONA = (
    "You are Hearth, a warm and attentive companion who remembers the person you talk to. "
    "Reply briefly and kindly."
)


def _feed(text: str, size: int) -> EchoGuard:
    guard = EchoGuard(ECHO, PERSONA)
    for i in range(0, len(text), size):
        if guard.feed(text[i : i + size]):
            break
    return guard


def test_a_note_line_a_marker_or_the_persona_is_caught_where_it_began() -> None:
    answer = "Your dog is called Lupo. "
    for echoed in (
        '- [2026-12-07] about Marta: "Marta has a dog called Lupo"',
        "[Notes you keep about the person you are talking with",
        "[End of notes]",
        "You are Hearth, a warm and attentive companion.",
    ):
        for size in (1, 3, 8, 200):  # however the tokens split it
            text = answer + echoed + " and more"
            guard = _feed(text, size)
            assert guard.echo_from is not None, (echoed, size)
            assert text[: guard.echo_from].rstrip() == answer.rstrip(), (echoed, size)


def test_a_bracket_holds_back_only_what_may_become_a_mark() -> None:
    guard = EchoGuard(ECHO, PERSONA)
    guard.feed("Lupo [he is 4")
    assert guard.shown_upto() == len("Lupo")  # may yet become a note's date
    rest = " years old] and loves walks all day long by the river, truly he does."
    guard.feed(rest)
    assert guard.echo_from is None and guard.shown_upto() == len("Lupo [he is 4" + rest)


def test_the_notes_words_in_a_reply_are_the_answer_not_an_echo() -> None:
    text = (
        "You told me Marta has a dog called Lupo, and you keep bees in Asturias. I am Hearth, "
        "your companion, and I remember the person I talk to. [1] A warm welcome back! "
    )
    assert _feed(text, 4).echo_from is None


class EchoingBackend(ScriptedBackend):
    """Answers, then prints back the person's message as the model was shown it (the notes)."""

    def stream(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingSettings,
        stats: Generation,
        stop: threading.Event | None = None,
    ) -> Generator[str, None, None]:
        self.replies = [f"Your dog is Lupo. {messages[-1].content}"]
        yield from super().stream(messages, sampling, stats, stop)


def test_a_reply_that_repeats_the_notes_is_cut_and_journaled_as_an_echo(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    home = make_home()
    store = MemoryStore.open(
        home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
    )
    home.store = store
    store.add("Marta has a dog called Lupo.")
    backend = EchoingBackend()
    info = ModelInfo(name=backend.name, path=str(backend.path), sha256="0" * 64)
    agent = Agent(home.settings, home.journal, backend, info, store)
    streamed: list[str] = []
    result = agent.run_turn(agent.session().id, "What's my dog called?", on_piece=streamed.append)
    user = agent.journal.message(result.user_turn_id)
    assert user.meta.recalled_ids  # the notes were shown, and the reply began to print them
    reply = agent.journal.message(result.turn_id)
    shown = user.meta.shown_as or ""
    assert shown.startswith(BLOCK_START)
    # Stopped as soon as the echo began, and nothing of it reached the screen or the client.
    assert "".join(streamed) == "Your dog is Lupo."
    assert reply.usage.completion_tokens < len(shown.split())
    assert reply.usage.finish_reason == result.finish_reason == "echo"
    assert reply.text == result.reply == "Your dog is Lupo."
    assert reply.status == "complete"


def test_a_served_client_is_told_the_reply_was_cut_for_an_echo() -> None:
    from agent.serving.api import _finish
    from agent.turn_result import TurnResult

    fields = dict(
        reply="Your dog is Lupo.", status="complete", session_id=1, turn_id=2, user_turn_id=1,
        model="scripted", prompt_tokens=9, completion_tokens=5, tokens_evaluated=9,
        tokens_reused=0, trimmed=[], context_budget=512, ttft_ms=None, total_ms=None,
        tokens_per_s=None,
    )  # fmt: skip
    said = {r: _finish(TurnResult(**fields, finish_reason=r)) for r in ("echo", "loop", "length")}
    assert said == {"echo": "echo", "loop": "stop", "length": "length"}


def test_the_start_of_a_recited_persona_is_held_back_until_it_is_known() -> None:
    guard = EchoGuard(ECHO, PERSONA)
    guard.feed("You are Hearth, a ")
    assert guard.shown_upto() == 0  # may yet be the persona: nothing of it reaches the screen
    guard.feed("warm and ")  # the sixth word of the persona
    assert guard.echo_from == 0
    other = EchoGuard(ECHO, PERSONA)
    other.feed("You are right, it is lovely. ")
    assert other.echo_from is None and other.shown_upto() == len("You are right, it is lovely. ")


def test_a_date_in_brackets_is_an_answer_unless_a_note_line_follows_it() -> None:
    for said in (
        "We set it for [2026-12-07]. See you then, it will be lovely. ",
        "Your appointment is on [2026-12-07] at the clinic: bring your card. ",
        "[2026-12-07] is a Monday, as it happens, and a quiet one. ",
    ):
        assert _feed(said, 3).echo_from is None, said
    for note in (
        "[2026-12-07] Marta said: ",
        "[3 days ago] about the person: ",
        "[2026-12-07] Fahim: ",
    ):
        assert _feed(f"Sure. {note}hello there ", 3).echo_from == len("Sure."), note


class StartEchoBackend(ScriptedBackend):
    """Begins `echoes` replies by printing the message as shown (the notes) after `mark`, then
    answers."""

    def __init__(self, echoes: int, mark: str = "") -> None:
        super().__init__(["Your dog is Lupo."])
        self.echoes = echoes
        self.mark = mark
        self.seeds: list[int | None] = []

    def stream(
        self,
        messages: Sequence[ChatMessage],
        sampling: SamplingSettings,
        stats: Generation,
        stop: threading.Event | None = None,
    ) -> Generator[str, None, None]:
        self.seeds.append(sampling.seed)
        echo = len(self.seeds) <= self.echoes
        self.replies = [self.mark + messages[-1].content if echo else "Your dog is Lupo."]
        yield from super().stream(messages, sampling, stats, stop)


def _agent_with_a_note(
    make_home: Callable[..., Home], embedder: SentenceEmbedder, backend: ScriptedBackend
) -> Agent:
    home = make_home()
    store = MemoryStore.open(
        home.paths, home.settings, write=True, lock=home.lock, embedder=embedder
    )
    home.store = store
    store.add("Marta has a dog called Lupo.")
    info = ModelInfo(name=backend.name, path=str(backend.path), sha256="0" * 64)
    return Agent(home.settings, home.journal, backend, info, store)


def test_a_reply_that_begins_as_an_echo_is_drawn_once_more(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    backend = StartEchoBackend(echoes=1)
    agent = _agent_with_a_note(make_home, embedder, backend)
    streamed: list[str] = []
    sampling = agent.settings.sampling.model_copy(update={"seed": 7, "temperature": 0.0})
    result = agent.run_turn(
        agent.session().id, "What's my dog called?", on_piece=streamed.append, sampling=sampling
    )
    assert backend.seeds == [7, 8]  # a second draw, with another seed
    assert "".join(streamed) == result.reply == "Your dog is Lupo."  # nothing of the echo shown
    reply = agent.journal.message(result.turn_id)
    assert reply.text == "Your dog is Lupo." and reply.status == "complete"
    assert reply.usage.completion_tokens > 4  # both draws counted ("Your dog is Lupo." is 4)


def test_a_reply_that_begins_as_an_echo_twice_gives_a_short_line_not_nothing(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    backend = StartEchoBackend(echoes=2)
    agent = _agent_with_a_note(make_home, embedder, backend)
    streamed: list[str] = []
    result = agent.run_turn(agent.session().id, "What's my dog called?", on_piece=streamed.append)
    assert len(backend.seeds) == 2  # drawn twice, no more
    assert "".join(streamed) == result.reply == NO_WORDS
    reply = agent.journal.message(result.turn_id)
    assert reply.text == NO_WORDS and reply.usage.finish_reason == result.finish_reason == "echo"


def test_a_mark_alone_is_held_back_until_words_follow() -> None:
    guard = EchoGuard(ECHO, PERSONA)
    guard.feed("- ")
    assert guard.shown_upto() == 0  # a note's line may begin so: nothing shown yet
    guard.feed("Sure, ")
    assert guard.echo_from is None and guard.shown_upto() == len("- Sure, ")


def test_what_was_streamed_is_what_is_kept_when_a_marked_echo_is_drawn_again(
    make_home: Callable[..., Home], embedder: SentenceEmbedder
) -> None:
    backend = StartEchoBackend(echoes=1, mark="- ")  # its first draw opens with a list mark
    agent = _agent_with_a_note(make_home, embedder, backend)
    streamed: list[str] = []
    result = agent.run_turn(agent.session().id, "What's my dog called?", on_piece=streamed.append)
    reply = agent.journal.message(result.turn_id)
    # The mark was never shown, so the second draw is the whole reply, on screen and kept.
    assert "".join(streamed) == reply.text == result.reply
