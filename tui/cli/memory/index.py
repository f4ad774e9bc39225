"""`hearth memory rebuild` and `hearth memory migrate`: the search index remade or moved."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from agent.access import opened
from tui.cli.options import JsonOpt
from tui.cli.output import err, out, print_json


def memory_rebuild(
    reembed: Annotated[
        bool, typer.Option("--reembed", help="Re-embed every memory with the current model.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recreate the search index from the memory database."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("re-embedding"), BarColumn(), MofNCompleteColumn())
    with (
        opened(write=True, store=True, verify_embedder=not reembed) as here,
        Progress(*columns, console=err, transient=True, disable=not reembed) as bar,
    ):
        task = bar.add_task("re-embedding", total=None)
        report = here.memory.rebuild(
            reembed=reembed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(report)
        return
    out.print(
        Text(
            f"rebuilt: {report['indexed']} vectors indexed"
            + (f", {report['reembedded']} re-embedded" if reembed else "")
        )
    )


MIGRATE_HELP = "\n\n".join(
    [
        "Move the search index to a Chroma server, or back into the data dir.",
        "--to URL: a Chroma server (`chroma run --path DIR --host 127.0.0.1 --port 8000`), "
        "where this data dir gets a tenant of its own; --to embedded: chroma/ in the data dir. "
        "The index is filled from memory.sqlite3, which keeps every vector (the old index need "
        "not be reachable), then checked: every id, and a sample of vectors equal. Only then "
        "is the old copy deleted.",
        "config.toml is not edited: set memory.chroma as it prints (or "
        "HEARTH_MEMORY__CHROMA). Until then Hearth keeps using the old place and refills it "
        "from memory.sqlite3 at its next start.",
    ]
)


def memory_migrate(
    to: Annotated[
        str, typer.Option("--to", help='A Chroma server\'s URL (http://HOST:PORT) or "embedded".')
    ],
    as_json: JsonOpt = False,
) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from agent.upkeep import migrate_index as migrate

    with opened(write=True) as here:
        home = here.home
        assert home.lock is not None
        columns = (SpinnerColumn(), TextColumn(f"copying the index to {to}"))
        with Progress(*columns, console=err, transient=True) as bar:
            bar.add_task("copying", total=None)
            report = migrate(home.paths, home.settings, to, home.lock)
    if as_json:
        print_json(report.model_dump())
        return
    out.print(
        Text(f"moved the index from {report.source} to {report.target}: {report.indexed} vectors "
             f"for {report.memories} memories; checked: {report.check}"),
        soft_wrap=True,
    )  # fmt: skip
    out.print(Text(f"old index: {report.old_index}"), soft_wrap=True)
    out.print(
        Text(
            f"now set, under [memory] in {home.paths.config_file}: {report.setting} (or "
            f"HEARTH_MEMORY__CHROMA={report.target}); until then Hearth refills the old place "
            "at each start"
        ),
        soft_wrap=True,
    )
