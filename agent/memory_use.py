"""Whether the model leans on a memory, from the ablation scores `hearth score` keeps: one
judgement and one wording for `hearth memory show`, the TUI's memory views and `hearth sleep`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memory.errors import NotFoundError
from memory.graph.nodes import Memory
from memory.journal.schemas import MemoryUse

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore
    from memory.journal.journal import Journal

# A memory recalled this often whose removal never moved a reply is noise in the prompt. Five
# recalls so one unlucky week does not condemn it; three scored replies so one reply that
# happened not to need it does not either.
NEVER_MATTERS_RECALLS = 5
MIN_SCORED = 3
# Mean log-probability drops below this are within what rewording a prompt moves a reply by.
MATTERS_AT = 0.05


def never_mattered(memory: Memory, use: MemoryUse | None) -> bool:
    """Recalled often, scored without it on enough replies, and no reply ever needed it (the
    largest drop is below MATTERS_AT, so every drop is)."""
    return (
        use is not None
        and memory.recalled_count >= NEVER_MATTERS_RECALLS
        and use.replies >= MIN_SCORED
        and use.drop < MATTERS_AT
    )


def use_line(memory: Memory, use: MemoryUse | None) -> str | None:
    """One short line for the TUI (None: never scored, so there is nothing to say)."""
    if use is None:
        return None
    if never_mattered(memory, use):
        return f"recalled {memory.recalled_count} times, never mattered"
    if use.drop > 0:
        return f"used: drops by {use.drop:.3f} over {use.replies} replies"
    return f"not used: no drop over {use.replies} replies"


def details(store: MemoryStore, journal: Journal, memory_id: str) -> dict[str, Any]:
    """One memory as `hearth memory show` (and `GET /api/memories/ID`) gives it, as JSON: its
    fields, the messages it came from (`sources`), its edges and whether replies used it."""
    memory = store.get(memory_id)
    sources: list[dict[str, Any]] = []
    for message_id in memory.provenance:
        try:
            msg = journal.message(message_id)
            sources.append({"id": msg.id, "role": msg.role, "text": msg.text})
        except NotFoundError:
            sources.append({"id": message_id, "missing": True})
    use = journal.memory_use(memory_id)
    # Used: the replies scored without it (`hearth score`) were likelier with it.
    used = (
        None
        if use is None
        else {
            **use.model_dump(mode="json"),
            "used": use.drop > 0,
            "never_mattered": never_mattered(memory, use),
        }
    )
    return {
        **memory.model_dump(mode="json"),
        "sources": sources,
        "edges": [e.model_dump(mode="json") for e in store.edges(memory_id)],
        "used": used,
    }
