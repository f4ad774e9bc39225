"""How a model behaves in a scripted chat: replies that loop, and how long replies run."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from agent.reply_end import LoopGuard
from agent.runtime.backend import LlamaBackend
from agent.startup import short_replies_for_small_models
from agent.turn import Agent
from memory.journal.journal import Journal
from memory.journal.schemas import ModelInfo
from memory.settings import ModelSettings, Settings

# Ten turns a new user had with Hearth (issue 14's evidence): a name and its correction, a job,
# a pet, a question back, a worry, a plan with a date, small talk, a check, a goodnight.
SCRIPT = [
    "Hi! I'm Priya. I'm new here, just trying you out.",
    "My name is Priya, not Raju :) I work as a nurse in the night shift at a children's hospital.",
    "I have a grey tabby cat called Biscuit. He's 4 and he sleeps on my feet after my shifts.",
    "Do you have a favourite animal?",
    "The thing is, I'm a bit worried lately. Night shifts are wrecking my sleep and I feel "
    "lonely during the day.",
    "Next week I'm planning to visit my sister Anjali in Leeds on Saturday. I haven't seen her "
    "in months.",
    "What do you think I should bring her?",
    "How are you doing today, Hearth? What do you like to talk about?",
    "Quick check: what's my cat's name, and what do I do for work?",
    "Thanks. I should get some sleep before my shift. Good night!",
]

BEFORE_MAX_TOKENS = 512
"""sampling.max_tokens before small models got shorter replies."""


class MannersArm(BaseModel):
    name: str
    max_tokens: int
    stop_loops: bool
    replies: int
    looping: int
    """Replies whose kept text says a run of LOOP_WORDS words twice."""
    cut_for_looping: int
    """Replies the loop guard stopped (their kept text ends before the repeat)."""
    at_limit: int
    """Replies that ran to max_tokens."""
    median_tokens: float
    """Tokens generated per reply (before a loop's repeat or a cut's last part is dropped)."""
    max_tokens_seen: int
    median_words: float
    """Words kept per reply."""


class MannersResult(BaseModel):
    model: str
    seed: int
    before: MannersArm
    after: MannersArm


def repeats_itself(text: str) -> bool:
    """The text says some run of LOOP_WORDS words twice."""
    guard = LoopGuard()
    return guard.feed(text + " ")


def _arm(
    name: str,
    backend: LlamaBackend,
    settings: Settings,
    script: list[str],
    progress: Callable[[str], None],
) -> MannersArm:
    with tempfile.TemporaryDirectory(prefix="hearth-manners-") as tmp:
        journal = Journal(Path(tmp) / "journal.sqlite3")
        try:
            info = ModelInfo(name=backend.name, path=str(backend.path), sha256="")
            agent = Agent(settings, journal, backend, info, store=None)
            session = agent.session(new=True).id
            replies = []
            for i, text in enumerate(script, 1):
                progress(f"{name}: turn {i}/{len(script)}")
                result = agent.run_turn(session, text)
                replies.append(journal.message(result.turn_id))
        finally:
            journal.close()
    tokens = [r.usage.completion_tokens for r in replies]
    return MannersArm(
        name=name,
        max_tokens=settings.sampling.max_tokens,
        stop_loops=settings.sampling.stop_loops,
        replies=len(replies),
        looping=sum(repeats_itself(r.text) for r in replies),
        cut_for_looping=sum(r.usage.finish_reason == "loop" for r in replies),
        at_limit=sum(r.usage.finish_reason == "length" for r in replies),
        median_tokens=statistics.median(tokens),
        max_tokens_seen=max(tokens),
        median_words=statistics.median(len(r.text.split()) for r in replies),
    )


def run_manners_bench(
    model: Path,
    *,
    model_settings: ModelSettings,
    seed: int = 1,
    turns: int = len(SCRIPT),
    progress: Callable[[str], None] = lambda _: None,
) -> MannersResult:
    """The script twice on one loaded model, the same seed: before (512-token replies, no loop
    guard) and after (the defaults now: the guard on, short replies for a small model)."""
    progress("loading the model")
    backend = LlamaBackend(model, model_settings)
    try:
        before = Settings(
            model=model_settings,
            sampling={"seed": seed, "max_tokens": BEFORE_MAX_TOKENS, "stop_loops": False},
        )
        after = Settings(model=model_settings, sampling={"seed": seed})
        short_replies_for_small_models(after, backend.info.parameters)
        return MannersResult(
            model=backend.name,
            seed=seed,
            before=_arm("before", backend, before, SCRIPT[:turns], progress),
            after=_arm("after", backend, after, SCRIPT[:turns], progress),
        )
    finally:
        backend.llm.close()
