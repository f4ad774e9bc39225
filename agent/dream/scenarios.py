"""A dream's scenario: a message the person might send, built from templates over memories.

Deterministic templates, not the model: a 135M model asked to invent a scenario would drift
from what the memories say. Only the finished message is journaled; which template made it is
never stored (the kind alone is, in `DreamMeta`), so no export can carry the instruction.
"""

from __future__ import annotations

import random
from datetime import datetime

from pydantic import BaseModel

from agent.dream.pick import Pickable
from memory.graph.nodes import Memory
from memory.journal.schemas import DreamKind

# In the person's voice; {said} is the memory as they said it (its quote) or as it is noted.
TEMPLATES: dict[DreamKind, tuple[str, ...]] = {
    "past_event": (
        'Do you remember when I told you "{said}"? I was thinking about it again today.',
        'Remember "{said}"? What do you remember about that?',
    ),
    "past_plan": (
        'So, about "{said}" on {date}: that has come and gone now. What was the plan again?',
        'It\'s past {date} now. Do you remember what I had planned? "{said}"',
    ),
    "correction": (
        'Just checking: "{old}", right?',
        'You remember "{old}", don\'t you?',
    ),
    "recall": (
        'What do you remember about "{said}"?',
        'Do you remember "{said}"? And "{other}"?',
    ),
}


class Scenario(BaseModel):
    """One made-up message and the memories it drew on, first the one it is about."""

    kind: DreamKind
    text: str
    memory_ids: list[str]


def said(memory: Memory) -> str:
    """The memory in the person's words where they were kept, else as noted; one line."""
    words = " ".join((memory.quote or memory.text).split())
    return words.rstrip(".!? ")


def kind_of(picked: Pickable, at: datetime) -> DreamKind:
    """What the memory lends itself to: a correction said again, a plan whose date has
    passed, a past event, or else a plain question about it."""
    memory = picked.memory
    if picked.old_text is not None:
        return "correction"
    dated = memory.valid_from is not None and memory.valid_from <= at
    if memory.kind == "commitment" and dated:
        return "past_plan"
    if memory.kind == "event" and (memory.valid_from is None or dated):
        # An event noted before its date was a plan: its follow-up is the plan's.
        ahead = memory.valid_from is not None and memory.valid_from > memory.learned_at
        return "past_plan" if ahead else "past_event"
    return "recall"


def scenario(
    picked: Pickable, others: list[Pickable], at: datetime, rng: random.Random
) -> Scenario:
    """The message for one picked memory; a plain question may recombine it with another
    memory about the same subject (from `others`, the memories not picked)."""
    memory = picked.memory
    kind = kind_of(picked, at)
    same = [o for o in others if o.memory.subject == memory.subject and o.memory.id != memory.id]
    templates = TEMPLATES[kind]
    if kind == "recall" and not same:
        templates = tuple(t for t in templates if "{other}" not in t)
    template = rng.choice(templates)
    ids = [memory.id]
    other = ""
    if "{other}" in template:
        partner = rng.choice(same)
        other = said(partner.memory)
        ids.append(partner.memory.id)
    date = memory.valid_from.date().isoformat() if memory.valid_from is not None else ""
    old = " ".join((picked.old_text or "").split()).rstrip(".!? ")
    text = template.format(said=said(memory), date=date, old=old, other=other)
    return Scenario(kind=kind, text=text, memory_ids=ids)
