"""The data dir's upkeep as the commands run it: backup and restore, the index moved, a forget
reaching backups and exports elsewhere, everything erased.

Named here so the face reaches memory only through the agent; imported when such a command
runs (some of these load more than a light command should).
"""

from __future__ import annotations

from memory.backup import backup, restore
from memory.backup_ledger import outside as outside_backups
from memory.clock import now
from memory.datadir import ensure_data_dir
from memory.erase import erase
from memory.erase import plan as erase_plan
from memory.export.scrubbing import elsewhere as exports_elsewhere
from memory.forget_backups import delete_listed
from memory.forget_backups import reach as reach_backups
from memory.graph.embedder import make_embedder
from memory.graph.forgetting import phrase_problem
from memory.index_migration import migrate as migrate_index

__all__ = [
    "backup",
    "delete_listed",
    "ensure_data_dir",
    "erase",
    "erase_plan",
    "exports_elsewhere",
    "make_embedder",
    "migrate_index",
    "now",
    "outside_backups",
    "phrase_problem",
    "reach_backups",
    "restore",
]
