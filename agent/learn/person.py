"""Who the person is called: the configured name, else the name they told Hearth."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.learn.extract import extract
from agent.learn.extract.pipeline import UNNAMED, referent
from memory.graph.given_name import worded_name

if TYPE_CHECKING:
    from memory.graph.nodes import Memory
    from memory.graph.store import MemoryStore


def person_name(store: MemoryStore | None, configured: str) -> str | None:
    """The person's name: `chat.user_name` when set to a name, else the latest name they gave
    (their current "name" memory, as kept in the names table), else None."""
    return named(configured, given_name(store))


def named(configured: str, given: str | None) -> str | None:
    """`configured` when it is a name, else the name the person gave (`given_name`)."""
    return configured if referent(configured) != UNNAMED else given


def given_name(store: MemoryStore | None) -> str | None:
    """The latest name the person gave, or None. One query: the name is data, kept in the
    names table whenever the name memory changes; only a name memory from before it was kept
    is read here, once (and kept then, when the store may write)."""
    if store is None:
        return None
    for memory, given in store.given_names():
        if given is not None:
            return given
        name = read_name(memory)
        if name is not None:
            if store.write:
                store.give_name(memory.id, name)
            return name
    return None


def read_name(memory: Memory) -> str | None:
    """The name a name memory gives: in the write path's wording, or, stored before memory text
    was written about the person, in the words said ("I'm Priya")."""
    worded = worded_name(memory.text)
    if worded is not None:
        return worded
    said = extract(memory.quote or memory.text, speaker="", when=memory.learned_at)
    named = [c.value for c in said if c.slot == "name" and c.value]
    return named[-1] if named else None
