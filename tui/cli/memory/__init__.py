"""`hearth memory ...` and `hearth sleep`: the Typer group, commands registered in help order."""

from __future__ import annotations

import typer

from tui.cli.memory import extract, forget, index, reading, recover, writing
from tui.cli.memory.sleep import sleep_cmd

__all__ = ["memory_app", "sleep_cmd"]

memory_app = typer.Typer(
    help="See, search and correct what Hearth remembers.", no_args_is_help=True
)

memory_app.command("list")(reading.memory_list)
memory_app.command("search")(reading.memory_search)
memory_app.command("show")(reading.memory_show)
memory_app.command("history")(reading.memory_history)
memory_app.command("stats")(reading.memory_stats)
memory_app.command("graph")(reading.memory_graph)
memory_app.command("add")(writing.memory_add)
memory_app.command("edit")(writing.memory_edit)
memory_app.command("pin")(writing.memory_pin)
memory_app.command("unpin")(writing.memory_unpin)
memory_app.command("forget", help=forget.FORGET_HELP)(forget.memory_forget)
memory_app.command("reject", help=forget.REJECT_HELP)(forget.memory_reject)
memory_app.command("rebuild")(index.memory_rebuild)
memory_app.command("migrate", help=index.MIGRATE_HELP)(index.memory_migrate)
memory_app.command("extract")(extract.memory_extract)
memory_app.command("recover")(recover.memory_recover)
