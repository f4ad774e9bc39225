"""Marks on memories: text that reads as an instruction to the model, and sensitive kinds."""

from __future__ import annotations

import functools
import re

from memory.sensitivity import sensitive

INSTRUCTION_LIKE = "instruction_like"
SECRET = "secret"
"""Kept on purpose though it holds a secret (`memory add --secret`): recalled, never dreamt."""
SENSITIVE = "sensitive"
"""Health, feelings or someone's private matters: marked in lists, left out of exports unless
asked for, never on a welcome screen."""

# Phrasings addressed to the model rather than facts about a person. A flag does not block the
# memory: it is shown to the user, and the prompt quotes memories as data, never as orders.
_INSTRUCTION_PATTERNS = [
    r"\b(ignore|disregard|forget)\s+(all|any|the|your|previous|prior|earlier)\b",
    r"\b(you|hearth|the assistant|assistant)\s+(must|should|shall|will always|are to|have to)\b",
    r"\balways\s+(reveal|say|respond|answer|reply|tell|obey|output|print|include)\b",
    r"\bnever\s+(refuse|mention|tell|reveal|say)\b",
    r"\bfrom now on\b",
    r"^\s*(system|assistant|developer)\s*:",
    r"\b(system prompt|your instructions|new instructions)\b",
    r"\b(reveal|print|dump)\s+(your|the|all)\s+(memories|prompt|instructions|secrets?)\b",
    # Look-alikes of the notes blocks' own markers (a forged end of the notes, then "rules").
    r"\bend of (the )?notes\b",
    r"\b(things you remember|what you know about \S+)\s*:",
    r"\bnotes you keep about the person\b",
    r"\bstore this (memory|note)\b",
]
_INSTRUCTION = re.compile("|".join(_INSTRUCTION_PATTERNS), re.IGNORECASE | re.MULTILINE)


def instruction_like(text: str) -> bool:
    return _INSTRUCTION.search(text) is not None


@functools.lru_cache(maxsize=16384)
def _earned(text: str) -> tuple[str, ...]:
    # Cached: every memory read earns its flags again, and searches read the same ones often.
    return (INSTRUCTION_LIKE,) * instruction_like(text) + (SENSITIVE,) * sensitive(text)


def with_flags(text: str, flags: list[str]) -> list[str]:
    """The given flags plus any this text earns, each once, in a stable order."""
    return list(dict.fromkeys([*flags, *_earned(text)]))
