"""Which memories to show with a message: hybrid search, minus what the prompt shows, in budget."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from agent.context import note_line
from memory.graph.db.filters import AsOf
from memory.graph.flags import INSTRUCTION_LIKE, SECRET
from memory.graph.kinds import SAID
from memory.graph.nodes import Hit, Memory
from memory.graph.said import one_per_source
from memory.secrets import has_secret
from memory.settings import MemorySettings

if TYPE_CHECKING:
    from memory.graph.store import MemoryStore

CANDIDATES = 4
"""Hits searched for each one shown."""

RELEVANCE_FLOOR = 0.5
"""A hit whose meaning is less than this share as close to the message as the closest hit's is
not shown: it ranked on recency or importance alone, and a small model answers with whatever
note it is shown. A share, not a fixed similarity: an embedder's scale is its own."""


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
    floor: bool = True,
) -> list[Hit]:
    """The memories worth showing with this message: hybrid search, minus what the prompt
    already shows (pinned ones, notes still visible in the history, memories whose every
    source message is still in the window), within the budget.

    `window` is the prompt's token budget: the notes take at most an eighth of it. `as_of`
    recalls from the memory as it stood before a message (`hearth understanding`). `floor`
    drops hits far from the text in meaning (RELEVANCE_FLOOR): off where the text is not the
    message itself but the turns before it (understanding), whose closeness says little of
    what the message will be about.
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
    hits = [h for h in hits if h.score >= settings.recall_min_score and not only_asks(h.memory)]
    if floor:
        hits = relevant(hits)
    # One message fills one slot: its kept words or what was learned from it, whichever ranks
    # higher (memory.graph.said).
    hits = one_per_text(one_per_source(hits))
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


def one_per_text(hits: Sequence[Hit]) -> list[Hit]:
    """One note per wording, in rank order: a memory whose subject and text (case and spacing
    aside) a better hit already shows would only repeat that line in the prompt (a message
    sent twice is remembered twice, and shown once)."""
    shown: set[tuple[str, str]] = set()
    kept: list[Hit] = []
    for hit in hits:
        wording = (hit.memory.subject, " ".join(hit.memory.text.casefold().split()))
        if wording not in shown:
            shown.add(wording)
            kept.append(hit)
    return kept


_STATES = re.compile(r"[.!…](?:\s|$)")


def only_asks(memory: Memory) -> bool:
    """Kept words that only ask ("What's my name?"): they tell nothing about the person, and
    shown as a note they took the place of one that does (a person asks often, and a question
    is always close in meaning to the next one). Kept, never recalled."""
    text = memory.text.strip()
    return memory.kind == SAID and text.endswith("?") and _STATES.search(text) is None


def relevant(hits: list[Hit]) -> list[Hit]:
    """The hits close enough in meaning to the message (RELEVANCE_FLOOR); one found by its
    words alone (no dense score) stays."""
    best = max((h.dense for h in hits if h.dense is not None), default=0.0)
    if best <= 0:
        return hits
    return [
        h
        for h in hits
        if (h.dense is None and h.lexical is not None)
        or (h.dense is not None and h.dense >= RELEVANCE_FLOOR * best)
    ]


# Stand for the person's name and a note's relative date while a line is built: the name in
# force when a prompt was stored may not be today's, and "3 days ago" was said of that day.
_ANY_NAME = "HearthAnyName0"
_ANY_WHEN = "HearthAnyWhen0"


def shown_line_pattern(memory: Memory, texts: Sequence[str]) -> str:
    """A regular expression for every line by which the model may have been shown this memory
    with any of these texts (flagged as an order or not, under any name for the person, as
    what they said or as a note about them, dated or "3 days ago"): built
    with the function that writes the notes, so forgetting finds exactly what was shown."""
    lines: list[str] = []
    for text in texts:
        for flags in ([INSTRUCTION_LIKE], []):  # the longer line first: it ends later
            for said, when in itertools.product((False, True), (None, _ANY_WHEN)):
                shown = memory.model_copy(update={"text": text, "flags": flags})
                line = re.escape(note_line(shown, _ANY_NAME, said=said, when=when))
                line = line.replace(_ANY_NAME, r"[^\n]*?").replace(_ANY_WHEN, r"[\w ]+")
                lines.append(line)
    return "|".join(dict.fromkeys(lines))
