"""Exporting the bundled sentence-transformers model to ONNX with torch, once, and checking it."""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from memory.graph.onnx_runtime import INPUTS, MODEL_FILE, OUTPUT, ExportRecord, OnnxModel

OPSET = 17
MIN_COSINE = 0.9999
"""An export whose vectors differ more than this from torch's on CHECK is refused."""

CHECK = (
    "",
    "hi",
    "I live in Lisbon with my cat Miso.",
    "  My sister Ana starts her new job at the hospital on Monday.  ",
    "Ich habe heute Kuchen gebacken, und er ist mir gelungen!",
    "我今天很累但是很开心。",
    "ok 👍 see you at 7:30?? 🎉",
    "The meeting moved to Thursday because Priya's flight was delayed by the storm in Denver. "
    * 12,
)
"""Short and long (past the 256-token cut), other scripts, emoji, padding: the check."""


def _whole_model(model: Any) -> Any:
    """The sentence-transformers pipeline (transformer, pooling, normalise) as one module with
    tensor inputs, so the exported graph pools and normalises exactly as its modules do."""
    import torch

    class Whole(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            features = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
            }
            out: torch.Tensor = self.model(features)[OUTPUT]
            return out

    return Whole().eval()


def _check_modules(model: Any) -> None:
    """Only the pipeline this export reproduces: a transformer, mean pooling, normalise (by
    class name and config: sentence-transformers has moved these classes between versions)."""
    kinds = [type(m).__name__ for m in model]
    if kinds != ["Transformer", "Pooling", "Normalize"]:
        raise ValueError(f"unexpected sentence-transformers modules {kinds}")
    config = model[1].get_config_dict()
    mean = config.get("pooling_mode") == "mean" or (
        config.get("pooling_mode_mean_tokens") is True
        and not any(
            v for k, v in config.items() if k.startswith("pooling_mode_") and "mean" not in k
        )
    )
    if not mean:
        raise ValueError(f"unexpected pooling {config}")


def _clear_abandoned(folder: Path) -> None:
    """Remove what exports killed midway left (their process is gone)."""
    for work in folder.glob(".export-*"):
        pid = work.name.removeprefix(".export-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and Path("/proc").is_dir():
            shutil.rmtree(work, ignore_errors=True)


def _max_seq_length(model: Any) -> int:
    length = model.max_seq_length
    if length is None:
        raise ValueError("the model names no max_seq_length")
    return int(length)


def export(model_dir: Path, folder: Path, source_hash: str) -> ExportRecord:
    """Export the model in `model_dir` into `folder`, check its vectors against torch's on
    CHECK, and only then put it in place (model.onnx, then export.json). Safe to run from two
    processes at once: each writes files of its own and renames them into place."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    from memory.graph.onnx_runtime import write_record

    torch.set_num_threads(1)
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = SentenceTransformer(str(model_dir), device="cpu")
    _check_modules(model)
    transformer = model[0]
    # `preprocess` since sentence-transformers 6; `tokenize` before.
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    dimension = getattr(model, "get_embedding_dimension", None) or (
        model.get_sentence_embedding_dimension
    )
    sample = tokenize(["a short text", "a somewhat longer text to pad the other one"])
    args = tuple(sample[name] for name in INPUTS)
    folder.mkdir(parents=True, exist_ok=True)
    _clear_abandoned(folder)
    work = folder / f".export-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
        with warnings.catch_warnings(), torch.no_grad():
            # The TorchScript exporter: it needs only `onnx`, and traces this model exactly.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _whole_model(model),
                args,
                str(work / MODEL_FILE),
                input_names=list(INPUTS),
                output_names=[OUTPUT],
                dynamic_axes={**axes, OUTPUT: {0: "batch"}},
                opset_version=OPSET,
                dynamo=False,
            )
        record = ExportRecord(
            source_hash=source_hash,
            dimension=int(dimension() or 0),
            max_seq_length=_max_seq_length(model),
            do_lower_case=bool(getattr(transformer, "do_lower_case", False)),
            pad_id=int(model.tokenizer.pad_token_id or 0),
            opset=OPSET,
            torch=torch.__version__,
            min_cosine=0.0,
        )
        expected = model.encode(list(CHECK), convert_to_numpy=True, normalize_embeddings=True)
        got = OnnxModel(work / MODEL_FILE, model_dir, record).embed(CHECK, batch_size=4)
        cosine = float(np.min(np.sum(np.asarray(expected) * got, axis=1)))
        if cosine < MIN_COSINE:
            raise ValueError(f"the ONNX export differs from torch (cosine {cosine:.6f})")
        record = record.model_copy(update={"min_cosine": cosine})
        with open(work / MODEL_FILE, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(work / MODEL_FILE, folder / MODEL_FILE)
        write_record(folder, record)
        return record
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
