"""Forgetting: a memory, or a phrase, taken out of every store, the log, exports, and freed bytes.

Two meanings. Forgetting a *memory* removes it from the memory database, its index and history
texts, and the lines that showed it to the model as a recalled note (stored prompts, and the
notes kept with a user message); the conversation where it was said stays as it was. Forgetting
a *phrase* does that for every memory holding it and also replaces the phrase wherever it is
written: message texts, prompts, titles, feedback notes, the log and the exports under the data
dir. Only words are replaced, never structure (roles, keys, ids).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from memory.backup_ledger import OutsideBackup, outside
from memory.copies import holding, safety_copies
from memory.graph import forget_exports
from memory.graph.db import MemoryDB
from memory.graph.forget_exports import ExportScan, OutsideExport
from memory.graph.indexing import IndexKeeper
from memory.graph.nodes import ForgetReport, Memory
from memory.graph.quoting import quoted
from memory.graph.said import with_said
from memory.journal.journal import Journal
from memory.sqlite import compact_file
from memory.text import (
    APOSTROPHE,
    CURLY_APOSTROPHE,
    SEARCH_STOP_WORDS,
    straighten_apostrophes,
)

MARKER = "[forgotten]"
MIN_PHRASE_CHARS = 4
"""A shorter phrase ("e", "er") would take pieces of unrelated words out of everything."""

ShownAs = Callable[[Memory, Sequence[str]], str]
"""The regular expression (unanchored) matching every line by which the model may have been
shown this memory with any of these texts: `agent.recall.shown_line_pattern`, which builds it
from the very function that writes the notes block."""


@dataclass(frozen=True)
class Reach:
    """Everything a forget must reach: the memory database and its index, the journal, the log,
    the exports."""

    db: MemoryDB
    index: IndexKeeper
    """The vector index, opened for writing (a read-only store refuses the forget)."""
    get: Callable[[str], Memory]
    """A memory by id (NotFoundError when there is none)."""
    log_file: Path
    journal: Journal | None
    """The journal to redact too (None: the memory stores and the log only)."""
    exports_dir: Path | None = None
    """The data dir's exports/ (None: exports are neither rewritten nor listed)."""
    shown_as: ShownAs | None = None
    """How the model was shown a memory (None: as its one-line text, wherever it appears)."""
    data_dir: Path | None = None
    """Where safety copies (migration backups, damaged files, restored-over files) are looked
    for (None: not looked for)."""


class ForgetPreview(BaseModel):
    """What a forget would change, before anything is changed."""

    memories: list[Memory]
    journal: dict[str, int]
    snippets: list[str] = Field(default_factory=list)
    """A few message texts holding the phrase."""
    log_lines: int
    exports: ExportScan
    copies: list[str] = Field(default_factory=list)
    """Safety copies in the data dir holding the words: deleted by the forget."""
    backups: list[OutsideBackup] = Field(default_factory=list)
    """Backups `hearth backup` wrote outside the data dir (its ledger's), with whether they
    hold the phrase: listed, or rewritten or deleted as `forget --backups` says."""


def phrase_problem(phrase: str) -> str | None:
    """Why a phrase is too vague to forget everywhere (None: it is fine)."""
    trimmed = phrase.strip()
    if len(trimmed) < MIN_PHRASE_CHARS:
        return (
            f"{trimmed!r} is too short to forget everywhere (at least {MIN_PHRASE_CHARS} "
            "characters): it would cut pieces out of other words"
        )
    words = re.findall(r"\w+", trimmed.lower())
    if all(w in SEARCH_STOP_WORDS for w in words):
        return f"{trimmed!r} has no word but common ones; give words that name what to forget"
    return None


def matching(reach: Reach, phrase: str) -> list[Memory]:
    """Every memory whose text or subject contains the phrase (ignoring case)."""
    if not phrase.strip():
        raise ValueError("an empty phrase would match every memory")
    return [reach.get(i) for i in reach.db.matching(phrase)]


