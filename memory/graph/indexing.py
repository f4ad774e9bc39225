"""Keeping the Chroma index in step with SQLite, and its vectors made by the recorded model."""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence

from memory import faults
from memory.errors import EmbedderChangedError, VectorServerError
from memory.graph import chroma_server
from memory.graph.db import MemoryDB
from memory.graph.db.rows import Vectors
from memory.graph.embedder import Embedder, make_embedder
from memory.graph.nodes import EmbedderIdentity
from memory.graph.vector_index import VectorIndex
from memory.settings import MemorySettings, Paths

# Named for the store, whose repairs these are: the log reads as it did before this module.
log = logging.getLogger("memory.graph.store")
# One-line notices for the person (the CLI prints them on stderr); the log keeps them too.
notice = logging.getLogger("hearth.notice")

# Chroma fails in many ways on damaged files (its Rust bindings, SQLite, hnswlib): any error
# from it is treated as a broken index, which is derived data and rebuilt from SQLite.
IndexFailure = Exception


class IndexKeeper:
    """The vector index derived from memory.sqlite3, and the embedder that makes its vectors.

    Every write goes to SQLite first, with the id queued in `index_pending` in the same
    transaction; `sync` then brings Chroma along and clears the queue entry, and `repair`
    replays what a crash left queued. Read-only (`write=False`), it opens Chroma as the writer
    left it and creates nothing.
    """

    def __init__(
        self,
        paths: Paths,
        settings: MemorySettings,
        db: MemoryDB,
        *,
        write: bool,
        embedder: Embedder | None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.write = write
        self._db = db
        self._embedder = embedder
        self._embedder_checked = False
        self._index: VectorIndex | None = None
        self._broken = False
        self.remote = chroma_server.is_remote(settings)
        """The index is on a Chroma server (memory.chroma), not in chroma/ in the data dir."""
        self.notices: list[str] = []
        """What went wrong with the index and what was done, one line each, for the person."""
        self._deferred: set[str] = set()
        self._deferring: int | None = None
        """The thread whose unit of work holds its syncs back (`deferred`), or None."""

    def close(self) -> None:
        if self._index is not None:
            with contextlib.suppress(IndexFailure):
                self._index.close()
            self._index = None

    def _say(self, line: str) -> None:
        self.notices.append(line)
        notice.warning("%s", line)

    def require_write(self) -> None:
        if not self.write:
            raise RuntimeError("this MemoryStore was opened read-only (write=False)")

    # -- the embedder ---------------------------------------------------------------------

    @property
    def loaded_embedder(self) -> Embedder | None:
        return self._embedder

    @property
    def embedder(self) -> Embedder:
        """The injected embedder, or the bundled model (loaded on first use)."""
        if self._embedder is None:
            self._embedder = make_embedder(
                self.settings.embedder, batch_size=self.settings.embed_batch_size
            )
        return self._embedder

    def check_embedder(self) -> EmbedderIdentity:
        """Refuse vectors from another model; record the model on a first write-open."""
        current = self.embedder.identity
        if self._embedder_checked:
            return current
        recorded = self._db.embedder()
        if recorded is None and self.write:
            with self._db.tx() as db:
                self._db.set_embedder(db, current)
        elif recorded is not None and not recorded.same_vectors(current):
            raise EmbedderChangedError(
                f"the memories' vectors were made by {recorded.label()} but memory.embedder is "
                f"now {current.label()}; run `hearth memory rebuild --reembed` to re-embed them "
                "with it, or set memory.embedder back"
            )
        self._embedder_checked = True
        return current

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for texts, in batches, after checking the model is the recorded one."""
        self.check_embedder()
        return self.embedder.embed(texts)

    def check_vectors(self, vectors: Vectors, rows: int) -> None:
        """Refuse given vectors that are not one row per item of the recorded dimension."""
        dimension = self.check_embedder().dimension
        if vectors.shape != (rows, dimension):
            raise ValueError(
                f"expected vectors of shape ({rows}, {dimension}), got {vectors.shape}"
            )

    # -- the index ------------------------------------------------------------------------

    def for_write(self) -> VectorIndex:
        """The index, opened (or created) for writing; refused on a read-only store."""
        self.require_write()
        if self._index is None:
            self._index = self._new_index()
        return self._index

    def for_read(self) -> VectorIndex | None:
        """The index as the writer left it, or None when there is none yet."""
        # A read-only open never creates the Chroma folder or collection; a missing index
        # means no dense hits (lexical search still works).
        if self._broken:
            return None
        if self._index is None and (self.write or self._may_exist()):
            self._index = self._new_index()
        return self._index

    def _may_exist(self) -> bool:
        if self.remote:
            return self.paths.chroma_server_id.exists()
        return self.paths.chroma_dir.exists()

    @property
    def where(self) -> str:
        """The index's place, for the person: a folder or a server."""
        place = chroma_server.place(self.paths, self.settings, create=False)
        return chroma_server.describe(place) if place is not None else str(self.paths.chroma_dir)

    def _new_index(self) -> VectorIndex:
        try:
            return self._open_index()
        except VectorServerError:
            raise
        except IndexFailure as exc:
            if not self.write:
                raise _Unreadable(exc) from exc
            return self._replace_broken(exc)

    def _open_index(self) -> VectorIndex:
        return VectorIndex(
            self.paths.chroma_dir,
            ef_search=self.settings.ef_search,
            ef_construction=self.settings.ef_construction,
            write=self.write,
            server=chroma_server.place(self.paths, self.settings, create=self.write),
        )

    def _drop_folder(self) -> None:
        # On a server the folder is not the index (it may be a migrated-from copy): `recreate`
        # replaces only this data dir's collection there.
        if not self.remote:
            shutil.rmtree(self.paths.chroma_dir, ignore_errors=True)

    def _replace_broken(self, exc: BaseException) -> VectorIndex:
        """Delete the damaged index and make it again from memory.sqlite3's vectors.

        Deleted, not kept aside: it holds only ids and vectors that SQLite also has, and a kept
        copy would keep the vectors of memories forgotten since. A server that cannot be reached
        is not a damaged index: that is said (VectorServerError) and nothing is rebuilt."""
        if isinstance(exc, VectorServerError):
            raise exc
        log.warning("memory index unreadable, rebuilding it", exc_info=exc)
        if self._index is not None:
            with contextlib.suppress(IndexFailure):
                self._index.close()
            self._index = None
        self._drop_folder()
        index = self._open_index()
        added = index.recreate(self._db.iter_vectors(batch=2048))
        self._db.clear_pending(self._db.pending())
        self._index = index
        self._say(
            f"the memory index in {self.where} could not be read ({_short(exc)}); "
            f"rebuilt it from memory.sqlite3 ({added} vectors)"
        )
        return index

    def _read_failed(self, exc: BaseException) -> None:
        """A read-only open never repairs (readers write nothing): search by words only."""
        if isinstance(exc, VectorServerError):
            raise exc
        if not self._broken:
            log.warning("memory index unreadable", exc_info=exc)
            self._say(
                f"the memory index in {self.where} could not be read ({_short(exc)}); "
                "searching by words only until the next `hearth say` or `hearth memory rebuild`"
            )
        self._broken = True
        self._index = None

    def readable(self) -> VectorIndex | None:
        """`for_read`, or None when the index cannot be read (said once, in `notices`)."""
        try:
            return self.for_read()
        except _Unreadable as exc:
            self._read_failed(exc.__cause__ or exc)
            return None

    def query(self, vector: Vectors, n: int) -> list[tuple[str, float]]:
        """Dense hits, or none when the index cannot be read (a writer rebuilds it first)."""
        index = self.readable()
        if index is None:
            return self._with_held_back([], vector, n)
        try:
            hits = index.query(vector, n)
        except IndexFailure as exc:
            if not self.write:
                self._read_failed(exc)
                return []
            hits = self._replace_broken(exc).query(vector, n)
        return self._with_held_back(hits, vector, n)

    def count(self) -> int | None:
        """Vectors in the index; None when there is none or it cannot be read."""
        index = self.readable()
        if index is None:
            return None
        try:
            return index.count()
        except IndexFailure as exc:
            self._read_failed(exc)
            return None

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold back this thread's syncs until the block ends, then make them as one (the
        store's unit of work, after its commit). Dense queries inside see the held-back
        vectors (`query`). Nothing is synced when the block raises: the unit's transaction,
        index queue entries included, was rolled back."""
        if self._deferring == threading.get_ident():
            yield  # part of the unit already open on this thread
            return
        self._deferring, self._deferred = threading.get_ident(), set()
        try:
            yield
        except BaseException:
            self._deferring, self._deferred = None, set()
            raise
        ids = sorted(self._deferred)
        self._deferring, self._deferred = None, set()
        if ids:
            self.sync(ids)

    def _held_back(self) -> list[str]:
        """Ids this thread's unit of work changed and has not synced yet."""
        return sorted(self._deferred) if self._deferring == threading.get_ident() else []

    def _with_held_back(
        self, hits: list[tuple[str, float]], vector: Vectors, n: int
    ) -> list[tuple[str, float]]:
        """Dense hits as Chroma will give them once the unit's changes are synced: the changed
        memories scored against their vectors in SQLite (exactly, as cosine), the deleted
        ones dropped."""
        held = self._held_back()
        if not held:
            return hits
        scores = dict(hits)
        found, vectors = self._db.vectors(held)
        for gone in set(held) - set(found):
            scores.pop(gone, None)
        if found:
            similarity = vectors @ vector.reshape(-1).astype(vectors.dtype)
            scores.update(zip(found, (float(s) for s in similarity), strict=True))
        return sorted(scores.items(), key=lambda hit: -hit[1])[:n]

    def sync(self, ids: Sequence[str]) -> None:
        """Make Chroma match SQLite for these ids, then clear them from the pending queue
        (inside a unit of work on this thread: once, when it ends)."""
        if self._deferring == threading.get_ident():
            self._deferred.update(ids)
            return
        index = self.for_write()
        found, vectors = self._db.vectors(ids)
        # SQLite holds the write and its pending-queue entry; Chroma has not seen it yet.
        faults.reached("before-index-write")
        if found:
            index.upsert(found, vectors)
        gone = sorted(set(ids) - set(found))
        if gone:
            index.delete(gone)
        self._db.clear_pending(ids)

    def repair(self) -> dict[str, int]:
        """Bring a Chroma that lags SQLite back in line (upserts, so never a duplicate)."""
        index = self.for_write()
        pending = self._db.pending()
        if pending:
            self.sync(pending)
        # A full comparison, not counts: a lost id and a stray one leave the counts equal.
        # Listing 100k ids from both stores takes a fraction of a second.
        try:
            in_index = index.ids()
        except IndexFailure as exc:
            index = self._replace_broken(exc)
            in_index = index.ids()
        in_db = self._db.all_ids()
        missing, extra = sorted(in_db - in_index), sorted(in_index - in_db)
        if missing or extra:
            self.sync([*missing, *extra])
        added, removed = len(missing), len(extra)
        if pending or added or removed:
            log.warning(
                "memory index repaired: %d pending, %d added, %d removed",
                len(pending),
                added,
                removed,
            )
        return {"pending": len(pending), "added": added, "removed": removed}

    def rebuild(self) -> int:
        """Recreate Chroma from SQLite's vectors (deleted vectors' bytes go with the old one)."""
        self.require_write()
        if self._index is None:
            try:
                self._index = self._open_index()
            except VectorServerError:
                raise
            except IndexFailure:
                # `recreate` below deletes the folder anyway: no need to say it was broken.
                log.warning("memory index unreadable before a rebuild", exc_info=True)
                self._drop_folder()
                self._index = self._open_index()
        index = self._index
        added = index.recreate(self._db.iter_vectors(batch=2048))
        self._db.clear_pending(self._db.pending())
        return added

    def reembed_all(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every memory with the current model and record it; memories re-embedded.
        `progress(done, total)` after each batch."""
        identity = self.embedder.identity
        done, total = 0, self._db.count()
        for batch in list(self._db.iter_texts(batch=512)):
            vectors = self.embedder.embed([text for _id, text in batch])
            with self._db.tx() as db:
                for (memory_id, _text), vector in zip(batch, vectors, strict=True):
                    self._db.set_vector(db, memory_id, vector)
            done += len(batch)
            if progress is not None:
                progress(done, total)
        with self._db.tx() as db:
            self._db.set_embedder(db, identity)
        self._embedder_checked = True
        return done


class _Unreadable(Exception):
    """The index could not be opened for reading."""


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
