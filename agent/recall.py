"""Which memories to show with a message: hybrid search, minus what the prompt shows, in budget."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from agent.context import note_line
from memory.graph.db.filters import AsOf
from memory.graph.flags import INSTRUCTION_LIKE, SECRET
from memory.graph.nodes import Hit, Memory
from memory.graph.said import one_per_source
from memory.secrets import has_secret
from memory.settings import MemorySettings

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

CANDIDATES = 4
"""Hits searched for each one shown."""


def recall(
    store: MemoryStore,
    text: str,
    *,
    exclude: set[str],
    visible: set[int],
    settings: MemorySettings,
    count: Callable[[str], int],
    window: int | None = None,
    as_of: AsOf | None = None,
) -> list[Hit]:
    """The memories worth showing with this message: hybrid search, minus what the prompt
    already shows (pinned ones, notes still visible in the history, memories whose every
    source message is still in the window), within the budget.

    `window` is the prompt's token budget: the notes take at most an eighth of it. `as_of`
    recalls from the memory as it stood before a message (`hearth understanding`).
    """
    if store.count(said=True) == 0:
        return []  # nothing to find: skip embedding the query (and loading the embedder)
    # Room for the hits the filters below drop (most often, memories of messages still in the
    # window): without it, a conversation about one subject hides every older memory of it.
    hits = store.search(text, CANDIDATES * settings.recall_k + len(exclude), as_of=as_of)
    hits = [
        h
        for h in hits
        if not h.memory.pinned
        and h.memory.id not in exclude
        and not (h.memory.provenance and set(h.memory.provenance) <= visible)
        # A secret stored before secrets were kept out (or by a path that missed it) is not
        # shown to the model, unless the person stored it on purpose (`memory add --secret`).
        and (SECRET in h.memory.flags or not has_secret(h.memory.text))
    ]
    hits = [h for h in hits if h.score >= settings.recall_min_score]
    # One message fills one slot: its kept words or what was learned from it, whichever ranks
    # higher (memory.graph.said).
    hits = one_per_source(hits)
    kept: list[Hit] = []
    used = 0
    # Notes stay in the history with their message (a stable prefix), so in a small window a
    # full recall_tokens each turn would overflow it every turn and force a re-read of it all.
    allowed = settings.recall_tokens if window is None else min(settings.recall_tokens, window // 8)
    for hit in hits[: settings.recall_k]:
        cost = count(hit.memory.text) + 12  # the date, subject and quotes around it
        if used + cost > allowed:
            break
        kept.append(hit)
        used += cost
    return kept


# Stands for the person's name while a line is built: the name in force when a prompt was
# stored may not be today's.
_ANY_NAME = "HearthAnyName0"


def shown_line_pattern(memory: Memory, texts: Sequence[str]) -> str:
    """A regular expression for every line by which the model may have been shown this memory
    with any of these texts (flagged as an order or not, under any name for the person, as
    what they said or as a note about them): built
    with the function that writes the notes, so forgetting finds exactly what was shown."""
    lines: list[str] = []
    for text in texts:
        for flags in ([INSTRUCTION_LIKE], []):  # the longer line first: it ends later
            for said in (False, True):
                shown = memory.model_copy(update={"text": text, "flags": flags})
                line = note_line(shown, _ANY_NAME, said=said)
                lines.append(re.escape(line).replace(_ANY_NAME, r"[^\n]*?"))
    return "|".join(dict.fromkeys(lines))
