"""Which memories to show with a message: hybrid search, minus what the prompt shows, in budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from memory.graph.nodes import Hit
from memory.secrets import has_secret
from memory.settings import MemorySettings

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore


def recall(
    store: MemoryStore,
    text: str,
    *,
    exclude: set[str],
    visible: set[int],
    settings: MemorySettings,
    count: Callable[[str], int],
) -> list[Hit]:
    """The memories worth showing with this message: hybrid search, minus what the prompt
    already shows (pinned ones, notes still visible in the history, memories whose every
    source message is still in the window), within the budget."""
    if store.count() == 0:
        return []  # nothing to find: skip embedding the query (and loading the embedder)
    hits = store.search(text, settings.recall_k + len(exclude))
    hits = [
        h
        for h in hits
        if not h.memory.pinned
        and h.memory.id not in exclude
        and not (h.memory.provenance and set(h.memory.provenance) <= visible)
        # A secret stored before secrets were kept out (or by a path that missed it) is not
        # shown to the model, unless the person stored it on purpose (`memory add --secret`).
        and ("secret" in h.memory.flags or not has_secret(h.memory.text))
    ]
    hits = [h for h in hits if h.score >= settings.recall_min_score]
    kept: list[Hit] = []
    used = 0
    for hit in hits[: settings.recall_k]:
        cost = count(hit.memory.text) + 12  # the date, subject and quotes around it
        if used + cost > settings.recall_tokens:
            break
        kept.append(hit)
        used += cost
    return kept
