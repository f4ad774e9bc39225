"""Moving the vector index between chroma/ and a Chroma server, filled from memory.sqlite3."""

from __future__ import annotations

import contextlib
import shutil

from pydantic import BaseModel, ValidationError

from memory import health
from memory.coordination.lock import DataDirLock
from memory.errors import ConfigError, StorageError, VectorServerError
from memory.graph import chroma_server
from memory.settings import MemorySettings, Paths, Settings


class MigrateReport(BaseModel):
    """What `hearth memory migrate --to` did."""

    source: str
    target: str
    memories: int
    indexed: int
    check: str
    """The target checked against memory.sqlite3: every id, and a sample of vectors equal."""
    old_index: str
    """What became of the index at the source (deleted, or why not)."""
    setting: str
    """The line to put under [memory] in config.toml (Hearth does not edit the file)."""


def target_settings(current: MemorySettings, to: str) -> MemorySettings:
    """The memory settings with memory.chroma = `to`, validated as the setting is."""
    try:
        return MemorySettings.model_validate({**current.model_dump(), "chroma": to})
    except ValidationError as exc:
        raise ConfigError(f"--to: {exc.errors()[0]['msg']}") from None


def migrate(paths: Paths, settings: Settings, to: str, lock: DataDirLock) -> MigrateReport:
    """Fill the index at `to` from memory.sqlite3 (the vectors are kept there, so the source
    need not even be reachable), check it, then delete the source's copy.

    The caller holds the data dir lock: no chat writes while the index moves. memory.chroma is
    not changed: the report's `setting` is the line to set."""
    from memory.graph.store import MemoryStore

    source = settings.memory
    target = target_settings(source, to)
    if target.chroma == source.chroma:
        raise ConfigError(f"memory.chroma is already {source.chroma!r}: nothing to move")
    moved = settings.model_copy(update={"memory": target})
    # Unverified: `rebuild` below recreates the target anyway, so no repair runs first.
    with MemoryStore.open(paths, moved, write=True, lock=lock, verify_embedder=False) as store:
        report = store.rebuild()
    check = health.index(paths, target)
    if not check.ok or report["indexed"] != report["memories"]:
        raise StorageError(
            f"the index at {target.chroma} does not match memory.sqlite3 after the copy "
            f"({check.detail}; {report['indexed']} of {report['memories']} indexed); the old "
            "index is kept and memory.chroma still names it"
        )
    return MigrateReport(
        source=source.chroma,
        target=target.chroma,
        memories=report["memories"],
        indexed=report["indexed"],
        check=check.detail,
        old_index=_remove_source(paths, source),
        setting=f'chroma = "{target.chroma}"',
    )


def _remove_source(paths: Paths, source: MemorySettings) -> str:
    """Delete the old copy: two indexes would both need every later forget."""
    from memory.graph.vector_index import COLLECTION

    if not chroma_server.is_remote(source):
        shutil.rmtree(paths.chroma_dir, ignore_errors=True)
        return f"deleted {paths.chroma_dir}"
    place = chroma_server.place(paths, source, create=False)
    if place is None:
        return f"none was on {source.chroma}"
    with contextlib.suppress(VectorServerError):
        chroma_server.drop(place, COLLECTION)
        return f"deleted this data dir's collection on {source.chroma}"
    return (
        f"could not reach {source.chroma} to delete this data dir's collection "
        f"(tenant {place.tenant}): delete it there when it is back"
    )
