"""`hearth bench extraction`: whether the write path remembers the turns questions are about."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.importing.conversations import CachedEmbedder, turn_time
from agent.learn.extract import Candidate, extract
from agent.learn.write_path import MAX_EXTRACT_CHARS, Extractor, WriteAction, remember
from benchmarks.dataset import evidence_turns, open_dataset, scratch_home
from memory.graph.nodes import KINDS, Memory
from memory.settings import MemorySettings, ModelSettings
from memory.text import straighten_apostrophes

if TYPE_CHECKING:
    from agent.importing.records import Conversation
    from memory.graph.embedder import Embedder

# -- "states": the turn's content words in the memory ------------------------------------------


def _listed(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that carry no content of their own: articles, pronouns of every person (a memory is
# rewritten about its subject, "I" becoming "Priya"), auxiliaries, prepositions, conjunctions,
# and the contractions chat writes with or without the apostrophe ("I'm", "Im"). Fixed, and
# separate from memory.text's lists: those answer other questions (searching, names).
STOP_WORDS = _listed(
    """
    a an the and or but if so as of in on at by for from to with about into over up down out off
    than then too very just also not no yes yeah oh ok okay lol
    i me my mine myself you your yours yourself u ur he him his she her hers it its itself
    we us our ours they them their theirs this that these those there here
    who whom whose which what when where why how
    am is are was were be been being have has had having do does did doing done
    can could will would shall should may might must
    i'm im i've ive i'll i'd you're youre you've you'll you'd he's she's it's we're we've
    we'll they're they've that's thats there's what's let's
    don't dont doesn't doesnt didn't didnt can't cant won't wont isn't isnt aren't wasn't
    weren't haven't hasn't hadn't couldn't wouldn't shouldn't
    """
)
# Suffixes taken off before comparing, at most one and only when three letters stay, then a
# final "e": "works", "worked", "working" and "work" compare equal, as do "nurses" and
# "nurse", so a third-person rewrite ("Priya works as a nurse") is not penalised.
SUFFIXES = ("ing", "ed", "s")
MIN_STEM = 3
STATED_SHARE = 0.5
"""A memory states a turn when it holds at least this share of the turn's content words."""

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

RULE = (
    "cited: a write-path memory's provenance names the turn. stated: a memory citing the turn "
    "holds at least half of the turn's content words (its text, plus the verbatim quote of the "
    "candidate that set that text). Content words: lowercased, apostrophes straightened, a "
    "trailing 's dropped, a fixed stop-word list removed (articles, pronouns, auxiliaries, "
    "prepositions, contractions), then one of -ing/-ed/-s and a final -e stripped when three "
    "letters stay (so works/worked/working/work match). A turn with no content words is stated "
    "by any memory citing it."
)


def stem(word: str) -> str:
    """A word's comparable form: one of SUFFIXES off (three letters must stay), then a final e."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > MIN_STEM else word


def content_words(text: str) -> set[str]:
    """The text's content words, stemmed (see RULE)."""
    words: set[str] = set()
    for token in _TOKEN.findall(straighten_apostrophes(text).casefold()):
        token = token.removesuffix("'s")
        if token and token not in STOP_WORDS:
            words.add(stem(token))
    return words


def held(turn: str, memory: str) -> float:
    """The share of the turn's content words found in the memory's (1.0 when it has none)."""
    wanted = content_words(turn)
    if not wanted:
        return 1.0
    return len(wanted & content_words(memory)) / len(wanted)


def states(turn: str, memory: str) -> bool:
    return held(turn, memory) >= STATED_SHARE


# -- the extractor ----------------------------------------------------------------------------


def extractor_for(model: Path | None, settings: ModelSettings) -> tuple[str, Extractor]:
    """The extractor to measure, with its name: the rules, or the model extractor running on
    `model` (loaded through the one Llama factory, with the user's model settings)."""
    if model is None:
        return "rules", extract
    from agent.learn.model_extract import ModelExtractor
    from agent.runtime.backend import LlamaBackend

    # Its own instance and no chat on it: no KV cache of a chat to keep between messages.
    return f"model {model.name}", ModelExtractor(LlamaBackend(model, settings), keep_cache=False)


