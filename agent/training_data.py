"""`hearth export`'s work below the command line: the journal written as training data."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

# Light: the command line reads the kinds to offer them (the writer loads when an export runs).
from memory.export.kinds import EXPORT_KINDS as EXPORT_KINDS
from memory.export.kinds import ExportKind as ExportKind
from memory.export.kinds import candidates_refused as candidates_refused
from memory.export.kinds import in_words as in_words
from memory.export.kinds import writes_frozen as writes_frozen

if TYPE_CHECKING:
    from pathlib import Path

    from agent.startup import Home
    from memory.export.writer import ExportOptions as ExportOptions
    from memory.export.writer import ExportResult as ExportResult
    from memory.export.writer import Progress as Progress
    from memory.journal.signals import FileFormat


def export_path(folder: Path, kind: ExportKind, file_format: str, frozen: bool) -> Path:
    """A fresh file name for an export in `folder` (the data dir's exports/ by default)."""
    from memory.export.writer import default_export_path

    return default_export_path(folder, kind, cast("FileFormat", file_format), frozen)


def options(fields: dict[str, object]) -> ExportOptions:
    """One export's options, checked (pydantic) as they come from the command line."""
    from memory.export.writer import ExportOptions

    return ExportOptions.model_validate(fields)


def export(home: Home, chosen: ExportOptions, progress: Progress) -> ExportResult:
    """Write the export: rows from the journal, those of sensitive memories' sources left out
    unless `include_sensitive` keeps them."""
    from memory.export.writer import run_export

    sources = set() if chosen.include_sensitive else _sensitive_sources(home)
    return run_export(home.journal, chosen, progress, sources)


def _sensitive_sources(home: Home) -> set[int]:
    """The messages sensitive memories came from (none when there is no memory database)."""
    from memory.graph.store import MemoryStore

    if not home.paths.memory_db.exists():
        return set()
    with MemoryStore.open(home.paths, home.settings, write=False) as store:
        return store.sensitive_sources()
