"""The bundled embedding model's ONNX export run with onnxruntime and tokenizers (no torch)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import platformdirs
from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

MODEL_FILE = "model.onnx"
RECORD_FILE = "export.json"
"""Written last by the export: the file beside it is complete and was checked against torch."""

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"


class ExportRecord(BaseModel):
    """What the export wrote down about the sentence-transformers model it ran, so the
    tokenizing here matches its own (its max_seq_length, not tokenizer.json's)."""

    source_hash: str
    """The model folder's hash (EmbedderIdentity.hash) the file was exported from."""
    dimension: int
    max_seq_length: int
    do_lower_case: bool
    pad_id: int
    opset: int
    torch: str
    min_cosine: float
    """The lowest cosine between this file's vectors and torch's on the export's check."""


def export_dir(source_hash: str) -> Path:
    """Where the export of the model with this hash lives: the user's cache, shared by every
    data dir and install (a new data dir does not export again), keyed by the model's files."""
    root = Path(platformdirs.user_cache_dir("hearth", appauthor=False))
    return root / "embedder" / f"all-MiniLM-L6-v2-{source_hash[:16]}"


def read_record(folder: Path, source_hash: str) -> ExportRecord | None:
    """The export's record when the folder holds a complete export of this model, else None."""
    try:
        record = ExportRecord.model_validate_json((folder / RECORD_FILE).read_bytes())
    except (OSError, ValidationError):
        return None
    if record.source_hash != source_hash or not (folder / MODEL_FILE).is_file():
        return None
    return record


def write_record(folder: Path, record: ExportRecord) -> None:
    """Atomically: a reader sees the old record, none, or this one whole."""
    partial = folder / f".{RECORD_FILE}.{os.getpid()}.tmp"
    partial.write_text(json.dumps(record.model_dump(), indent=2) + "\n")
    os.replace(partial, folder / RECORD_FILE)


TOKENS_PER_BATCH = 1024
"""A batch of long texts is cut shorter: onnxruntime holds a whole batch's activations at once
(64 texts of up to 256 tokens peaked at 1.4 GB; at 1,024 tokens a batch, 280 MB, no slower on
2 cores), so a batch holds at most this many tokens, padding included (at least one text)."""


def _batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """`order` (longest first) cut into batches of at most `batch_size` texts and
    TOKENS_PER_BATCH padded tokens."""
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < batch_size:
            width = lengths[batches[-1][0]]
            if (len(batches[-1]) + 1) * width <= TOKENS_PER_BATCH:
                batches[-1].append(i)
                continue
        batches.append([i])
    return batches


class OnnxModel:
    """One exported file and the model folder's tokenizer: texts in, unit vectors out."""

    def __init__(
        self, onnx_file: Path, model_dir: Path, record: ExportRecord, *, threads: int = 1
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.record = record
        options = onnxruntime.SessionOptions()
        # One thread, as the torch path had: llama.cpp runs on the other core(s), and two busy
        # pools on 2 cores collapse both.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings are not the person's
        self._session: onnxruntime.InferenceSession = onnxruntime.InferenceSession(
            str(onnx_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer: Tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # sentence-transformers truncates at its max_seq_length (256 for this model), whatever
        # tokenizer.json says (128), and pads each batch to its longest text.
        self._tokenizer.enable_truncation(max_length=record.max_seq_length)
        self._tokenizer.no_padding()

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with special tokens, as sentence-transformers makes them (each text
        stripped, lower-cased only when the model says so)."""
        cleaned = [t.strip() for t in texts]
        if self.record.do_lower_case:
            cleaned = [t.lower() for t in cleaned]
        return [e.ids for e in self._tokenizer.encode_batch(cleaned)]

    def embed(self, texts: Sequence[str], batch_size: int) -> npt.NDArray[np.float32]:
        """One unit-length float32 row per text, in the order given."""
        out = np.zeros((len(texts), self.record.dimension), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenize(texts)
        # Longest first, as sentence-transformers batches: each batch pads to similar lengths.
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        for chunk in _batches(order, [len(i) for i in ids], batch_size):
            width = len(ids[chunk[0]])
            input_ids = np.full((len(chunk), width), self.record.pad_id, dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            feeds = {
                "input_ids": input_ids,
                "attention_mask": mask,
                "token_type_ids": np.zeros_like(input_ids),
            }
            (vectors,) = self._session.run(
                [OUTPUT], {k: v for k, v in feeds.items() if k in self._inputs}
            )
            out[chunk] = np.asarray(vectors, dtype=np.float32)
        return out
