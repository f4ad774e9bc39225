"""`hearth bench answers --dataset`: does memory make the reply right, on a data set's questions.

Each conversation holding a sampled question is imported into a scratch data dir (the import
`hearth bench retrieval` scores: journal, write path, import-time memories), or found already
imported in `--keep-dir`. Each question is then asked in a new session of that data dir, through
the chat's own turn pipeline (`Agent.reply_to`: the context builder, the echo guard, the
sampling), dated the day after the conversation's last session, four ways:

- none: memory off;
- hearth: memory on (the notes Hearth recalls for the question);
- oracle: the gold evidence turns as a transcript block (`[date] Speaker: text` lines between
  the notes' markers) in the notes' place, memory off;
- recent: the conversation's last turns as such a block, as many as fit the context, memory
  off.

No question is remembered (the data dir is the same for every question and every way). Each
reply is scored against the gold answer with LoCoMo's token F1 and answer-token recall
(`benchmarks.answers_scoring` states the normaliser). With `first_person`, every question
about the conversation's `user` is also asked as they would ask it ("Where was I born?"), and
its gold answer is read as said to them ("your mum") before scoring.
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from agent.context import BLOCK_END, BLOCK_START, instructions, with_memories
from agent.importing.conversations import aware, import_conversation
from agent.importing.records import Conversation
from agent.turn import Agent
from benchmarks.answers_scoring import answer_recall, first_person, second_person, token_f1
from benchmarks.dataset import evidence_turns, open_dataset, turn_document
from benchmarks.understanding_bits import person_of
from memory.journal.journal import Journal
from memory.journal.schemas import ChatMessage, MessageMeta, ModelInfo
from memory.settings import ChatSettings, MemorySettings, Paths, Settings

if TYPE_CHECKING:
    from agent.importing.conversations import CachedEmbedder
    from agent.runtime.backend import ChatBackend
    from memory.graph.embedder import Embedder

Way = Literal["none", "hearth", "oracle", "recent"]
WAYS: tuple[Way, ...] = ("none", "hearth", "oracle", "recent")
Form = Literal["as given", "first person"]
SAMPLE = 60
"""Questions asked by default, drawn at random over every conversation."""
QUESTION_ROOM = 64
"""Tokens the recent block leaves for the question (and the prompt's own overhead)."""
IMPORTED = "imported"
"""The file a kept data dir holds once its conversation is wholly imported."""


@dataclass(frozen=True)
class Asked:
    """One sampled question of a conversation."""

    conversation: str
    question: str
    category: str
    gold: str
    evidence: tuple[str, ...]


class Reply(BaseModel):
    conversation: str
    form: Form
    way: Way
    category: str
    question: str
    gold: str
    reply: str
    f1: float
    recall: float
    finish_reason: str | None
    notes: int
    """Memories recalled (hearth) or transcript lines shown (oracle, recent)."""


class Figures(BaseModel):
    """Means over replies."""

    f1: float
    recall: float
    questions: int


class WayFigures(Figures):
    per_category: dict[str, Figures]


class FormReport(BaseModel):
    form: Form
    rewritten: int
    """Questions whose words changed in this form (0 as given)."""
    ways: dict[str, WayFigures]
    hearth_over_oracle: float | None
    """Hearth's F1 over the oracle's (None when the oracle scored 0)."""


class AnswersReport(BaseModel):
    dataset: str
    model: str
    sample: int
    candidates: int
    """Questions with evidence turns (what the sample is drawn from)."""
    seed: int
    conversations: int
    forms: list[FormReport]
    normaliser: str
    ingest_s: float
    """Importing the conversations (0 for those found in --keep-dir)."""
    asking_s: float
    per_reply_s: float | None
    wall_s: float
    replies: list[Reply]


NORMALISER = (
    "LoCoMo token F1: lower-case, punctuation removed, a/an/the/and removed, whitespace split, "
    "no stemming (nltk's Porter stemmer is not installed)"
)


def pick(conversations: Sequence[Conversation], sample: int, seed: int) -> tuple[list[Asked], int]:
    """A random sample of the questions that name evidence turns, in data set order, and how
    many there were to draw from."""
    everything: list[Asked] = []
    for c in conversations:
        turn_ids = [t.id for _s, _i, t in c.turns()]
        for q in c.questions:
            evidence = evidence_turns(q.evidence, turn_ids)
            if evidence:
                everything.append(Asked(c.id, q.question, q.category, q.answer, tuple(evidence)))
    chosen = set(random.Random(seed).sample(range(len(everything)), min(sample, len(everything))))
    return [a for i, a in enumerate(everything) if i in chosen], len(everything)


def transcript(conversation: Conversation, turn_ids: Sequence[str]) -> list[str]:
    """The turns named, in the conversation's order, as `[date] Speaker: text` lines."""
    wanted = set(turn_ids)
    return [
        turn_document(s.date.date().isoformat(), t.speaker, " ".join(t.text.split()))
        for s, _i, t in conversation.turns()
        if t.id in wanted
    ]


def block(lines: Sequence[str]) -> str:
    """Transcript lines between the notes' markers ('' when none)."""
    return "\n".join([BLOCK_START, *lines, BLOCK_END]) if lines else ""


def recent_lines(conversation: Conversation, room: int, count: Callable[[str], int]) -> list[str]:
    """The conversation's last turns as transcript lines, as many as fit in `room` tokens."""
    turns = conversation.turns()
    lines: list[str] = []
    used = 0
    for s, _i, t in reversed(turns):
        line = turn_document(s.date.date().isoformat(), t.speaker, " ".join(t.text.split()))
        cost = count(line) + 1
        if used + cost > room:
            break
        lines.append(line)
        used += cost
    return lines[::-1]


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text)[:80] or "conversation"


