"""`hearth doctor`: every health check of a data dir and of the model, and the safe repairs."""

from __future__ import annotations

import contextlib
import shutil

from pydantic import BaseModel

from agent.runtime.gguf import check_header
from agent.runtime.model_files import resolve_model
from memory import health
from memory.coordination.lock import DataDirLock
from memory.damage import FIX_MISMATCH, FULL_DISK_BYTES, integrity_ok, mismatch, recover
from memory.datadir import make_private
from memory.errors import ConfigError, HearthError
from memory.graph.db.migrations import MIGRATIONS as MEMORY_MIGRATIONS
from memory.health import Check
from memory.journal.migrations import MIGRATIONS as JOURNAL_MIGRATIONS
from memory.journal_from_memories import recreate
from memory.settings import (
    MemorySettings,
    ModelSettings,
    Paths,
    Settings,
    load_settings,
    resolve_paths,
)

FIX_JOURNAL = (
    "`hearth doctor --fix` (or `hearth logs recover`) keeps a copy of the damaged file and "
    "salvages every readable row"
)
FIX_MEMORY = (
    "copy the data dir aside before anything else, then `hearth restore` a backup "
    "(the journal keeps every conversation)"
)


class Diagnosis(BaseModel):
    """Every check, in the order printed; healthy when each one is."""

    checks: list[Check]

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.checks)

    def failing(self) -> set[str]:
        return {c.name for c in self.checks if not c.ok}


def _settings(paths: Paths) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(paths)
    except ConfigError as exc:
        return Check(name="config", ok=False, detail=str(exc), fix="fix the setting named"), None
    where = paths.config_file if paths.config_file.exists() else "defaults (no config.toml)"
    return Check(name="config", ok=True, detail=f"settings valid: {where}"), settings


def model(settings: ModelSettings, paths: Paths) -> Check:
    """The GGUF Hearth would load: found and readable, with a GGUF header.

    The header only: reading the metadata parses the whole vocabulary (seconds), and loading
    the model is what `hearth models info` is for. With the openai backend: its server."""
    if settings.backend == "openai":
        return server(settings)
    try:
        resolved = resolve_model(settings.path, paths.models_dir)
        check_header(resolved.path.expanduser())
    except HearthError as exc:
        return Check(
            name="model",
            ok=False,
            detail=str(exc),
            fix="set model.path (or --model) to a good .gguf, or download it again",
        )
    return Check(
        name="model",
        ok=True,
        detail=f"{resolved.path.name} ({resolved.source}): a GGUF header, "
        f"{resolved.path.expanduser().stat().st_size / 1024**2:,.0f} MB",
    )


def server(settings: ModelSettings) -> Check:
    """The openai backend's server: it answers /v1/models with the key given."""
    from agent.runtime.openai_backend import OpenAIBackend

    try:
        backend = OpenAIBackend(settings)
    except HearthError as exc:
        return Check(
            name="model",
            ok=False,
            detail=f"openai backend: {exc}",
            fix="start the server, or fix model.base_url, model.server_model or the API key",
        )
    backend.close()
    return Check(
        name="model",
        ok=True,
        detail=f"openai backend: {backend.url} answered; model {backend.name}, token counts "
        f"from {backend.tokenizer}",
    )


def journal(paths: Paths) -> Check:
    """The journal's integrity, and the one state `say` refuses that the file alone does not
    show: empty or missing while memories cite its messages (exit 17)."""
    problem = mismatch(paths.journal, paths.memory_db)
    if problem is not None:
        return Check(
            name="journal",
            ok=False,
            detail=problem,
            fix=FIX_MISMATCH.format(memory=paths.memory_db.name),
        )
    if paths.journal.exists() and paths.journal.stat().st_size == 0:
        return Check(
            name="journal",
            ok=True,
            detail="journal.sqlite3: empty (0 bytes) and no memory cites it; the next chat "
            "starts it afresh",
        )
    return health.database(
        "journal",
        paths.journal,
        known_schema=len(JOURNAL_MIGRATIONS),
        counts={
            "sessions": "SELECT count(*) FROM sessions",
            "messages": "SELECT count(*) FROM messages",
        },
        fix_corrupt=FIX_JOURNAL,
    )


