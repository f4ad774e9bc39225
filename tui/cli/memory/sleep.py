"""`hearth sleep`: consolidate memory."""

from __future__ import annotations

from agent.access import opened
from tui.cli.options import JsonOpt
from tui.cli.output import out, print_json


def sleep_cmd(as_json: JsonOpt = False) -> None:
    """Consolidate memory: merge near-duplicates, link related memories, write reflections
    over recurring episodes, decay what is never recalled, and lower what is recalled often but
    never mattered to a scored reply (`hearth score`). A second run changes nothing."""
    from agent.learn.consolidation import sleep
    from agent.upkeep import now

    with opened(write=True) as here:
        home = here.home
        report = sleep(home.open_store(), at=now(), journal=home.journal)
    if as_json:
        print_json(report.model_dump())
        return
    out.print(report.summary(), soft_wrap=True)
