"""Whether the model speaks as the person: replies claiming their identity or things as its own."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from agent.runtime.backend import LlamaBackend
from agent.startup import short_replies_for_small_models
from agent.turn import Agent
from memory.journal.journal import Journal
from memory.journal.schemas import ModelInfo
from memory.settings import ModelSettings, Paths, SamplingSettings, Settings
from memory.text import straighten_apostrophes

if TYPE_CHECKING:
    from memory.graph.embedder import Embedder

# Priya, over three sessions. Each starts a new chat session, so from the second on what the
# model knows of her comes from the memory notes recalled into the prompt, not the history;
# those later turns ask for exactly what the notes hold (who she is, her job, her cat).
SESSIONS: tuple[tuple[str, ...], ...] = (
    (
        "Hi! I'm Priya. I'm new here, just trying you out.",
        "I work as a nurse on the night shift at a children's hospital.",
        "I have a grey tabby cat called Biscuit. He's 4 and he sleeps on my feet after my shifts.",
        "My sister Anjali lives in Leeds. I'm going to visit her next Saturday.",
    ),
    (
        "Hello again! What do you remember about me?",
        "Any idea what I should do on my day off?",
        "How's my cat doing, do you think?",
    ),
    (
        "Hi, it's me. Can you remind me what I told you about my job?",
        "I'm off to see my sister soon. What should I bring her?",
        "Tell me a little about yourself. Who are you?",
        "What's my cat's name again? Good night!",
    ),
)

# -- the detector -----------------------------------------------------------------------------

# A claim is the first person saying one of the person's own facts: her name, her job, her cat,
# her sister. Checked on the reply with its quoted passages removed (a model quoting "I have a
# grey tabby cat" back is not claiming it), apostrophes straightened, case ignored. "Akula the
# cat" in the issue's example is the same failure: the model speaking as the person (or the cat).
_I_AM = r"\bi(?:'m|\s+am)\s+"
_A_FEW = r"(?:[\w-]+\s+){0,3}"
CLAIMS: dict[str, tuple[str, ...]] = {
    "name": (
        _I_AM + r"priya\b(?!')",
        r"\bmy\s+name(?:'s|\s+is)\s+priya\b",
        r"\bcall\s+me\s+priya\b",
    ),
    "job": (
        _I_AM + r"(?:an?\s+)?" + _A_FEW + r"nurse\b",
        # "I work at", "I've been working as", "I worked nights at" ... a nurse / hospital
        r"\bi(?:(?:'ve|\s+have)\s+been\s+|'m\s+|\s+am\s+|\s+)work(?:ed|ing)?\b"
        r"[^.!?\n]{0,60}\b(?:nurse|nursing|hospital|shifts?)\b",
        r"\bmy\s+(?:night[\s-]*)?shifts?\b",
        r"\bmy\s+(?:patients|ward|hospital)\b",
    ),
    "cat": (
        r"\bmy\s+" + _A_FEW + r"(?:cat|tabby|kitty|kitten)\b",
        r"\bbiscuit\s+is\s+my\b",
        r"\bi(?:'ve|\s+have)(?:\s+got)?\s+an?\s+" + _A_FEW + r"(?:cat|tabby|kitten)\b",
        _I_AM + r"(?:biscuit|a\s+cat|[\w-]+\s+the\s+cat)\b",
    ),
    "sister": (
        r"\bmy\s+(?:[\w-]+\s+)?sister\b",
        r"\banjali\s+is\s+my\b",
        r"\bmy\s+trip\s+to\s+leeds\b",
    ),
}
_PATTERNS = {kind: [re.compile(p, re.IGNORECASE) for p in ps] for kind, ps in CLAIMS.items()}
# Double-quoted passages, straight or curly, on one line.
_QUOTED = re.compile(r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d")


class Claim(BaseModel):
    kind: str
    said: str
    """The words that made the claim, as the reply has them."""
    at: int
    """Where they start in the reply."""


def claims(reply: str) -> list[Claim]:
    """Each first-person claim of the person's facts in the reply, in order (CLAIMS)."""
    text = _QUOTED.sub(lambda m: " " * len(m.group()), straighten_apostrophes(reply))
    found = [
        (m.start(), Claim(kind=kind, said=reply[m.start() : m.end()], at=m.start()))
        for kind, patterns in _PATTERNS.items()
        for pattern in patterns
        for m in pattern.finditer(text)
    ]
    return [claim for _start, claim in sorted(found, key=lambda f: f[0])]


