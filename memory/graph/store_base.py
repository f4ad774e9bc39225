"""The core every part of MemoryStore stands on: its stores, the embedder and the index."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import Iterator, Sequence

from memory.coordination.lock import DataDirLock
from memory.errors import NotFoundError
from memory.graph.db import MemoryDB
from memory.graph.db.rows import Vectors
from memory.graph.embedder import Embedder
from memory.graph.indexing import IndexKeeper
from memory.graph.nodes import Memory
from memory.settings import MemorySettings, Paths


class StoreBase:
    """What every part of MemoryStore shares: SQLite, the index keeper, the embedder, `get`."""

    def __init__(
        self,
        paths: Paths,
        settings: MemorySettings,
        db: MemoryDB,
        *,
        write: bool,
        embedder: Embedder | None,
        lock: DataDirLock | None,
        owns_lock: bool,
        user_name: str = "",
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.user_name = user_name
        """What the user is called (chat.user_name): a query naming them means "user"."""
        self.write = write
        self._db = db
        self._keeper = IndexKeeper(paths, settings, db, write=write, embedder=embedder)
        self._lock = lock
        self._owns_lock = owns_lock
        self._rejections_key: bytes | None = None

    # -- the embedder and the index -----------------------------------------------------

    @property
    def loaded_embedder(self) -> Embedder | None:
        """The embedder if it is loaded (to hand to the store's next opening), else None."""
        return self._keeper.loaded_embedder

    @property
    def embedder(self) -> Embedder:
        """The injected embedder, or the bundled model (loaded on first use)."""
        return self._keeper.embedder

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for texts, in batches, after checking the model is the recorded one."""
        return self._keeper.embed(texts)

    @property
    def notices(self) -> builtins.list[str]:
        """What went wrong with the index since opening and what was done, one line each."""
        return self._keeper.notices

    def repair_index(self) -> dict[str, int]:
        """Bring a Chroma that lags SQLite back in line (upserts, so never a duplicate)."""
        return self._keeper.repair()

    @contextlib.contextmanager
    def unit(self) -> Iterator[None]:
        """One unit of work, such as a turn's memory write: every change inside is one SQLite
        transaction (one commit, one sync to disk), the index follows in one sync after it,
        and dense lookups inside already see the unit's own changes (reconciliation finds a
        memory made a moment before). An error inside leaves nothing of it, in either store;
        a kill leaves nothing in SQLite, or (after the commit) the index caught up at the
        next open. Units nest (an inner one is part of the outer)."""
        self._require_write()
        with self._keeper.deferred(), self._db.unit():
            yield

    def _require_write(self) -> None:
        self._keeper.require_write()

    def get(self, memory_id: str) -> Memory:
        memory = self._db.get(memory_id)
        if memory is None:
            raise NotFoundError(f"no memory {memory_id}; `hearth memory list --all` shows ids")
        return memory
