"""The Chroma index: memory ids and vectors only (no text), derived from SQLite and rebuildable."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memory.graph import chroma_import
from memory.graph.chroma_server import ServerPlace, connect, guarded
from memory.heap import scrubbed

COLLECTION = "hearth-memories"

# Server calls whose connection fails say so in one line (VectorServerError), never as a
# damaged index: a server that is down must not look like one to rebuild.
_remote = guarded(lambda index: index.server)


def _client(chroma_dir: Path) -> Any:
    # Imported here: chromadb costs half a second at import and most commands never search.
    chromadb = chroma_import.chromadb()
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    try:
        return chromadb.PersistentClient(
            path=str(chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
    except Exception:
        # Chroma caches a folder's system before starting it: one that failed to start (a
        # damaged file) would be handed out again after the folder is rebuilt, so it goes.
        SharedSystemClient._identifier_to_system.pop(str(chroma_dir), None)
        raise


class VectorIndex:
    """One cosine collection with `embedding_function=None`: callers pass vectors, never text.

    Every call into Chroma runs `scrubbed()`: its HNSW files are written from buffers it never
    fills, and a freed phrase must not be what they hold. With `server`, the collection is on a
    Chroma server in this data dir's own tenant, and `chroma_dir` is not used.
    """

    @scrubbed()
    @_remote
    def __init__(
        self,
        chroma_dir: Path,
        *,
        ef_search: int,
        ef_construction: int,
        write: bool = True,
        server: ServerPlace | None = None,
    ) -> None:
        self.chroma_dir = chroma_dir
        self.server = server
        self.ef_search = ef_search
        self.ef_construction = ef_construction
        self._client = connect(server) if server is not None else _client(chroma_dir)
        self._max_batch = int(self._client.get_max_batch_size())
        self._collection = self._open() if write else self._existing()

    def _existing(self) -> Any:
        """For readers: the collection as the writer left it, or None (nothing is created)."""
        from chromadb.errors import NotFoundError as ChromaNotFound

        try:
            return self._client.get_collection(COLLECTION, embedding_function=None)
        except ChromaNotFound:
            return None

    def _open(self) -> Any:
        config = {
            "hnsw": {
                "space": "cosine",
                "ef_search": self.ef_search,
                "ef_construction": self.ef_construction,
            }
        }
        collection = self._client.get_or_create_collection(
            COLLECTION, embedding_function=None, configuration=config
        )
        # configuration_json: the parsed `configuration` warns about the absent embedding function.
        if collection.configuration_json["hnsw"]["ef_search"] != self.ef_search:
            collection.modify(configuration={"hnsw": {"ef_search": self.ef_search}})
        return collection

    @scrubbed()
    @_remote
    def close(self) -> None:
        """Release Chroma's files (its system stops once no client in this process uses it)."""
        self._client.close()

    @scrubbed()
    @_remote
    def count(self) -> int:
        return int(self._collection.count()) if self._collection is not None else 0

    @scrubbed()
    @_remote
    def ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    @scrubbed()
    @_remote
    def vectors(self, ids: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The indexed vectors of those ids it holds (for comparing with the stored ones)."""
        if self._collection is None or not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }

    @scrubbed()
    @_remote
    def upsert(self, ids: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._collection.upsert(ids=list(ids[start:end]), embeddings=vectors[start:end])

    @scrubbed()
    @_remote
    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self._max_batch):
            self._collection.delete(ids=list(ids[start : start + self._max_batch]))

    @scrubbed()
    @_remote
    def query(self, vector: npt.NDArray[np.float32], n: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) nearest first; fewer than n when the index holds fewer."""
        if self._collection is None:
            return []
        result = self._collection.query(
            query_embeddings=vector.reshape(1, -1), n_results=n, include=["distances"]
        )
        return [
            (i, 1.0 - float(d))
            for i, d in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    @scrubbed()
    @_remote
    def recreate(self, batches: Iterable[tuple[list[str], npt.NDArray[np.float32]]]) -> int:
        """Delete the whole Chroma folder and fill a new collection; vectors added.

        Deleting a collection leaves its HNSW files (deleted vectors' bytes) and Chroma's own
        write-ahead rows behind, so the folder goes; nothing in it is not also in SQLite. On a
        server only this data dir's collection goes (the server's files are its own to compact).
        """
        if self.server is not None:
            from chromadb.errors import NotFoundError as ChromaNotFound

            with contextlib.suppress(ChromaNotFound):
                self._client.delete_collection(COLLECTION)
        else:
            self._client.close()
            shutil.rmtree(self.chroma_dir, ignore_errors=True)
            self._client = _client(self.chroma_dir)
        self._collection = self._open()
        added = 0
        for ids, vectors in batches:
            self.upsert(ids, vectors)
            added += len(ids)
        return added