@contextlib.contextmanager
def _data_dir(keep: Path | None, conversation: Conversation) -> Iterator[Path]:
    """The conversation's data dir: kept under `keep` (reused), else temporary."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="hearth-answers-") as tmp:
            yield Path(tmp)
        return
    home = keep / _slug(conversation.id)
    if home.exists() and not (home / IMPORTED).exists():
        shutil.rmtree(home)  # an interrupted import: start it again from nothing
    home.mkdir(parents=True, exist_ok=True)
    yield home


@dataclass
class _Run:
    replies: list[Reply]
    ingest_s: float = 0.0
    asking_s: float = 0.0


def _ask(
    agent: Agent,
    person: str,
    text: str,
    way: Way,
    shown: str,
    at: timedelta,
    conversation: Conversation,
) -> tuple[str, str | None, int]:
    """One question in a new session, answered through the turn pipeline: the reply, its
    finish reason, and how many notes or lines it was shown."""
    journal = agent.journal
    session = journal.create_session(title=f"bench answers: {way}")
    when = aware(conversation.sessions[-1].date) + at
    meta = MessageMeta(
        memory=way == "hearth",
        remembered=True,  # never written to memory: every question sees the same data dir
        shown_as=with_memories(text, shown) if way in ("oracle", "recent") else None,
    )
    user = journal.append(session.id, "user", text, speaker=person, meta=meta, created_at=when)
    result = agent.reply_to(user.id)
    lines = shown.count("\n") - 1 if shown else 0
    return result.reply, result.finish_reason, len(result.recalled) if way == "hearth" else lines


def _conversation(
    conversation: Conversation,
    asked: Sequence[Asked],
    backend: ChatBackend,
    info: ModelInfo,
    settings: Settings,
    embedder: CachedEmbedder,
    keep: Path | None,
    forms: Sequence[Form],
    run: _Run,
    advance: Callable[[int], None],
) -> None:
    from memory.graph.store import MemoryStore

    person = person_of(conversation)
    settings = settings.model_copy(
        update={"chat": settings.chat.model_copy(update={"user_name": person})}
    )
    with _data_dir(keep, conversation) as home:
        paths = Paths(config_file=home / "config.toml", data_dir=home, models_dir=home / "models")
        fresh = not (home / IMPORTED).exists()
        with MemoryStore.open(paths, settings, write=True, embedder=embedder) as store:
            journal = Journal(paths.journal)
            try:
                if fresh:
                    start = time.perf_counter()
                    import_conversation(
                        journal, store, conversation, source=conversation.id, advance=advance
                    )
                    run.ingest_s += time.perf_counter() - start
                    (home / IMPORTED).write_text(conversation.id + "\n", encoding="utf-8")
                agent = Agent(settings, journal, backend, info, store)
                start = time.perf_counter()
                _questions(agent, conversation, person, asked, forms, run, advance)
                run.asking_s += time.perf_counter() - start
            finally:
                journal.close()


def _questions(
    agent: Agent,
    conversation: Conversation,
    person: str,
    asked: Sequence[Asked],
    forms: Sequence[Form],
    run: _Run,
    advance: Callable[[int], None],
) -> None:
    system = ChatMessage(role="system", content=instructions(agent.settings.chat.persona, person))
    at = timedelta(days=1)
    # One recent block for every question of the conversation, with room for a question of
    # QUESTION_ROOM tokens: the prompt up to the question is then the same each time, and the
    # model re-reads only the question (its KV cache keeps the rest between replies).
    frame = ChatMessage(role="user", content=with_memories("", block(["-"])))
    room = agent.budget - agent.backend.count_tokens([system, frame]) - QUESTION_ROOM
    recent = block(recent_lines(conversation, room, agent.backend.count_text))
    # Way by way, so each way's prompts follow one another (the cache serves the next one).
    for way in WAYS:
        for q in asked:
            shown = {"oracle": block(transcript(conversation, q.evidence)), "recent": recent}
            for form in forms:
                text = first_person(q.question, person) if form == "first person" else q.question
                gold = second_person(q.gold, person) if form == "first person" else q.gold
                same = next(
                    (
                        r
                        for r in run.replies
                        if form == "first person" and text == q.question
                        and r.form == "as given" and r.way == way and r.question == text
                        and r.conversation == q.conversation
                    ),
                    None,
                )  # fmt: skip
                if same is not None:  # the question reads the same: its reply, scored anew
                    reply, finish, notes = same.reply, same.finish_reason, same.notes
                else:
                    reply, finish, notes = _ask(
                        agent, person, text, way, shown.get(way, ""), at, conversation
                    )
                run.replies.append(
                    Reply(
                        conversation=q.conversation, form=form, way=way, category=q.category,
                        question=text, gold=gold, reply=reply, f1=round(token_f1(reply, gold), 4),
                        recall=round(answer_recall(reply, gold), 4), finish_reason=finish,
                        notes=notes,
                    )
                )  # fmt: skip
                advance(1)


def _figures(replies: Sequence[Reply]) -> Figures:
    return Figures(
        f1=round(statistics.fmean(r.f1 for r in replies), 4) if replies else 0.0,
        recall=round(statistics.fmean(r.recall for r in replies), 4) if replies else 0.0,
        questions=len(replies),
    )


def form_report(form: Form, replies: Sequence[Reply], rewritten: int) -> FormReport:
    """Each way's figures, overall and per category (sorted), and hearth over oracle."""
    ways: dict[str, WayFigures] = {}
    for way in WAYS:
        rows = [r for r in replies if r.form == form and r.way == way]
        per = {
            c: _figures([r for r in rows if r.category == c])
            for c in sorted({r.category for r in rows})
        }
        ways[way] = WayFigures(**_figures(rows).model_dump(), per_category=per)
    oracle = ways["oracle"].f1
    return FormReport(
        form=form,
        rewritten=rewritten,
        ways=ways,
        hearth_over_oracle=round(ways["hearth"].f1 / oracle, 3) if oracle else None,
    )


