"""The person's own name as their name memory words it, kept in the names table at each change."""

from __future__ import annotations

import re

from memory.graph.nodes import Memory

NAME_SLOT = "name"
"""The single-valued attribute a memory of what someone is called sets."""

# The write path words a name memory "The person's name is Priya"; an edited one may say
# "Her name is Priya" or "name is Priya Sharma".
_NAME_IS = re.compile(r"\bname is (?P<name>[^\W\d_][\w'-]*(?:\s+(?-i:[A-Z])[\w'-]*)?)", re.I)


def is_name_memory(memory: Memory) -> bool:
    """Whether this memory says what the person is called (their `name` slot)."""
    return memory.slot == NAME_SLOT and memory.subject.casefold() == "user"


def worded_name(text: str) -> str | None:
    """The name a name memory's text gives in the wording the write path uses, else None."""
    found = _NAME_IS.search(text)
    return found["name"] if found is not None else None