class _Remembered:
    """An extractor that keeps what it found per turn: the bench embeds every candidate's text
    in one batch before the write path asks for them one at a time, and reads their quotes
    after, without extracting twice (a model extractor is slow)."""

    def __init__(self, inner: Extractor) -> None:
        self.inner = inner
        self.found: dict[tuple[str, str, datetime], list[Candidate]] = {}

    def __call__(self, text: str, *, speaker: str, when: datetime) -> list[Candidate]:
        key = (text, speaker, when)
        if key not in self.found:
            self.found[key] = self.inner(text, speaker=speaker, when=when)
        return self.found[key]


# -- the report -------------------------------------------------------------------------------


class Coverage(BaseModel):
    """Question evidence turns (a turn named by two questions counts twice)."""

    evidence: int
    cited: int
    """Some write-path memory cites the turn."""
    stated: int
    """Some memory citing the turn states it (RULE)."""


class KindFigures(BaseModel):
    memories: int
    """Memories of this kind the write path made (superseded and merged ones included)."""
    cited: int
    """Evidence turns whose best citing memory is of this kind."""
    stated: int
    """Evidence turns whose best stating memory is of this kind."""


class ExtractionReport(BaseModel):
    dataset: str
    extractor: str
    rule: str
    conversations: int
    turns: int
    memories: int
    """Memories the write path made over every turn (superseded and merged ones included)."""
    actions: dict[str, int]
    """Write actions (add, update, supersede, noop) over every turn."""
    turns_with_memory: int
    """Turns some memory cites."""
    questions: int
    skipped: int
    """Questions left without evidence once ids were parsed (not scored)."""
    questions_stated: int
    """Questions whose every evidence turn is stated."""
    distinct_evidence: int
    distinct_stated: int
    overall: Coverage
    per_category: dict[str, Coverage]
    per_kind: dict[str, KindFigures]
    seconds: float
    """Wall time of the runs (loading the embedding model excluded)."""


@dataclass
class _Pair:
    """One question's evidence turn and what the write path left for it."""

    category: str
    turn: str
    cited_kind: str | None
    stated_kind: str | None


@dataclass
class _Run:
    pairs: list[_Pair] = field(default_factory=list)
    questions: int = 0
    questions_stated: int = 0
    skipped: int = 0
    distinct: int = 0
    distinct_stated: int = 0
    turns: int = 0
    turns_with_memory: int = 0
    memories: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)


def _best(turn_text: str, citing: Sequence[tuple[Memory, str]]) -> tuple[str | None, str | None]:
    """The kinds of the citing memory holding most of the turn, and of it when it states it."""
    if not citing:
        return None, None
    scored = [(held(turn_text, f"{m.text} {quote}"), i, m) for i, (m, quote) in enumerate(citing)]
    share, _i, best = max(scored, key=lambda s: (s[0], -s[1]))
    return best.kind, best.kind if share >= STATED_SHARE else None


def _quotes(actions: Sequence[WriteAction], found: Sequence[Candidate]) -> dict[str, str]:
    """Memory id -> the quote of the candidate whose text the memory took (a noop took none)."""
    quotes: dict[str, str] = {}
    for action in actions:
        if action.action == "noop":
            continue
        quote = next((c.quote for c in found if c.text == action.text), None)
        if quote is not None:
            quotes[action.memory_id] = quote
    return quotes


def _conversation(
    conversation: Conversation,
    extractor: Extractor,
    embedder: CachedEmbedder,
    memory: MemorySettings,
    run: _Run,
    advance: Callable[[int], None],
) -> None:
    """The write path over every turn into a fresh store (turn i is message i + 1), then each
    question's evidence turns checked against the memories that cite them."""

    turns = conversation.turns()
    remembered = _Remembered(extractor)
    # The write path reads this much of a message: the same text finds the same candidates.
    said = [t.text[:MAX_EXTRACT_CHARS] for _s, _i, t in turns]
    texts = [
        c.text
        for text, (s, i, t) in zip(said, turns, strict=True)
        for c in remembered(text, speaker=t.speaker, when=turn_time(s, i))
    ]
    # One batch: the write path then finds every vector cached.
    embedder.embed(texts)
    quotes: dict[str, str] = {}
    with scratch_home("hearth-extraction-", embedder, memory) as (store, _journal):
        for number, (session, index, turn) in enumerate(turns, start=1):
            when = turn_time(session, index)
            actions = remember(
                store,
                turn.text,
                message_id=number,
                speaker=turn.speaker,
                when=when,
                user_speaker=conversation.user,
                extract=remembered,
            )
            run.actions.update(a.action for a in actions)
            found = remembered(said[number - 1], speaker=turn.speaker, when=when)
            quotes.update(_quotes(actions, found))
            advance(1)
        made = store.list(valid_only=False)
    run.turns += len(turns)
    run.memories.update(m.kind for m in made)
    citing: dict[int, list[tuple[Memory, str]]] = {}
    for m in made:
        for message_id in m.provenance:
            citing.setdefault(message_id, []).append((m, quotes.get(m.id, "")))
    run.turns_with_memory += len(citing)
    _score(conversation, citing, run)