def diagnose(paths: Paths | None = None) -> Diagnosis:
    """Run every check read-only: nothing is locked or written (SQLite may leave its empty
    -wal and -shm files beside a database it reads), so it works beside a running chat."""
    paths = paths or resolve_paths()
    config, settings = _settings(paths)
    # A bad config is reported once; the other checks go on with the defaults.
    model_settings = settings.model if settings else ModelSettings()
    memory_settings = settings.memory if settings else MemorySettings()
    checks = [
        config,
        journal(paths),
        health.database(
            "memory",
            paths.memory_db,
            known_schema=len(MEMORY_MIGRATIONS),
            counts={"memories": "SELECT count(*) FROM memories"},
            fix_corrupt=FIX_MEMORY,
        ),
        health.index(paths, memory_settings),
        health.embedder(paths, memory_settings.embedder),
        model(model_settings, paths),
        health.permissions(paths.data_dir),
        health.lock(paths.lock_file),
        health.leftovers(paths),
        health.disk(paths.data_dir),
    ]
    if settings is not None:
        checks += _prompt(settings, paths)
    return Diagnosis(checks=checks)


def _prompt(settings: Settings, paths: Paths) -> list[Check]:
    """The chat template set and the persona against the window (a local model's tokenizer)."""
    from agent import prompt_check

    found = [c for c in [prompt_check.template(settings)] if c is not None]
    model_path = None
    if settings.model.backend != "openai":
        with contextlib.suppress(HearthError):
            model_path = resolve_model(settings.model.path, paths.models_dir).path.expanduser()
    found.append(prompt_check.persona(settings, model_path, paths.log_file))
    return found


def repair(diagnosis: Diagnosis, paths: Paths | None = None) -> list[str]:
    """Make the safe repairs (modes, the index) under the data dir lock; what was done.

    Raises DataDirLockedError while another Hearth holds the data dir: rebuilding an index a
    chat is writing to would race it."""
    paths = paths or resolve_paths()
    if not paths.data_dir.exists():
        return []
    make_private()
    done: list[str] = []
    with DataDirLock(paths.lock_file) as lock:
        tightened = health.tighten(health.too_open(paths.data_dir))
        if tightened:
            done.append(f"tightened the modes of {tightened} file(s) and folder(s)")
        failing = diagnosis.failing()
        if "leftovers" in failing:
            done += _remove_leftovers(paths)
        if "journal" in failing:
            done += _repair_journal(paths)
        # A damaged memory database or another embedder's vectors cannot make a good index.
        if "index" in failing and not failing & {"memory", "embedder", "config"}:
            from memory.graph.store import MemoryStore

            settings = load_settings(paths)
            # The index is derived: a damaged Chroma may not even open, so it goes first (on a
            # server, the rebuild replaces this data dir's collection alone).
            if settings.memory.chroma == "embedded":
                shutil.rmtree(paths.chroma_dir, ignore_errors=True)
            with MemoryStore.open(
                paths, settings, write=True, lock=lock, verify_embedder=False
            ) as store:
                report = store.rebuild()
            done.append(f"rebuilt the index from memory.sqlite3: {report['indexed']} vectors")
    return done


def _repair_journal(paths: Paths) -> list[str]:
    """A lost journal made again from the memories' quotes; a damaged one salvaged row by row
    (a copy of it kept). Called under the data dir lock."""
    from memory.journal.journal import Journal

    if mismatch(paths.journal, paths.memory_db) is not None:
        made = recreate(paths.journal, paths.memory_db, lambda p: Journal(p).close())
        return [f"journal: {made.line()}"]
    # On a full disk an intact file may not open: nothing is recovered until there is room.
    room = shutil.disk_usage(paths.data_dir).free >= FULL_DISK_BYTES
    if room and paths.journal.exists() and not integrity_ok(paths.journal):
        program = shutil.which("sqlite3")
        report = recover(paths.journal, "journal", lambda p: Journal(p).close(), program=program)
        rows = ", ".join(f"{n} {table}" for table, n in report.rows.items())
        return [
            f"journal: recovered with {report.method}: {rows}; the damaged file is kept as "
            f"{report.kept}"
        ]
    return []


def _remove_leftovers(paths: Paths) -> list[str]:
    """serve.json of a process that is gone, and hearth.sock: under the lock this process
    holds, no other Hearth answers that socket."""
    from memory.coordination.lending import socket_path
    from memory.coordination.serve_files import running

    stale = [socket_path(paths.data_dir)]
    if running(paths) is None:
        stale.append(paths.serve_address)
    gone = [p for p in stale if p.exists()]
    for path in gone:
        path.unlink(missing_ok=True)
    if not gone:
        return []
    return [f"removed {', '.join(p.name for p in gone)} left by a Hearth that was killed"]
