"""MemoryStore: the one API to the memory graph that the agent, the CLI and the benchmarks use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memory.coordination.lock import DataDirLock
from memory.datadir import ensure_data_dir
from memory.errors import StorageError
from memory.graph.db import MemoryDB
from memory.graph.embedder import Embedder
from memory.graph.nodes import Actor
from memory.graph.store_forgetting import ACCEPTED_IMPORTANCE, StoreForgetting
from memory.graph.store_reading import AS_OF_WIDER, StoreReading
from memory.graph.store_writing import StoreWriting
from memory.settings import Paths, Settings

__all__ = ["ACCEPTED_IMPORTANCE", "AS_OF_WIDER", "MemoryStore"]


class MemoryStore(StoreWriting, StoreForgetting, StoreReading):
    """Memories in SQLite (the truth) with their vectors indexed in Chroma (derived).

    Every write goes to SQLite first, with the id queued in `index_pending` in the same
    transaction; Chroma follows and the queue entry is cleared. A crash in between is repaired at
    the next write-open. Opened with `write=False` it writes nothing but a missing schema and
    reads Chroma as the writer left it; opened with `write=True` this process holds the data dir
    lock, the one writer of Chroma.

    Its parts, one idea each: store_base (the stores, the embedder, the index), store_writing,
    store_forgetting and store_reading; this module opens, closes and rebuilds.
    """

    # -- opening and closing ----------------------------------------------------------

    @classmethod
    def open(
        cls,
        paths: Paths,
        settings: Settings,
        *,
        write: bool,
        embedder: Embedder | None = None,
        lock: DataDirLock | None = None,
        verify_embedder: bool = True,
    ) -> MemoryStore:
        """Open the store. With write=True, take the data dir lock (unless `lock`, already
        held by this process, is given), check the embedder and repair a lagging index.

        Raises DataDirLockedError (another process writes), EmbedderChangedError (the vectors
        were made by another model: `verify_embedder=False` is for `rebuild --reembed` only)
        and DataDirNewerError.
        """
        ensure_data_dir(paths.data_dir)
        owns_lock = write and lock is None
        if owns_lock:
            lock = DataDirLock(paths.lock_file).acquire()
        try:
            db = MemoryDB(paths.memory_db)
            if write and db.full_disk is not None:
                db.close()
                # Before Chroma, whose own errors on a full disk say less.
                raise StorageError(f"cannot write memories in {paths.data_dir}: {db.full_disk}")
        except BaseException:
            if owns_lock and lock is not None:
                lock.release()
            raise
        store = cls(
            paths,
            settings.memory,
            db,
            write=write,
            embedder=embedder,
            lock=lock if write else None,
            owns_lock=owns_lock,
            user_name=settings.chat.user_name,
        )
        try:
            # Unverified opens are for `rebuild --reembed`, which recreates the index anyway:
            # repairing it first with another model's vectors could not even succeed.
            if write and verify_embedder:
                store._keeper.check_embedder()
                store.repair_index()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self._keeper.close()
        self._db.close()
        if self._owns_lock and self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- rebuilding -------------------------------------------------------------------------

    def rebuild(
        self,
        *,
        reembed: bool = False,
        actor: Actor = "user",
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Recreate the index (and FTS5) from SQLite; with reembed, first re-embed every memory
        with the current model and record it (the fix for EmbedderChangedError), reporting
        `progress(done, total)`."""
        self._require_write()
        reembedded = self._keeper.reembed_all(progress) if reembed else 0
        with self._db.tx() as db:
            self._db.rebuild_fts(db)
        indexed = self._keeper.rebuild()
        with self._db.tx() as db:
            self._db.record(
                db, None, "rebuild", actor, detail={"reembed": reembed, "indexed": indexed}
            )
        return {"memories": self._db.count(), "indexed": indexed, "reembedded": reembedded}