def _score(
    conversation: Conversation, citing: dict[int, list[tuple[Memory, str]]], run: _Run
) -> None:
    turns = conversation.turns()
    ids = [t.id for _s, _i, t in turns]
    number = {turn_id: n for n, turn_id in enumerate(ids, start=1)}
    text = {t.id: t.text for _s, _i, t in turns}
    kinds = {t: _best(text[t], citing.get(number[t], [])) for t in ids}
    named: set[str] = set()
    for q in conversation.questions:
        evidence = evidence_turns(q.evidence, ids)
        if not evidence:
            run.skipped += 1
            continue
        run.questions += 1
        run.questions_stated += all(kinds[t][1] is not None for t in evidence)
        named.update(evidence)
        run.pairs.extend(_Pair(q.category, t, *kinds[t]) for t in evidence)
    run.distinct += len(named)
    run.distinct_stated += sum(kinds[t][1] is not None for t in named)


def _coverage(pairs: Sequence[_Pair]) -> Coverage:
    return Coverage(
        evidence=len(pairs),
        cited=sum(p.cited_kind is not None for p in pairs),
        stated=sum(p.stated_kind is not None for p in pairs),
    )


def _report(
    dataset: str, extractor: str, conversations: int, run: _Run, seconds: float
) -> ExtractionReport:
    categories = sorted({p.category for p in run.pairs})
    cited = Counter(p.cited_kind for p in run.pairs if p.cited_kind)
    stated = Counter(p.stated_kind for p in run.pairs if p.stated_kind)
    return ExtractionReport(
        dataset=dataset,
        extractor=extractor,
        rule=RULE,
        conversations=conversations,
        turns=run.turns,
        memories=sum(run.memories.values()),
        actions={a: run.actions[a] for a in ("add", "update", "supersede", "noop")},
        turns_with_memory=run.turns_with_memory,
        questions=run.questions,
        skipped=run.skipped,
        questions_stated=run.questions_stated,
        distinct_evidence=run.distinct,
        distinct_stated=run.distinct_stated,
        overall=_coverage(run.pairs),
        per_category={c: _coverage([p for p in run.pairs if p.category == c]) for c in categories},
        per_kind={
            k: KindFigures(memories=run.memories[k], cited=cited[k], stated=stated[k])
            for k in KINDS
            if run.memories[k] or cited[k]
        },
        seconds=seconds,
    )


def run_extraction_bench(
    path: Path,
    *,
    extractor: Extractor = extract,
    extractor_name: str = "rules",
    limit: int | None = None,
    embedder: Embedder | None = None,
    on_total: Callable[[int], None] = lambda n: None,
    advance: Callable[[int], None] = lambda n: None,
    describe: Callable[[str], None] = lambda text: None,
) -> ExtractionReport:
    """Run the write path (and nothing else: no import-time memories) over every turn of each
    conversation, each in a fresh temporary store, and check each question's evidence turns
    against the memories that cite them. `extractor` is what the write path extracts with
    (`extractor_for`); `on_total` is told how many turns will be run, `advance` is called once
    a turn, `describe` says what runs."""
    dataset, conversations, cached = open_dataset(path, limit, embedder, on_total, describe)
    memory = MemorySettings()
    run = _Run()
    start = time.perf_counter()
    for number, conversation in enumerate(conversations, start=1):
        describe(f"{number}/{len(conversations)} {conversation.id}")
        _conversation(conversation, extractor, cached, memory, run, advance)
        cached.clear()  # each conversation's texts are its own; keep memory flat
    seconds = time.perf_counter() - start
    return _report(dataset.name, extractor_name, len(conversations), run, seconds)
