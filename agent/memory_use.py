"""Whether the model leans on a memory, from the ablation scores `hearth score` keeps: one
judgement and one wording for `hearth memory show`, the TUI's memory views and `hearth sleep`."""

from __future__ import annotations

from memory.graph.nodes import Memory
from memory.journal.schemas import MemoryUse

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