def preview(reach: Reach, memories: Sequence[Memory], phrase: str | None = None) -> ForgetPreview:
    """What `forget(reach, memories, phrase)` would change; nothing is written."""
    memories = with_said(reach.db, memories)
    pattern = _pattern(reach, memories, phrase, _texts(reach.db, memories))
    journal: dict[str, int] = {}
    snippets: list[str] = []
    if reach.journal is not None and pattern is not None:
        if phrase:
            journal = _journal_counts(reach.journal.redact(pattern, MARKER, dry_run=True))
            snippets = reach.journal.snippets(pattern)
        else:
            shown = reach.journal.redact_shown(pattern, MARKER, dry_run=True)
            journal = {"prompts_with_note_removed": shown}
    if reach.journal is not None:
        dreams = len(reach.journal.dreams_of([m.id for m in memories]))
        if dreams:
            journal["dream_messages_deleted"] = dreams
    log_pattern = _log_pattern(memories, phrase)
    lines = sum(count_lines(p, log_pattern) for p in log_files(reach.log_file))
    return ForgetPreview(
        memories=list(memories),
        journal=journal,
        snippets=snippets,
        log_lines=lines,
        exports=_scan_exports(reach, pattern),
        copies=[str(p) for p in _copies(reach, memories, phrase)],
        backups=outside(reach.data_dir, phrase) if reach.data_dir is not None and phrase else [],
    )


def forget(reach: Reach, memories: Sequence[Memory], phrase: str | None = None) -> ForgetReport:
    """Remove memories from every store (history keeps a tombstone without their text) and the
    lines that showed them to the model, and, given a phrase, the phrase wherever it is
    written. The person's kept words each was learned from go with it (`memory.graph.said`)."""
    memories = with_said(reach.db, memories)
    index = reach.index.for_write()
    db = reach.db
    ids = [m.id for m in memories]
    # Before the delete takes them: every text a memory had was shown to the model in its time.
    texts = _texts(db, memories)
    pattern = _pattern(reach, memories, phrase, texts)
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
    # Before the journal is compacted: the figures scored without a memory name it by id.
    ablations = reach.journal.delete_ablations(ids) if reach.journal is not None else 0
    # A dream quotes the memories it drew on: it goes whole, and its words from the exports.
    dreamed = reach.journal.dreams_of(ids) if reach.journal is not None and ids else []
    dreams = reach.journal.delete_dreams(ids) if reach.journal is not None and dreamed else 0
    journal_counts = _redact_journal(reach.journal, pattern, phrase)
    if ablations:
        journal_counts["scores_deleted"] = ablations
    if dreams:
        journal_counts["dream_messages_deleted"] = dreams
    pattern = _with_texts(pattern, [m.text for m in dreamed if m.text.strip()])
    db.compact()
    rebuilt = reach.index.rebuild()
    log_pattern = _log_pattern(memories, phrase)
    scrubbed = sum(scrub_file(path, log_pattern) for path in log_files(reach.log_file))
    export_counts, elsewhere = _redact_exports(reach, pattern)
    # Copies kept only to undo an upgrade, a recovery or a restore: the words in them would
    # outlive the forget, and rewriting an old schema safely is not worth it, so they go.
    copies = _copies(reach, memories, phrase, texts)
    for path in copies:
        path.unlink(missing_ok=True)
    return ForgetReport(
        memory_ids=ids,
        memory_db=removed,
        chroma={"vectors_removed": in_index, "vectors_reindexed": rebuilt},
        journal=journal_counts,
        log={"lines_redacted": scrubbed},
        exports=export_counts,
        exports_elsewhere=[e.model_dump() for e in elsewhere],
        copies_deleted=[str(p) for p in copies],
        backups_elsewhere=[
            b.model_dump() for b in (outside(reach.data_dir, phrase) if reach.data_dir else [])
        ]
        if phrase
        else [],
    )


def _with_texts(pattern: re.Pattern[str] | None, texts: Sequence[str]) -> re.Pattern[str] | None:
    """The pattern, also matching these whole texts (the deleted dreams' messages)."""
    parts = [re.escape(t) for t in sorted(set(texts), key=len, reverse=True)]
    if pattern is not None:
        parts.insert(0, pattern.pattern)
    return re.compile("|".join(parts)) if parts else None


def _texts(db: MemoryDB, memories: Sequence[Memory]) -> dict[str, list[str]]:
    """Each memory's text and the earlier ones its history keeps (an edit, a merge): every text
    it had was shown to the model in its time."""
    return {
        m.id: list(dict.fromkeys([m.text, *(e.text for e in db.history(m.id) if e.text)]))
        for m in memories
    }


def _copies(
    reach: Reach,
    memories: Sequence[Memory],
    phrase: str | None,
    texts: dict[str, list[str]] | None = None,
) -> list[Path]:
    if reach.data_dir is None:
        return []
    said = texts if texts is not None else _texts(reach.db, memories)
    wanted = [*(t for ts in said.values() for t in ts), *_spellings(phrase)]
    return holding(safety_copies(reach.data_dir), wanted)


