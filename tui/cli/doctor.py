"""`hearth doctor`, `hearth backup` and `hearth restore`: is my data whole, and a copy of it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from memory.errors import BackupError, UnhealthyError
from tui.cli.options import JsonTextOpt
from tui.cli.output import note, out, print_json


def doctor(
    as_json: JsonTextOpt = False,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Repair what is safe (tighten modes, rebuild the index), then check again; "
            "refused while another Hearth holds the data dir.",
        ),
    ] = False,
) -> None:
    """Check the journal, the memory database and its index, the model file (or the model
    server), the embedding model, permissions, the lock and free disk; exit 0 only when all
    are healthy (else 18)."""
    from agent.doctor import diagnose, repair

    diagnosis = diagnose()
    if fix:
        for line in repair(diagnosis):
            note(f"fixed: {line}")
        diagnosis = diagnose()
    if as_json:
        print_json([check.model_dump() for check in diagnosis.checks])
    else:
        for check in diagnosis.checks:
            shown = Text.assemble(
                ("ok   " if check.ok else "FAIL ", "green" if check.ok else "bold red"),
                (f"{check.name}: ", "bold"),
                check.detail,
                (f"; fix: {check.fix}" if check.fix and not check.ok else "", "yellow"),
            )
            out.print(shown, highlight=False, soft_wrap=True)
    failing = [c.name for c in diagnosis.checks if not c.ok]
    if failing:
        raise UnhealthyError(
            f"{len(failing)} problem(s): {', '.join(failing)}; each line above says its fix"
        )


PathArg = Annotated[Path, typer.Argument(help="The backup folder.", file_okay=False)]


def backup(path: PathArg, as_json: JsonTextOpt = False) -> None:
    """Copy the journal, the memories and config.toml into a new folder PATH (0700) with a
    manifest; works while a chat is open. The search index is rebuilt on restore."""
    from agent.upkeep import backup as make_backup
    from memory.settings import resolve_paths

    manifest = make_backup(resolve_paths(), path.expanduser().resolve())
    if as_json:
        print_json(manifest.model_dump(mode="json"))
        return
    counts = ", ".join(f"{n} {name}" for name, n in manifest.counts.items())
    out.print(Text(f"backed up to {path}: {counts}"), soft_wrap=True)


def restore(
    path: PathArg,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Restore over a data dir that holds a conversation or memories, moving its "
            "files aside first (into replaced-… in the data dir).",
        ),
    ] = False,
    as_json: JsonTextOpt = False,
) -> None:
    """Bring a backup into this data dir, all or nothing: the databases are copied into a
    folder in the data dir and checked there (checksums, integrity, counts against the
    manifest) before they replace anything; then the search index is rebuilt. Any failure
    leaves the data dir as it was (exit 25)."""
    from agent.upkeep import restore as restore_backup
    from memory.settings import load_settings, resolve_paths

    paths = resolve_paths()
    report = restore_backup(paths, load_settings(paths), path.expanduser().resolve(), force=force)
    if report.warning:
        note(report.warning)
    if as_json:
        print_json(report.model_dump(mode="json") | {"ok": report.ok})
    else:
        if report.moved_aside is not None:
            out.print(Text(f"moved the old files aside to {report.moved_aside}"), soft_wrap=True)
        for count in report.counts:
            out.print(Text(count.line()), soft_wrap=True)
        out.print(Text(f"config: {report.config}"), soft_wrap=True)
    if not report.ok:
        wrong = [c.name for c in report.counts if not c.ok]
        raise BackupError(
            f"the restored {', '.join(wrong)} differ from the backup's manifest; "
            f"the backup in {path} may be damaged"
        )
