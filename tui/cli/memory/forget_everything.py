"""`hearth memory forget --everything`: every store, log and export in the data dir removed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from agent.access import opened
from tui.cli.forget_backups import show as show_backups
from tui.cli.memory.forget_output import COMPACTION, print_elsewhere
from tui.cli.output import confirm, out, print_json

if TYPE_CHECKING:
    from agent.face import Action


def forget_everything(*, yes: bool, dry_run: bool, as_json: bool, backups: Action) -> None:
    """Every store, log and export in the data dir removed, under the data dir lock."""
    import logging

    from agent.upkeep import delete_listed, erase, erase_plan, outside_backups
    from agent.upkeep import exports_elsewhere as elsewhere

    with opened(write=True, borrow=False) as here:
        home = here.home
        paths = home.paths
        planned = erase_plan(paths, home.settings.memory)
        outside = [
            e.model_dump() for e in elsewhere(paths.exports_dir, home.journal.exports(), None)
        ]
        backed_up = outside_backups(paths.data_dir, None)
        data = {
            "data_dir": str(paths.data_dir),
            **planned.model_dump(),
            "exports_elsewhere": outside,
            "backups_elsewhere": [b.model_dump() for b in backed_up],
        }
        if as_json and (dry_run or yes):
            if dry_run:
                print_json(data)
                return
        else:
            out.print(
                Text(
                    f"would remove from {paths.data_dir}: {', '.join(planned.remove) or 'nothing'}"
                ),
                soft_wrap=True,
            )
            out.print(
                Text(f"would keep: {', '.join(planned.keep) or 'nothing else'} (settings, models)"),
                soft_wrap=True,
            )
            if planned.server:
                out.print(Text(f"would also delete this data dir's index on {planned.server}"))
            print_elsewhere(outside)
            show_backups(backed_up, backups, done=False)
            if dry_run:
                return
        confirm(yes, "Remove all of this, for good?", "this forget")
        home.journal.close()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
            root.removeHandler(handler)  # the log is about to go; nothing more is written to it
            handler.close()
        done = erase(paths, home.settings.memory)
        if backups == "delete":
            backed_up = delete_listed(backed_up)
            data["backups_elsewhere"] = [b.model_dump() for b in backed_up]
    if as_json:
        print_json({**data, **done.model_dump()})
        return
    out.print(
        Text(f"removed from {paths.data_dir}: {', '.join(done.remove) or 'nothing'}"),
        soft_wrap=True,
    )
    out.print(Text(f"kept: {', '.join(done.keep) or 'nothing'}"), soft_wrap=True)
    if backups == "delete":
        show_backups(backed_up, backups, done=True)
    if done.server:
        out.print(Text(f"deleted this data dir's index on {done.server}; {COMPACTION}"))
    if outside:
        out.print(
            Text("exports written elsewhere were not touched (listed above): delete them yourself"),
            soft_wrap=True,
        )
