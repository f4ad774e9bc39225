"""A failure from below told apart for its one-line error: a damaged database, a full disk."""

from __future__ import annotations

from memory.damage import corrupt_error as corrupt_error
from memory.damage import is_corruption as is_corruption
from memory.sqlite import full_disk as full_disk
