"""Who the person is called: the configured name, else the name they told Hearth."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from agent.learn.extract import extract
from agent.learn.extract.pipeline import UNNAMED, referent

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

# The write path words a name memory "The person's name is Priya"; an edited one may say
# "Her name is Priya" or "name is Priya Sharma".
_NAME_IS = re.compile(r"\bname is (?P<name>[^\W\d_][\w'-]*(?:\s+(?-i:[A-Z])[\w'-]*)?)", re.I)


def person_name(store: MemoryStore | None, configured: str) -> str | None:
    """The person's name: `chat.user_name` when set to a name, else the latest name they gave
    (their current "name" memory), else None."""
    if referent(configured) != UNNAMED:
        return configured
    if store is None:
        return None
    for memory in reversed(store.in_slot("user", "name")):
        m = _NAME_IS.search(memory.text)
        if m is not None:
            return m["name"]
        # Stored before memory text was written about the person: "I'm Priya" as said.
        said = extract(memory.quote or memory.text, speaker="", when=memory.learned_at)
        named = [c.value for c in said if c.slot == "name" and c.value]
        if named:
            return named[-1]
    return None
