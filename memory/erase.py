"""Forgetting everything: every store, log and export in the data dir gone; config, models kept."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
from pathlib import Path

from pydantic import BaseModel

from memory.errors import StorageError
from memory.graph import chroma_server
from memory.settings import MemorySettings, Paths


class ErasePlan(BaseModel):
    """What `hearth memory forget --everything` removes from the data dir and what it keeps."""

    remove: list[str]
    """Names inside the data dir (a folder with all it holds)."""
    keep: list[str]
    server: str | None = None
    """This data dir's collection on a Chroma server (memory.chroma), deleted too; else None."""


def _kept(paths: Paths) -> set[Path]:
    # The lock stays: this process holds it, and another Hearth must keep seeing it held.
    return {paths.config_file, paths.models_dir, paths.lock_file, paths.runs_dir}


def plan(paths: Paths, settings: MemorySettings | None = None) -> ErasePlan:
    """Everything in the data dir but config.toml, models/, the lock and live runs' markers,
    and this data dir's collection on the Chroma server that `settings` names."""
    kept = _kept(paths)
    remove: list[str] = []
    keep: list[str] = []
    entries = sorted(paths.data_dir.iterdir()) if paths.data_dir.is_dir() else []
    for entry in entries:
        (keep if entry in kept else remove).append(entry.name)
    remove += [f"{paths.runs_dir.name}/{m.name}" for m in _dead_markers(paths.runs_dir)]
    # The lock and live runs' markers are Hearth's own bookkeeping, not the person's to keep.
    internal = {paths.lock_file.name, paths.runs_dir.name}
    place = chroma_server.place(paths, settings, create=False) if settings else None
    server = chroma_server.describe(place) if place is not None else None
    return ErasePlan(remove=remove, keep=[k for k in keep if k not in internal], server=server)


def erase(paths: Paths, settings: MemorySettings | None = None) -> ErasePlan:
    """Remove what `plan` names. The caller holds the data dir lock and has closed every store
    (the journal, the memory database, the log handler) first. The server's collection goes
    first: a server that cannot be reached stops it (VectorServerError) with nothing removed."""
    from memory.graph.vector_index import COLLECTION

    done = plan(paths, settings)
    place = chroma_server.place(paths, settings, create=False) if settings else None
    if place is not None:
        chroma_server.drop(place, COLLECTION)
    for name in done.remove:
        target = paths.data_dir / name
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot remove {target}: {exc.strerror}; fix its permissions and run it again"
            ) from exc
    return done


def _dead_markers(runs_dir: Path) -> list[Path]:
    """Run markers no living process holds (a live run keeps its marker flock'ed)."""
    if not runs_dir.is_dir():
        return []
    dead: list[Path] = []
    for marker in sorted(runs_dir.iterdir()):
        with contextlib.suppress(OSError), marker.open("r") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            dead.append(marker)
    return dead