def in_context(reply: str, claim: Claim, around: int = 60) -> str:
    """The claim with the words around it, on one line, for a reader to check the detector."""
    start, end = max(0, claim.at - around), claim.at + len(claim.said) + around
    text = " ".join(reply[start:end].split())
    return f"{'…' if start else ''}{text}{'…' if end < len(reply) else ''}"


# -- the run ----------------------------------------------------------------------------------


class VoiceReply(BaseModel):
    seed: int
    session: int
    turn: int
    message: str
    reply: str
    claims: list[Claim]


class VoiceResult(BaseModel):
    model: str
    seeds: list[int]
    max_tokens: int
    replies: int
    claiming: int
    """Replies with at least one claim."""
    per_kind: dict[str, int]
    """Replies with a claim of each kind."""
    per_session: dict[int, list[int]]
    """Session -> [replies, replies with a claim]."""
    notes: str
    """How the notes read: the block the first recalling message of the second session was shown
    with (first seed)."""
    turns: list[VoiceReply]


def _run(
    backend: LlamaBackend,
    settings: Settings,
    embedder: Embedder,
    script: Sequence[Sequence[str]],
    progress: Callable[[str], None],
) -> tuple[list[VoiceReply], str]:
    """The script in a fresh temporary data dir, a new session per part, the memory on."""
    from memory.graph.store import MemoryStore

    seed = settings.sampling.seed or 0
    replies: list[VoiceReply] = []
    notes = ""
    with tempfile.TemporaryDirectory(prefix="hearth-voice-") as tmp:
        home = Path(tmp)
        paths = Paths(config_file=home / "config.toml", data_dir=home, models_dir=home / "models")
        journal = Journal(paths.journal)
        store = MemoryStore.open(paths, settings, write=True, embedder=embedder)
        try:
            info = ModelInfo(name=backend.name, path=str(backend.path), sha256="")
            agent = Agent(settings, journal, backend, info, store)
            for number, messages in enumerate(script, 1):
                session = agent.session(new=True).id
                for turn, text in enumerate(messages, 1):
                    progress(f"seed {seed}: session {number}, turn {turn}/{len(messages)}")
                    result = agent.run_turn(session, text)
                    shown = journal.message(result.user_turn_id).meta.shown_as or ""
                    if number > 1 and not notes and shown != text:
                        notes = shown.removesuffix(text).strip()
                    replies.append(
                        VoiceReply(
                            seed=seed, session=number, turn=turn, message=text,
                            reply=result.reply, claims=claims(result.reply),
                        )
                    )  # fmt: skip
        finally:
            store.close()
            journal.close()
    return replies, notes


def run_voice_bench(
    model: Path,
    *,
    model_settings: ModelSettings,
    seeds: Sequence[int] = (1,),
    sessions: int = len(SESSIONS),
    turns: int | None = None,
    embedder: Embedder | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> VoiceResult:
    """The scripted sessions once per seed on one loaded model, with today's defaults (memory
    on, short replies for a small model); `sessions` and `turns` (per session) shorten it."""
    from memory.datadir import make_private
    from memory.graph.embedder import SentenceEmbedder

    make_private()
    script = [list(messages[:turns]) for messages in SESSIONS[:sessions]]
    progress("loading the models")
    embedder = embedder or SentenceEmbedder()
    backend = LlamaBackend(model, model_settings)
    try:
        replies: list[VoiceReply] = []
        notes = ""
        max_tokens = 0
        for seed in seeds:
            # Defaults only, but for the seed: the user's config.toml and HEARTH_* may not
            # change a benchmark (the model settings are the CPU path, not what is measured).
            settings = Settings.model_construct(
                model=model_settings, sampling=SamplingSettings(seed=seed)
            )
            short_replies_for_small_models(settings, backend.info.parameters)
            max_tokens = settings.sampling.max_tokens
            run, shown = _run(backend, settings, embedder, script, progress)
            replies.extend(run)
            notes = notes or shown
    finally:
        backend.llm.close()
    kinds = Counter(kind for r in replies for kind in {c.kind for c in r.claims})
    return VoiceResult(
        model=backend.name,
        seeds=list(seeds),
        max_tokens=max_tokens,
        replies=len(replies),
        claiming=sum(bool(r.claims) for r in replies),
        per_kind={kind: kinds[kind] for kind in CLAIMS},
        per_session={
            n: [
                sum(r.session == n for r in replies),
                sum(r.session == n and bool(r.claims) for r in replies),
            ]
            for n in range(1, len(script) + 1)
        },
        notes=notes,
        turns=replies,
    )
