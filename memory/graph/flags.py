"""Warnings attached to memories: text that reads as an instruction to the model is flagged."""

from __future__ import annotations

import re

INSTRUCTION_LIKE = "instruction_like"

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
]
_INSTRUCTION = re.compile("|".join(_INSTRUCTION_PATTERNS), re.IGNORECASE | re.MULTILINE)


def instruction_like(text: str) -> bool:
    return _INSTRUCTION.search(text) is not None


def with_flags(text: str, flags: list[str]) -> list[str]:
    """The given flags plus any this text earns, each once, in a stable order."""
    earned = [INSTRUCTION_LIKE] if instruction_like(text) else []
    return list(dict.fromkeys([*flags, *earned]))
