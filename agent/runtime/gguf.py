"""Reading a GGUF file's header and metadata before llama.cpp ever sees it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from memory.errors import ModelInvalidError, ModelNotFoundError

GGUF_MAGIC = b"GGUF"


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