def run_answers_bench(
    path: Path,
    backend: ChatBackend,
    info: ModelInfo,
    settings: Settings,
    *,
    sample: int = SAMPLE,
    seed: int = 0,
    first: bool = False,
    keep_dir: Path | None = None,
    limit: int | None = None,
    embedder: Embedder | None = None,
    on_total: Callable[[int], None] = lambda n: None,
    advance: Callable[[int], None] = lambda n: None,
    describe: Callable[[str], None] = lambda text: None,
) -> AnswersReport:
    """Import each conversation with a sampled question (or reuse it from `keep_dir`) and ask
    its sampled questions four ways. `settings` are the chat's (model, sampling); memory and
    chat settings are the defaults; `limit` keeps the first N conversations (a quick run).
    `advance` is called once a turn imported and a reply."""
    started = time.perf_counter()
    dataset, conversations, cached = open_dataset(path, limit, embedder, lambda n: None, describe)
    asked, candidates = pick(conversations, sample, seed)
    wanted = [c for c in conversations if any(a.conversation == c.id for a in asked)]
    forms: tuple[Form, ...] = ("as given", "first person") if first else ("as given",)
    settings = Settings.model_construct(
        model=settings.model,
        sampling=settings.sampling,
        chat=ChatSettings(),
        memory=MemorySettings(),
    )
    kept = {c.id for c in wanted if keep_dir and (keep_dir / _slug(c.id) / IMPORTED).exists()}
    on_total(
        sum(len(c.turns()) for c in wanted if c.id not in kept)
        + len(asked) * len(forms) * len(WAYS)
    )
    run = _Run(replies=[])
    for number, conversation in enumerate(wanted, start=1):
        describe(f"{number}/{len(wanted)} {conversation.id}")
        mine = [a for a in asked if a.conversation == conversation.id]
        _conversation(
            conversation, mine, backend, info, settings, cached, keep_dir, forms, run, advance
        )
        cached.clear()  # each conversation's texts are its own; keep memory flat
    person = {c.id: person_of(c) for c in wanted}
    rewritten = sum(first_person(a.question, person[a.conversation]) != a.question for a in asked)
    replies = run.replies
    asked_replies = len({(r.conversation, r.question, r.way) for r in replies})
    return AnswersReport(
        dataset=dataset.name,
        model=info.name,
        sample=sample,
        candidates=candidates,
        seed=seed,
        conversations=len(wanted),
        forms=[form_report(f, replies, rewritten if f == "first person" else 0) for f in forms],
        normaliser=NORMALISER,
        ingest_s=round(run.ingest_s, 1),
        asking_s=round(run.asking_s, 1),
        per_reply_s=round(run.asking_s / asked_replies, 2) if asked_replies else None,
        wall_s=round(time.perf_counter() - started, 1),
        replies=replies,
    )