def _spellings(phrase: str | None) -> list[str]:
    """A phrase to forget as typed and with the other apostrophe: phones type a curly one,
    keyboards a straight one, and the same name may be stored either way."""
    if not phrase:
        return []
    curled = phrase.replace(APOSTROPHE, CURLY_APOSTROPHE)
    return list(dict.fromkeys([phrase, straighten_apostrophes(phrase), curled]))


def _pattern(
    reach: Reach,
    memories: Sequence[Memory],
    phrase: str | None,
    texts: dict[str, list[str]],
) -> re.Pattern[str] | None:
    """One pattern for what goes: the memories' lines as shown to the model (first, so a whole
    line goes rather than the phrase inside it), then the phrase in any case."""
    parts: list[str] = []
    for memory in memories:
        said = texts.get(memory.id) or [memory.text]
        if reach.shown_as is not None:
            parts.append(reach.shown_as(memory, said))
        else:
            # One line, as notes show a memory; and as a note quotes it (brackets replaced).
            forms = {form for t in said for form in (" ".join(t.split()), quoted(t))}
            parts += [re.escape(form) for form in sorted(forms, key=len, reverse=True)]
    if phrase:
        parts.append("(?i:" + "|".join(re.escape(s) for s in _spellings(phrase)) + ")")
    return re.compile("|".join(parts)) if parts else None


def _log_pattern(memories: Sequence[Memory], phrase: str | None) -> re.Pattern[str] | None:
    # The log names a memory by its text (as stored), never as the notes line.
    wanted = [*(m.text for m in memories), *_spellings(phrase)]
    if not wanted:
        return None
    return re.compile("|".join(re.escape(w) for w in wanted if w), re.IGNORECASE)


def _journal_counts(counts: dict[str, int]) -> dict[str, int]:
    return {
        "message_texts_redacted": counts["texts"],
        "prompts_redacted": counts["prompts"],
        "notes_shown_redacted": counts["notes_shown"],
        "session_titles_redacted": counts["session_titles"],
        "feedback_notes_redacted": counts["feedback_notes"],
    }


def _redact_journal(
    journal: Journal | None, pattern: re.Pattern[str] | None, phrase: str | None
) -> dict[str, int]:
    if journal is None or pattern is None:
        return {}
    if phrase:
        counts = _journal_counts(journal.redact(pattern, MARKER))
    else:
        counts = {"prompts_with_note_removed": journal.redact_shown(pattern, MARKER)}
    compact_file(journal.path)
    return counts


def _scan_exports(reach: Reach, pattern: re.Pattern[str] | None) -> ExportScan:
    if reach.exports_dir is None or pattern is None:
        return ExportScan()
    exports = forget_exports.registered(reach.exports_dir)
    if exports is None:
        return ExportScan()
    return exports.scan(reach.exports_dir, reach.journal, pattern)


def _redact_exports(
    reach: Reach, pattern: re.Pattern[str] | None
) -> tuple[dict[str, int], list[OutsideExport]]:
    if reach.exports_dir is None or pattern is None:
        return {}, []
    exports = forget_exports.registered(reach.exports_dir)
    if exports is None:
        return {}, []
    return exports.redact(reach.exports_dir, reach.journal, pattern, MARKER)


# -- the log ---------------------------------------------------------------------------------


def log_files(log_file: Path) -> list[Path]:
    """The log and any rotated copies beside it (hearth.log.1, ...)."""
    return sorted(p for p in log_file.parent.glob(log_file.name + "*") if p.is_file())


def count_lines(path: Path, pattern: re.Pattern[str] | None) -> int:
    """Lines of a text file holding the pattern."""
    if pattern is None or not path.exists():
        return 0
    with path.open("r", encoding="utf-8", errors="surrogateescape") as fh:
        return sum(1 for line in fh if pattern.search(line))


def scrub_file(path: Path, pattern: re.Pattern[str] | None, marker: str = MARKER) -> int:
    """Replace the pattern in a text file, in place; lines changed."""
    if pattern is None or not path.exists():
        return 0
    with path.open("r+", encoding="utf-8", errors="surrogateescape") as fh:
        lines = fh.read().splitlines(keepends=True)
        new = [pattern.sub(marker, line) for line in lines]
        count = sum(a != b for a, b in zip(lines, new, strict=True))
        if count:
            # Rewritten in place (not a new file renamed over it) so a process logging to it
            # keeps writing to the same file.
            fh.seek(0)
            fh.write("".join(new))
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
    return count
