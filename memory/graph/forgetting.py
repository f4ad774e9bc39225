"""Forgetting: a memory or a phrase taken out of every store, the log and the files' freed bytes."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from memory.graph.db import MemoryDB
from memory.graph.indexing import IndexKeeper
from memory.graph.nodes import ForgetReport, Memory
from memory.graph.quoting import quoted
from memory.journal.journal import Journal
from memory.sqlite import compact_file
from memory.text import APOSTROPHE, CURLY_APOSTROPHE, straighten_apostrophes

MARKER = "[forgotten]"


@dataclass(frozen=True)
class Reach:
    """Everything a forget must reach: the memory database and its index, the journal, the log."""

    db: MemoryDB
    index: IndexKeeper
    """The vector index, opened for writing (a read-only store refuses the forget)."""
    get: Callable[[str], Memory]
    """A memory by id (NotFoundError when there is none)."""
    log_file: Path
    journal: Journal | None
    """The journal to redact too (None: the memory stores and the log only)."""


def forget_matching(reach: Reach, phrase: str) -> ForgetReport:
    """Forget every memory whose text or subject contains the phrase (ignoring case), and
    replace the phrase in the journal's messages and prompts and in the log."""
    if not phrase.strip():
        raise ValueError("an empty phrase would match every memory")
    ids = reach.db.matching(phrase)
    memories = [reach.get(i) for i in ids]
    return forget(reach, memories, phrase)


def forget(reach: Reach, memories: Sequence[Memory], phrase: str | None = None) -> ForgetReport:
    """Remove memories from every store (history keeps a tombstone without their text), and,
    given a phrase, the phrase wherever it is written."""
    index = reach.index.for_write()
    db = reach.db
    ids = [m.id for m in memories]
    in_index = len(set(ids) & index.ids()) if ids else 0
    removed: dict[str, int] = {"memories": 0}
    with db.tx() as tx:
        if ids:
            removed = db.delete(tx, ids)
        for memory in memories:
            # The tombstone: that something was forgotten, never what.
            db.record(tx, memory.id, "forget", "user", detail={"kind": memory.kind})
        removed["history_texts_redacted"] = sum(
            db.redact_history(tx, form, MARKER) for form in _spellings(phrase)
        )
        removed["names"] = db.forget_names(tx, [*(m.text for m in memories), phrase])
    texts = [m.text for m in memories]
    journal_counts = _redact_journal(reach.journal, texts, phrase)
    db.compact()
    rebuilt = reach.index.rebuild()
    scrubbed = sum(
        scrub_file(path, [*texts, *_spellings(phrase)]) for path in log_files(reach.log_file)
    )
    return ForgetReport(
        memory_ids=ids,
        memory_db=removed,
        chroma={"vectors_removed": in_index, "vectors_reindexed": rebuilt},
        journal=journal_counts,
        log={"occurrences_scrubbed": scrubbed},
    )


def _spellings(phrase: str | None) -> list[str]:
    """A phrase to forget as typed and with the other apostrophe: phones type a curly one,
    keyboards a straight one, and the same name may be stored either way."""
    if not phrase:
        return []
    curled = phrase.replace(APOSTROPHE, CURLY_APOSTROPHE)
    return list(dict.fromkeys([phrase, straighten_apostrophes(phrase), curled]))


def _redact_journal(
    journal: Journal | None, texts: Sequence[str], phrase: str | None
) -> dict[str, int]:
    if journal is None:
        return {}
    # Prompts show a memory on one line: a multi-line text is found in that form too, and in
    # the form a note quotes it (brackets and double quotes replaced).
    forms = {form for text in texts for form in (text, " ".join(text.split()), quoted(text))}
    prompts = sum(journal.redact_in_prompts(form, MARKER) for form in forms)
    messages = sum(journal.redact(form, MARKER) for form in _spellings(phrase))
    compact_file(journal.path)
    return {"prompts_redacted": prompts, "messages_redacted": messages}


# -- the log ---------------------------------------------------------------------------------


def log_files(log_file: Path) -> list[Path]:
    """The log and any rotated copies beside it (hearth.log.1, ...)."""
    return sorted(p for p in log_file.parent.glob(log_file.name + "*") if p.is_file())


def scrub_file(path: Path, phrases: Sequence[str], marker: str = MARKER) -> int:
    """Replace each phrase (ignoring case) in a text file, in place; occurrences replaced."""
    wanted = [p for p in phrases if p]
    if not wanted or not path.exists():
        return 0
    pattern = re.compile("|".join(re.escape(p) for p in wanted), re.IGNORECASE)
    with path.open("r+", encoding="utf-8", errors="surrogateescape") as fh:
        text, count = pattern.subn(marker, fh.read())
        if count:
            # Rewritten in place (not a new file renamed over it) so a process logging to it
            # keeps writing to the same file.
            fh.seek(0)
            fh.write(text)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
    return count
