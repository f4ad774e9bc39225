"""`hearth memory recover`: save a damaged memory database."""

from __future__ import annotations

from tui.cli.logs import ForceOpt, SalvageOpt, print_recovery
from tui.cli.options import JsonOpt


def memory_recover(
    salvage: SalvageOpt = False, force: ForceOpt = False, as_json: JsonOpt = False
) -> None:
    """Save a damaged memory database: keep a copy of it (memory.sqlite3.damaged-<time>), bring
    every row that can be read into a fresh one, then rebuild the search indexes from it."""
    from agent.recovery import recover_memory

    print_recovery(recover_memory(salvage=salvage, force=force), "memory database", as_json)
