"""How a forget reaches the exports without the graph importing them: the export registers here.

The exports stand above the graph (they are made from the journal and name what the graph
forgot), so the graph only says what it asks of them; `memory/export/scrubbing.py` answers and
registers itself when imported (agent/startup.py imports it for every process that opens a data
dir). A forget that finds export files and nobody registered to rewrite them refuses, rather
than leave the words there in silence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from memory.journal.journal import Journal


class OutsideExport(BaseModel):
    """An export the ledger lists outside the data dir: never touched, only named."""

    path: str
    exists: bool
    holds_phrase: bool | None = None
    """Whether it still holds what was forgotten (None: it no longer exists, or unreadable)."""


class ExportScan(BaseModel):
    """Which export files hold a pattern: in exports/ (to rewrite) and elsewhere (to list)."""

    inside: list[str] = Field(default_factory=list)
    elsewhere: list[OutsideExport] = Field(default_factory=list)


class ExportsReach(Protocol):
    """What a forget asks of the exports (the data dir's exports/ and the journal's ledger)."""

    def scan(
        self, exports_dir: Path, journal: Journal | None, pattern: re.Pattern[str]
    ) -> ExportScan:
        """Which export files hold the pattern; nothing is written."""

    def redact(
        self, exports_dir: Path, journal: Journal | None, pattern: re.Pattern[str], marker: str
    ) -> tuple[dict[str, int], list[OutsideExport]]:
        """The pattern replaced in exports/ (the ledger's checksums kept true): counts, and the
        exports elsewhere, listed."""


_registered: list[ExportsReach] = []


def register(reach: ExportsReach) -> None:
    """The exports say how a forget reaches them (once; a second registration replaces it)."""
    _registered[:] = [reach]


def registered(exports_dir: Path) -> ExportsReach | None:
    """Who rewrites the exports (None: nobody, and there are no export files to rewrite)."""
    if _registered:
        return _registered[0]
    if exports_dir.is_dir() and any(p.is_file() for p in exports_dir.rglob("*")):
        raise RuntimeError(
            f"{exports_dir} holds exports but nothing registered to rewrite them on a forget "
            "(import memory.export.scrubbing first)"
        )
    return None
