"""The one registry of memory kinds: each kind, and where it counts, shows and dreams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# "pet" and "feeling" came after the first release: an animal is not a person, and how the
# person feels is dated and sensitive, unlike a fact. "said" came later still: the person's own
# words from a chat message, kept whole as `hearth import` keeps a turn.
Kind = Literal[
    "fact",
    "preference",
    "event",
    "person",
    "pet",
    "feeling",
    "commitment",
    "episode",
    "reflection",
    "core",
    "said",
]
KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True)
class KindInfo:
    """What one kind is, and where its memories count, show and dream."""

    name: Kind
    about: str
    counted: bool = True
    """A thing Hearth knows about the person: counted in the welcome's "I remember N things",
    the reply's "remembered N" and listed by the default `memory list`."""
    dreamed: bool = False
    """A dream may draw its scenario from it (what a person would bring up again)."""
    merged: bool = True
    """Sleep may merge two near-duplicates of it into one (never a summary, nor the words as
    said: two messages saying the same are two moments)."""
    taught: bool = False
    """A message can teach it: the model extractor may answer with it (agent/learn/
    model_extract.py); the others Hearth makes itself (summaries, the core, the words kept)."""
    hint: str | None = None
    """What the model extractor's instructions add to its name."""


REGISTRY: dict[Kind, KindInfo] = {
    k.name: k
    for k in (
        KindInfo("fact", "something true about someone", dreamed=True, taught=True),
        KindInfo(
            "preference", "a like, dislike or way they want things", dreamed=True, taught=True
        ),
        KindInfo("event", "something that happened, dated", dreamed=True, taught=True),
        KindInfo("person", "someone in the person's life", dreamed=True, taught=True),
        KindInfo("pet", "an animal in the person's life", dreamed=True, taught=True),
        # As private as sensitive memories: never a dream's scenario.
        KindInfo("feeling", "how the person felt, dated", taught=True),
        KindInfo(
            "commitment",
            "a plan or promise, with its day",
            dreamed=True,
            taught=True,
            hint="a plan or promise",
        ),
        # Hearth's own summaries, not what a person would bring up.
        KindInfo("episode", "a summary of messages that left the window", merged=False),
        KindInfo("reflection", "consolidation's summary of related memories", merged=False),
        # In every prompt already.
        KindInfo("core", "who the person is, always shown", merged=False),
        # The words themselves, not a thing learned: the facts made from them are counted.
        KindInfo("said", "the person's own words in a chat message", counted=False, merged=False),
    )
}
assert tuple(REGISTRY) == KINDS, "every kind is registered once, in declaration order"

COUNTED_KINDS: tuple[Kind, ...] = tuple(k for k in KINDS if REGISTRY[k].counted)
DREAMED_KINDS: tuple[Kind, ...] = tuple(k for k in KINDS if REGISTRY[k].dreamed)
MERGED_KINDS: tuple[Kind, ...] = tuple(k for k in KINDS if REGISTRY[k].merged)
TAUGHT_KINDS: tuple[Kind, ...] = tuple(k for k in KINDS if REGISTRY[k].taught)
SAID: Kind = "said"
LEARNED_KINDS: tuple[Kind, ...] = tuple(k for k in KINDS if k != SAID)
"""Every kind but the person's kept words: what the write path reconciles a new memory with."""
