"""`hearth bench answers --personal`: twelve things a person says, asked back in later sessions."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.context import ECHO, instructions
from agent.reply_end import echoes
from agent.runtime.backend import LlamaBackend
from agent.startup import short_replies_for_small_models
from agent.turn import Agent
from memory.journal.journal import Journal
from memory.journal.schemas import ModelInfo
from memory.settings import ModelSettings, Paths, SamplingSettings, Settings
from memory.text import straighten_apostrophes

if TYPE_CHECKING:
    from memory.graph.embedder import Embedder
    from memory.graph.store import MemoryStore

NAME = "Ingrid"
"""The person of the set (a name no model's persona or training chat is likely to hand it)."""

_I_AM = r"\bi(?:'m|\s+am)\s+"
_A_FEW = r"(?:[\w-]+\s+){0,3}"


@dataclass(frozen=True)
class Fact:
    """One thing the person says in the first session, and the question that asks it back."""

    topic: str
    said: str
    question: str
    expected: tuple[str, ...]
    """Any of these words (a prefix match: "climb" finds "climbing") answers the question."""
    claims: tuple[str, ...]
    """The reply speaking this fact as its own (first person), case ignored."""


PERSONAL: tuple[Fact, ...] = (
    Fact(
        "name", "Hi, I'm Ingrid. I'm new here, just trying you out.", "What's my name?",
        ("ingrid",), (_I_AM + r"ingrid\b", r"\bmy\s+name(?:'s|\s+is)\s+ingrid\b"),
    ),
    Fact(
        "job", "I work as a carpenter. I build kitchens and staircases.",
        "What do I do for a living?", ("carpent",),
        (_I_AM + r"(?:an?\s+)?" + _A_FEW + r"carpenter\b", r"\bi\s+build\s+kitchens\b"),
    ),
    Fact(
        "city", "I live in Bergen, on the west coast of Norway.", "Which city do I live in?",
        ("bergen",), (r"\bi\s+live\s+in\s+bergen\b",),
    ),
    Fact(
        "pet", "I have a grey parrot called Pickle.", "What is my parrot called?",
        ("pickle",),
        (r"\bmy\s+" + _A_FEW + r"parrot\b", r"\bi\s+have\s+an?\s+" + _A_FEW + r"parrot\b"),
    ),
    Fact(
        "family", "My brother Anders flies planes for a living, out of Oslo.",
        "What's my brother's name?", ("anders",), (r"\bmy\s+brother\b", r"\banders\s+is\s+my\b"),
    ),
    Fact(
        "car", "I drive an old red Saab.", "What car do I drive?",
        ("saab",), (r"\bmy\s+" + _A_FEW + r"saab\b", r"\bi\s+drive\s+an?\s+" + _A_FEW + "saab"),
    ),
    Fact(
        "hobby", "On weekends I go rock climbing with friends.",
        "What do I like to do on weekends?", ("climb",),
        (r"\bi\s+(?:go\s+|love\s+|like\s+)?(?:rock\s+)?climb",),
    ),
    Fact(
        "food", "My favourite food is mushroom risotto.", "What's my favourite food?",
        ("risotto",), (r"\bmy\s+favou?rite\s+(?:food|dish|meal)\b[^.!?\n]{0,30}risotto",),
    ),
    Fact(
        "music", "I play the cello in an amateur orchestra.", "Which instrument do I play?",
        ("cello",), (r"\bi\s+play\s+(?:the\s+)?cello\b", r"\bmy\s+(?:cello|orchestra)\b"),
    ),
    Fact(
        "child", "My daughter Sofie just turned seven.", "What's my daughter's name?",
        ("sofie",), (r"\bmy\s+daughter\b", r"\bsofie\s+is\s+my\b"),
    ),
    Fact(
        "health", "I'm allergic to peanuts, so I always check labels.",
        "What am I allergic to?", ("peanut",), (_I_AM + r"allergic\b",),
    ),
    Fact(
        "hometown", "I grew up in Voss, a small town in the mountains.", "Where did I grow up?",
        ("voss",), (r"\bi\s+grew\s+up\s+in\s+voss\b",),
    ),
)  # fmt: skip

# "I'm Omar", "my name is Ahmed", "call me Harlon": the model naming itself, case kept (a name
# is capitalised, "I'm glad" is not). Hearth is its own name; the person's is a name claim.
_SELF_NAME = re.compile(r"\b(?:I'm|I am|[Mm]y name is|[Cc]all me)\s+(?P<name>[A-Z][a-z]+)\b")
_NOT_NAMES = frozenset(
    re.findall(
        r"\w+",
        "Hearth Sorry Glad Happy Here Not So Just Always Really Still Also The An A Your Yours "
        "Fine Good Doing Well Afraid Sure Curious Excited Ready Interested Unable Only",
    )
)
_QUOTED = re.compile(r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d")


def answered(reply: str, fact: Fact) -> bool:
    """The reply holds one of the expected words (a word's start, case ignored)."""
    return any(re.search(rf"\b{re.escape(w)}", reply, re.IGNORECASE) for w in fact.expected)


def borrowed(reply: str) -> list[str]:
    """What the reply claims of the person as its own, or another name it calls itself."""
    text = _QUOTED.sub(lambda m: " " * len(m.group()), straighten_apostrophes(reply))
    found = [
        fact.topic
        for fact in PERSONAL
        if any(re.search(p, text, re.IGNORECASE) for p in fact.claims)
    ]
    found += [
        f"calls itself {m['name']}"
        for m in _SELF_NAME.finditer(text)
        if m["name"] not in _NOT_NAMES and m["name"] != NAME
    ]
    return found


class PersonalReply(BaseModel):
    topic: str
    question: str
    reply: str
    answered: bool
    finish_reason: str | None
    notes: int
    """Memories recalled for the question."""


class PersonalArm(BaseModel):
    memory: bool
    answered: int
    remembered: int
    """Statements that left at least one memory (0 with memory off)."""
    echoed: int
    """Replies (of all 24) that printed the notes, a marker or the system prompt, whole or cut
    there (finish_reason echo)."""
    borrowed: int
    """Replies (of all 24) that claim the person's facts as the model's or call it another name."""
    borrowings: list[str]
    seconds: float
    replies: list[PersonalReply]
    said_replies: list[str]
    """The replies to the first session's statements."""


class PersonalResult(BaseModel):
    model: str
    seed: int
    max_tokens: int
    questions: int
    on: PersonalArm
    off: PersonalArm


def _arm(
    backend: LlamaBackend,
    settings: Settings,
    embedder: Embedder | None,
    facts: Sequence[Fact],
    progress: Callable[[str], None],
) -> PersonalArm:
    """The statements in one session, then each question in a new session, in a scratch dir."""
    from memory.graph.store import MemoryStore

    memory = embedder is not None
    arm = "memory on" if memory else "memory off"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hearth-answers-") as tmp:
        home = Path(tmp)
        paths = Paths(config_file=home / "config.toml", data_dir=home, models_dir=home / "models")
        journal = Journal(paths.journal)
        store: MemoryStore | None = None
        if embedder is not None:
            store = MemoryStore.open(paths, settings, write=True, embedder=embedder)
        try:
            info = ModelInfo(name=backend.name, path=str(backend.path), sha256="")
            agent = Agent(settings, journal, backend, info, store)
            session = agent.session(new=True).id
            said, remembered = [], 0
            for i, fact in enumerate(facts, 1):
                progress(f"{arm}: statement {i}/{len(facts)}")
                result = agent.run_turn(session, fact.said)
                said.append(result)
                remembered += bool(result.stored)
            asked = []
            for i, fact in enumerate(facts, 1):
                progress(f"{arm}: question {i}/{len(facts)}")
                session = agent.session(new=True).id
                asked.append((fact, agent.run_turn(session, fact.question)))
        finally:
            if store is not None:
                store.close()
            journal.close()
    results = said + [r for _f, r in asked]
    borrowings = [f"{b}: {r.reply[:120]!r}" for r in results for b in borrowed(r.reply)]
    return PersonalArm(
        memory=memory,
        answered=sum(answered(r.reply, f) for f, r in asked),
        remembered=remembered,
        echoed=sum(
            r.finish_reason == "echo"
            or echoes(r.reply, ECHO, instructions(settings.chat.persona, NAME))
            for r in results
        ),
        borrowed=sum(bool(borrowed(r.reply)) for r in results),
        borrowings=borrowings,
        seconds=round(time.monotonic() - started, 1),
        replies=[
            PersonalReply(
                topic=f.topic,
                question=f.question,
                reply=r.reply,
                answered=answered(r.reply, f),
                finish_reason=r.finish_reason,
                notes=len(r.recalled),
            )
            for f, r in asked
        ],
        said_replies=[r.reply for r in said],
    )


def run_personal_bench(
    model: Path,
    *,
    model_settings: ModelSettings,
    seed: int = 1,
    embedder: Embedder | None = None,
    progress: Callable[[str], None] = lambda _: None,
    facts: Sequence[Fact] = PERSONAL,
) -> PersonalResult:
    """The personal set on one loaded model, memory on then off, today's defaults but the seed
    (the user's config.toml and HEARTH_* never change a benchmark)."""
    from memory.datadir import make_private
    from memory.graph.embedder import SentenceEmbedder

    make_private()
    progress("loading the models")
    embedder = embedder or SentenceEmbedder()
    backend = LlamaBackend(model, model_settings)
    try:
        settings = Settings.model_construct(
            model=model_settings, sampling=SamplingSettings(seed=seed)
        )
        short_replies_for_small_models(settings, backend.info.parameters)
        on = _arm(backend, settings, embedder, facts, progress)
        off = _arm(backend, settings, None, facts, progress)
    finally:
        backend.llm.close()
    return PersonalResult(
        model=backend.name,
        seed=seed,
        max_tokens=settings.sampling.max_tokens,
        questions=len(facts),
        on=on,
        off=off,
    )
