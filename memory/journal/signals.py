"""Pydantic records for the training signals kept beside the journal: feedback and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Rating = Literal[-1, 0, 1]
FileFormat = Literal["jsonl", "parquet"]


class Feedback(BaseModel):
    """The user's verdict on one reply: thumbs (+1 / -1, 0 when unrated) and a free note."""

    message_id: int
    rating: Rating = 0
    note: str = ""
    created_at: datetime
    updated_at: datetime


class ExportRecord(BaseModel):
    """One export in the ledger: what was written, where, and which messages it contained."""

    id: int
    kind: str
    """The export kind's name (memory/export/kinds.py)."""
    file_format: FileFormat
    path: str
    sha256: str
    rows: int
    created_at: datetime
    command: str
    message_ids: list[int] = Field(default_factory=list)
    """Only filled by `Journal.exports_containing`: the asked-about ids this export holds."""
