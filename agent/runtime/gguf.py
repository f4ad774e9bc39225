"""Reading a GGUF file's header and metadata before llama.cpp ever sees it."""

from __future__ import annotations

import contextlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from memory.errors import ModelInvalidError, ModelNotFoundError

GGUF_MAGIC = b"GGUF"
CACHED_MODELS = 16
"""How many model files' metadata the data dir's gguf-info.json keeps."""


class GGUFInfo(BaseModel):
    """What `hearth models info` shows, read from the file's own metadata."""

    path: str
    size_bytes: int
    name: str
    architecture: str
    context_length: int | None
    quantization: str | None
    parameters: int | None
    has_chat_template: bool
    chat_template: str | None = None
    bos_token: str | None = None
    eos_token: str | None = None


def check_header(path: Path) -> None:
    """Fail with a clear error unless `path` is a readable file that starts like a GGUF."""
    if not path.exists():
        raise ModelNotFoundError(
            f"model file {path} does not exist; pass --model PATH to a .gguf file "
            "or unset model.path to use the embedded default"
        )
    if not path.is_file():
        raise ModelNotFoundError(f"model path {path} is not a file; pass a .gguf file")
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelNotFoundError(f"cannot read model file {path}: {exc.strerror}") from exc
    if len(head) < 8 or head[:4] != GGUF_MAGIC:
        raise ModelInvalidError(
            f"{path} is not a GGUF model file (bad header); download a .gguf build of the model"
        )
    version = int.from_bytes(head[4:8], "little")
    if version not in (2, 3):
        raise ModelInvalidError(f"{path} is GGUF version {version}, which Hearth cannot read")


def _value(field: Any) -> Any:
    # gguf's ReaderField keeps raw parts; contents() decodes strings, numbers and arrays.
    return field.contents()


def _token(tokens: list[Any] | None, index: Any) -> str | None:
    if tokens is None or index is None or not 0 <= int(index) < len(tokens):
        return None
    return str(tokens[int(index)])


@lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int, size: int) -> GGUFInfo:
    cache = _cache_file()
    found = _cached(cache, path, mtime_ns, size) if cache is not None else None
    if found is None:
        found = _parse(path, size)
        if cache is not None:
            _keep(cache, path, mtime_ns, size, found)
    return found


def _cache_file() -> Path | None:
    """The data dir's record of what each GGUF's metadata says (`Paths.gguf_info`); None
    before the data dir exists (a command that only reads makes none)."""
    from memory.settings import resolve_paths

    paths = resolve_paths()
    return paths.gguf_info if paths.data_dir.is_dir() else None


def _cached(cache: Path, path: Path, mtime_ns: int, size: int) -> GGUFInfo | None:
    """The metadata read before from this very file (same size and modification time)."""
    try:
        entry = json.loads(cache.read_bytes()).get(str(path))
        if entry and entry["mtime_ns"] == mtime_ns and entry["size"] == size:
            return GGUFInfo.model_validate(entry["info"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError):
        pass  # a cache: unreadable or stale, the file is read again
    return None


def _keep(cache: Path, path: Path, mtime_ns: int, size: int, info: GGUFInfo) -> None:
    """Record what was read, for the next process (the newest CACHED_MODELS files)."""
    try:
        entries = json.loads(cache.read_bytes())
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError):
        entries = {}
    entries.pop(str(path), None)
    entries[str(path)] = {"mtime_ns": mtime_ns, "size": size, "info": info.model_dump()}
    kept = dict(list(entries.items())[-CACHED_MODELS:])
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(kept, fh)
        tmp.replace(cache)
    except OSError:  # a full disk or a read-only data dir: the next process reads the file
        with contextlib.suppress(OSError):
            tmp.unlink()


def _parse(path: Path, size: int) -> GGUFInfo:
    # gguf's reader builds an object for every vocabulary entry and merge before it returns:
    # seconds for a 49k-token vocabulary (3.4 s of a 6 s cold `hearth say`), hence the cache.
    from gguf import GGUFReader, LlamaFileType

    try:
        reader = GGUFReader(path, "r")
    except Exception as exc:  # gguf raises bare ValueError/IndexError on damage
        raise ModelInvalidError(
            f"{path} is damaged or truncated ({type(exc).__name__}); download it again"
        ) from exc
    fields = reader.fields

    def get(key: str) -> Any:
        f = fields.get(key)
        return _value(f) if f is not None else None

    arch = str(get("general.architecture") or "unknown")
    file_type = get("general.file_type")
    quant: str | None = None
    if file_type is not None:
        try:
            quant = LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_")
        except ValueError:
            quant = str(file_type)
    params = sum(int(t.n_elements) for t in reader.tensors) or None
    template = get("tokenizer.chat_template")
    tokens = get("tokenizer.ggml.tokens")
    ctx = get(f"{arch}.context_length")
    return GGUFInfo(
        path=str(path),
        size_bytes=size,
        name=str(get("general.name") or path.stem),
        architecture=arch,
        context_length=int(ctx) if ctx is not None else None,
        quantization=quant,
        parameters=params,
        has_chat_template=bool(template),
        chat_template=str(template) if template else None,
        bos_token=_token(tokens, get("tokenizer.ggml.bos_token_id")),
        eos_token=_token(tokens, get("tokenizer.ggml.eos_token_id")),
    )


def read_info(path: Path) -> GGUFInfo:
    """Check the header, then read the metadata (cached per file version)."""
    path = path.expanduser().resolve()
    check_header(path)
    st = path.stat()
    return _read(path, st.st_mtime_ns, st.st_size)
